from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.tutoring import SkillDirection
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0012_sisters')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Pairing',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='pairings', on_delete=OnDelete.CASCADE)),
                ('helper', fields.ForeignKeyField('circles.Actor', source_field='helper_id', db_constraint=True, to_field='id', related_name='pairings_helping', on_delete=OnDelete.CASCADE)),
                ('learner', fields.ForeignKeyField('circles.Actor', source_field='learner_id', db_constraint=True, to_field='id', related_name='pairings_learning', on_delete=OnDelete.CASCADE)),
                ('skill', fields.CharField(max_length=40)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('open_key', fields.CharField(null=True, unique=True, max_length=100)),
            ],
            options={'table': 'tutoring_pairings', 'app': 'circles', 'indexes': [Index(fields=['circle_id', 'closed_at']), Index(fields=['helper_id', 'learner_id'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Skill',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='skills', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('circles.Actor', source_field='actor_id', db_constraint=True, to_field='id', related_name='skills', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=40)),
                ('direction', fields.CharEnumField(description='OFFERS: offers\nWANTS: wants', enum_type=SkillDirection, max_length=8)),
            ],
            options={'table': 'tutoring_skills', 'app': 'circles', 'unique_together': (('circle', 'actor', 'name', 'direction'),), 'indexes': [Index(fields=['circle_id', 'name', 'direction'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='TutoringMessage',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('pairing', fields.ForeignKeyField('circles.Pairing', source_field='pairing_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('circles.Actor', source_field='author_id', db_constraint=True, to_field='id', related_name='tutoring_messages', on_delete=OnDelete.CASCADE)),
                ('source', fields.TextField(unique=False)),
                ('content', fields.TextField(unique=False)),
            ],
            options={'table': 'tutoring_messages', 'app': 'circles', 'indexes': [Index(fields=['pairing_id', 'id'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
