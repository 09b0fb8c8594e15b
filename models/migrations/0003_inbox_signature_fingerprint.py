from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0002_likes_and_reports')]

    initial = False

    operations = [
        ops.AddField(
            model_name='InboxItem',
            name='signature_fingerprint',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
