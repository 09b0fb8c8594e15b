from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Like',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('actor', fields.ForeignKeyField('circles.Actor', source_field='actor_id', db_constraint=True, to_field='id', related_name='likes', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='likes', on_delete=OnDelete.CASCADE)),
                ('uri', fields.CharField(null=True, max_length=2048)),
            ],
            options={'table': 'likes', 'app': 'circles', 'unique_together': (('actor', 'post'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('reporter', fields.ForeignKeyField('circles.Actor', source_field='reporter_id', db_constraint=True, to_field='id', related_name='reports_made', on_delete=OnDelete.CASCADE)),
                ('target_actor', fields.ForeignKeyField('circles.Actor', source_field='target_actor_id', null=True, db_constraint=True, to_field='id', related_name='reports_received', on_delete=OnDelete.CASCADE)),
                ('object_uris', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('comment', fields.TextField(default='', unique=False)),
                ('uri', fields.CharField(null=True, unique=True, max_length=2048)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reports', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
