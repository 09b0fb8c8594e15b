"""Circles: creation, directory, and the membership lifecycle."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account
from models.actors import Actor, ActorKind
from models.circles import (
    MEMBERSHIP_TRANSITIONS,
    Circle,
    JoinMode,
    Membership,
    MembershipState,
    Role,
)
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.instance import Instance
from models.services import actors, follows, validation
from models.services.memberships import end_membership

NAME_MAX = 100
PURPOSE_MAX = 2000
RULES_MAX = 5000
STEWARD_ROLES = (Role.FACILITATOR, Role.MODERATOR)


async def create_circle(
    instance: Instance,
    owner: Account,
    *,
    handle: str,
    name: str,
    purpose: str = "",
    rules: str = "",
    join_mode: str = JoinMode.OPEN.value,
    language: str = "en",
    location: str = "",
    timezone: str = "UTC",
) -> Circle:
    """A new circle whose creator is its first facilitator."""
    handle = validation.handle(handle, "handle")
    name = validation.single_line(name, "name", label="Name", max_length=NAME_MAX, required=True)
    purpose = validation.text(purpose, "purpose", label="Purpose", max_length=PURPOSE_MAX)
    rules = validation.text(rules, "rules", label="Rules", max_length=RULES_MAX)
    mode = validation.choice(join_mode, JoinMode, "join_mode", label="Join mode")
    language = validation.language(language) or "en"
    location = validation.single_line(location, "location", label="Place", max_length=120)
    timezone = validation.timezone(timezone)
    if await actors.handle_taken(instance, handle):
        raise Conflict(f"The handle “{handle}” is already taken.", field="handle")
    await owner.fetch_related("actor")
    keys = await actors.generate_keys()
    try:
        async with in_transaction():
            actor = await actors.create_local_actor(
                instance, ActorKind.GROUP, handle, instance.circle_uri(handle),
                display_name=name, keys=keys,
            )
            actor.manually_approves_followers = mode is not JoinMode.OPEN
            await actor.save(update_fields=["manually_approves_followers"])
            circle = await Circle.create(
                actor=actor, name=name, purpose=purpose, rules=rules, join_mode=mode,
                language=language, location=location, timezone=timezone,
                created_by=owner, member_count=1,
            )
            await Membership.create(
                circle=circle, actor=owner.actor, role=Role.FACILITATOR,
                state=MembershipState.ACTIVE, updated_at=clock.now(),
            )
    except IntegrityError:
        raise Conflict(f"The handle “{handle}” was just taken.", field="handle") from None
    circle.actor = actor
    return circle


async def get_circle(handle: str) -> Circle:
    """A circle by its handle: `name` here, or `name@domain` for a remote circle we follow."""
    name, _, domain = handle.partition("@")
    where = {"actor__domain": domain, "actor__local": False} if domain else {"actor__local": True}
    circle = await Circle.filter(actor__username=name, **where).select_related("actor").first()
    if circle is None:
        raise NotFound(f"There is no circle “{handle[:40]}” here.")
    return circle


async def list_circles(*, query: str = "", offset: int = 0, limit: int = 50) -> list[Circle]:
    """The directory: busiest circles first, optionally filtered by a search word."""
    circles = Circle.filter(actor__local=True)
    query = query.strip()[:100]
    if query:
        circles = circles.filter(Q(name__icontains=query) | Q(purpose__icontains=query))
    return await circles.select_related("actor").order_by("-member_count", "id").offset(offset).limit(limit)


async def membership(circle: Circle, actor: Actor) -> Membership | None:
    return await Membership.get_or_none(circle=circle, actor=actor)


async def memberships_of(actor: Actor) -> list[Membership]:
    return (
        await Membership.filter(actor=actor, state=MembershipState.ACTIVE)
        .select_related("circle__actor")
        .order_by("-id")
    )


async def _change_state(member: Membership, state: MembershipState) -> None:
    if state not in MEMBERSHIP_TRANSITIONS[member.state]:
        raise Conflict(f"A membership cannot go from {member.state.value} to {state.value}.")
    # Conditional on the state we read: of two simultaneous changes, one wins.
    changed = await Membership.filter(id=member.id, state=member.state).update(state=state, updated_at=clock.now())
    if not changed:
        raise Conflict("This membership changed meanwhile; reload the page.")
    was_active = member.state is MembershipState.ACTIVE
    member.state = state
    delta = (state is MembershipState.ACTIVE) - was_active
    if delta:
        await Circle.filter(id=member.circle_id).update(member_count=F("member_count") + delta)


async def join(circle: Circle, actor: Actor, *, request_text: str = "") -> Membership:
    """Join an open circle, or ask to join an approval circle."""
    request_text = validation.text(request_text, "request_text", label="Your message", max_length=1000)
    existing = await membership(circle, actor)
    if existing is not None:
        if existing.state is MembershipState.BANNED:
            raise PermissionDenied("You cannot join this circle.")
        raise Conflict(
            "You are a member already." if existing.state is MembershipState.ACTIVE
            else "Your request to join is waiting for a facilitator."
        )
    if circle.join_mode is JoinMode.INVITE:
        raise PermissionDenied("This circle is invite-only: ask one of its facilitators.")
    async with in_transaction():
        try:
            member = await Membership.create(
                circle=circle, actor=actor, role=Role.MEMBER,
                request_text=request_text, updated_at=clock.now(),
            )
        except IntegrityError:
            raise Conflict("You have joined or asked to join already.") from None
        if circle.join_mode is JoinMode.OPEN:
            await _change_state(member, MembershipState.ACTIVE)
    return member


async def leave(circle: Circle, actor: Actor) -> None:
    member = await membership(circle, actor)
    if member is None or member.state is MembershipState.BANNED:
        raise NotFound("You are not a member of this circle.")
    if member.role is Role.FACILITATOR and member.state is MembershipState.ACTIVE:
        facilitators = await Membership.filter(
            circle=circle, role=Role.FACILITATOR, state=MembershipState.ACTIVE
        ).count()
        others = await Membership.filter(circle=circle, state=MembershipState.ACTIVE).count() - 1
        if facilitators == 1 and others > 0:
            raise Conflict(
                "You are this circle's only facilitator: ask another member to facilitate before you leave."
            )
    async with in_transaction():
        await end_membership(member)


async def require_steward(circle: Circle, actor: Actor) -> Membership:
    """The actor's membership if they facilitate or moderate the circle."""
    member = await membership(circle, actor)
    if member is None or member.state is not MembershipState.ACTIVE or member.role not in STEWARD_ROLES:
        raise PermissionDenied("Only the circle's facilitators and moderators can do this.")
    return member


