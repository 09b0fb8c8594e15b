from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0023_actor_deleted')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CircleInvite',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('circle', fields.ForeignKeyField('circles.Circle', source_field='circle_id', db_constraint=True, to_field='id', related_name='invites', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('circles.Actor', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='circle_invites_made', on_delete=OnDelete.SET_NULL)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('max_uses', fields.IntField(null=True)),
                ('uses', fields.IntField(default=0)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'circle_invites', 'app': 'circles', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
