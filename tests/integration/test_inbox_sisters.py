"""Sister circles over signed inbox requests: a remote circle following one of
ours is a sister-follower, not a member; a remote sister's Accept and
Announces reach the circle that follows it."""

from __future__ import annotations

import pytest

from models.actors import ActorKind, Follow, FollowState, KeyAlgorithm
from models.circles import Circle, JoinMode, Membership
from models.federation import Delivery
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import remote
from models.services import sisters as sister_service
from tests import factories
from tests.integration.test_inbox import REMOTE, follow_of, post_signed, process, remote_key

GROUP = f"{REMOTE}/c/lounge"


@pytest.fixture
async def remote_circle(database):
    key, pem = remote_key()
    await remote.upsert_actor(remote.RemoteActorInput(
        uri=GROUP, kind=ActorKind.GROUP, username="lounge", domain="remote.example", inbox_url=f"{GROUP}/inbox",
        shared_inbox_url=f"{REMOTE}/inbox", followers_url=f"{GROUP}/followers",
        keys=(remote.RemoteKey(f"{GROUP}#main-key", KeyAlgorithm.RSA, pem),),
    ))
    return key


@pytest.mark.parametrize("join_mode", [JoinMode.OPEN, JoinMode.APPROVAL])
async def test_a_remote_circle_following_ours_is_accepted_without_a_membership(
    app, client, instance, remote_circle, join_mode
):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers", join_mode=join_mode.value)
    response = await post_signed(client, "/c/readers/inbox", follow_of(GROUP, circle.actor.uri), remote_circle,
                                 f"{GROUP}#main-key")
    assert response.status_code == 202
    await process(app)
    follow = await Follow.get(follower__uri=GROUP)
    assert follow.state is FollowState.ACCEPTED
    assert not await Membership.filter(actor_id=follow.follower_id).exists()
    assert (await Circle.get(id=circle.id)).member_count == 1  # only Alice
    accept = await Delivery.get(inbox_url=f"{REMOTE}/inbox")
    assert accept.payload["type"] == "Accept" and accept.payload["actor"] == circle.actor.uri

    # It hears the circle's posts as a follower does.
    await factories.post(instance, alice, circle, "Chapter one tonight", kind="question")
    await process(app)
    sent = [d.payload["type"] for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    assert sent == ["Accept", "Announce"]

    # An Undo ends it, and leaves no membership behind either.
    undo = {"id": f"{GROUP}/undo/1", "type": "Undo", "actor": GROUP, "object": follow_of(GROUP, circle.actor.uri)}
    await post_signed(client, "/c/readers/inbox", undo, remote_circle, f"{GROUP}#main-key")
    await process(app)
    assert not await Follow.filter(follower__uri=GROUP).exists()
    assert await circle_service.list_members(circle) and (await Circle.get(id=circle.id)).member_count == 1


async def test_an_invite_only_circle_refuses_a_sister(app, client, instance, remote_circle):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "closed", join_mode=JoinMode.INVITE.value)
    await post_signed(client, "/inbox", follow_of(GROUP, circle.actor.uri), remote_circle, f"{GROUP}#main-key")
    await process(app)
    assert (await Follow.get(follower__uri=GROUP)).state is FollowState.REJECTED
    assert (await Delivery.get(inbox_url=f"{REMOTE}/inbox")).payload["type"] == "Reject"
    assert not await Membership.filter(actor__uri=GROUP).exists()


async def test_a_remote_sister_accepts_and_its_announces_fill_the_feed(app, client, instance, remote_circle):
    """Only our circle's Group follows the remote circle (no person here does):
    its Announces are still kept, and show in the sister feed by kind."""
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    group = await remote.remote_actor(GROUP)
    await sister_service.link(circle, alice.actor, group, ["question"], instance_base_url=instance.base_url)
    await process(app)
    follow = await Follow.get(follower=circle.actor, target=group)
    request = await Delivery.get(inbox_url=f"{REMOTE}/inbox")
    sent = {key: request.payload[key] for key in ("id", "type", "actor", "object")}
    assert sent == {"id": follow.uri, "type": "Follow", "actor": circle.actor.uri, "object": GROUP}
    assert request.signer_id == circle.actor.id  # signed by the circle's Group, which has keys

    accept = {"id": f"{GROUP}/accept/1", "type": "Accept", "actor": GROUP,
              "object": {"id": follow.uri, "type": "Follow", "actor": circle.actor.uri, "object": GROUP}}
    assert (await post_signed(client, "/inbox", accept, remote_circle, f"{GROUP}#main-key")).status_code == 202
    await process(app)
    assert (await Follow.get(id=follow.id)).state is FollowState.ACCEPTED
    assert not await Membership.filter(actor=circle.actor).exclude(circle_id=circle.id).exists()

    def announce(n: int, content: str, tags: list) -> dict:
        note = {"id": f"{GROUP}/notes/{n}", "type": "Note", "attributedTo": GROUP, "content": content,
                "to": ["https://www.w3.org/ns/activitystreams#Public"], "audience": GROUP, "tag": tags}
        create = {"id": f"{note['id']}/create", "type": "Create", "actor": GROUP, "object": note}
        return {"id": f"{GROUP}/announces/{n}", "type": "Announce", "actor": GROUP, "object": create}

    question = announce(1, "<p>Which edition? <script>x()</script></p>", [{"type": "Hashtag", "name": "#question"}])
    chat = announce(2, "<p>Nice meeting yesterday</p>", [])
    for activity in (question, chat):
        assert (await post_signed(client, "/inbox", activity, remote_circle, f"{GROUP}#main-key")).status_code == 202
    await process(app)
    assert await Post.filter(circle__actor=group).count() == 2  # both kept here
    feed = await sister_service.sister_feed(circle)
    assert [(p.uri, p.kind) for p in feed] == [(f"{GROUP}/notes/1", PostKind.QUESTION)]
    assert "<script>" not in feed[0].content
