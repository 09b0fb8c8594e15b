from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0040_bookmarks_idempotency')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Marker',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='markers', on_delete=OnDelete.CASCADE)),
                ('timeline', fields.CharField(max_length=16)),
                ('last_read_id', fields.BigIntField()),
                ('version', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'markers', 'app': 'circles', 'unique_together': (('account', 'timeline'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
