"""Circles: creation, directory, and the membership lifecycle."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account
from models.actors import Actor, ActorKind
from models.circles import (
    MEMBERSHIP_TRANSITIONS,
    Circle,
    CircleTopic,
    JoinMode,
    Membership,
    MembershipState,
    Role,
    Visibility,
)
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.services import actors, follows, governance_decisions, notification_events, validation
from models.services import visibility
from models.services.memberships import count_new_member, end_membership, withdraw_open_votes
from models.text import fold
from models.translation import N_

NAME_MAX = 100
PURPOSE_MAX = 2000
RULES_MAX = 5000
STEWARD_ROLES = (Role.FACILITATOR, Role.MODERATOR)


SIZE_LIMIT_MAX = 10_000


@dataclass(frozen=True)
class Profile:
    # What a circle says about itself, validated; the Group actor carries it.
    name: str
    purpose: str
    rules: str
    join_mode: JoinMode
    language: str
    location: str
    timezone: str
    meeting_cadence: str
    size_limit: int | None
    topics: list[str]


def validate_profile(
    *,
    name: str,
    purpose: str = "",
    rules: str = "",
    join_mode: str = JoinMode.OPEN.value,
    language: str = "en",
    location: str = "",
    timezone: str = "UTC",
    meeting_cadence: str = "",
    size_limit: str | int | None = None,
    topics: str = "",
) -> Profile:
    return Profile(
        name=validation.single_line(name, "name", label="Name", max_length=NAME_MAX, required=True),
        purpose=validation.text(purpose, "purpose", label="Purpose", max_length=PURPOSE_MAX),
        rules=validation.text(rules, "rules", label="Rules", max_length=RULES_MAX),
        join_mode=validation.choice(join_mode, JoinMode, "join_mode", label="Join mode"),
        language=validation.language(language) or "en",
        location=validation.single_line(location, "location", label="Place", max_length=120),
        timezone=validation.timezone(timezone),
        meeting_cadence=validation.single_line(
            meeting_cadence, "meeting_cadence", label="When you meet", max_length=120
        ),
        size_limit=validation.optional_whole_number(
            None if size_limit is None else str(size_limit), "size_limit",
            label="Size limit", low=2, high=SIZE_LIMIT_MAX,
        ),
        topics=validation.hashtags(topics, "topics"),
    )


async def create_circle(
    instance: Instance, owner: Account, *, handle: str, visibility: str = Visibility.PUBLIC.value,
    **profile_fields,
) -> Circle:
    """A new circle whose creator is its first facilitator. `profile_fields`
    are those of validate_profile. `visibility` is chosen here once; after
    that only a passed proposal changes it (models/services/governance.py)."""
    handle = validation.handle(handle, "handle")
    chosen = validation.choice(visibility, Visibility, "visibility", label="Who can see the circle")
    profile = validate_profile(**profile_fields)
    if await actors.handle_taken(instance, handle):
        raise Conflict("The handle “%(handle)s” is already taken.", field="handle", handle=handle)
    await owner.fetch_related("actor")
    keys = await actors.generate_keys()
    try:
        async with in_transaction():
            actor = await actors.create_local_actor(
                instance, ActorKind.GROUP, handle, instance.circle_uri(handle),
                display_name=profile.name, keys=keys,
            )
            actor.manually_approves_followers = profile.join_mode is not JoinMode.OPEN
            await actor.save(update_fields=["manually_approves_followers"])
            circle = await Circle.create(
                actor=actor, created_by=owner, member_count=1, visibility=chosen, **_profile_columns(profile)
            )
            await _replace_topics(circle, profile.topics)
            await Membership.create(
                circle=circle, actor=owner.actor, role=Role.FACILITATOR,
                state=MembershipState.ACTIVE, updated_at=clock.now(),
            )
    except IntegrityError:
        raise Conflict("The handle “%(handle)s” was just taken.", field="handle", handle=handle) from None
    circle.actor = actor
    return circle


def _profile_columns(profile: Profile) -> dict:
    return {
        "name": profile.name, "purpose": profile.purpose, "rules": profile.rules,
        "join_mode": profile.join_mode, "language": profile.language, "location": profile.location,
        "location_folded": fold(profile.location),
        "timezone": profile.timezone, "meeting_cadence": profile.meeting_cadence,
        "size_limit": profile.size_limit,
    }


async def _replace_topics(circle: Circle, tags: list[str]) -> None:
    await CircleTopic.filter(circle=circle).delete()
    await CircleTopic.bulk_create([CircleTopic(circle=circle, tag=tag) for tag in tags])


async def topics_of(circle: Circle) -> list[str]:
    return [row.tag for row in await CircleTopic.filter(circle=circle).order_by("id")]


def _require_local(circle: Circle) -> None:
    if not circle.actor.local:
        raise PermissionDenied("This circle lives on another server: change its profile there.")


# What a banned person is told wherever they would otherwise be offered to join.
BANNED = N_("You are banned from this circle, so you cannot join it or take part in it. If you want to talk "
            "about the ban, write to one of its facilitators (they are on its members page); if that does not "
            "help, write to the admins of this server.")
CHARTER_LOCKED = N_("The rules are the circle's adopted charter: change them with a proposal.")


async def update_profile(circle: Circle, by: Actor, **profile_fields) -> Circle:
    """A steward edits the circle's profile; the Group's followers hear of it.
    Once the charter is adopted, the rules change only through governance."""
    _require_local(circle)
    await require_steward(circle, by)
    profile = validate_profile(**profile_fields)
    if circle.charter_adopted_at is not None and profile.rules != circle.rules:
        raise PermissionDenied(CHARTER_LOCKED, field="rules")
    async with in_transaction():
        await _save_profile(circle, profile)
    return circle


async def _save_profile(circle: Circle, profile: Profile) -> None:
    """Write a validated profile and queue the Group's Update. Call in a transaction."""
    columns = _profile_columns(profile)
    await Circle.filter(id=circle.id).update(**columns)
    for name, value in columns.items():
        setattr(circle, name, value)
    await _replace_topics(circle, profile.topics)
    await Actor.filter(id=circle.actor_id).update(
        display_name=profile.name, manually_approves_followers=profile.join_mode is not JoinMode.OPEN,
        updated_at=clock.now(),
    )
    await OutboxEvent.create(kind="actor.updated", subject_id=circle.actor_id)


