from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0013_tutoring')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RemotePoll',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('post', fields.OneToOneField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='remote_poll', on_delete=OnDelete.CASCADE)),
                ('options', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('closes_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'remote_polls', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='PollAnswer',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('poll', fields.ForeignKeyField('circles.RemotePoll', source_field='poll_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('circles.Actor', source_field='actor_id', db_constraint=True, to_field='id', related_name='poll_answers', on_delete=OnDelete.CASCADE)),
                ('option', fields.CharField(max_length=200)),
            ],
            options={'table': 'poll_answers', 'app': 'circles', 'unique_together': (('poll', 'actor'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
