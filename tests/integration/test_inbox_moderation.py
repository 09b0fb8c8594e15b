"""Moderation at the federation edge, through the real app: blocked domains
are refused at the inbox and get no deliveries; bans, removals and forwarded
reports go out as the activities Lemmy and Mastodon send; a banned member's
posts are refused; Flags arrive as reports."""

from __future__ import annotations

import pytest

from federation import delivery
from models.actors import Follow
from models.circles import Membership, MembershipState
from models.federation import Delivery, DeliveryState, InboxItem
from models.moderation import Report
from models.posts import Post
from models.services import follows
from models.services import moderation as svc
from models.services.remote import remote_actor
from tests import factories
from tests.integration.test_inbox import (
    REMOTE,
    follow_of,
    post_signed,
    process,
    remote_key,
    remote_person,
)


@pytest.fixture
async def peer(database, instance):
    key, pem = remote_key()
    return key, await remote_person("rita", pem)


async def blocked_peer(instance):
    admin = await factories.account(instance, "dana", is_admin=True)
    key, pem = remote_key()
    rita = await remote_person("rita", pem)
    return admin, key, rita


async def test_a_blocked_domains_signed_activity_is_refused_and_nothing_stored(app, client, instance, database):
    admin, key, rita = await blocked_peer(instance)
    alice = await factories.account(instance, "alice")
    await svc.block_domain(admin, instance, "remote.example", reason="Spam")
    response = await post_signed(client, "/users/alice/inbox", follow_of(rita, alice.actor.uri), key, f"{rita}#main-key")
    assert response.status_code == 403
    assert "does not accept" in await response.get_data(as_text=True)
    assert await InboxItem.all().count() == 0
    assert not await Follow.filter(target=alice.actor).exists()


async def test_nothing_is_delivered_to_a_blocked_domain(app, client, instance, database):
    admin, key, rita = await blocked_peer(instance)
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    [accept] = await Delivery.filter(host="remote.example")
    await svc.block_domain(admin, instance, "remote.example", reason="Spam")
    assert (await Delivery.get(id=accept.id)).state is DeliveryState.FAILED  # queued, never sent
    assert not await Membership.filter(actor__uri=rita).exists()
    # A follower row from there (however it came): the circle's posts are not queued for it.
    await Follow.create(follower=await remote_actor(rita), target=circle.actor, state="accepted")
    await factories.post(instance, alice, circle, "Hello")
    await process(app)
    assert await Delivery.filter(host="remote.example").count() == 1
    # A row queued before the block is given up by the worker, without a request.
    row = await Delivery.create(activity_id=f"{alice.actor.uri}#x", signer=alice.actor, inbox_url=f"{REMOTE}/inbox",
                                host="remote.example", payload={}, next_attempt_at=accept.created_at)
    await delivery.deliver_due(app.extensions["circles.federation"])
    row = await Delivery.get(id=row.id)
    assert row.state is DeliveryState.FAILED and row.attempts == 0 and "blocked" in row.last_error


async def rita_joins(app, client, circle, key, rita) -> None:
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)