async def adopt_charter(circle: Circle, by: Actor) -> None:
    """The circle adopts its rules as its charter: from now on only a passed
    proposal changes them."""
    _require_local(circle)
    await require_steward(circle, by)
    if not circle.rules.strip():
        raise InvalidInput("Write the rules before adopting them as the charter.", field="rules")
    if circle.charter_adopted_at is not None:
        raise Conflict("The charter is adopted already.")
    circle.charter_adopted_at = clock.now()
    await Circle.filter(id=circle.id).update(charter_adopted_at=circle.charter_adopted_at)


async def set_rules_by_decision(circle: Circle, rules: str) -> None:
    """The rules a passed proposal set: they become (or stay) the adopted
    charter. Called by the governance service inside its transaction."""
    rules = validation.text(rules, "rules", label="Rules", max_length=RULES_MAX)
    circle.rules, circle.charter_adopted_at = rules, circle.charter_adopted_at or clock.now()
    await Circle.filter(id=circle.id).update(rules=rules, charter_adopted_at=circle.charter_adopted_at)
    await OutboxEvent.create(kind="actor.updated", subject_id=circle.actor_id)


async def answer_directly(circle: Circle, person_uri: str, *, in_reply_to: str, text: str) -> None:
    """The circle answers one person's message, to them alone (a direct Note,
    federation/fanout.py `circle.direct_answer`)."""
    await OutboxEvent.create(
        kind="circle.direct_answer", subject_id=circle.id,
        data={"to": person_uri, "in_reply_to": in_reply_to, "text": text},
    )


def numbered_rules(rules: str) -> str:
    """The rules as a numbered Markdown list: one rule per non-empty line,
    whatever list markers the writer typed."""
    lines = (re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line).strip() for line in rules.splitlines())
    return "\n".join(f"{number}. {line}" for number, line in enumerate(filter(None, lines), 1))


