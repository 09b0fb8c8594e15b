from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0016_moderation')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='bio',
            field=fields.TextField(default='', unique=False),
        ),
        ops.AddField(
            model_name='Account',
            name='language',
            field=fields.CharField(default='', max_length=16),
        ),
        ops.AddField(
            model_name='Actor',
            name='avatar_url',
            field=fields.CharField(null=True, max_length=2048),
        ),
    ]