def create_note(rita: str, circle_uri: str, n: int, text: str = "Hello") -> dict:
    note = {"id": f"{rita}/notes/{n}", "type": "Note", "attributedTo": rita, "content": f"<p>{text}</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [circle_uri], "audience": circle_uri}
    return {"id": f"{rita}/notes/{n}/activity", "type": "Create", "actor": rita, "object": note}


async def test_a_ban_sends_a_block_and_the_banned_members_posts_are_refused(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await rita_joins(app, client, circle, key, rita)
    person = await remote_actor(rita)
    await svc.ban(circle, alice.actor, person.id, reason="Harassment", instance=instance)
    await process(app)
    [block] = [d.payload for d in await Delivery.filter(host="remote.example") if d.payload["type"] == "Block"]
    # From the steward who banned: Lemmy takes a ban only from a person
    # (0.19.20 crates/apub/src/protocol/activities/block/block_user.rs:20-44).
    assert (block["actor"], block["object"], block["target"]) == (alice.actor.uri, rita, circle.actor.uri)
    assert block["summary"] == "Harassment"
    assert (await post_signed(client, "/inbox", create_note(rita, circle.actor.uri, 1), key, f"{rita}#main-key")).status_code == 202
    await process(app)
    item = await InboxItem.get(activity_id=f"{rita}/notes/1/activity")
    assert item.state.value == "ignored" and "Join this circle" in item.error
    assert not await Post.filter(uri=f"{rita}/notes/1").exists()

    await svc.unban(circle, alice.actor, person.id, reason="Apologised")
    await process(app)
    [undo] = [d.payload for d in await Delivery.filter(host="remote.example") if d.payload["type"] == "Undo"]
    assert undo["object"]["id"] == block["id"] and undo["object"]["type"] == "Block"


async def test_removing_a_post_from_elsewhere_tells_its_authors_server(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await rita_joins(app, client, circle, key, rita)
    await post_signed(client, "/inbox", create_note(rita, circle.actor.uri, 1, "Spam"), key, f"{rita}#main-key")
    await process(app)
    post = await Post.get(uri=f"{rita}/notes/1")
    await svc.remove_post(circle, alice.actor, post.id, reason="Spam")
    await process(app)
    sent = [d.payload for d in await Delivery.filter(host="remote.example").order_by("id")]
    deletes = [p for p in sent if p["type"] == "Delete"]
    announced = [p["object"] for p in sent if p["type"] == "Announce" and p["object"]["type"] == "Delete"]
    # The steward's own Delete, with the reason: Lemmy takes a removal only
    # from a person (0.19.20 crates/apub/src/protocol/activities/deletion/delete.rs:27, `actor: ObjectId<ApubPerson>`).
    assert deletes and deletes[0]["actor"] == alice.actor.uri and deletes[0]["object"] == post.uri
    assert deletes[0]["summary"] == "Spam" and [a["id"] for a in announced] == [deletes[0]["id"]]


async def test_a_forwarded_report_is_a_flag_from_the_instance_actor(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await rita_joins(app, client, circle, key, rita)
    await post_signed(client, "/inbox", create_note(rita, circle.actor.uri, 1, "Rude"), key, f"{rita}#main-key")
    await process(app)
    post = await Post.get(uri=f"{rita}/notes/1")
    await svc.report_post(bob.actor, post, category="harassment", comment="Very rude", forward=True)
    await process(app)
    [flag] = [d.payload for d in await Delivery.filter(host="remote.example") if d.payload["type"] == "Flag"]
    assert flag["actor"] == instance.instance_actor_uri()
    assert flag["object"] == [rita, post.uri] and flag["content"] == "Very rude"
    assert bob.actor.uri not in str(flag)  # the reporter stays unnamed


async def test_an_incoming_flag_about_a_circle_post_reaches_its_stewards(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    post = await factories.post(instance, bob, circle, "Something")
    flag = {"id": f"{REMOTE}/flags/1", "type": "Flag", "actor": rita, "object": [bob.actor.uri, post.uri],
            "content": "<b>Offensive</b>"}
    assert (await post_signed(client, "/inbox", flag, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    report = await Report.get(uri=f"{REMOTE}/flags/1")
    assert (report.circle_id, report.post_id, report.target_actor_id) == (circle.id, post.id, bob.actor.id)
    assert report.comment == "Offensive"
    assert [r.id for r in await svc.circle_reports(circle, alice.actor)] == [report.id]


async def test_a_ban_from_a_circle_elsewhere_is_kept_for_our_member(app, client, instance, database):
    from models.actors import ActorKind, KeyAlgorithm
    from models.services import remote

    key, pem = remote_key()
    group_uri = f"{REMOTE}/c/lounge"
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=group_uri, kind=ActorKind.GROUP, username="lounge", domain="remote.example",
        inbox_url=f"{group_uri}/inbox", keys=(remote.RemoteKey(f"{group_uri}#main-key", KeyAlgorithm.RSA, pem),),
    ))
    alice = await factories.account(instance, "alice")
    await follows.follow_remote(alice.actor, group, instance_base_url=instance.base_url)
    await follows.answer_from_remote(alice.actor, group, accepted=True)
    block = {"id": f"{group_uri}/bans/1", "type": "Block", "actor": group_uri, "object": alice.actor.uri,
             "target": group_uri, "summary": "Off topic"}
    assert (await post_signed(client, "/inbox", block, key, f"{group_uri}#main-key")).status_code == 202
    await process(app)
    member = await Membership.get(circle__actor=group, actor=alice.actor)
    assert member.state is MembershipState.BANNED
    assert not await Follow.filter(follower=alice.actor, target=group).exists()
    undo = {"id": f"{group_uri}/bans/1/undo", "type": "Undo", "actor": group_uri, "object": block}
    assert (await post_signed(client, "/inbox", undo, key, f"{group_uri}#main-key")).status_code == 202
    await process(app)
    assert not await Membership.filter(circle__actor=group, actor=alice.actor).exists()


async def test_a_ban_by_a_moderator_on_the_circles_server_is_kept_and_a_strangers_is_not(app, client, instance, peer):
    """Lemmy sends a ban as its moderator's Block, the community as target
    (0.19.20 crates/apub/src/protocol/activities/block/block_user.rs:20-44);
    like Lemmy, we take it from a person on the community's own server."""
    from models.actors import ActorKind, KeyAlgorithm
    from models.services import remote

    key, rita = peer  # a person on the circle's server (remote.example)
    group_uri = f"{REMOTE}/c/lounge"
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=group_uri, kind=ActorKind.GROUP, username="lounge", domain="remote.example", inbox_url=f"{group_uri}/inbox",
    ))
    stranger_key, stranger_pem = remote_key()
    stranger = "https://elsewhere.example/users/sam"
    await remote.upsert_actor(remote.RemoteActorInput(
        uri=stranger, kind=ActorKind.PERSON, username="sam", domain="elsewhere.example", inbox_url=f"{stranger}/inbox",
        keys=(remote.RemoteKey(f"{stranger}#main-key", KeyAlgorithm.RSA, stranger_pem),),
    ))
    alice = await factories.account(instance, "alice")
    await follows.follow_remote(alice.actor, group, instance_base_url=instance.base_url)
    await follows.answer_from_remote(alice.actor, group, accepted=True)

    def ban(actor: str, n: int) -> dict:
        return {"id": f"{actor}/blocks/{n}", "type": "Block", "actor": actor, "object": alice.actor.uri,
                "target": group_uri, "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [group_uri]}

    await post_signed(client, "/inbox", ban(stranger, 1), stranger_key, f"{stranger}#main-key")
    await process(app)
    assert (await Membership.get(circle__actor=group, actor=alice.actor)).state is MembershipState.ACTIVE
    await post_signed(client, "/inbox", ban(rita, 2), key, f"{rita}#main-key")
    await process(app)
    assert (await Membership.get(circle__actor=group, actor=alice.actor)).state is MembershipState.BANNED
    undo = {"id": f"{rita}/blocks/2/undo", "type": "Undo", "actor": rita, "object": ban(rita, 2)}
    await post_signed(client, "/inbox", undo, key, f"{rita}#main-key")
    await process(app)
    assert not await Membership.filter(circle__actor=group, actor=alice.actor).exists()
