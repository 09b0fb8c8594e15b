"""The inbox through the real app: signed requests are stored and processed;
everything hostile gets a 4xx with a reason and changes nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from federation import fanout, inbox, signatures
from federation.runtime import DEFAULT_LEASE
from models import clock
from models.actors import ActorKind, Follow, FollowState, KeyAlgorithm
from models.federation import Delivery, InboxItem, InboxState
from models.posts import Post
from models.services import moderation, remote
from tests import factories

REMOTE = "https://remote.example"


def remote_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, signatures.public_key_to_pem(key.public_key())


async def remote_person(name: str, key) -> str:
    uri = f"{REMOTE}/users/{name}"
    await remote.upsert_actor(remote.RemoteActorInput(
        uri=uri, kind=ActorKind.PERSON, username=name, domain="remote.example", inbox_url=f"{uri}/inbox",
        shared_inbox_url=f"{REMOTE}/inbox",
        keys=(remote.RemoteKey(f"{uri}#main-key", KeyAlgorithm.RSA, key),),
    ))
    return uri


@pytest.fixture
async def peer(database, instance):
    key, pem = remote_key()
    uri = await remote_person("rita", pem)
    return key, uri


async def post_signed(client, path: str, activity: dict, key, key_id: str, *, scheme="cavage", tamper=None,
                      content_type="application/activity+json", now=None):
    body = json.dumps(activity).encode()
    url = f"http://circles.test{path}"
    headers = {"Content-Type": content_type}
    if scheme == "cavage":
        headers |= signatures.sign_cavage("POST", url, headers, body, key_id, key, now=now)
    else:
        headers |= signatures.sign_rfc9421("POST", url, headers, body, key_id, key, created=now)
    if tamper:
        body = tamper(body)
    return await client.post(path, data=body, headers=headers)


PUBLIC = ["https://www.w3.org/ns/activitystreams#Public"]


def note_create(author: str, n: int, content: str, **fields) -> dict:
    """The Create of the Note `{author}/notes/{n}`, addressed as `fields` say."""
    note = {"id": f"{author}/notes/{n}", "type": "Note", "attributedTo": author, "content": content, **fields}
    return {"id": f"{author}/notes/{n}/activity", "type": "Create", "actor": author, "object": note}


def follow_of(actor: str, target: str, n: int = 1) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/follows/{n}",
            "type": "Follow", "actor": actor, "object": target}


async def process(app) -> None:
    fed = app.extensions["circles.federation"]
    await inbox.process_pending(fed)
    await fanout.fan_out_pending(fed)


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_a_signed_follow_is_stored_processed_and_answered(app, client, instance, peer, scheme):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    response = await post_signed(client, "/users/alice/inbox", follow_of(rita, alice.actor.uri), key, f"{rita}#main-key", scheme=scheme)
    assert response.status_code == 202, await response.get_data(as_text=True)
    item = await InboxItem.get(activity_id=f"{rita}/follows/1")
    assert item.state is InboxState.QUEUED and item.signature_key_id == f"{rita}#main-key"
    await process(app)
    assert (await InboxItem.get(id=item.id)).state is InboxState.DONE
    follow = await Follow.get(follower__uri=rita).select_related("target")
    assert follow.state is FollowState.ACCEPTED and follow.target.uri == alice.actor.uri
    delivery = await Delivery.get(inbox_url=f"{REMOTE}/inbox")
    assert delivery.payload["type"] == "Accept" and delivery.payload["object"]["id"] == f"{rita}/follows/1"


async def test_a_resent_activity_is_stored_once_and_a_replay_is_refused(client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    activity = follow_of(rita, alice.actor.uri)
    body = json.dumps(activity).encode()
    url = "http://circles.test/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_cavage("POST", url, headers, body, f"{rita}#main-key", key)
    assert (await client.post("/inbox", data=body, headers=headers)).status_code == 202
    # The very same signed request again: a replay.
    replay = await client.post("/inbox", data=body, headers=headers)
    assert replay.status_code == 409 and "replay" in await replay.get_data(as_text=True)
    # The sender retrying signs anew: acknowledged, nothing changes.
    resent = await post_signed(client, "/inbox", activity, key, f"{rita}#main-key", now=clock.now() + dt.timedelta(seconds=2))
    assert resent.status_code == 202 and "Already received" in await resent.get_data(as_text=True)
    assert await InboxItem.all().count() == 1


async def test_following_an_open_circle_joins_it(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    page = await client.get("/c/readers/members")
    assert "rita" in await page.get_data(as_text=True)


async def test_a_member_elsewhere_posts_into_a_circle(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    create = note_create(rita, 1, "<p>Hi <script>x()</script>all</p>", to=PUBLIC, cc=[circle.actor.uri],
                         audience=circle.actor.uri)
    assert (await post_signed(client, "/inbox", create, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    post = await Post.get(uri=f"{rita}/notes/1")
    assert post.circle_id == circle.id and post.content == "<p>Hi all</p>"
    # Rita's server hears the Accept of her follow, then the circle's Announce of her post.
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    assert [p["type"] for p in sent] == ["Accept", "Announce"]
    assert sent[1]["actor"] == circle.actor.uri and sent[1]["object"]["id"] == f"{rita}/notes/1/activity"


async def test_a_public_post_that_only_mentions_the_circle_is_posted_in_it(app, client, instance, peer):
    """Fedify (and some other servers) address a mention only by its tag."""
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    create = note_create(rita, 9, "<p>@readers hello</p>", to=PUBLIC, cc=[f"{rita}/followers"],
                         tag=[{"type": "Mention", "href": circle.actor.uri, "name": f"@readers@{instance.domain}"}])
    assert (await post_signed(client, "/inbox", create, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    post = await Post.get(uri=f"{rita}/notes/9")
    assert post.circle_id == circle.id


async def test_non_members_and_spoofed_authors_are_ignored(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    note = {"id": f"{rita}/notes/2", "type": "Note", "attributedTo": rita, "content": "spam", "to": [circle.actor.uri]}
    await post_signed(client, "/inbox", {"id": f"{rita}/a/2", "type": "Create", "actor": rita, "object": note}, key, f"{rita}#main-key")
    spoofed = {**note, "id": f"{rita}/notes/3", "attributedTo": alice.actor.uri}
    await post_signed(client, "/inbox", {"id": f"{rita}/a/3", "type": "Create", "actor": rita, "object": spoofed}, key, f"{rita}#main-key")
    foreign = {**note, "id": "https://elsewhere.example/notes/4"}
    await post_signed(client, "/inbox", {"id": f"{rita}/a/4", "type": "Create", "actor": rita, "object": foreign}, key, f"{rita}#main-key")
    await process(app)
    assert await Post.filter(local=False).count() == 0
    states = {i.activity_id: i.state for i in await InboxItem.all()}
    assert set(states.values()) <= {InboxState.IGNORED}, states
    # Rita is told, to her alone and once, why her note was not posted and how to join.
    (answer,) = [d.payload for d in await Delivery.filter(inbox_url=f"{rita}/inbox")]
    assert answer["actor"] == circle.actor.uri and answer["object"]["to"] == [rita]
    assert answer["object"]["inReplyTo"] == f"{rita}/notes/2"
    assert "only its members post in it" in answer["object"]["content"]
    assert f"Follow @readers@{instance.domain} to join it" in answer["object"]["content"]


async def test_a_non_member_is_answered_at_most_once_an_hour_and_banned_people_never(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers", join_mode="approval")
    for n in (1, 2):
        await post_signed(client, "/inbox", note_create(rita, n, "hi", to=PUBLIC, cc=[circle.actor.uri]),
                          key, f"{rita}#main-key")
    await process(app)
    (answer,) = [d.payload for d in await Delivery.filter(inbox_url=f"{rita}/inbox")]
    assert "to ask to join it: a facilitator answers each request" in answer["object"]["content"]
    # An hour later she would be answered again, but not once banned.
    rita_actor = await remote.remote_actor(rita)
    await moderation.ban(circle, alice.actor, rita_actor.id, reason="spam", instance=instance)
    clock.freeze(clock.now() + dt.timedelta(hours=2))
    try:
        response = await post_signed(client, "/inbox", note_create(rita, 3, "hi", to=PUBLIC, cc=[circle.actor.uri]),
                                     key, f"{rita}#main-key", now=clock.now())
        assert response.status_code == 202
        await process(app)
    finally:
        clock.freeze(None)
    assert (await InboxItem.get(activity_id=f"{rita}/notes/3/activity")).state is InboxState.IGNORED
    assert await Delivery.filter(inbox_url=f"{rita}/inbox").count() == 1
    assert await Post.filter(local=False).count() == 0


def _flip_last_byte(body: bytes) -> bytes:
    return body[:-2] + (b"]" if body[-2:-1] != b"]" else b"}") + body[-1:]


async def test_hostile_requests_get_4xx_and_change_nothing(client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    activity = follow_of(rita, alice.actor.uri)
    other_key, _ = remote_key()
    cases = {
        "unsigned": (await client.post("/inbox", data=json.dumps(activity), headers={"Content-Type": "application/activity+json"}), 401),
        "wrong type": (await post_signed(client, "/inbox", activity, key, f"{rita}#main-key", content_type="text/plain"), 415),
        "tampered body": (await post_signed(client, "/inbox", activity, key, f"{rita}#main-key",
                                            tamper=lambda b: b.replace(b"follows/1", b"follows/9")), 401),
        "wrong key": (await post_signed(client, "/inbox", activity, other_key, f"{rita}#main-key"), 401),
        "stale date": (await post_signed(client, "/inbox", activity, key, f"{rita}#main-key",
                                         now=clock.now() - dt.timedelta(hours=3)), 401),
        "not json": (await client.post("/inbox", data=b"{nope", headers={"Content-Type": "application/activity+json"}), 400),
        "array": (await post_signed(client, "/inbox", [activity], key, f"{rita}#main-key"), 400),
        "too deep": (await post_signed(client, "/inbox", {**activity, "x": json.loads("[" * 100 + "]" * 100)}, key, f"{rita}#main-key"), 400),
        "too large": (await post_signed(client, "/inbox", {**activity, "x": "a" * 600_000}, key, f"{rita}#main-key"), 413),
        "nul": (await post_signed(client, "/inbox", {**activity, "summary": "a\u0000b"}, key, f"{rita}#main-key"), 400),
        "id on another host": (await post_signed(client, "/inbox", {**activity, "id": "https://evil.example/1"}, key, f"{rita}#main-key"), 400),
    }
    for name, (response, status) in cases.items():
        text = await response.get_data(as_text=True)
        assert response.status_code == status, (name, response.status_code, text)
        assert "error" in json.loads(text), name
    assert await InboxItem.all().count() == 0


async def test_a_key_of_another_actor_is_refused(client, instance, peer, database):
    key, rita = peer
    mallory_key, mallory_pem = remote_key()
    mallory = await remote_person("mallory", mallory_pem)
    alice = await factories.account(instance, "alice")
    # Mallory signs with her own (valid) key an activity claiming to be Rita's.
    response = await post_signed(client, "/inbox", follow_of(rita, alice.actor.uri), mallory_key, f"{mallory}#main-key")
    assert response.status_code == 401
    assert "does not belong" in await response.get_data(as_text=True)
    assert await InboxItem.all().count() == 0


async def test_an_unknown_actor_deleting_itself_is_acknowledged_without_a_fetch(client, database):
    gone = "https://gone.example/users/x"
    response = await client.post("/inbox", data=json.dumps({"id": f"{gone}#delete", "type": "Delete", "actor": gone, "object": gone}),
                                 headers={"Content-Type": "application/activity+json"})
    assert response.status_code == 202
    assert await InboxItem.all().count() == 0


async def test_likes_blocks_and_reports(app, client, instance, peer):
    from models.moderation import Report
    from models.posts import Like

    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    post = await factories.post(instance, alice, circle, "Hello")
    like = {"id": f"{rita}/likes/1", "type": "Like", "actor": rita, "object": post.uri}
    await post_signed(client, "/inbox", like, key, f"{rita}#main-key")
    await process(app)
    assert await Like.filter(post=post).count() == 0  # only the circle's members' likes count
    assert (await InboxItem.get(activity_id=like["id"])).state is InboxState.IGNORED
    like = {**like, "id": f"{rita}/likes/2"}
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await post_signed(client, "/inbox", like, key, f"{rita}#main-key")
    await post_signed(client, "/inbox", follow_of(rita, alice.actor.uri), key, f"{rita}#main-key")
    await process(app)
    assert await Like.filter(post=post).count() == 1
    undo = {"id": f"{rita}/likes/2/undo", "type": "Undo", "actor": rita, "object": like}
    block = {"id": f"{rita}/blocks/1", "type": "Block", "actor": rita, "object": alice.actor.uri}
    flag = {"id": f"{rita}/flags/1", "type": "Flag", "actor": rita, "content": "spam", "object": [alice.actor.uri, post.uri]}
    for activity in (undo, block, flag):
        assert (await post_signed(client, "/inbox", activity, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert await Like.filter(post=post).count() == 0
    assert await Follow.filter(follower__uri=rita, target=alice.actor).count() == 0  # the block ends it
    report = await Report.get(uri=f"{rita}/flags/1")
    assert report.target_actor_id == alice.actor.id and report.object_uris == [alice.actor.uri, post.uri]


async def test_undoing_someone_elses_activity_is_refused(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    undo = {"id": f"{rita}/undo/1", "type": "Undo", "actor": rita, "object": follow_of(alice.actor.uri, alice.actor.uri)}
    await post_signed(client, "/inbox", undo, key, f"{rita}#main-key")
    await process(app)
    item = await InboxItem.get(activity_id=f"{rita}/undo/1")
    assert item.state is InboxState.IGNORED and "Only an activity's own actor" in item.error


async def test_rotating_keys_publishes_new_ones_and_updates_followers(app, client, instance, peer):
    from models.services import actors as actor_service

    key, rita = peer
    alice = await factories.account(instance, "alice")
    await post_signed(client, "/inbox", follow_of(rita, alice.actor.uri), key, f"{rita}#main-key")
    await process(app)
    before = json.loads(await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).get_data(as_text=True))
    await actor_service.rotate_keys(alice.actor)
    await process(app)
    after = json.loads(await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).get_data(as_text=True))
    assert after["publicKey"]["id"] != before["publicKey"]["id"]
    assert after["publicKey"]["publicKeyPem"] != before["publicKey"]["publicKeyPem"]
    update = (await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("-id").first()).payload
    assert update["type"] == "Update" and update["object"]["publicKey"] == after["publicKey"]
    # Deliveries are now signed with the new key.
    signing = await actor_service.signing_key(alice.actor)
    assert signing.key_id == after["publicKey"]["id"]


async def test_claimed_items_are_not_claimed_again_until_the_claim_passes(database):
    for n in range(3):
        await InboxItem.create(activity_id=f"{REMOTE}/a/{n}", actor_uri=f"{REMOTE}/u", activity_type="Like", payload={})
    first = await inbox._claim(2, DEFAULT_LEASE)
    second = await inbox._claim(5, DEFAULT_LEASE)
    assert len(first) == 2 and len(second) == 1
    assert not {i.id for i in first} & {i.id for i in second}
    clock.freeze(clock.now() + DEFAULT_LEASE + dt.timedelta(seconds=1))
    try:
        assert len(await inbox._claim(5, DEFAULT_LEASE)) == 3  # a crashed worker's items come back
    finally:
        clock.freeze(None)


async def test_an_undo_with_a_fresh_inner_like_id_still_removes_the_like(app, client, instance, peer):
    # Lemmy's Undo carries a Like with a new id: match it by the liked post.
    from models.posts import Like

    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice)
    post = await factories.post(instance, alice, circle, "Hello")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await post_signed(client, "/inbox", {"id": f"{rita}/likes/1", "type": "Like", "actor": rita, "object": post.uri}, key, f"{rita}#main-key")
    await process(app)
    assert await Like.filter(post=post).count() == 1
    undo = {"id": f"{rita}/undo/9", "type": "Undo", "actor": rita,
            "object": {"id": f"{rita}/likes/other", "type": "Like", "actor": rita, "object": post.uri}}
    await post_signed(client, "/inbox", undo, key, f"{rita}#main-key")
    await process(app)
    assert await Like.filter(post=post).count() == 0


async def test_a_followed_circle_pins_posts_and_names_moderators(app, client, instance, database):
    """Add/Remove from a remote Group: featured posts and our members' roles."""
    from models.circles import Membership, Role
    from models.services import follows

    key, pem = remote_key()
    group_uri = f"{REMOTE}/c/lounge"
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=group_uri, kind=ActorKind.GROUP, username="lounge", domain="remote.example", inbox_url=f"{group_uri}/inbox",
        keys=(remote.RemoteKey(f"{group_uri}#main-key", KeyAlgorithm.RSA, pem),),
    ))
    alice = await factories.account(instance, "alice")
    await follows.follow_remote(alice.actor, group, instance_base_url=instance.base_url)
    await follows.answer_from_remote(alice.actor, group, accepted=True)
    note = {"id": f"{REMOTE}/notes/7", "type": "Note", "attributedTo": group_uri, "content": "Rules", "audience": group_uri}
    announce = {"id": f"{group_uri}/announce/7", "type": "Announce", "actor": group_uri, "object": note}
    add_featured = {"id": f"{group_uri}/add/1", "type": "Add", "actor": group_uri, "object": note["id"], "target": f"{group_uri}//featured"}
    add_mod = {"id": f"{group_uri}/add/2", "type": "Add", "actor": group_uri, "object": alice.actor.uri, "target": f"{group_uri}/moderators"}
    foreign = {"id": f"{group_uri}/add/3", "type": "Add", "actor": group_uri, "object": note["id"], "target": "https://elsewhere.example/c/x/featured"}
    for activity in (announce, add_featured, add_mod, foreign):
        assert (await post_signed(client, "/inbox", activity, key, f"{group_uri}#main-key")).status_code == 202
        await process(app)
    assert (await Post.get(uri=note["id"])).featured_at is not None
    assert (await Membership.get(actor=alice.actor, circle__actor=group)).role is Role.MODERATOR
    assert (await InboxItem.get(activity_id=foreign["id"])).state is InboxState.IGNORED
    remove_mod = {**add_mod, "id": f"{group_uri}/remove/2", "type": "Remove"}
    await post_signed(client, "/inbox", remove_mod, key, f"{group_uri}#main-key")
    await process(app)
    assert (await Membership.get(actor=alice.actor, circle__actor=group)).role is Role.MEMBER


