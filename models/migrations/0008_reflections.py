from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.reflections import ValueCycle
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0007_peer_review')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Reflection',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('author', fields.ForeignKeyField('circles.Actor', source_field='author_id', db_constraint=True, to_field='id', related_name='reflections', on_delete=OnDelete.CASCADE)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='reflections', on_delete=OnDelete.CASCADE)),
                ('meeting', fields.ForeignKeyField('circles.Post', source_field='meeting_id', null=True, db_constraint=True, to_field='id', related_name='meeting_reflections', on_delete=OnDelete.SET_NULL)),
                ('source', fields.TextField(unique=False)),
                ('content', fields.TextField(unique=False)),
                ('value_cycle', fields.CharEnumField(null=True, description='IMMEDIATE: immediate\nPOTENTIAL: potential\nAPPLIED: applied\nREALISED: realised\nTRANSFORMATIVE: transformative\nREFRAMING: reframing', enum_type=ValueCycle, max_length=16)),
                ('shared_post', fields.ForeignKeyField('circles.Post', source_field='shared_post_id', null=True, db_constraint=True, to_field='id', related_name='shared_reflections', on_delete=OnDelete.SET_NULL)),
                ('updated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reflections', 'app': 'circles', 'indexes': [Index(fields=['circle_id', 'shared_post_id']), Index(fields=['author_id', 'circle_id'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
