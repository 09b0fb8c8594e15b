"""Giving and taking the moderator role by a circle's facilitators (issue 11).

A passed proposal can do the same (governance.ProposalKind.ADD_MODERATOR /
REMOVE_MODERATOR); this is the direct way, recorded in the moderation log."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle, Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.moderation import ModerationAction, ModerationKind
from models.services import circles as circle_service
from models.services import governance, notification_events
from models.translation import N_


async def require_facilitator(circle: Circle, actor: Actor) -> Membership:
    return await circle_service.require_facilitator(
        circle, actor, N_("Only the circle's facilitators can give or take the moderator role.")
    )


async def _member(circle: Circle, member_id: int | str) -> Membership:
    try:
        wanted = int(str(member_id).strip())
    except (TypeError, ValueError):
        raise InvalidInput("Choose a member of this circle.", field="member") from None
    member = await Membership.get_or_none(
        id=wanted, circle=circle, state=MembershipState.ACTIVE
    ).select_related("actor")
    if member is None:
        raise NotFound("That person is not an active member of this circle.")
    return member


async def give_moderator(circle: Circle, by: Actor, member_id: int | str, *, reason: str = "") -> Membership:
    """A facilitator makes an active member of a local circle a moderator."""
    return await _change(circle, by, member_id, give=True, reason=reason)


async def take_moderator(circle: Circle, by: Actor, member_id: int | str, *, reason: str = "") -> Membership:
    """A facilitator makes a moderator a plain member again."""
    return await _change(circle, by, member_id, give=False, reason=reason)


async def _change(circle: Circle, by: Actor, member_id: int | str, *, give: bool, reason: str) -> Membership:
    if not circle.actor.local:
        raise PermissionDenied("Roles are given in circles hosted on this server.")
    await require_facilitator(circle, by)
    if (await governance.settings_for(circle)).moderators_by_proposal:
        raise PermissionDenied("In this circle, moderators are chosen by proposal: propose it on the Decisions page.")
    member = await _member(circle, member_id)
    if give and not member.actor.local:
        # Remote members are not signed in here: they could not use the role's pages.
        raise InvalidInput("Only members with an account on this server can be moderators here.", field="member")
    was, now = (Role.MEMBER, Role.MODERATOR) if give else (Role.MODERATOR, Role.MEMBER)
    if member.role is not was:
        if give:
            raise Conflict(circle_service.ALREADY_IN_ROLE[member.role], handle=member.actor.username)
        raise Conflict("@%(handle)s is not a moderator.", handle=member.actor.username)
    async with in_transaction():
        changed = await Membership.filter(id=member.id, state=MembershipState.ACTIVE, role=was).update(
            role=now, updated_at=clock.now()
        )
        if not changed:
            raise Conflict("That membership changed meanwhile: look again.")
        await ModerationAction.create(
            circle=circle, moderator=by, target_actor=member.actor, reason=reason,
            kind=ModerationKind.GIVE_MODERATOR if give else ModerationKind.TAKE_MODERATOR,
        )
        # The Group document lists its moderators: send its Update.
        await OutboxEvent.create(kind="actor.updated", subject_id=circle.actor_id)
    member.role = now
    return member


# --- a circle left without a facilitator -----------------------------------------------


async def after_facilitators_left(circle_ids: list[int]) -> None:
    """Each local circle among `circle_ids` that has no active facilitator any
    more: its longest-standing active member here is asked to take the role on
    (`take_on`), and the instance's admins are told. Call in the transaction
    that removed the facilitator."""
    for circle in await Circle.filter(id__in=circle_ids, actor__local=True).select_related("actor"):
        if await _has_facilitator(circle):
            continue
        first = await Membership.filter(circle_id=circle.id, state=MembershipState.ACTIVE, actor__local=True).order_by(
            "created_at", "id"
        ).first()
        await notification_events.needs_facilitator(circle, first.actor_id if first else None)


async def _has_facilitator(circle: Circle) -> bool:
    return await Membership.filter(circle_id=circle.id, role=Role.FACILITATOR, state=MembershipState.ACTIVE).exists()


async def take_on(circle: Circle, actor: Actor) -> Membership:
    """An active member becomes the facilitator of a circle that has none."""
    if not circle.actor.local:
        raise PermissionDenied("Roles are given in circles hosted on this server.")
    member = await circle_service.require_member(circle, actor)
    async with in_transaction():
        if await _has_facilitator(circle):
            raise Conflict("This circle has a facilitator again: nothing to take on.")
        await Membership.filter(id=member.id).update(role=Role.FACILITATOR, updated_at=clock.now())
        await OutboxEvent.create(kind="actor.updated", subject_id=circle.actor_id)  # its moderators collection
    member.role = Role.FACILITATOR
    return member


async def needs_facilitator(circle: Circle) -> bool:
    return circle.actor.local and not await _has_facilitator(circle)
