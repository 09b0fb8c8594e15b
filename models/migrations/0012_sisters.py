from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.clock import new_id, now
from models.sisters import default_kinds
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0011_meetings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SisterLink',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='sister_links', on_delete=OnDelete.CASCADE)),
                ('sister', fields.ForeignKeyField('circles.Actor', source_field='sister_id', db_constraint=True, to_field='id', related_name='sister_of', on_delete=OnDelete.CASCADE)),
                ('kinds', fields.JSONField(default=default_kinds, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'sister_links', 'app': 'circles', 'unique_together': (('circle', 'sister'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
