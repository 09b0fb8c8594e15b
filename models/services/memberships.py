"""Ending a membership, shared by the circle and follow services."""

from __future__ import annotations

from tortoise.expressions import F, Q

from models.circles import Circle, Membership, MembershipState
from models.governance import ProposalState, Vote


async def count_new_member(circle_id: int) -> bool:
    """One more active member, unless the circle is at its size limit:
    conditional, so two joins at once cannot pass the limit. Call in a transaction."""
    room = Q(size_limit=None) | Q(member_count__lt=F("size_limit"))
    return bool(await Circle.filter(room, id=circle_id).update(member_count=F("member_count") + 1))


async def end_membership(member: Membership) -> bool:
    """Remove a membership and its place in the member count, once even if
    two requests do it at the same moment. Call in a transaction."""
    if not await Membership.filter(id=member.id).delete():
        return False
    if member.state is MembershipState.ACTIVE:
        await Circle.filter(id=member.circle_id).update(member_count=F("member_count") - 1)
    await withdraw_open_votes(member)
    return True


async def withdraw_open_votes(member: Membership) -> None:
    """Someone who leaves (or is banned) no longer decides the circle's open
    proposals: only members' votes count. Call in a transaction."""
    await Vote.filter(
        voter_id=member.actor_id, proposal__circle_id=member.circle_id, proposal__state=ProposalState.OPEN
    ).delete()
