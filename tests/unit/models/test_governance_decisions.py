"""Early decisions when a membership ends: every way it can end decides a
proposal only that person had still to vote on, but a circle left with no
active member decides nothing (its proposals close at their deadlines)."""

import datetime as dt

from models import clock
from models.actors import Actor, ActorKind
from models.circles import Circle, Membership, MembershipState
from models.governance import Proposal, ProposalState
from models.services import account_deletion, governance_decisions, moderation, remote
from models.services import circles as circle_service
from models.services import governance as svc
from tests import factories


async def _circle_waiting_for_bob(instance):
    """A circle of alice (facilitator), bob and cai, and a proposal only bob
    has not voted on."""
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    bob, cai = await factories.account(instance, "bob"), await factories.account(instance, "cai")
    await factories.member(circle, bob)
    await factories.member(circle, cai)
    proposal = await svc.propose(instance, alice.actor, circle, kind="free_text", title="Meet on Tuesdays",
                                 body="Tuesdays suit most.", closes_at=clock.now() + dt.timedelta(days=2))
    for person in (alice, cai):
        await svc.vote(instance, proposal, person.actor, "yes")
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN
    return circle, proposal, alice, bob


async def _decided_early(proposal: Proposal) -> bool:
    decided = await Proposal.get(id=proposal.id)
    return decided.state is ProposalState.PASSED and governance_decisions.decided_early(decided)


async def test_banning_the_last_non_voter_decides_it(database, instance):
    circle, proposal, alice, bob = await _circle_waiting_for_bob(instance)
    await moderation.ban(circle, alice.actor, bob.actor.id, reason="Spam", instance=instance)
    assert await _decided_early(proposal)


async def test_deleting_the_last_non_voters_account_decides_it(database, instance):
    circle, proposal, alice, bob = await _circle_waiting_for_bob(instance)
    await account_deletion.delete_account(bob, by=bob, instance=instance)
    assert await _decided_early(proposal)


async def test_a_remote_member_deleting_themselves_decides_it(database, instance):
    circle, proposal, alice, bob = await _circle_waiting_for_bob(instance)
    await moderation.ban(circle, alice.actor, bob.actor.id, reason="Spam", instance=instance)  # bob is out
    proposal = await svc.propose(instance, alice.actor, circle, kind="free_text", title="Meet on Fridays",
                                 body="Fridays, then.", closes_at=clock.now() + dt.timedelta(days=2))
    rita = await Actor.create(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, local=False,
        username="rita", domain="elsewhere.example", inbox_url="https://elsewhere.example/users/rita/inbox",
    )
    await Membership.create(circle=circle, actor=rita, state=MembershipState.ACTIVE)
    for person in await Membership.filter(circle=circle, state=MembershipState.ACTIVE).exclude(actor=rita):
        await svc.vote(instance, proposal, await person.actor, "yes")
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN  # rita is still to vote
    assert await remote.delete_actor(rita.uri, instance=instance)
    assert await _decided_early(proposal)


async def test_the_last_member_leaving_decides_nothing(database, instance):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    proposal = await svc.propose(instance, alice.actor, circle, kind="free_text", title="Meet on Tuesdays",
                                 body="Tuesdays suit most.", closes_at=clock.now() + dt.timedelta(days=2))
    await circle_service.leave(circle, alice.actor, instance=instance)
    assert (await Circle.get(id=circle.id)).member_count == 0
    left = await Proposal.get(id=proposal.id)
    assert left.state is ProposalState.OPEN and left.decided_at is None  # it closes at its deadline
