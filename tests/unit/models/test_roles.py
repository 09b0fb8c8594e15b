"""Giving and taking the moderator role (issue 11): directly by a facilitator,
or by a passed proposal."""

import pytest

from models.actors import Actor, ActorKind
from models.circles import Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.governance import ProposalState
from models.moderation import ModerationAction, ModerationKind
from models.services import roles
from tests import factories
from tests.unit.models.test_governance import _circle, _pass, _propose, _role


async def _membership(circle, person) -> Membership:
    return await Membership.get(circle=circle, actor=person.actor)


async def test_a_facilitator_gives_and_takes_the_moderator_role(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    member = await _membership(circle, bob)
    await roles.give_moderator(circle, alice.actor, member.id, reason="helps a lot")
    assert await _role(circle, bob) is Role.MODERATOR
    await roles.take_moderator(circle, alice.actor, str(member.id))
    assert await _role(circle, bob) is Role.MEMBER
    log = await ModerationAction.filter(circle=circle).order_by("id")
    assert [(a.kind, a.target_actor_id, a.moderator_id) for a in log] == [
        (ModerationKind.GIVE_MODERATOR, bob.actor.id, alice.actor.id),
        (ModerationKind.TAKE_MODERATOR, bob.actor.id, alice.actor.id),
    ]
    assert log[0].reason == "helps a lot"
    # Each change queues the Group's Update, so the moderators collection stays true.
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=circle.actor_id).count() == 2


async def test_only_facilitators_change_roles(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    bob_member, cai_member = await _membership(circle, bob), await _membership(circle, cai)
    with pytest.raises(PermissionDenied):
        await roles.give_moderator(circle, bob.actor, cai_member.id)
    await roles.give_moderator(circle, alice.actor, bob_member.id)
    with pytest.raises(PermissionDenied):  # a moderator is a steward, not a facilitator
        await roles.give_moderator(circle, bob.actor, cai_member.id)
    outsider = await factories.account(instance, "dan")
    with pytest.raises(PermissionDenied):
        await roles.take_moderator(circle, outsider.actor, bob_member.id)
    assert await _role(circle, cai) is Role.MEMBER and await _role(circle, bob) is Role.MODERATOR


async def test_unknown_or_malformed_members_are_refused(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    with pytest.raises(NotFound):
        await roles.give_moderator(circle, alice.actor, 999999)
    with pytest.raises(InvalidInput):
        await roles.give_moderator(circle, alice.actor, "bob")
    other = await factories.circle(instance, alice, "writers")
    elsewhere = await _membership(other, alice)
    with pytest.raises(NotFound):  # a membership of another circle
        await roles.give_moderator(circle, alice.actor, elsewhere.id)
    assert not await ModerationAction.filter(circle=circle).exists()


async def test_a_remote_member_is_not_made_moderator(database, instance):
    circle, (alice,) = await _circle(instance)
    remote = await Actor.create(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, local=False,
        username="rita", domain="elsewhere.example", inbox_url="https://elsewhere.example/users/rita/inbox",
    )
    member = await Membership.create(circle=circle, actor=remote, state=MembershipState.ACTIVE)
    with pytest.raises(InvalidInput):
        await roles.give_moderator(circle, alice.actor, member.id)
    assert (await Membership.get(id=member.id)).role is Role.MEMBER


async def test_giving_twice_or_taking_from_a_non_moderator_conflicts(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    member = await _membership(circle, bob)
    with pytest.raises(Conflict):
        await roles.take_moderator(circle, alice.actor, member.id)
    await roles.give_moderator(circle, alice.actor, member.id)
    with pytest.raises(Conflict):
        await roles.give_moderator(circle, alice.actor, member.id)
    with pytest.raises(Conflict):  # a facilitator is not demoted to moderator
        await roles.give_moderator(circle, alice.actor, (await _membership(circle, alice)).id)
    assert await ModerationAction.filter(circle=circle).count() == 1


async def test_a_passed_proposal_adds_and_removes_a_moderator(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    before = await OutboxEvent.filter(kind="actor.updated", subject_id=circle.actor_id).count()
    decided = await _pass(instance, alice, circle, kind="add_moderator", value="@bob")
    assert decided.state is ProposalState.PASSED and await _role(circle, bob) is Role.MODERATOR
    await _pass(instance, alice, circle, kind="remove_moderator", value="bob")
    assert await _role(circle, bob) is Role.MEMBER
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=circle.actor_id).count() == before + 2


async def test_moderator_proposals_check_the_member_named(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    with pytest.raises(InvalidInput):
        await _propose(instance, alice, circle, kind="remove_moderator", value="bob")
    with pytest.raises(InvalidInput):
        await _propose(instance, alice, circle, kind="add_moderator", value="alice")  # a facilitator
    with pytest.raises(InvalidInput):
        await _propose(instance, alice, circle, kind="add_moderator", value="nobody")
