from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from models.resources import Level, Licence
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0008_reflections')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Resource',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('post', fields.OneToOneField('circles.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='resource', on_delete=OnDelete.CASCADE)),
                ('link', fields.CharField(db_index=True, max_length=2048)),
                ('licence', fields.CharEnumField(default=Licence.UNKNOWN, description='CC0: cc0\nCC_BY: cc-by\nCC_BY_SA: cc-by-sa\nCC_BY_NC: cc-by-nc\nALL_RIGHTS_RESERVED: all-rights-reserved\nUNKNOWN: unknown\nOTHER: other', enum_type=Licence, max_length=32)),
                ('level', fields.CharEnumField(default=Level.ANY, description='ANY: any\nBEGINNER: beginner\nINTERMEDIATE: intermediate\nADVANCED: advanced', enum_type=Level, max_length=16)),
                ('reshared_from', fields.ForeignKeyField('circles.Resource', source_field='reshared_from_id', null=True, db_constraint=True, to_field='id', related_name='reshares', on_delete=OnDelete.SET_NULL)),
                ('reshared_from_uri', fields.CharField(null=True, max_length=2048)),
            ],
            options={'table': 'resources', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='ResourceTag',
            fields=[
                ('id', fields.BigIntField(primary_key=True, default=new_id, unique=True, db_index=True, generated=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('resource', fields.ForeignKeyField('circles.Resource', source_field='resource_id', db_constraint=True, to_field='id', related_name='tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(db_index=True, max_length=40)),
            ],
            options={'table': 'resource_tags', 'app': 'circles', 'unique_together': (('resource', 'tag'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
