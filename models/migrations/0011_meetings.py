from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.meetings import RsvpAnswer
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0010_governance')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarFeed',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.OneToOneField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='calendar_feed', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'calendar_feeds', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Meeting',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('post', fields.OneToOneField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='meeting', on_delete=OnDelete.CASCADE)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='meetings', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('timezone', fields.CharField(default='UTC', max_length=64)),
                ('place', fields.CharField(default='', max_length=200)),
                ('online_url', fields.CharField(null=True, max_length=2048)),
                ('capacity', fields.IntField(null=True)),
                ('going_count', fields.IntField(default=0)),
                ('maybe_count', fields.IntField(default=0)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reflection_prompted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'meetings', 'app': 'circles', 'indexes': [Index(fields=['circle_id', 'starts_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('recipient', fields.ForeignKeyField('circles.Account', source_field='recipient_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('subject', fields.ForeignKeyField('circles.Post', source_field='subject_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('text', fields.CharField(max_length=500)),
                ('url', fields.CharField(default='', max_length=2048)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notifications', 'app': 'circles', 'indexes': [Index(fields=['recipient_id', 'read_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Rsvp',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('meeting', fields.ForeignKeyField('circles.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='rsvps', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('circles.Actor', source_field='actor_id', db_constraint=True, to_field='id', related_name='rsvps', on_delete=OnDelete.CASCADE)),
                ('answer', fields.CharEnumField(description='GOING: going\nMAYBE: maybe\nNOT_GOING: not_going', enum_type=RsvpAnswer, max_length=16)),
                ('uri', fields.CharField(null=True, max_length=2048)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rsvps', 'app': 'circles', 'unique_together': (('meeting', 'actor'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