async def test_odd_shapes_get_4xx_not_500(client, database):
    for activity in ({"id": "https://x.example:abc/1", "type": "Follow", "actor": "https://x.example:abc/u"},
                     {"id": "https://x.example/1", "type": "Follow", "actor": "https://[::1/u"}):
        response = await client.post("/inbox", data=json.dumps(activity), headers={"Content-Type": "application/activity+json"})
        assert response.status_code == 400, activity


async def test_a_follow_undone_before_it_was_answered_does_not_block_the_queue(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    follow = follow_of(rita, alice.actor.uri)
    await post_signed(client, "/inbox", follow, key, f"{rita}#main-key")
    await post_signed(client, "/inbox", {"id": f"{rita}/undo/1", "type": "Undo", "actor": rita, "object": follow}, key, f"{rita}#main-key")
    fed = app.extensions["circles.federation"]
    await inbox.process_pending(fed)  # both processed before any fan-out
    await factories.post(instance, alice, await factories.circle(instance, alice), "later")
    await fanout.fan_out_pending(fed)
    from models.federation import OutboxEvent
    assert await OutboxEvent.filter(processed_at=None).count() == 0


async def test_a_member_elsewhere_deleting_their_account_keeps_our_replies(app, client, instance, peer):
    from models.circles import Circle

    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    note = {"id": f"{rita}/notes/1", "type": "Note", "attributedTo": rita, "content": "Hi", "audience": circle.actor.uri}
    await post_signed(client, "/inbox", {"id": f"{rita}/c/1", "type": "Create", "actor": rita, "object": note}, key, f"{rita}#main-key")
    await process(app)
    rita_post = await Post.get(uri=note["id"])
    from models.services import posts as post_service

    reply = await post_service.reply(instance, alice.actor, rita_post, body="Welcome!")
    assert (await Circle.get(id=circle.id)).member_count == 2
    await post_signed(client, "/inbox", {"id": f"{rita}#delete", "type": "Delete", "actor": rita, "object": rita}, key, f"{rita}#main-key")
    await process(app)
    assert (await Post.get(id=rita_post.id)).deleted_at is not None
    assert (await Post.get(id=reply.id)).deleted_at is None
    assert (await Circle.get(id=circle.id)).member_count == 1
    page = await client.get(f"/posts/{reply.id}")
    assert page.status_code == 200 and "Welcome!" in await page.get_data(as_text=True)


async def test_a_steward_removing_a_post_speaks_for_themselves(app, client, instance, peer):
    from models.services import posts as post_service

    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    note = {"id": f"{rita}/notes/5", "type": "Note", "attributedTo": rita, "content": "off topic", "audience": circle.actor.uri}
    await post_signed(client, "/inbox", {"id": f"{rita}/c/5", "type": "Create", "actor": rita, "object": note}, key, f"{rita}#main-key")
    await process(app)
    await post_service.delete_post(alice.actor, await Post.get(uri=note["id"]))
    await process(app)
    announce = (await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("-id")
                .filter(activity_id__contains="/announces/").first()).payload
    assert announce["type"] == "Announce" and announce["object"]["type"] == "Delete"
    assert announce["object"]["actor"] == alice.actor.uri and announce["object"]["id"].startswith(alice.actor.uri)