def full_message(circle: Circle) -> Conflict:
    return Conflict("This circle is full: it has room for %(limit)s members.", limit=circle.size_limit)


async def get_circle(handle: str) -> Circle:
    """A circle by its handle: `name` here, or `name@domain` for a remote circle we follow."""
    name, _, domain = handle.partition("@")
    where = {"actor__domain": domain, "actor__local": False} if domain else {"actor__local": True}
    circle = await Circle.filter(actor__username=name, **where).select_related("actor").first()
    if circle is None:
        raise NotFound("There is no circle “%(handle)s” here.", handle=handle[:40])
    return circle


@dataclass(frozen=True)
class DirectoryFilter:
    # What people look for in the directory; empty strings match everything.
    query: str = ""
    topic: str = ""
    language: str = ""
    place: str = ""
    join_mode: str = ""
    timezone: str = ""


async def list_circles(filters: DirectoryFilter = DirectoryFilter(), *, offset: int = 0, limit: int = 50) -> list[Circle]:
    """The directory: busiest circles first, narrowed by a search word, a
    topic, a language, a place, a join mode and a time zone. Bad filter values match nothing."""
    circles = Circle.filter(actor__local=True)
    if query := filters.query.strip()[:100]:
        circles = circles.filter(Q(name__icontains=query) | Q(purpose__icontains=query))
    if topic := filters.topic.strip().lstrip("#").lower()[:40]:
        circles = circles.filter(topics__tag=topic)  # (circle, tag) is unique: no duplicate rows
    if language := filters.language.strip()[:16]:  # "EN" finds "en" and "en-GB"; "pt-br" finds "pt-BR"
        circles = circles.filter(Q(language__iexact=language) | Q(language__istartswith=f"{language}-"))
    if place := fold(filters.place.strip()[:120]):  # "Zurich" finds "Zürich"
        circles = circles.filter(location_folded__contains=place)
    if zone := filters.timezone.strip()[:64]:
        circles = circles.filter(timezone=zone)
    if mode := filters.join_mode.strip()[:16]:
        if mode not in {m.value for m in JoinMode}:
            return []
        circles = circles.filter(join_mode=mode)
    return await circles.select_related("actor").order_by("-member_count", "id").offset(offset).limit(limit)


async def directory_timezones() -> list[str]:
    """The time zones local circles meet in, for the directory's filter."""
    return sorted(await Circle.filter(actor__local=True).distinct().values_list("timezone", flat=True))


async def topics_by_circle(circles: list[Circle]) -> dict[int, list[str]]:
    """Each listed circle's topics, in one query."""
    found: dict[int, list[str]] = {circle.id: [] for circle in circles}
    for row in await CircleTopic.filter(circle_id__in=list(found)).order_by("id"):
        found[row.circle_id].append(row.tag)
    return found


async def membership(circle: Circle, actor: Actor) -> Membership | None:
    return await Membership.get_or_none(circle=circle, actor=actor)


async def memberships_of(actor: Actor, *, seen_by: Actor | None | bool = True) -> list[Membership]:
    """The circles `actor` is an active member of; with `seen_by` (a viewer, or
    None for someone signed out) only those whose membership that viewer may
    see: members-only circles are shown only to their own members."""
    rows = Membership.filter(actor=actor, state=MembershipState.ACTIVE)
    if seen_by is not True:
        rows = rows.filter(visibility.readable_circles(seen_by))
    return (
        await rows
        .select_related("circle__actor")
        .order_by("-id")
    )


