"""Bookmarks (kept once, only readable posts, gone with the account) and
idempotency keys (one post per key and person within the hour)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from models import clock
from models.bookmarks import Bookmark
from models.circles import Visibility
from models.errors import NotFound
from models.idempotency import IdempotencyKey
from models.posts import Post
from models.services import account_deletion, bookmarks, idempotency
from models.services import posts as post_service
from tests import factories


@pytest.fixture
async def alice(database, instance):
    return await factories.account(instance, "alice")


@pytest.fixture
async def bob(database, instance):
    return await factories.account(instance, "bob")


@pytest.fixture
async def rust(instance, alice):
    return await factories.circle(instance, alice, "rust")


async def test_a_bookmark_is_kept_once_and_let_go(instance, alice, rust):
    post = await factories.post(instance, alice, rust, "keep")
    first = await bookmarks.bookmark(alice, post)
    assert (await bookmarks.bookmark(alice, post)).id == first.id
    assert await bookmarks.bookmarked(alice, [post.id, 123]) == {post.id}
    assert await bookmarks.unbookmark(alice, post) is True
    assert await bookmarks.unbookmark(alice, post) is False
    assert await bookmarks.bookmarked(alice, [post.id]) == set()


async def test_a_members_only_post_cannot_be_kept_by_others(instance, alice, bob):
    quiet = await factories.circle(instance, alice, "quiet", visibility=Visibility.MEMBERS.value)
    post = await factories.post(instance, alice, quiet, "ours")
    with pytest.raises(NotFound):
        await bookmarks.bookmark(bob, post)


async def test_the_list_leaves_out_deleted_and_unreadable_posts(instance, alice, bob, rust):
    kept = await factories.post(instance, alice, rust, "kept")
    deleted = await factories.post(instance, alice, rust, "deleted")
    for post in (kept, deleted):
        await bookmarks.bookmark(bob, post)  # a public circle's posts: anyone may keep them
    await post_service.delete_post(alice.actor, deleted)
    assert [row.post_id for row in await bookmarks.kept_by(bob)] == [kept.id]
    await type(rust).filter(id=rust.id).update(visibility=Visibility.MEMBERS)  # as a passed proposal would
    assert [row.post_id for row in await bookmarks.kept_by(bob)] == []  # bob is no member
    assert [row.post_id for row in await bookmarks.kept_by(alice)] == []  # she kept none


async def test_bookmarks_go_with_the_account(instance, alice, rust):
    post = await factories.post(instance, alice, rust, "keep")
    bob = await factories.account(instance, "bob")
    await bookmarks.bookmark(bob, post)
    await account_deletion.delete_account(bob, by=bob, instance=instance)
    assert not await Bookmark.exists()


async def test_one_key_makes_one_post_within_the_hour(instance, alice, rust):
    made = []

    async def make():
        made.append(await post_service.create_post(instance, alice.actor, rust, body=f"post {len(made)}"))
        return made[-1]

    first = await idempotency.once(alice, "key", make)
    again = await idempotency.once(alice, "key", make)
    assert again.id == first.id and len(made) == 1
    clock.freeze(clock.now() + idempotency.WINDOW + dt.timedelta(seconds=1))
    try:
        later = await idempotency.once(alice, "key", make)
    finally:
        clock.freeze(None)
    assert later.id != first.id and await IdempotencyKey.filter(account_id=alice.id).count() == 1


async def test_a_deleted_posts_key_makes_a_new_one(instance, alice, rust):
    async def make():
        return await post_service.create_post(instance, alice.actor, rust, body="again")

    first = await idempotency.once(alice, "key", make)
    await post_service.delete_post(alice.actor, first)
    assert (await idempotency.once(alice, "key", make)).id != first.id


async def test_without_a_key_each_call_makes_a_post(instance, alice, rust):
    async def make():
        return await post_service.create_post(instance, alice.actor, rust, body=f"words {await Post.all().count()}")

    await idempotency.once(alice, None, make)
    await idempotency.once(alice, "", make)
    assert await Post.all().count() == 2


async def test_two_requests_at_once_make_one_post(instance, alice, rust):
    bodies = iter(["racing one", "racing two"])  # different words: the repeat check (posts._repeat) is not what holds

    async def make():
        await asyncio.sleep(0)
        return await post_service.create_post(instance, alice.actor, rust, body=next(bodies))

    first, second = await asyncio.gather(idempotency.once(alice, "race", make), idempotency.once(alice, "race", make))
    assert first.id == second.id
    assert await Post.filter(deleted_at=None).count() == 1


async def test_the_worker_forgets_keys_past_their_hour_on_the_hour(instance, alice, rust):
    from server import worker

    async def make():
        return await post_service.create_post(instance, alice.actor, rust, body="post")

    await idempotency.once(alice, "old", make)
    on_the_hour = (clock.now() + idempotency.WINDOW + dt.timedelta(hours=1)).replace(minute=0)
    try:
        clock.freeze(on_the_hour.replace(minute=30))
        await worker.forget_old_rows(None)  # not on the hour: nothing yet
        assert await IdempotencyKey.filter(account_id=alice.id).count() == 1
        clock.freeze(on_the_hour)
        await worker.forget_old_rows(None)
    finally:
        clock.freeze(None)
    assert await IdempotencyKey.filter(account_id=alice.id).count() == 0
