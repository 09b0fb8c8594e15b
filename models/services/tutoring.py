"""Peer tutoring: members list what they can help with and what they would
like help with; the circle suggests helper/learner pairs (people who have not
paired before first); a pairing has a private thread for its two people.

Tutoring is local only for now: both people must have their account on this
server, and their messages never leave it."""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle, Membership, MembershipState
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import validation
from models.text import render_markdown
from models.translation import N_
from models.tutoring import Pairing, Skill, SkillDirection, TutoringMessage

SKILL_MAX_LENGTH = 40
SKILLS_MAX = 20  # per member, circle and direction
SKILL_LIST_MAX_LENGTH = 2000  # what a form field may hold before it is split
MESSAGE_MAX = 5000
OPEN_PAIRINGS_MAX = 10  # per person and circle: protects helpers from overload
SUGGESTIONS_MAX = 50
QUESTIONS_MAX = 10
MESSAGES_PAGE = 50
CLOSED_PAGE = 20
# Rows one suggestion run reads at most, so a very large circle stays cheap.
SKILL_ROWS_MAX = 5000
PAIRING_ROWS_MAX = 10_000

NOT_FOUND = N_("There is no such tutoring conversation, or it is not yours.")
_SKILL_RE = re.compile(r"[^\W_]+(?:[ -]+[^\W_]+)*")  # letters and digits, joined by spaces or hyphens


# --- skills ----------------------------------------------------------------------


@dataclass(frozen=True)
class SkillLists:
    offers: list[str]
    wants: list[str]


def split_list(raw: str | None, field: str, *, label: str) -> list[str]:
    """A comma-separated form field as a list of typed names (checked by set_skills)."""
    raw = validation.text(raw, field, label=label, max_length=SKILL_LIST_MAX_LENGTH)
    return [item for item in raw.split(",") if item.strip()]


def skill_name(value: str, field: str) -> str:
    """A skill as stored: lowercase, single spaces, letters, digits, spaces and hyphens."""
    name = " ".join((value or "").split()).lower()
    if not name:
        raise InvalidInput("A skill name cannot be empty.", field=field)
    if len(name) > SKILL_MAX_LENGTH or not _SKILL_RE.fullmatch(name):
        raise InvalidInput(
            "“%(name)s” is not a skill name: use letters, digits, spaces and hyphens, "
            "up to %(max)d characters (for example “python” or “public speaking”).",
            field=field, name=name[:SKILL_MAX_LENGTH], max=SKILL_MAX_LENGTH,
        )
    return name


def _skill_names(values: list[str], field: str, *, label: str) -> list[str]:
    names = list(dict.fromkeys(skill_name(value, field) for value in values))
    if len(names) > SKILLS_MAX:
        raise InvalidInput(
            "%(label)s: list at most %(max)d skills (%(given)d given); keep the ones that matter most.",
            field=field, label=label, max=SKILLS_MAX, given=len(names),
        )
    return names


async def set_skills(circle: Circle, actor: Actor, *, offers: list[str], wants: list[str]) -> SkillLists:
    """Replace what an active member can help with and would like help with."""
    if len(offers) > SKILLS_MAX * 5 or len(wants) > SKILLS_MAX * 5:  # before any work on huge input
        raise InvalidInput("List at most %(max)d skills each way.", max=SKILLS_MAX)
    lists = SkillLists(
        offers=_skill_names(offers, "offers", label="I can help with"),
        wants=_skill_names(wants, "wants", label="I would like help with"),
    )
    await circle_service.require_member(circle, actor)
    async with in_transaction():
        await Skill.filter(circle=circle, actor=actor).delete()
        await Skill.bulk_create(
            [Skill(circle=circle, actor=actor, name=n, direction=SkillDirection.OFFERS) for n in lists.offers]
            + [Skill(circle=circle, actor=actor, name=n, direction=SkillDirection.WANTS) for n in lists.wants]
        )
    return lists


