from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('circles', '0030_notifications_email')]

    initial = False

    operations = [
        ops.RemoveField(model_name='Meeting', name='reminded_at'),
    ]
