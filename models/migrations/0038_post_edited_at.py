from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Posts edited before this field existed: the time of their latest kept version.
BACKFILL = (
    "UPDATE posts SET edited_at = (SELECT MAX(r.edited_at) FROM post_revisions r WHERE r.post_id = posts.id) "
    "WHERE EXISTS (SELECT 1 FROM post_revisions r WHERE r.post_id = posts.id)"
)


class Migration(migrations.Migration):
    dependencies = [('circles', '0037_circle_notes_uncounted')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Post',
            name='edited_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(BACKFILL, reverse_sql="SELECT 1"),
    ]