async def skills_of(circle: Circle, actor: Actor) -> SkillLists:
    rows = await Skill.filter(circle=circle, actor=actor).order_by("id").values_list("name", "direction")
    return SkillLists(
        offers=[name for name, direction in rows if direction == SkillDirection.OFFERS],
        wants=[name for name, direction in rows if direction == SkillDirection.WANTS],
    )


# --- suggestions -----------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    helper: Actor
    learner: Actor
    skill: str
    paired_before: bool  # the two have had a pairing in this circle, either way round
    helper_open: int  # open pairings the helper has in this circle as helper


def _active_local_members(circle: Circle) -> Subquery:
    return Subquery(
        Membership.filter(circle=circle, state=MembershipState.ACTIVE, actor__local=True).values("actor_id")
    )


async def suggest_pairs(circle: Circle, *, limit: int = 20) -> list[Suggestion]:
    """Learner wants X, helper offers X: the best `limit` such pairs of active
    local members. People who have not paired before come first, then helpers
    with fewer open pairings, then the skill. A fixed number of queries."""
    skills = Skill.filter(circle=circle, actor_id__in=_active_local_members(circle))
    return await _suggest(circle, skills, Pairing.filter(circle=circle), limit=limit)


async def suggestions_for(actor: Actor, circle: Circle, *, limit: int = 20) -> list[Suggestion]:
    """The suggestions in which `actor` is the helper or the learner."""
    if not await circle_service.is_member(circle, actor):
        return []
    own_names = Subquery(Skill.filter(circle=circle, actor=actor).values("name"))
    skills = Skill.filter(circle=circle, name__in=own_names, actor_id__in=_active_local_members(circle))
    pairings = Pairing.filter(circle=circle).filter(Q(helper=actor) | Q(learner=actor))
    return await _suggest(circle, skills, pairings, limit=limit, involving=actor.id)


async def _suggest(circle, skills, pairings, *, limit: int, involving: int | None = None) -> list[Suggestion]:
    limit = max(1, min(limit, SUGGESTIONS_MAX))
    # A bound for very large circles: past SKILL_ROWS_MAX rows, the skills last in
    # alphabetical order are left out.
    rows = await skills.order_by("name", "id").limit(SKILL_ROWS_MAX).values_list("actor_id", "name", "direction")
    history = await pairings.order_by("-id").limit(PAIRING_ROWS_MAX).values_list(
        "helper_id", "learner_id", "skill", "closed_at"
    )
    paired = {frozenset(row[:2]) for row in history}
    already_open = {(frozenset(row[:2]), row[2]) for row in history if row[3] is None}
    # Every open pairing of the circle (at most OPEN_PAIRINGS_MAX per person):
    # how busy each helper is, and who cannot take another pairing at all.
    open_rows = await Pairing.filter(circle=circle, closed_at=None).limit(PAIRING_ROWS_MAX).values_list(
        "helper_id", "learner_id"
    )
    load = Counter(helper_id for helper_id, _ in open_rows)
    engaged = Counter(actor_id for row in open_rows for actor_id in row)
    full = {actor_id for actor_id, count in engaged.items() if count >= OPEN_PAIRINGS_MAX}
    helpers, learners = defaultdict(list), defaultdict(list)
    for actor_id, name, direction in rows:
        if actor_id in full:
            continue
        (helpers if direction == SkillDirection.OFFERS else learners)[name].append(actor_id)
    candidates = []
    offered_by_involving = {name for name, ids in helpers.items() if involving in ids}
    for name, wanting in learners.items():
        offering = sorted(helpers.get(name, ()), key=lambda helper_id: (load[helper_id], helper_id))
        for learner_id in wanting:
            if involving is not None and learner_id != involving:
                # The person asked about is the helper here, or not in this pair at all.
                mine = [involving] if name in offered_by_involving else []
                candidates += _best_for_learner(learner_id, mine, name, load, paired, already_open, limit)
            else:
                candidates += _best_for_learner(learner_id, offering, name, load, paired, already_open, limit)
    best = heapq.nsmallest(limit, candidates)
    actors = await Actor.in_bulk({key for c in best for key in (c[-2], c[-1])}, field_name="id")
    return [
        Suggestion(helper=actors[helper_id], learner=actors[learner_id], skill=name,
                   paired_before=was_paired, helper_open=open_count)
        for was_paired, open_count, name, learner_id, helper_id in best
    ]


