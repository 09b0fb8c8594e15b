from tortoise import migrations
from tortoise.migrations import operations as ops

# The circle's own notes in a thread (an accepted answer, a meeting's RSVP
# poll: replies its Group actor wrote) are no longer counted as replies
# (models/services/posts.py: is_circle_note); take the live ones out of the
# counts kept so far. (Deleted ones were taken out when they were deleted.)
NOTES_IN_THREAD = (
    "(SELECT COUNT(*) FROM posts AS r WHERE r.root_id = posts.id AND r.deleted_at IS NULL"
    " AND r.author_id = (SELECT c.actor_id FROM circles AS c WHERE c.id = posts.circle_id))"
)
UNCOUNT_NOTES = f"UPDATE posts SET reply_count = reply_count - {NOTES_IN_THREAD} WHERE root_id IS NULL AND circle_id IS NOT NULL"
COUNT_NOTES = f"UPDATE posts SET reply_count = reply_count + {NOTES_IN_THREAD} WHERE root_id IS NULL AND circle_id IS NOT NULL"


class Migration(migrations.Migration):
    dependencies = [('circles', '0036_search')]

    initial = False

    operations = [
        ops.RunSQL(UNCOUNT_NOTES, reverse_sql=COUNT_NOTES),
    ]
