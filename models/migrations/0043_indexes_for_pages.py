"""Indexes for the busy pages, each matching a query's WHERE and ORDER BY
(tests/integration/test_query_plans.py reads their plans):

- follows (target_id, state): an actor's followers (their profile, fan-out);
  the unique (follower_id, target_id) serves only the other way.
- likes (post_id): the likes of a page's posts, counted and named; the
  unique (actor_id, post_id) serves only one person's likes.
- memberships (actor_id, id): a person's circles, in every "circles I may
  read" filter and their home page, newest first; (circle_id, state, id): a
  circle's members, a page at a time in the order they joined.
- notifications (recipient_id, id): a person's notifications newest first.
- posts: (circle_id, kind, root_id, published_at) replaces (circle_id,
  root_id, published_at). Lists ordered by id walk (circle_id, root_id, id)
  (0042); what still ranges over dates are a circle's questions (the
  dashboard, the questions pages, home's "could you answer"), which this
  reads without the circle's other posts. published_at alone served no query.

The dropped indexes were missing from SQLite databases (0007's table remake
lost them), so they are dropped only if they exist; and the field's index is
dropped as such, not by tortoise's AlterField, which on SQLite would remake
the whole posts table to change nothing else."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

OLD_POSTS_INDEX = "idx_posts_circle__7ae957"  # (circle_id, root_id, published_at), tortoise's name
PUBLISHED_AT_INDEX = "idx_posts_publish_33dac9"  # (published_at)


class RemoveIndexIfExists(ops.RemoveIndex):
    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor._run_sql(f'DROP INDEX IF EXISTS "{OLD_POSTS_INDEX}"')


class DropPublishedAtIndex(ops.AlterField):
    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor._run_sql(f'DROP INDEX IF EXISTS "{PUBLISHED_AT_INDEX}"')

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor:
            await state_editor._run_sql(
                f'CREATE INDEX IF NOT EXISTS "{PUBLISHED_AT_INDEX}" ON "posts" ("published_at")')


class Migration(migrations.Migration):
    dependencies = [('circles', '0042_posts_newest_first')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Follow',
            index=Index(fields=['target_id', 'state']),
        ),
        ops.AddIndex(
            model_name='Like',
            index=Index(fields=['post_id']),
        ),
        ops.AddIndex(
            model_name='Membership',
            index=Index(fields=['actor_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Membership',
            index=Index(fields=['circle_id', 'state', 'id']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['recipient_id', 'id']),
        ),
        RemoveIndexIfExists(
            model_name='Post',
            name=None,
            fields=['circle_id', 'root_id', 'published_at'],
        ),
        DropPublishedAtIndex(
            model_name='Post',
            name='published_at',
            field=fields.DatetimeField(auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Post',
            index=Index(fields=['circle_id', 'kind', 'root_id', 'published_at']),
        ),
    ]
