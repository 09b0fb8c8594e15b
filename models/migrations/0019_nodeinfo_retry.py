from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0018_media')]

    initial = False

    operations = [
        ops.AddField(
            model_name='RemoteHost',
            name='software_failures',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='RemoteHost',
            name='software_recheck_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