def _best_for_learner(learner_id, offering, name, load, paired, already_open, limit) -> list[tuple]:
    """Candidate tuples (sort keys) for one learner and skill: at most `limit`
    helpers they have not paired with, plus those they have (bounded by their history)."""
    found, fresh = [], 0
    for helper_id in offering:
        if fresh >= limit:
            break
        pair = frozenset((helper_id, learner_id))
        if helper_id == learner_id or (pair, name) in already_open:
            continue
        was_paired = pair in paired
        fresh += not was_paired
        found.append((was_paired, load[helper_id], name, learner_id, helper_id))
    return found


# --- pairings --------------------------------------------------------------------


def _open_key(circle: Circle, first: Actor, second: Actor, skill: str) -> str:
    low, high = sorted((first.id, second.id))
    return f"{circle.id}:{low}:{high}:{skill}"


async def _require_partner(circle: Circle, other: Actor) -> None:
    """The other person must be an active member with an account on this server."""
    if not other.local:
        raise PermissionDenied(
            "%(name)s is on another server (%(domain)s). Tutoring works only between members "
            "with an account on this server for now, because its messages stay private here.",
            name=other.name, domain=other.domain,
        )
    if not await circle_service.is_member(circle, other):
        raise PermissionDenied("%(name)s is not an active member of this circle.", name=other.name)


async def open_pairing(circle: Circle, by: Actor, other: Actor, skill: str, *, by_is_helper: bool) -> Pairing:
    """`by` asks `other` for help (by_is_helper False) or offers them help
    (True). The other person must list the skill the matching way: that is
    their consent to be asked."""
    skill = skill_name(skill, "skill")
    if other.id == by.id:
        raise InvalidInput("Choose someone other than yourself.", field="other")
    await circle_service.require_member(circle, by)
    if not by.local:
        raise PermissionDenied("Tutoring works only between members with an account on this server for now.")
    await _require_partner(circle, other)
    their_direction = SkillDirection.WANTS if by_is_helper else SkillDirection.OFFERS
    if not await Skill.exists(circle=circle, actor=other, name=skill, direction=their_direction):
        if by_is_helper:
            raise Conflict("%(name)s does not list “%(skill)s” among what they would like help with.",
                           field="skill", name=other.name, skill=skill)
        raise Conflict("%(name)s does not list “%(skill)s” among what they can help with.",
                       field="skill", name=other.name, skill=skill)
    for person in (by, other):
        if await _open_count(circle, person) >= OPEN_PAIRINGS_MAX:
            if person is by:
                raise Conflict("You have %(max)d open pairings in this circle already; close one first, "
                               "or try someone else.", max=OPEN_PAIRINGS_MAX)
            raise Conflict("%(name)s has %(max)d open pairings in this circle already; close one first, "
                           "or try someone else.", name=other.name, max=OPEN_PAIRINGS_MAX)
    helper, learner = (by, other) if by_is_helper else (other, by)
    try:
        return await Pairing.create(
            circle=circle, helper=helper, learner=learner, skill=skill,
            open_key=_open_key(circle, helper, learner, skill),
        )
    except IntegrityError:
        raise Conflict("You and %(name)s already have an open pairing for “%(skill)s”.", name=other.name,
                       skill=skill) from None


async def _open_count(circle: Circle, actor: Actor) -> int:
    return await Pairing.filter(circle=circle, closed_at=None).filter(Q(helper=actor) | Q(learner=actor)).count()


async def get_pairing(pairing_id: int, viewer: Actor) -> Pairing:
    """A pairing seen by one of its two people; for anyone else (stewards and
    admins too) it does not exist."""
    pairing = None
    if validation.is_row_id(pairing_id):
        pairing = await Pairing.get_or_none(id=pairing_id).select_related("helper", "learner", "circle__actor")
    if pairing is None or viewer.id not in (pairing.helper_id, pairing.learner_id):
        raise NotFound(NOT_FOUND)
    return pairing


