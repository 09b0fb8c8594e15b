from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0014_remote_polls')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Pairing',
            name='accepted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Pairing',
            name='opened_remotely',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='TutoringMessage',
            name='uri',
            field=fields.CharField(null=True, unique=True, max_length=2048),
        ),
    ]
