from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0017_profiles_settings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Media',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('owner', fields.ForeignKeyField('circles.Actor', source_field='owner_id', db_constraint=True, to_field='id', related_name='media', on_delete=OnDelete.CASCADE)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='media', on_delete=OnDelete.CASCADE)),
                ('file_name', fields.CharField(null=True, unique=True, max_length=64)),
                ('url', fields.CharField(max_length=2048)),
                ('media_type', fields.CharField(max_length=100)),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('alt', fields.TextField(default='', unique=False)),
                ('position', fields.SmallIntField(default=0)),
            ],
            options={'table': 'media', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