async def require_member(circle: Circle, actor: Actor) -> Membership:
    member = await membership(circle, actor)
    if member is None or member.state is not MembershipState.ACTIVE:
        raise PermissionDenied("Join this circle to take part in it.")
    return member


async def _pending_request(circle: Circle, membership_id: int) -> Membership:
    if not validation.is_row_id(membership_id):
        raise NotFound("That request to join is no longer waiting.")
    member = await Membership.get_or_none(id=membership_id, circle=circle).select_related("actor")
    if member is None or member.state is not MembershipState.PENDING:
        raise NotFound("That request to join is no longer waiting.")
    return member


async def approve(circle: Circle, by: Actor, membership_id: int) -> Membership:
    await require_steward(circle, by)
    member = await _pending_request(circle, membership_id)
    async with in_transaction():
        await _change_state(member, MembershipState.ACTIVE)
        await follows.settle_pending_follow(circle, member.actor, accepted=True)
    return member


async def reject(circle: Circle, by: Actor, membership_id: int) -> None:
    await require_steward(circle, by)
    member = await _pending_request(circle, membership_id)
    async with in_transaction():
        await member.delete()
        await follows.settle_pending_follow(circle, member.actor, accepted=False)


async def list_members(
    circle: Circle, *, state: MembershipState = MembershipState.ACTIVE, offset: int = 0, limit: int = 100
) -> list[Membership]:
    if limit < 1 or limit > 500:
        raise InvalidInput("Ask for 1 to 500 members at a time.")
    return (
        await Membership.filter(circle=circle, state=state)
        .select_related("actor")
        .order_by("id")
        .offset(offset)
        .limit(limit)
    )


async def stewards(circle: Circle) -> list[Actor]:
    """Facilitators and moderators: the Group's `attributedTo` collection (FEP-1b12)."""
    rows = await Membership.filter(
        circle=circle, state=MembershipState.ACTIVE, role__in=list(STEWARD_ROLES)
    ).select_related("actor").order_by("id")
    return [row.actor for row in rows]


async def get_circle_by_actor(actor: Actor) -> Circle:
    circle = await Circle.get_or_none(actor=actor).select_related("actor")
    if circle is None:
        raise NotFound("That actor is not a circle.")
    return circle
