from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.accounts import EmailDigest, EmailTokenPurpose
from models.clock import new_id, now
from models.emails import EmailState
from models.notifications import Channel
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0029_moderators_by_proposal')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailToken',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='email_tokens', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='VERIFY: verify\nCHANGE: change', enum_type=EmailTokenPurpose, max_length=16)),
                ('address', fields.CharField(max_length=254)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_tokens', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='MeetingReminder',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('meeting', fields.ForeignKeyField('circles.Meeting', source_field='meeting_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('circles.Actor', source_field='actor_id', db_constraint=True, to_field='id', related_name='meeting_reminders', on_delete=OnDelete.CASCADE)),
                ('lead_minutes', fields.IntField()),
            ],
            options={'table': 'meeting_reminders', 'app': 'circles', 'unique_together': (('meeting', 'actor', 'lead_minutes'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='notification_preferences', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('channel', fields.CharEnumField(description='WEB: web\nEMAIL: email\nNONE: none', enum_type=Channel, max_length=8)),
            ],
            options={'table': 'notification_preferences', 'app': 'circles', 'unique_together': (('account', 'kind'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='OutgoingEmail',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name='emails', on_delete=OnDelete.CASCADE)),
                ('to_address', fields.CharField(max_length=254)),
                ('template', fields.CharField(max_length=32)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('language', fields.CharField(default='', max_length=16)),
                ('state', fields.CharEnumField(default=EmailState.PENDING, description='PENDING: pending\nSENT: sent\nFAILED: failed', enum_type=EmailState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('message_id', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'outgoing_emails', 'app': 'circles', 'indexes': [Index(fields=['state', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AddField(
            model_name='Account',
            name='digest_sent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Account',
            name='email_digest',
            field=fields.CharEnumField(default=EmailDigest.IMMEDIATELY, description='IMMEDIATELY: immediately\nDAILY: daily\nWEEKLY: weekly', enum_type=EmailDigest, max_length=16),
        ),
        ops.AddField(
            model_name='Account',
            name='email_verified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='actor',
            field=fields.ForeignKeyField('circles.Actor', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='caused_notifications', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Notification',
            name='circle',
            field=fields.ForeignKeyField('circles.Circle', source_field='circle_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Notification',
            name='emailed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='group_key',
            field=fields.CharField(default='', max_length=200),
        ),
        ops.AddField(
            model_name='Notification',
            name='params',
            field=fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['recipient_id', 'emailed_at']),
        ),
    ]
