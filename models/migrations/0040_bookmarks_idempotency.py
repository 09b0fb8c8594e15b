from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0039_oauth')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Bookmark',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='bookmarks', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='bookmarks', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'bookmarks', 'app': 'circles', 'unique_together': (('account', 'post'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('account', fields.ForeignKeyField('circles.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE)),
                ('key_digest', fields.CharField(max_length=64)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'idempotency_keys', 'app': 'circles', 'unique_together': (('account', 'key_digest'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
