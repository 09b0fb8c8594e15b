"""Early decisions: a proposal is decided before its deadline once no active
member of its circle is still to vote (only members' votes count, so waiting
could change nothing), whether the last of them votes or leaves. Deciding
itself (counting, applying, announcing) is governance.decide, as at the
deadline.

Every way a membership ends (leaving, an Undo Follow, a ban, account or
remote actor deletion, a domain block) calls decide_after_leaving."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Subquery

from models.circles import Membership, MembershipState
from models.governance import Proposal, ProposalState, Vote
from models.instance import Instance


async def decide_if_everyone_voted(instance: Instance, proposal: Proposal) -> None:
    """Decide now, as the worker would at the deadline, once every active
    member of the circle has voted. Two last votes at once decide it once;
    `proposal.state` then tells the caller."""
    from models.services import governance  # governance builds on this module

    if await _anyone_waiting(proposal):
        return
    fresh = await governance.deciding(Proposal.filter(id=proposal.id, state=ProposalState.OPEN)).first()
    if fresh is None:
        return
    await governance.decide(instance, fresh)
    stored = await Proposal.get(id=proposal.id)  # as decided, here or by a vote at the same moment
    proposal.state, proposal.decided_at, proposal.outcome = stored.state, stored.decided_at, stored.outcome


async def _anyone_waiting(proposal: Proposal) -> bool:
    """Whether an active member of the circle has not voted on the proposal yet."""
    voters = Subquery(Vote.filter(proposal_id=proposal.id).values("voter_id"))
    return await Membership.filter(circle_id=proposal.circle_id, state=MembershipState.ACTIVE).exclude(
        actor_id__in=voters
    ).exists()


async def decide_after_leaving(instance: Instance, circle_ids: Iterable[int]) -> None:
    """Someone's membership of these circles ended: an open proposal that only
    they had not voted on is decided now (their own votes went with them).
    A circle left with no active member is not: nobody voted there, so it
    closes at its deadline as usual. Call after the ending transaction; one
    query when the circles have no open proposal."""
    circle_ids = set(circle_ids)
    proposals = await Proposal.filter(circle_id__in=circle_ids, state=ProposalState.OPEN).only("id", "circle_id")
    if not proposals:
        return
    inhabited = set(await Membership.filter(
        circle_id__in={p.circle_id for p in proposals}, state=MembershipState.ACTIVE
    ).distinct().values_list("circle_id", flat=True))
    for proposal in proposals:
        if proposal.circle_id in inhabited:
            await decide_if_everyone_voted(instance, proposal)


def decided_early(proposal: Proposal) -> bool:
    """Whether votes decided the proposal before its deadline (every member had
    voted, or the last who had not left), rather than the deadline or a withdrawal."""
    return (
        proposal.state in (ProposalState.PASSED, ProposalState.REJECTED)
        and proposal.decided_at is not None
        and proposal.decided_at < proposal.closes_at
    )
