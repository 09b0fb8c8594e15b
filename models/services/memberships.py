"""Ending a membership, shared by the circle and follow services."""

from __future__ import annotations

from tortoise.expressions import F

from models.circles import Circle, Membership, MembershipState


async def end_membership(member: Membership) -> bool:
    """Remove a membership and its place in the member count, once even if
    two requests do it at the same moment. Call in a transaction."""
    if not await Membership.filter(id=member.id).delete():
        return False
    if member.state is MembershipState.ACTIVE:
        await Circle.filter(id=member.circle_id).update(member_count=F("member_count") - 1)
    return True
