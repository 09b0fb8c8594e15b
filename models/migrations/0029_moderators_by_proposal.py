from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0028_delivery_inbox_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='GovernanceSettings',
            name='moderators_by_proposal',
            field=fields.BooleanField(default=False),
        ),
    ]
