from tortoise import migrations
from tortoise.migrations import operations as ops
from models.clock import new_id, now
from tortoise import fields
from tortoise.fields.base import OnDelete
from models.person_blocks import BlockKind

class Migration(migrations.Migration):
    dependencies = [('circles', '0025_moderator_roles')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersonBlock',
            fields=[
                ('id', fields.BigIntField(primary_key=True, generated=False, default=new_id, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('owner', fields.ForeignKeyField('circles.Actor', source_field='owner_id', db_constraint=True, to_field='id', related_name='block_rows', on_delete=OnDelete.CASCADE)),
                ('target', fields.ForeignKeyField('circles.Actor', source_field='target_id', db_constraint=True, to_field='id', related_name='blocked_by_rows', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(BlockKind, description='MUTE: mute\nBLOCK: block', max_length=8)),
                ('uri', fields.CharField(null=True, max_length=2048)),
            ],
            options={'table': 'person_blocks', 'app': 'circles', 'unique_together': (('owner', 'target'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
    ]
