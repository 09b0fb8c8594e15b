"""Sister circles: a circle follows another and shows the kinds of posts its stewards chose."""

from __future__ import annotations

import pytest

from models.actors import ActorKind, Follow, FollowState
from models.circles import Membership
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.services import follows, remote
from models.services import posts as post_service
from models.services import sisters as svc
from models.sisters import SisterLink
from tests import factories

BASE = "https://circles.test"


@pytest.fixture
async def people(database, instance):
    alice = await factories.account(instance, "alice")  # facilitates "gardeners"
    bob = await factories.account(instance, "bob")  # a member of "gardeners", not a steward
    carol = await factories.account(instance, "carol")  # facilitates "growers", the sister
    circle = await factories.circle(instance, alice, "gardeners")
    await factories.member(circle, bob)
    sister = await factories.circle(instance, carol, "growers")
    return alice, bob, carol, circle, sister


async def remote_group(name: str = "lounge"):
    uri = f"https://remote.example/c/{name}"
    return await remote.upsert_actor(remote.RemoteActorInput(
        uri=uri, kind=ActorKind.GROUP, username=name, domain="remote.example", inbox_url=f"{uri}/inbox",
    ))


async def test_a_local_sister_is_accepted_at_once_and_its_chosen_kinds_fill_the_feed(instance, people):
    alice, _, carol, circle, sister = people
    made = await svc.link(circle, alice.actor, sister.actor, ["question", "resource"], instance_base_url=BASE)
    assert made.kinds == ["resource", "question"]  # in a fixed order
    follow = await Follow.get(follower=circle.actor, target=sister.actor)
    assert follow.state is FollowState.ACCEPTED
    assert not await OutboxEvent.exists()  # nothing to send for a circle here
    assert not await Membership.filter(circle=sister, actor=circle.actor).exists()

    question = await factories.post(instance, carol, sister, "How deep do carrots grow?", kind="question")
    resource = await factories.post(instance, carol, sister, "A planting calendar", kind="resource")
    await factories.post(instance, carol, sister, "Nice weather today", kind="discussion")
    await post_service.reply(instance, carol.actor, question, body="About 30 cm.")
    own = await factories.post(instance, alice, circle, "Our own question", kind="question")
    feed = await svc.sister_feed(circle)
    assert [post.id for post in feed] == [resource.id, question.id]
    assert own.id not in [post.id for post in feed]
    assert feed[0].circle.name == "Growers"

    # Paginated by the last id seen.
    assert [post.id for post in await svc.sister_feed(circle, limit=1)] == [resource.id]
    assert [post.id for post in await svc.sister_feed(circle, before_id=resource.id)] == [question.id]

    await svc.set_kinds(circle, alice.actor, sister.actor, ["discussion"])
    assert [post.source for post in await svc.sister_feed(circle)] == ["Nice weather today"]

    [listed] = await svc.sisters_of(circle)
    assert listed.circle.id == sister.id and listed.accepted and listed.link.kinds == ["discussion"]

    await svc.unlink(circle, alice.actor, sister.actor)
    assert not await SisterLink.exists() and not await Follow.filter(follower=circle.actor).exists()
    assert await svc.sister_feed(circle) == []
    with pytest.raises(NotFound):
        await svc.unlink(circle, alice.actor, sister.actor)


async def test_default_kinds_and_one_link_per_sister(people):
    alice, _, _, circle, sister = people
    made = await svc.link(circle, alice.actor, sister.actor, instance_base_url=BASE)
    assert made.kinds == ["resource", "question", "meeting"]
    with pytest.raises(Conflict):
        await svc.link(circle, alice.actor, sister.actor, instance_base_url=BASE)
    assert await SisterLink.all().count() == 1


async def test_only_stewards_link_change_and_unlink(people):
    alice, bob, _, circle, sister = people
    with pytest.raises(PermissionDenied):
        await svc.link(circle, bob.actor, sister.actor, instance_base_url=BASE)
    assert not await SisterLink.exists() and not await Follow.exists()
    await svc.link(circle, alice.actor, sister.actor, instance_base_url=BASE)
    with pytest.raises(PermissionDenied):
        await svc.set_kinds(circle, bob.actor, sister.actor, ["question"])
    with pytest.raises(PermissionDenied):
        await svc.unlink(circle, bob.actor, sister.actor)
    assert (await SisterLink.get()).kinds == ["resource", "question", "meeting"]


async def test_not_itself_not_a_person_and_valid_kinds_only(people):
    alice, _, carol, circle, sister = people
    with pytest.raises(InvalidInput, match="own sister"):
        await svc.link(circle, alice.actor, circle.actor, instance_base_url=BASE)
    with pytest.raises(InvalidInput, match="not a circle"):
        await svc.link(circle, alice.actor, carol.actor, instance_base_url=BASE)
    for bad in ([], ["answer"], ["reflection", "question"], ["<script>"]):
        with pytest.raises(InvalidInput) as error:
            await svc.link(circle, alice.actor, sister.actor, bad, instance_base_url=BASE)
        assert error.value.field == "kinds"
    assert not await SisterLink.exists() and not await Follow.exists()
    await svc.link(circle, alice.actor, sister.actor, ["meeting", "meeting", " question "], instance_base_url=BASE)
    with pytest.raises(InvalidInput):
        await svc.set_kinds(circle, alice.actor, sister.actor, ["proposal"])
    assert (await SisterLink.get()).kinds == ["question", "meeting"]


async def test_a_remote_sister_is_asked_by_the_circles_group_and_answers(people):
    alice, _, _, circle, _ = people
    group = await remote_group()
    await svc.link(circle, alice.actor, group, ["question"], instance_base_url=BASE)
    follow = await Follow.get(follower=circle.actor, target=group)
    assert follow.state is FollowState.PENDING and follow.uri == f"{BASE}/follows/{follow.id}"
    assert await OutboxEvent.filter(kind="follow.requested", subject_id=follow.id).exists()
    [listed] = await svc.sisters_of(circle)
    assert not listed.accepted and listed.circle.handle == "lounge@remote.example"

    assert await follows.answer_from_remote(circle.actor, group, accepted=True)
    assert (await Follow.get(id=follow.id)).state is FollowState.ACCEPTED
    assert not await Membership.filter(actor=circle.actor).exclude(circle=circle).exists()  # a sister is no member

    await svc.unlink(circle, alice.actor, group)
    undone = await OutboxEvent.get(kind="follow.undone")
    assert undone.data["follower"] == circle.actor.uri and undone.data["target"] == group.uri
    assert not await Follow.filter(follower=circle.actor).exists()
