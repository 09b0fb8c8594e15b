from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0032_password_links_and_digests')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Actor',
            name='avatar_file',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
    ]
