from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0031_meeting_reminded_at_gone')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['email_digest', 'digest_sent_at']),
        ),
        ops.AddField(
            model_name='PasswordReset',
            name='emailed',
            field=fields.BooleanField(default=False),
        ),
    ]