def _require_party(pairing: Pairing, actor: Actor) -> None:
    if actor.id not in (pairing.helper_id, pairing.learner_id):
        raise NotFound(NOT_FOUND)


async def close_pairing(pairing: Pairing, by: Actor) -> bool:
    """Either person closes the pairing; False when it was closed already."""
    _require_party(pairing, by)
    now = clock.now()
    closed = await Pairing.filter(id=pairing.id, closed_at=None).update(closed_at=now, open_key=None)
    if closed:
        pairing.closed_at, pairing.open_key = now, None
    return bool(closed)


async def open_pairings_of(circle: Circle, actor: Actor) -> list[Pairing]:
    """The person's open pairings in a circle (at most OPEN_PAIRINGS_MAX)."""
    return (
        await Pairing.filter(circle=circle, closed_at=None).filter(Q(helper=actor) | Q(learner=actor))
        .select_related("helper", "learner").order_by("-id").limit(OPEN_PAIRINGS_MAX * 2)
    )


async def closed_pairings_of(circle: Circle, actor: Actor, *, before_id: int | None = None,
                             limit: int = CLOSED_PAGE) -> list[Pairing]:
    """The person's closed pairings in a circle, newest first; page with the last id seen as before_id."""
    rows = Pairing.filter(circle=circle, closed_at__isnull=False).filter(Q(helper=actor) | Q(learner=actor))
    if before_id is not None and validation.is_row_id(before_id):
        rows = rows.filter(id__lt=before_id)
    return await rows.select_related("helper", "learner").order_by("-id").limit(limit)


# --- the private thread ----------------------------------------------------------


async def send_message(pairing: Pairing, author: Actor, body: str) -> TutoringMessage:
    """A message from one of the pairing's two people to the other."""
    _require_party(pairing, author)
    body = validation.text(body, "body", label="Your message", max_length=MESSAGE_MAX, required=True)
    if pairing.closed_at is not None:
        raise Conflict("This pairing is closed: open a new one to talk again.", field="body")
    still_member = await Membership.exists(
        circle_id=pairing.circle_id, actor=author, state=MembershipState.ACTIVE
    )
    if not still_member:
        raise PermissionDenied("You are no longer a member of this circle, so this pairing is read-only.")
    return await TutoringMessage.create(pairing=pairing, author=author, source=body, content=render_markdown(body))


async def messages(pairing: Pairing, viewer: Actor, *, before_id: int | None = None,
                   limit: int = MESSAGES_PAGE) -> list[TutoringMessage]:
    """A page of the thread, newest first; page with the last id seen as before_id."""
    _require_party(pairing, viewer)
    rows = TutoringMessage.filter(pairing=pairing)
    if before_id is not None and validation.is_row_id(before_id):
        rows = rows.filter(id__lt=before_id)
    return await rows.select_related("author").order_by("-id").limit(limit)


# --- nudges toward open questions ------------------------------------------------


async def questions_for_helper(actor: Actor, circle: Circle) -> list[Post]:
    """Open questions in the circle that mention a skill the person offers,
    oldest first: a nudge to answer them. Two queries."""
    offered = await Skill.filter(circle=circle, actor=actor, direction=SkillDirection.OFFERS).values_list(
        "name", flat=True
    )
    if not offered:
        return []
    mentions = Q(*(Q(title__icontains=name) | Q(content__icontains=name) for name in offered), join_type="OR")
    not_theirs = Q(asked_by_id__isnull=True) | ~Q(asked_by_id=actor.id)
    return (
        await Post.filter(
            circle=circle, kind=PostKind.QUESTION, root_id=None, accepted_answer_id=None, deleted_at=None
        )
        .exclude(author=actor)
        .filter(not_theirs)
        .filter(mentions)
        .select_related("author")
        .order_by("published_at", "id")
        .limit(QUESTIONS_MAX)
    )
