from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0034_circle_location_folded')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PostRevision',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('post', fields.ForeignKeyField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(default='', max_length=200)),
                ('source', fields.TextField(default='', unique=False)),
                ('content', fields.TextField(unique=False)),
                ('edited_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('by', fields.ForeignKeyField('circles.Actor', source_field='by_id', null=True, db_constraint=True, to_field='id', related_name='post_revisions', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'post_revisions', 'app': 'circles', 'indexes': [Index(fields=['post_id', 'edited_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
