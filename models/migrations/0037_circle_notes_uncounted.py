from tortoise import migrations
from tortoise.migrations import operations as ops

# The circle's own notes in a thread (an accepted answer, a meeting's RSVP
# poll: replies its Group actor wrote) are no longer counted as replies
# (models/services/posts.py: is_circle_note). Recount every thread the way
# the counter is kept (posts.reply / mark_deleted, remote._insert_remote):
# live replies, less those written by their own circle's actor. A recount,
# not a subtraction, so running it twice changes nothing.
LIVE_REPLIES = "SELECT COUNT(*) FROM posts AS r WHERE r.root_id = posts.id AND r.deleted_at IS NULL"
BY_ITS_CIRCLE = "r.author_id IN (SELECT c.actor_id FROM circles AS c WHERE c.id = r.circle_id)"
RECOUNT_WITHOUT_NOTES = f"UPDATE posts SET reply_count = ({LIVE_REPLIES} AND NOT {BY_ITS_CIRCLE}) WHERE root_id IS NULL"
RECOUNT_WITH_NOTES = f"UPDATE posts SET reply_count = ({LIVE_REPLIES}) WHERE root_id IS NULL"


class Migration(migrations.Migration):
    dependencies = [('circles', '0036_search')]

    initial = False

    operations = [
        ops.RunSQL(RECOUNT_WITHOUT_NOTES, reverse_sql=RECOUNT_WITH_NOTES),
    ]