async def _change_state(member: Membership, state: MembershipState) -> None:
    if state not in MEMBERSHIP_TRANSITIONS[member.state]:
        raise Conflict("A membership cannot go from %(old)s to %(new)s.", old=member.state, new=state)
    # Conditional on the state we read: of two simultaneous changes, one wins.
    changed = await Membership.filter(id=member.id, state=member.state).update(state=state, updated_at=clock.now())
    if not changed:
        raise Conflict("This membership changed meanwhile; reload the page.")
    was_active = member.state is MembershipState.ACTIVE
    member.state = state
    if state is MembershipState.BANNED:
        await withdraw_open_votes(member)
    delta = (state is MembershipState.ACTIVE) - was_active
    if delta > 0 and not await count_new_member(member.circle_id):
        circle = await Circle.get(id=member.circle_id)
        raise full_message(circle)  # the caller's transaction undoes the state change
    if delta < 0:
        await Circle.filter(id=member.circle_id).update(member_count=F("member_count") - 1)


async def change_membership_state(member: Membership, state: MembershipState) -> None:
    """Move a membership along its lifecycle (a ban, say), keeping the member
    count and open votes right. Call in a transaction."""
    await _change_state(member, state)


async def join(circle: Circle, actor: Actor, *, request_text: str = "") -> Membership:
    """Join an open circle, or ask to join an approval circle."""
    request_text = validation.text(request_text, "request_text", label="Your message", max_length=1000)
    existing = await membership(circle, actor)
    if existing is not None:
        if existing.state is MembershipState.BANNED:
            raise PermissionDenied(BANNED)
        if existing.state is MembershipState.ACTIVE:
            raise Conflict("You are a member already.")
        raise Conflict("Your request to join is waiting for a facilitator.")
    if circle.join_mode is JoinMode.INVITE:
        raise PermissionDenied("This circle is invite-only: ask one of its facilitators.")
    if circle.join_mode is JoinMode.OPEN and circle.is_full:
        raise full_message(circle)
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
        else:
            await notification_events.join_requested(circle, actor)
    return member


async def leave(circle: Circle, actor: Actor, *, instance: Instance) -> None:
    """Leave a circle; a proposal only the leaver had still to vote on is decided."""
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
    await governance_decisions.decide_after_leaving(instance, [circle.id])


# "@name is a ... already", per role, so that each is translated whole.
ALREADY_IN_ROLE = {
    Role.FACILITATOR: N_("@%(handle)s is a facilitator already."),
    Role.MODERATOR: N_("@%(handle)s is a moderator already."),
    Role.MEMBER: N_("@%(handle)s is a member already."),
}


async def require_steward(circle: Circle, actor: Actor) -> Membership:
    """The actor's membership if they facilitate or moderate the circle."""
    member = await membership(circle, actor)
    if member is None or member.state is not MembershipState.ACTIVE or member.role not in STEWARD_ROLES:
        raise PermissionDenied("Only the circle's facilitators and moderators can do this.")
    return member


async def require_facilitator(circle: Circle, actor: Actor, refusal: str) -> Membership:
    """The actor's membership if they facilitate the circle; else `refusal`
    (each caller says what only facilitators may do)."""
    member = await membership(circle, actor)
    if member is None or member.state is not MembershipState.ACTIVE or member.role is not Role.FACILITATOR:
        raise PermissionDenied(refusal)
    return member


async def is_member(circle: Circle, actor: Actor) -> bool:
    member = await membership(circle, actor)
    return bool(member and member.state is MembershipState.ACTIVE)


async def is_steward(circle: Circle, actor: Actor) -> bool:
    member = await membership(circle, actor)
    return bool(member and member.state is MembershipState.ACTIVE and member.role in STEWARD_ROLES)


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
    if circle.is_full:
        raise Conflict("This circle is full: it has room for %(limit)s members. Raise the limit in the circle's settings "
                       "first.", limit=circle.size_limit)
    async with in_transaction():
        await _change_state(member, MembershipState.ACTIVE)
        await follows.settle_pending_follow(circle, member.actor, accepted=True)
        await notification_events.request_answered(circle, member.actor, approved=True)
    return member


async def reject(circle: Circle, by: Actor, membership_id: int) -> None:
    await require_steward(circle, by)
    member = await _pending_request(circle, membership_id)
    async with in_transaction():
        await member.delete()
        await follows.settle_pending_follow(circle, member.actor, accepted=False)
        await notification_events.request_answered(circle, member.actor, approved=False)


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
