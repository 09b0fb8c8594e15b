import asyncio

import pytest

from models.circles import Circle
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post
from models.services import posts as svc
from models.services import threads
from tests import factories


async def _circle_with_members(instance):
    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    return alice, bob, circle


async def test_post_is_rendered_sanitised_and_queued_for_federation(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    post = await svc.create_post(
        instance, alice.actor, circle, title="Week 1", body="Read *chapter 1* <script>x()</script>"
    )
    assert post.uri == f"http://circles.test/posts/{post.id}"
    assert "<em>chapter 1</em>" in post.content and "<script>" not in post.content
    assert post.language == "en"  # the circle's language by default
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).count() == 1
    assert (await Circle.get(id=circle.id)).post_count == 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": "x" * (svc.BODY_MAX + 1)}, "body"),
        ({"body": "ok", "title": "t" * (svc.TITLE_MAX + 1)}, "title"),
        ({"body": "ok", "kind": "rant"}, "kind"),
        ({"body": "ok\x00"}, "body"),
    ],
)
async def test_invalid_posts_write_nothing(database, instance, fields, field):
    alice, _, circle = await _circle_with_members(instance)
    with pytest.raises(InvalidInput) as caught:
        await svc.create_post(instance, alice.actor, circle, **fields)
    assert caught.value.field == field
    assert await Post.all().count() == 0 and await OutboxEvent.all().count() == 0


async def test_only_members_post_and_reply(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    stranger = await factories.account(instance, "stranger")
    with pytest.raises(PermissionDenied):
        await svc.create_post(instance, stranger.actor, circle, body="hi")
    post = await svc.create_post(instance, alice.actor, circle, body="hi")
    with pytest.raises(PermissionDenied):
        await svc.reply(instance, stranger.actor, post, body="hello")
    assert await Post.all().count() == 1


async def test_replies_thread_under_the_root(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    root = await svc.create_post(instance, alice.actor, circle, body="Question?")
    first = await svc.reply(instance, bob.actor, root, body="Answer")
    nested = await svc.reply(instance, alice.actor, first, body="Thanks!")
    assert nested.in_reply_to_id == first.id and nested.root_id == root.id
    thread = await threads.load(await svc.get_thread_root(root.id))
    assert {n.id: n.parent_id for n in thread.nodes.values()} == {first.id: root.id, nested.id: first.id}
    assert (await Post.get(id=root.id)).reply_count == 2
    assert (await Circle.get(id=circle.id)).post_count == 1  # replies are not top-level posts
    assert [p.id for p in await svc.list_circle_posts(circle)] == [root.id]


async def test_circle_posts_page_by_id(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    posts = [await svc.create_post(instance, alice.actor, circle, body=f"post {i}") for i in range(5)]
    first_page = await svc.list_circle_posts(circle, limit=3)
    assert [p.id for p in first_page] == [p.id for p in reversed(posts)][:3]
    second_page = await svc.list_circle_posts(circle, before_id=first_page[-1].id, limit=3)
    assert [p.id for p in second_page] == [posts[1].id, posts[0].id]


async def test_home_feed_shows_only_my_circles(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    other = await factories.circle(instance, alice, "elsewhere")
    mine = await svc.create_post(instance, alice.actor, circle, body="for readers")
    await svc.create_post(instance, alice.actor, other, body="not for bob")
    assert [p.id for p in await svc.recent_posts_for(bob.actor)] == [mine.id]


async def test_missing_post(database, instance):
    with pytest.raises(NotFound):
        await svc.get_post(12345)


async def test_ids_too_large_for_the_column_are_not_found(database, instance):
    # A URL can carry any number of digits; the database column cannot.
    with pytest.raises(NotFound):
        await svc.get_post(2**63)
    alice, _, circle = await _circle_with_members(instance)
    await svc.create_post(instance, alice.actor, circle, body="hi")
    assert len(await svc.list_circle_posts(circle, before_id=10**30)) == 1


async def test_deleting_keeps_counts_true_and_is_done_once(database, instance):
    from models.services import remote

    alice, bob, circle = await _circle_with_members(instance)
    root = await svc.create_post(instance, alice.actor, circle, body="Question?")
    answer = await svc.reply(instance, bob.actor, root, body="Answer")
    await svc.delete_post(bob.actor, answer)
    await svc.delete_post(bob.actor, await Post.get(id=answer.id))  # again: nothing more happens
    assert (await Post.get(id=root.id)).reply_count == 0
    assert await OutboxEvent.filter(kind="post.deleted").count() == 1
    await svc.delete_post(alice.actor, root)
    assert (await Circle.get(id=circle.id)).post_count == 0
    assert (await svc.get_thread_root(root.id)).deleted_at is not None
    assert await remote.delete_actor("https://nobody.example/u", instance=instance) is False


# --- the same post sent twice ------------------------------------------------------------


async def test_the_same_post_sent_twice_is_one_post(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    first = await svc.create_post(instance, alice.actor, circle, title="Week 1", body="Read chapter 1.")
    again = await svc.create_post(instance, alice.actor, circle, title="Week 1", body="Read chapter 1.")
    assert again.id == first.id
    assert await Post.all().count() == 1 and (await Circle.get(id=circle.id)).post_count == 1
    assert await OutboxEvent.filter(kind="post.created").count() == 1
    # Other words, another title, or another person: other posts.
    await svc.create_post(instance, alice.actor, circle, title="Week 1", body="Read chapter 2.")
    await svc.create_post(instance, alice.actor, circle, title="Week 2", body="Read chapter 1.")
    await svc.create_post(instance, bob.actor, circle, title="Week 1", body="Read chapter 1.")
    assert await Post.all().count() == 4


async def test_the_same_reply_sent_twice_is_one_reply(database, instance):
    alice, bob, circle = await _circle_with_members(instance)
    root = await svc.create_post(instance, alice.actor, circle, title="Week 1", body="Read chapter 1.")
    first = await svc.reply(instance, bob.actor, root, body="Count me in!")
    assert (await svc.reply(instance, bob.actor, root, body="Count me in!")).id == first.id
    assert (await Post.get(id=root.id)).reply_count == 1
    # The same words under another post are another reply.
    await svc.reply(instance, bob.actor, first, body="Count me in!")
    assert (await Post.get(id=root.id)).reply_count == 2


async def test_the_same_words_later_or_after_deleting_are_a_new_post(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    first = await svc.create_post(instance, alice.actor, circle, body="Anyone for coffee?")
    await Post.filter(id=first.id).update(published_at=first.published_at - svc.REPEAT_WINDOW)
    second = await svc.create_post(instance, alice.actor, circle, body="Anyone for coffee?")
    assert second.id != first.id
    await svc.delete_post(alice.actor, second)
    third = await svc.create_post(instance, alice.actor, circle, body="Anyone for coffee?")
    assert third.id not in (first.id, second.id)


async def test_two_copies_at_the_same_moment_make_one_post(database, instance):
    alice, _, circle = await _circle_with_members(instance)
    posts = await asyncio.gather(
        *(svc.create_post(instance, alice.actor, circle, title="Hi", body="Hello all.") for _ in range(3))
    )
    assert len({p.id for p in posts}) == 1 and await Post.all().count() == 1
