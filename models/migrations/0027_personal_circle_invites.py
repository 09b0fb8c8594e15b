from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0026_person_blocks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CircleInvite',
            name='invitee',
            field=fields.ForeignKeyField('circles.Actor', source_field='invitee_id', null=True, db_constraint=True, to_field='id', related_name='circle_invites_received', on_delete=OnDelete.CASCADE),
        ),
    ]
