"""The request id (models/tracing.py) on the queue rows: the web request, or
the received activity, that a row of work comes from, so the worker's log
lines while it handles the row carry the same id. Null for older rows and
for work no request caused (the worker's own schedules)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.tracing import current
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('circles', '0043_indexes_for_pages')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='request_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='InboxItem',
            name='request_id',
            field=fields.CharField(null=True, default=current, max_length=64),
        ),
        ops.AddField(
            model_name='OutboxEvent',
            name='request_id',
            field=fields.CharField(null=True, default=current, max_length=64),
        ),
    ]
