"""The query counter the page tests rely on (tests/querycount.py)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models.notifications import Notification
from models.posts import Post
from tests import factories


async def test_it_counts_each_statement_once_inside_and_outside_transactions(database, instance, count_queries):
    alice = await factories.account(instance, "alice")
    with count_queries() as queries:
        await Post.filter(author=alice.actor).count()
        await Post.filter(author=alice.actor).select_related("author").limit(5)
        async with in_transaction():
            await Notification.create(recipient=alice, kind="test", text="One")
            await Notification.filter(recipient=alice).update(text="Two")
        await Notification.bulk_create([Notification(recipient=alice, kind="test", text="x") for _ in range(3)])
    assert len(queries) == 5, queries.report()
    assert queries[0].startswith("SELECT COUNT(") and queries[2].startswith("INSERT")
    assert queries[3].startswith("UPDATE")


async def test_blocks_nest_and_nothing_is_counted_outside(database, instance, count_queries):
    alice = await factories.account(instance, "alice")
    with count_queries() as outer:
        await Post.all().count()
        with count_queries() as inner:
            await Post.filter(author=alice.actor).count()
    await Post.all().count()
    assert (len(outer), len(inner)) == (2, 1)
