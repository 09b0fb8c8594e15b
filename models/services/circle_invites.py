"""Circle invite links: a facilitator makes one (how long it works, how many
people may use it), shares it, and anyone signed in here who opens it joins
the circle at once, whatever its join mode. Only a hash of each link's
secret is stored; a link can be revoked.

A facilitator can also invite one person by handle: someone here is told in
their notifications, with a link only they can use; someone elsewhere gets
an `Invite` (and, on Mastodon and its kin, a direct message), and their
Follow of the circle (how they join from there) is accepted as their yes."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor, ActorKind
from models.circle_invites import CircleInvite, usable
from models.circles import Circle, Membership, MembershipState, Role
from models.errors import Conflict, Gone, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.services import circles as circle_service
from models.services import notification_events
from models.translation import N_

# The choices the form offers, by value: how long a link works, and for how many people.
EXPIRY_DAYS = {"1": 1, "7": 7, "30": 30, "never": None}
MAX_USES = {"1": 1, "5": 5, "25": 25, "unlimited": None}
LIST_LIMIT = 100
NOT_VALID = "This invitation link is not valid: check that you copied all of it, or ask the circle's facilitators for a new one."


async def require_facilitator(circle: Circle, actor: Actor) -> None:
    await circle_service.require_facilitator(circle, actor, N_("Only the circle's facilitators can invite people with a link."))


async def create(circle: Circle, by: Actor, *, expires: str, uses: str) -> tuple[CircleInvite, str]:
    """A new link; returns it and its secret, which is shown once and never stored."""
    if not circle.actor.local:
        raise PermissionDenied("Invitations are made by the server that hosts the circle.")
    await require_facilitator(circle, by)
    if expires not in EXPIRY_DAYS:
        raise InvalidInput("Choose how long the link works.", field="expires")
    if uses not in MAX_USES:
        raise InvalidInput("Choose how many people may use the link.", field="uses")
    days = EXPIRY_DAYS[expires]
    token = clock.token()
    invite = await CircleInvite.create(
        circle=circle, created_by=by, token_hash=clock.token_digest(token), max_uses=MAX_USES[uses],
        expires_at=clock.now() + dt.timedelta(days=days) if days else None,
    )
    return invite, token


async def list_for(circle: Circle, by: Actor) -> list[CircleInvite]:
    """The circle's links and personal invitations still usable, newest first."""
    await require_facilitator(circle, by)
    return await usable(CircleInvite.filter(circle=circle)).select_related("invitee").order_by("-id").limit(LIST_LIMIT)


async def revoke(circle: Circle, by: Actor, invite_id: int) -> None:
    await require_facilitator(circle, by)
    if not await CircleInvite.filter(id=invite_id, circle=circle, revoked_at=None).update(revoked_at=clock.now()):
        raise NotFound("That invitation link does not exist or was revoked already.")


async def find(token: str) -> CircleInvite:
    """The invitation a link names, with its circle, if it still works."""
    if not token or len(token) > 100:
        raise NotFound(NOT_VALID)
    invite = await CircleInvite.get_or_none(token_hash=clock.token_digest(token)).select_related("circle__actor")
    if invite is None:
        raise NotFound(NOT_VALID)
    if invite.revoked_at is not None:
        raise Gone("The circle's facilitators withdrew this invitation. Ask them for a new one.")
    if invite.expires_at is not None and invite.expires_at <= clock.now():
        raise Gone("This invitation has expired. Ask the circle's facilitators for a new one.")
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        raise Gone("This invitation has been used as many times as it allows. Ask the circle's facilitators for a new one.")
    return invite


async def accept(token: str, actor: Actor) -> Membership:
    """Join the circle through the link (a request waiting for approval is
    approved by it). Takes one use, counted so that two people at once
    cannot pass the limit."""
    invite = await find(token)
    if invite.invitee_id is not None and invite.invitee_id != actor.id:
        raise PermissionDenied("This invitation is for someone else. Ask the circle's facilitators for your own.")
    circle = invite.circle
    member = await circle_service.membership(circle, actor)
    if member is not None and member.state is MembershipState.BANNED:
        raise PermissionDenied(circle_service.BANNED)
    if member is not None and member.state is MembershipState.ACTIVE:
        raise Conflict("You are a member already.")
    async with in_transaction():
        if not await usable(CircleInvite.filter(id=invite.id)).update(uses=F("uses") + 1):
            raise Gone("This invitation was used up or withdrawn a moment ago. Ask the circle's facilitators for a new one.")
        if member is None:
            try:
                member = await Membership.create(circle=circle, actor=actor, role=Role.MEMBER, updated_at=clock.now())
            except IntegrityError:
                raise Conflict("You have joined or asked to join already.") from None
        await circle_service.change_membership_state(member, MembershipState.ACTIVE)
    member.circle = circle
    return member


PERSONAL_DAYS = 30  # how long a personal invitation works


async def invite_person(circle: Circle, by: Actor, person: Actor | None) -> CircleInvite:
    """Invite one person (here or elsewhere) to the circle: a one-use
    invitation only they can take up, for PERSONAL_DAYS days."""
    if not circle.actor.local:
        raise PermissionDenied("Invitations are made by the server that hosts the circle.")
    await require_facilitator(circle, by)
    if person is None or person.deleted_at is not None or person.kind is not ActorKind.PERSON:
        raise NotFound("There is no such person to invite.", field="handle")
    member = await circle_service.membership(circle, person)
    if member is not None and member.state is MembershipState.ACTIVE:
        raise Conflict("%(name)s is a member already.", field="handle", name=person.name)
    if member is not None and member.state is MembershipState.BANNED:
        raise PermissionDenied("%(name)s is banned from this circle: lift the ban first.", field="handle",
                               name=person.name)
    if await usable(CircleInvite.filter(circle=circle, invitee=person)).exists():
        raise Conflict("%(name)s has an invitation already.", field="handle", name=person.name)
    token = clock.token()
    async with in_transaction():
        invite = await CircleInvite.create(
            circle=circle, created_by=by, token_hash=clock.token_digest(token), max_uses=1, invitee=person,
            expires_at=clock.now() + dt.timedelta(days=PERSONAL_DAYS),
        )
        if person.local:
            await notification_events.invited(person, by, circle.name, f"/invite/{token}", circle_id=circle.id)
        else:
            await OutboxEvent.create(kind="circle.invited", subject_id=invite.id)
    return invite
