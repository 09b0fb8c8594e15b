"""Muting and blocking people through the web UI (issue 11): what the muter
stops seeing, what a blocked person can no longer do, who is told, and the
Block that goes to a person on another server."""

from __future__ import annotations

import pytest

from federation import fanout
from models.actors import Actor, ActorKind, Follow, FollowState
from models.circles import Membership, MembershipState
from models.errors import PermissionDenied
from models.federation import Delivery, OutboxEvent
from models.notifications import Notification
from models.person_blocks import BlockKind, PersonBlock
from models.posts import Like, Post
from models.services import remote
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def circle_of_two(instance, alice, bob):
    """Alice's circle, with Bob in it; a post by each."""
    circle = await factories.circle(instance, alice, "readers", name="Slow Readers")
    await factories.member(circle, bob)
    mine = await factories.post(instance, alice, circle, title="Alice asks", body="Who has read Middlemarch?")
    theirs = await factories.post(instance, bob, circle, title="Bob shares", body="A reading list")
    await factories.post(instance, bob, circle, title="Bob wonders", body="Is it long?", kind="question")
    return circle, mine, theirs


async def hide(client, target: Actor, kind: str, **extra):
    return await submit(client, f"/people/{target.id}/block", kind=kind, **extra)


async def test_muting_hides_their_posts_and_replies_from_me_only_and_unmuting_brings_them_back(
    app, alice, bob, circle_of_two
):
    _, mine, _ = circle_of_two
    bob_client = await logged_in(app, bob)
    assert (await submit(bob_client, f"/posts/{mine.id}/reply", body="I have, twice over")).status_code == 302
    ann = await logged_in(app, alice)
    assert "Bob wonders" in await text(await ann.get("/"))  # a question she could answer
    notes_before = await Notification.filter(recipient=bob).count()

    response = await hide(ann, bob.actor, "mute")
    assert response.status_code == 302 and response.headers["Location"] == "/users/bob"
    page = await text(await ann.get("/users/bob"))
    assert "You muted bob" in page and "They are not told" in page and ">Unmute</button>" in page

    for path in ("/c/readers", "/", "/c/readers/questions"):
        page = await text(await ann.get(path))
        assert "Bob shares" not in page and "Bob wonders" not in page, path
    thread = await text(await ann.get(f"/posts/{mine.id}"))
    assert "twice over" not in thread and "A reply from someone you muted or blocked is hidden." in thread
    # Only Alice's view changes, and Bob hears nothing of it.
    assert "Bob shares" in await text(await app.test_client().get("/c/readers"))
    assert "twice over" in await text(await bob_client.get(f"/posts/{mine.id}"))
    assert await Notification.filter(recipient=bob).count() == notes_before
    assert not await OutboxEvent.filter(kind__startswith="person.").exists()
    listing = await text(await ann.get("/settings/blocks"))
    assert "bob" in listing and "Muted" in listing

    response = await hide(ann, bob.actor, "none")
    assert response.status_code == 302
    assert "Bob shares" in await text(await ann.get("/c/readers"))
    assert "twice over" in await text(await ann.get(f"/posts/{mine.id}"))
    assert not await PersonBlock.exists()


async def test_a_blocked_person_cannot_reply_to_like_or_follow_the_blocker(app, alice, bob, circle_of_two):
    _, mine, theirs = circle_of_two
    ann = await logged_in(app, alice)
    assert (await hide(ann, bob.actor, "block")).status_code == 302
    assert "Bob shares" not in await text(await ann.get("/c/readers"))
    bob_client = await logged_in(app, bob)
    replies_before = await Post.filter(root_id=mine.id).count()

    reply = await submit(bob_client, f"/posts/{mine.id}/reply", body="Let me in")
    assert reply.status_code == 403 and "has blocked you, so you cannot reply" in await text(reply)
    like = await submit(bob_client, f"/posts/{mine.id}/like", helpful="1")
    assert like.status_code == 403 and "cannot like it" in await text(like)
    assert await Post.filter(root_id=mine.id).count() == replies_before
    assert not await Like.exists()
    # Bob can still take part in the circle they share: a block takes no one out of it.
    assert (await submit(bob_client, f"/posts/{theirs.id}/reply", body="Adding one more")).status_code == 302
    # Alice can still reply to Bob; she just does not see his posts in her lists.
    assert (await submit(ann, f"/posts/{theirs.id}/reply", body="Thanks")).status_code == 302


