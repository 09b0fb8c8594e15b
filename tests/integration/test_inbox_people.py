"""People following people across servers, through the real inbox and
fan-out: answers to our Follows, posts from people we follow, and our
people's posts reaching their followers elsewhere."""

from __future__ import annotations

from federation import vocab
from models.actors import ActorKind, Follow, FollowState, KeyAlgorithm
from models.circles import Circle
from models.federation import Delivery
from models.posts import Post
from models.services import follows, remote
from models.services import posts as post_service
from tests import factories
from tests.integration.test_inbox import REMOTE, peer, post_signed, process, remote_key  # noqa: F401 (peer is a fixture)


def note(rita: str, n: int, **fields) -> dict:
    return {"id": f"{rita}/notes/{n}", "type": "Note", "attributedTo": rita, "content": f"<p>Note {n}<script>x()</script></p>",
            "to": [vocab.PUBLIC], **fields}


async def send_create(client, rita: str, key, obj: dict):
    create = {"id": f"{obj['id']}/activity", "type": "Create", "actor": rita, "object": obj}
    response = await post_signed(client, "/inbox", create, key, f"{rita}#main-key")
    assert response.status_code == 202, await response.get_data(as_text=True)


async def test_accept_and_reject_of_a_follow_of_a_person(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    target = await remote.remote_actor(rita)
    follow = await follows.follow_remote(alice.actor, target, instance_base_url=instance.base_url)
    # Mastodon names only the Follow's id in its answer.
    accept = {"id": f"{rita}#accepts/1", "type": "Accept", "actor": rita, "object": follow.uri}
    await post_signed(client, "/inbox", accept, key, f"{rita}#main-key")
    await process(app)
    assert (await Follow.get(id=follow.id)).state is FollowState.ACCEPTED
    reject = {"id": f"{rita}#rejects/1", "type": "Reject", "actor": rita,
              "object": {"id": follow.uri, "type": "Follow", "actor": alice.actor.uri, "object": rita}}
    await post_signed(client, "/inbox", reject, key, f"{rita}#main-key")
    await process(app)
    assert (await Follow.get(id=follow.id)).state is FollowState.REJECTED


async def test_posts_from_followed_people_are_kept_sanitised_and_others_not(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    await send_create(client, rita, key, note(rita, 1))  # nobody follows her yet
    await process(app)
    author = await remote.remote_actor(rita)
    author.followers_url = f"{rita}/followers"
    await author.save(update_fields=["followers_url"])
    await Follow.create(follower=alice.actor, target=author, state=FollowState.ACCEPTED)
    await send_create(client, rita, key, note(rita, 2))  # public
    await send_create(client, rita, key, note(rita, 3, to=[f"{rita}/followers"]))  # followers only: not shown here
    await send_create(client, rita, key, note(rita, 4, to=[alice.actor.uri]))  # a direct message: not ours to show
    await send_create(client, rita, key, note(rita, 5, inReplyTo="https://elsewhere.example/notes/9"))  # thread unknown
    await send_create(client, rita, key, note(rita, 6, inReplyTo=f"{rita}/notes/2"))  # a reply in a kept thread
    await process(app)
    kept = {p.uri.rsplit("/", 1)[-1]: p for p in await Post.filter(local=False)}
    # A followers-only post is not kept: her profile page here is public, and it would show it to all.
    assert sorted(kept) == ["2", "6"]
    assert kept["2"].circle_id is None and kept["2"].content == "<p>Note 2</p>"
    assert kept["6"].root_id == kept["2"].id
    assert (await Post.get(id=kept["2"].id)).reply_count == 1


async def test_a_kept_post_joins_its_circle_when_the_circle_announces_it(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    group_key, group_pem = remote_key()
    group_uri = f"{REMOTE}/c/rust"
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=group_uri, kind=ActorKind.GROUP, username="rust", domain="remote.example", inbox_url=f"{group_uri}/inbox",
        keys=(remote.RemoteKey(f"{group_uri}#main-key", KeyAlgorithm.RSA, group_pem),),
    ))
    await Follow.create(follower=alice.actor, target=group, state=FollowState.ACCEPTED)
    await Follow.create(follower=alice.actor, target=await remote.remote_actor(rita), state=FollowState.ACCEPTED)
    circle = await follows.mirror_circle(group)
    obj = note(rita, 7, to=[vocab.PUBLIC, group_uri], audience=group_uri)
    await send_create(client, rita, key, obj)
    await process(app)
    assert (await Post.get(uri=obj["id"])).circle_id is None
    announce = {"id": f"{group_uri}/announces/7", "type": "Announce", "actor": group_uri, "to": [vocab.PUBLIC],
                "object": {"id": f"{obj['id']}/activity", "type": "Create", "actor": rita, "object": obj}}
    await post_signed(client, "/inbox", announce, group_key, f"{group_uri}#main-key")
    await process(app)
    post = await Post.get(uri=obj["id"])
    assert post.circle_id == circle.id
    assert (await Circle.get(id=circle.id)).post_count == 1
    assert await Post.filter(uri=obj["id"]).count() == 1


async def test_a_local_persons_posts_reach_their_followers_elsewhere(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await Follow.create(follower=await remote.remote_actor(rita), target=alice.actor, state=FollowState.ACCEPTED)
    post = await factories.post(instance, alice, circle, title="Week one", body="Read.")
    await process(app)
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    assert [p["type"] for p in sent] == ["Create"]
    assert sent[0]["actor"] == alice.actor.uri and sent[0]["object"]["id"] == post.uri
    assert alice.actor.followers_url in sent[0]["cc"] and alice.actor.followers_url in sent[0]["object"]["cc"]

    # Bob's posts do not go to Alice's followers; a steward's removal speaks for the circle only.
    bob_post = await factories.post(instance, bob, circle, body="Bob here")
    await post_service.delete_post(alice.actor, bob_post)
    await post_service.delete_post(alice.actor, post)  # her own: her followers hear of it
    await process(app)
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    assert [p["type"] for p in sent] == ["Create", "Delete"]
    assert sent[1]["object"] == post.uri and sent[1]["actor"] == alice.actor.uri


async def _followed_group_and_rita(instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    group_key, group_pem = remote_key()
    group_uri = f"{REMOTE}/c/other"
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=group_uri, kind=ActorKind.GROUP, username="other", domain="remote.example",
        inbox_url=f"{group_uri}/inbox", keys=(remote.RemoteKey(f"{group_uri}#main-key", KeyAlgorithm.RSA, group_pem),),
    ))
    await Follow.create(follower=alice.actor, target=group, state=FollowState.ACCEPTED)
    await Follow.create(follower=alice.actor, target=await remote.remote_actor(rita), state=FollowState.ACCEPTED)
    return key, rita, group_key, group_uri, await follows.mirror_circle(group)


def _announce(group_uri: str, rita: str, obj: dict, n: int) -> dict:
    return {"id": f"{group_uri}/announces/{n}", "type": "Announce", "actor": group_uri, "to": [vocab.PUBLIC],
            "object": {"id": f"{obj['id']}/activity", "type": "Create", "actor": rita, "object": obj}}


async def test_a_group_cannot_take_a_kept_post_that_was_not_addressed_to_it(app, client, instance, peer):  # noqa: F811
    # Otherwise any group someone here follows could pull a followed person's post into
    # its circle, and then delete it there.
    key, rita, group_key, group_uri, circle = await _followed_group_and_rita(instance, peer)
    obj = note(rita, 8)  # public, to nobody's circle
    await send_create(client, rita, key, obj)
    await process(app)
    await post_signed(client, "/inbox", _announce(group_uri, rita, obj, 8), group_key, f"{group_uri}#main-key")
    await process(app)
    assert (await Post.get(uri=obj["id"])).circle_id is None


async def test_a_groups_non_public_post_is_not_kept(app, client, instance, peer):  # noqa: F811
    key, rita, group_key, group_uri, circle = await _followed_group_and_rita(instance, peer)
    obj = note(rita, 9, to=[f"{group_uri}/followers"], audience=group_uri)  # a private group's post
    await post_signed(client, "/inbox", _announce(group_uri, rita, obj, 9), group_key, f"{group_uri}#main-key")
    await process(app)
    assert not await Post.filter(uri=obj["id"]).exists()
