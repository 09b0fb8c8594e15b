"""A person here following another person here, from their page: accepted at
once, the follower sees their posts under "From people you follow", the
followed person is told, blocks are respected, and nothing is sent to another
server (both people are here)."""

from __future__ import annotations

from federation import fanout
from models.actors import Follow, FollowState
from models.federation import Delivery, OutboxEvent
from models.notifications import Notification
from tests import factories
from tests.integration.webforms import logged_in, submit, text


async def test_following_someone_here_shows_their_posts_tells_them_and_queues_nothing(app, fed, instance, alice, bob):
    # Bob writes in his own public circle, which Alice is not in; and in a members-only one.
    walks = await factories.circle(instance, bob, "walks", name="Walks")
    secret = await factories.circle(instance, bob, "secret", name="Secret", visibility="members")
    await factories.post(instance, bob, walks, title="A walk by the river", body="Join me")
    await factories.post(instance, bob, secret, title="Only for members", body="Shh")
    ann = await logged_in(app, alice)
    assert "A walk by the river" not in await text(await ann.get("/"))
    page = await text(await ann.get("/users/bob"))
    assert 'action="/users/bob/follow"' in page and ">Follow</button>" in page

    response = await submit(ann, "/users/bob/follow")
    assert response.status_code == 302 and response.headers["Location"] == "/users/bob"
    follow = await Follow.get(follower=alice.actor, target=bob.actor)
    assert follow.state is FollowState.ACCEPTED
    page = await text(await ann.get("/users/bob"))
    assert "You follow bob." in page and 'action="/users/bob/unfollow"' in page
    home = await text(await ann.get("/"))
    assert "A walk by the river" in home and "Only for members" not in home
    told = await Notification.filter(recipient=bob, kind="person.followed").count()
    assert told == 1
    await submit(ann, "/users/bob/follow")  # again: nothing new, nobody told twice
    assert await Follow.filter(follower=alice.actor, target=bob.actor).count() == 1
    assert await Notification.filter(recipient=bob, kind="person.followed").count() == 1

    # Nothing for the outbox: no event about the follow, no delivery anywhere.
    assert not await OutboxEvent.filter(kind__startswith="follow.").exists()
    await fanout.fan_out_pending(fed)
    assert not await Delivery.exists()

    response = await submit(ann, "/users/bob/unfollow")
    assert response.status_code == 302
    assert not await Follow.filter(follower=alice.actor, target=bob.actor).exists()
    assert "A walk by the river" not in await text(await ann.get("/"))
    assert not await OutboxEvent.filter(kind__startswith="follow.").exists()


async def test_a_block_ends_a_local_follow_both_ways_and_refuses_a_new_one(app, alice, bob):
    ann, bobby = await logged_in(app, alice), await logged_in(app, bob)
    await submit(ann, "/users/bob/follow")
    await submit(bobby, "/users/alice/follow")
    assert await Follow.filter(state=FollowState.ACCEPTED).count() == 2

    assert (await submit(bobby, f"/people/{alice.actor.id}/block", kind="block")).status_code == 302
    assert not await Follow.exists()
    response = await submit(ann, "/users/bob/follow")
    assert response.status_code == 403 and "bob has blocked you" in await text(response)
    response = await submit(bobby, "/users/alice/follow")  # refused as the other way round: 403
    assert response.status_code == 403 and "unblock them first" in await text(response)
    assert "unblock them first to follow them" in await text(await bobby.get("/users/alice"))
    assert not await Follow.exists()


async def test_following_oneself_or_nobody_is_refused(app, alice):
    ann = await logged_in(app, alice)
    assert "/users/alice/follow" not in await text(await ann.get("/users/alice"))
    response = await submit(ann, "/users/alice/follow")
    assert response.status_code == 400 and "cannot follow yourself" in await text(response)
    assert (await submit(ann, "/users/nobody/follow")).status_code == 404
    assert not await Follow.exists()


async def test_signed_out_visitors_are_asked_to_log_in_to_follow(app, alice):
    page = await text(await app.test_client().get("/users/alice"))
    assert "Log in to follow alice." in page and "/users/alice/follow" not in page