async def test_bad_block_requests_get_a_reason(app, alice, bob):
    ann = await logged_in(app, alice)
    wrong = await hide(ann, bob.actor, "banish")
    assert wrong.status_code == 400 and "Choose to mute or to block." in await text(wrong)
    yourself = await hide(ann, alice.actor, "block")
    assert yourself.status_code == 400 and "cannot block or mute yourself" in await text(yourself)
    assert (await submit(ann, "/people/999999/block", kind="mute")).status_code == 404
    anonymous = await submit(app.test_client(), f"/people/{bob.actor.id}/block", kind="block")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert "/login" in (await app.test_client().get("/settings/blocks")).headers["Location"]
    forged = await ann.post(f"/people/{bob.actor.id}/block", form={"csrf_token": "wrong", "kind": "block"})
    assert forged.status_code == 403
    assert not await PersonBlock.exists()


async def remote_person(username: str = "ana", domain: str = "elsewhere.example") -> Actor:
    return await remote.upsert_actor(remote.RemoteActorInput(
        uri=f"https://{domain}/users/{username}", kind=ActorKind.PERSON, username=username, domain=domain,
        inbox_url=f"https://{domain}/users/{username}/inbox", shared_inbox_url=f"https://{domain}/inbox",
    ))


async def test_blocking_someone_elsewhere_sends_them_a_block_and_its_undo(app, fed, alice):
    """The Block goes to the person's own inbox (Mastodon's BlockService
    delivers it there). Mastodon undoes a block only when the Undo embeds the
    Block with its type (app/lib/activitypub/activity/undo.rb, `undo_block`:
    `case @object['type'] when 'Block'`), and acts on it only for its own
    accounts (block.rb: `return if target_account.nil? || !target_account.local?`)."""
    ana = await remote_person()
    await Follow.create(follower=alice.actor, target=ana, state=FollowState.ACCEPTED, uri="https://x/f/1")
    ann = await logged_in(app, alice)

    await remote.store_followed_post(remote.RemotePostInput(
        uri="https://elsewhere.example/notes/9", author_uri=ana.uri, content_html="<p>Ana's garden diary</p>",
    ), ana)
    assert "garden diary" in await text(await ann.get("/"))  # "From people you follow"
    assert (await hide(ann, ana, "mute")).status_code == 302
    assert "garden diary" not in await text(await ann.get("/"))
    await fanout.fan_out_pending(fed)
    assert not await Delivery.exists()  # a mute is never told
    response = await hide(ann, ana, "block")
    assert response.headers["Location"] == "/people/ana@elsewhere.example"
    flashes = await text(await ann.get("/people/ana@elsewhere.example"))
    assert "elsewhere.example, is told of the block" in flashes
    assert not await Follow.exists()
    await fanout.fan_out_pending(fed)
    [sent] = await Delivery.all()
    assert sent.inbox_url == "https://elsewhere.example/users/ana/inbox"  # not the shared inbox
    block = {key: sent.payload[key] for key in ("id", "type", "actor", "object")}
    assert block == {"id": block["id"], "type": "Block", "actor": alice.actor.uri, "object": ana.uri}

    assert (await hide(ann, ana, "none")).status_code == 302
    await fanout.fan_out_pending(fed)
    [undo] = await Delivery.exclude(id=sent.id)
    assert undo.payload["type"] == "Undo" and undo.payload["actor"] == alice.actor.uri
    assert undo.payload["object"] == block
    assert undo.inbox_url == sent.inbox_url

    # Blocking again is a new activity, so the receiver does not take it for a resend.
    await hide(ann, ana, "block")
    await fanout.fan_out_pending(fed)
    again = [d for d in await Delivery.all() if d.payload["type"] == "Block" and d.id != sent.id]
    assert len(again) == 1 and again[0].payload["id"] != block["id"]
    assert (await PersonBlock.get(owner=alice.actor)).kind == BlockKind.BLOCK


async def test_a_reply_from_elsewhere_by_someone_the_author_blocked_is_refused(database, alice, circle_of_two):
    circle, mine, _ = circle_of_two
    ana = await remote_person()
    await Membership.create(circle=circle, actor=ana, state=MembershipState.ACTIVE)
    await PersonBlock.create(owner=alice.actor, target=ana, kind=BlockKind.BLOCK)
    data = remote.RemotePostInput(
        uri="https://elsewhere.example/notes/1", author_uri=ana.uri, content_html="<p>Let me in</p>",
        in_reply_to_uri=mine.uri,
    )
    with pytest.raises(PermissionDenied, match="blocked you"):
        await remote.store_post(data, ana)
    assert not await Post.filter(uri=data.uri).exists()
