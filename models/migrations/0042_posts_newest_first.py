"""Posts newest first, by circle and by author, read from an index's end
rather than gathered and sorted: a circle's top-level posts (its page, its
outbox, the home feeds, the newest one for its Account entity's
last_status_at) and a person's posts (counted and dated for their Account
entity: web/mastodon/entities.py).

The (circle_id, root_id, published_at) index the models declare since 0001
is missing from every SQLite database: 0007 rebuilt the posts table to alter
a column, and tortoise's SQLite table remake does not copy indexes. It is not
restored here: SQLite, given it, gathers a whole circle's posts by it and
sorts them for lists ordered by id (bench/api.py and bench/pages.py measure
those), where (circle_id, root_id, id) reads just a page."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('circles', '0041_markers')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Post',
            index=Index(fields=['circle_id', 'root_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Post',
            index=Index(fields=['author_id', 'id']),
        ),
    ]
