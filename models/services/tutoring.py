"""Peer tutoring: members list what they can help with and what they would
like help with; the circle suggests helper/learner pairs (people who have not
paired before first); a pairing has a private thread for its two people.

Either person may have their account on another server (a member following
the circle from Mastodon or another Circles instance):

- Skills: a remote member states theirs in a direct message to the circle's
  Group ("offers: python, statistics" and/or "wants: public speaking", one
  per line; `#offers python` works too). Only the sender's own skills change;
  the circle answers with what it saved, or why not (`receive_skills`).
- Pairing: a local member opens it; the opening message goes to the remote
  person as a direct Note to them alone (the fan-out's "tutoring.message").
  They accept by replying: the pairing shows "waiting for a reply" until then.
- Messages: each one written here goes the same way, in reply to the
  previous one; their replies (direct Notes in reply to one of the thread's
  Notes) join the thread only when they come from the pairing's other person
  (`receive_message`). A Circles instance receiving the opening Note keeps a
  thread of its own for its person, so both sides talk through their web UI.

Messages that leave the server are direct, not end-to-end encrypted: the
admins of both servers can read them, and the pages say so."""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor, ActorKind
from models.circles import Circle, Membership, MembershipState
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services.moderation import host_of
from models.services import notification_events, validation
from models.text import clean_html, plain_excerpt, render_markdown
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


def _active_members(circle: Circle) -> Subquery:
    """Active members who can be reached: local ones, and remote ones whose
    server still has an inbox for them (a deleted account has none)."""
    reachable = Q(actor__local=True) | Q(actor__inbox_url__isnull=False)
    return Subquery(
        Membership.filter(reachable, circle=circle, state=MembershipState.ACTIVE).values("actor_id")
    )


async def suggest_pairs(circle: Circle, *, limit: int = 20) -> list[Suggestion]:
    """Learner wants X, helper offers X: the best `limit` such pairs of active
    members, at least one of them local (someone here opens the pairing). People who have not paired before come first, then helpers
    with fewer open pairings, then the skill. A fixed number of queries."""
    skills = Skill.filter(circle=circle, actor_id__in=_active_members(circle))
    return await _suggest(circle, skills, Pairing.filter(circle=circle), limit=limit)


async def suggestions_for(actor: Actor, circle: Circle, *, limit: int = 20) -> list[Suggestion]:
    """The suggestions in which `actor` is the helper or the learner."""
    if not await circle_service.is_member(circle, actor):
        return []
    own_names = Subquery(Skill.filter(circle=circle, actor=actor).values("name"))
    skills = Skill.filter(circle=circle, name__in=own_names, actor_id__in=_active_members(circle))
    pairings = Pairing.filter(circle=circle).filter(Q(helper=actor) | Q(learner=actor))
    return await _suggest(circle, skills, pairings, limit=limit, involving=actor.id)


async def _suggest(circle, skills, pairings, *, limit: int, involving: int | None = None) -> list[Suggestion]:
    limit = max(1, min(limit, SUGGESTIONS_MAX))
    # A bound for very large circles: past SKILL_ROWS_MAX rows, the skills last in
    # alphabetical order are left out.
    rows = await skills.order_by("name", "id").limit(SKILL_ROWS_MAX).values_list(
        "actor_id", "name", "direction", "actor__local"
    )
    remote_ids = {row[0] for row in rows if not row[3]}
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
    for actor_id, name, direction, _local in rows:
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
                # Two people on other servers: nobody here could open their pairing.
                reachable = [h for h in offering if h not in remote_ids] if learner_id in remote_ids else offering
                candidates += _best_for_learner(learner_id, reachable, name, load, paired, already_open, limit)
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
    """The other person must be an active member, reachable when elsewhere."""
    if not await circle_service.is_member(circle, other):
        raise PermissionDenied("%(name)s is not an active member of this circle.", name=other.name)
    if not other.local and not other.inbox_url:
        raise PermissionDenied(
            "%(name)s's account on %(domain)s is gone: messages cannot reach them.",
            name=other.name, domain=other.domain,
        )


async def open_pairing(circle: Circle, by: Actor, other: Actor, skill: str, *, by_is_helper: bool) -> Pairing:
    """`by` asks `other` for help (by_is_helper False) or offers them help
    (True). The other person must list the skill the matching way: that is
    their consent to be asked."""
    skill = skill_name(skill, "skill")
    if other.id == by.id:
        raise InvalidInput("Choose someone other than yourself.", field="other")
    await circle_service.require_member(circle, by)
    if not by.local:
        raise PermissionDenied("A pairing is opened by a member with an account on this server.")
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
        async with in_transaction():
            pairing = await Pairing.create(
                circle=circle, helper=helper, learner=learner, skill=skill,
                open_key=_open_key(circle, helper, learner, skill),
                accepted_at=clock.now() if other.local else None,
            )
            if not other.local:
                pairing.circle, pairing.helper, pairing.learner = circle, helper, learner
                await _create_outgoing(pairing, by, opening_text(pairing, by), in_reply_to=None)
            else:
                await notification_events.pairing_opened(pairing, by, other, circle)
    except IntegrityError:
        raise Conflict("You and %(name)s already have an open pairing for “%(skill)s”.", name=other.name,
                       skill=skill) from None
    return pairing


def opening_text(pairing: Pairing, by: Actor) -> str:
    """The first message a remote person receives: which circle, which skill,
    and that replying continues (and accepts) the conversation."""
    circle = pairing.circle
    where = f"the circle “{circle.name}” (@{circle.actor.username}@{circle.actor.domain})"
    if pairing.helper_id == by.id:
        ask = f"I can help you with “{pairing.skill}”, which you would like help with in {where}."
    else:
        ask = f"Could you help me with “{pairing.skill}”? You offer it in {where}."
    return (
        f"Hello! I am {by.name}. {ask}\n\n"
        "Reply to this message to accept and continue our tutoring conversation: your replies reach only me. "
        "(A direct message between our servers, not end-to-end encrypted: the admins of both servers can read it.)"
    )


def message_uri(author: Actor, message_id: int) -> str:
    """The id of a Note that carries a local person's tutoring message."""
    return f"{author.uri}/tutoring/{message_id}"


def partner_of(pairing: Pairing, actor: Actor) -> Actor:
    return pairing.learner if actor.id == pairing.helper_id else pairing.helper


async def _create_outgoing(pairing: Pairing, author: Actor, body: str, *, in_reply_to: str | None,
                           closing: bool = False) -> TutoringMessage:
    """A message written here to someone on another server, and the event that
    sends it to them alone (inside the caller's transaction)."""
    message_id = clock.new_id()
    message = await TutoringMessage.create(
        id=message_id, pairing=pairing, author=author, source=body, content=render_markdown(body),
        uri=message_uri(author, message_id),
    )
    data = {"in_reply_to": in_reply_to} | ({"closed": True} if closing else {})
    await OutboxEvent.create(kind="tutoring.message", subject_id=message.id, data=data)
    return message


async def _last_uri(pairing: Pairing) -> str | None:
    """The thread's last Note (theirs or ours): what the next one answers."""
    previous = await TutoringMessage.filter(pairing=pairing, uri__isnull=False).order_by("-id").first()
    return previous.uri if previous else None


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
    """Either person closes the pairing; False when it was closed already.
    A partner on another server is told in a last message (their replies
    would no longer reach the thread), which also closes the pairing on a
    Circles instance there."""
    _require_party(pairing, by)
    now = clock.now()
    partner = await Actor.get(id=pairing.learner_id if by.id == pairing.helper_id else pairing.helper_id)
    async with in_transaction():
        closed = await Pairing.filter(id=pairing.id, closed_at=None).update(closed_at=now, open_key=None)
        if closed and by.local and not partner.local and partner.inbox_url:
            body = (f"I have closed our tutoring pairing for “{pairing.skill}”. Thank you for learning together! "
                    "Replies to this conversation no longer reach me.")
            await _create_outgoing(pairing, by, body, in_reply_to=await _last_uri(pairing), closing=True)
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
    partner = await Actor.get(id=pairing.learner_id if author.id == pairing.helper_id else pairing.helper_id)
    if partner.local:
        async with in_transaction():
            message = await TutoringMessage.create(
                pairing=pairing, author=author, source=body, content=render_markdown(body)
            )
            await notification_events.tutoring_message(pairing, author, partner)
        return message
    if not partner.inbox_url:
        raise Conflict(f"{partner.name}'s account on {partner.domain} is gone: messages cannot reach them.")
    async with in_transaction():
        message = await _create_outgoing(pairing, author, body, in_reply_to=await _last_uri(pairing))
        await _mark_accepted(pairing, author)
    return message


async def _mark_accepted(pairing: Pairing, writer: Actor) -> None:
    """The person who was asked accepts by writing (their first reply): the
    one here when the pairing was opened elsewhere, and the other way round."""
    if pairing.accepted_at is None and writer.local == pairing.opened_remotely:
        pairing.accepted_at = clock.now()
        await Pairing.filter(id=pairing.id, accepted_at=None).update(accepted_at=pairing.accepted_at)


async def messages(pairing: Pairing, viewer: Actor, *, before_id: int | None = None,
                   limit: int = MESSAGES_PAGE) -> list[TutoringMessage]:
    """A page of the thread, newest first; page with the last id seen as before_id."""
    _require_party(pairing, viewer)
    rows = TutoringMessage.filter(pairing=pairing)
    if before_id is not None and validation.is_row_id(before_id):
        rows = rows.filter(id__lt=before_id)
    return await rows.select_related("author").order_by("-id").limit(limit)


# --- with people on other servers ----------------------------------------------


@dataclass(frozen=True)
class RemotePairingInput:
    # Circles' own `tutoring` term on a Note: which pairing a message belongs to,
    # so a Circles instance receiving it keeps a thread for its person too.
    circle_uri: str
    skill: str
    helper_uri: str
    learner_uri: str
    closed: bool = False  # the sender closed the pairing with this message


@dataclass(frozen=True)
class RemoteNoteInput:
    # A direct Note from another server, as federation/convert.py checked it.
    uri: str
    content_html: str
    in_reply_to_uri: str | None = None
    addressees: frozenset[str] = frozenset()  # ids in to, cc, bto, bcc and audience
    direct: bool = True  # addressed neither to the public nor to anyone's followers
    pairing: RemotePairingInput | None = None


REMOTE_HTML_MAX = 50_000  # a longer remote message is cut before it is cleaned
ADDRESSEES_MAX = 20


async def is_tutoring_note(note: RemoteNoteInput) -> bool:
    """Whether a remote Note belongs to tutoring (then it is never a post):
    it answers one of the threads' Notes, or carries Circles' tutoring term."""
    if note.pairing is not None:
        return True
    return bool(note.in_reply_to_uri) and await TutoringMessage.exists(uri=note.in_reply_to_uri)


async def receive_message(sender: Actor, note: RemoteNoteInput) -> TutoringMessage | None:
    """A remote person's message in a thread here, or None when it has no place
    in one: only the pairing's other person writes in it, to the local person,
    while it is open. A reply from anyone else to a thread's Note is dropped
    without a word (nothing of the thread is shown to them). Idempotent."""
    existing = await TutoringMessage.get_or_none(uri=note.uri)
    if existing is not None:
        return existing if existing.author_id == sender.id else None
    parent = None
    if note.in_reply_to_uri:
        parent = await TutoringMessage.get_or_none(uri=note.in_reply_to_uri).select_related(
            "pairing__helper", "pairing__learner"
        )
    pairing = parent.pairing if parent is not None else await _pairing_from_remote(sender, note)
    if pairing is None or sender.local or sender.id not in (pairing.helper_id, pairing.learner_id):
        return None
    circle = await Circle.get(id=pairing.circle_id).select_related("actor")
    if circle.actor.local and not await circle_service.is_member(circle, sender):
        return None  # they left or were banned: their messages stop with their membership
    local = partner_of(pairing, sender)
    if not local.local or local.uri not in note.addressees or pairing.closed_at is not None:
        return None
    content = clean_html(note.content_html[:REMOTE_HTML_MAX])
    try:
        async with in_transaction():
            opening = not await TutoringMessage.exists(pairing=pairing)  # they opened the pairing with it
            message = await TutoringMessage.create(
                pairing=pairing, author=sender, source="", content=content, uri=note.uri
            )
            if opening:
                await notification_events.pairing_opened(pairing, sender, local, circle)
            else:
                await notification_events.tutoring_message(pairing, sender, local)
            await _mark_accepted(pairing, sender)
            if note.pairing is not None and note.pairing.closed:
                await Pairing.filter(id=pairing.id, closed_at=None).update(closed_at=clock.now(), open_key=None)
    except IntegrityError:  # the same Note twice at once
        return await TutoringMessage.get_or_none(uri=note.uri, author=sender)
    return message


async def delete_remote_message(sender: Actor, uri: str) -> bool:
    """A remote person deleted a message they sent into a thread here: it goes
    here too. False when no such message of theirs is here."""
    return bool(await TutoringMessage.filter(uri=uri, author=sender, author__local=False).delete())


async def _pairing_from_remote(sender: Actor, note: RemoteNoteInput) -> Pairing | None:
    """A Circles instance elsewhere opened a pairing with our person: the same
    pairing here, so our person sees the thread and answers from their page."""
    data = note.pairing
    if data is None or not note.direct or sender.uri not in (data.helper_uri, data.learner_uri):
        return None
    circle = await Circle.get_or_none(actor__uri=data.circle_uri).select_related("actor")
    addressed = sorted(note.addressees)[:ADDRESSEES_MAX]
    locals_addressed = await Actor.filter(uri__in=addressed, local=True, kind=ActorKind.PERSON)
    if circle is None or len(locals_addressed) != 1:
        return None
    local = locals_addressed[0]
    if local.uri not in (data.helper_uri, data.learner_uri) or data.helper_uri == data.learner_uri:
        return None
    if not await circle_service.is_member(circle, local):
        return None
    if circle.actor.local and not await circle_service.is_member(circle, sender):
        return None  # our own circle: we know its members
    if not circle.actor.local and host_of(sender.uri) != host_of(circle.actor.uri):
        return None  # a circle elsewhere: only its own server speaks for its members
    skill = skill_name(data.skill, "skill")
    helper, learner = (sender, local) if data.helper_uri == sender.uri else (local, sender)
    # Listing a skill is our person's consent to be asked about it, as for pairings opened here.
    direction = SkillDirection.OFFERS if helper is local else SkillDirection.WANTS
    if not await Skill.filter(circle=circle, actor=local, name=skill, direction=direction).exists():
        return None
    key = _open_key(circle, helper, learner, skill)
    existing = await Pairing.get_or_none(open_key=key).select_related("helper", "learner")
    if existing is not None:
        return existing
    if await _open_count(circle, local) >= OPEN_PAIRINGS_MAX:
        return None
    try:
        pairing = await Pairing.create(
            circle=circle, helper=helper, learner=learner, skill=skill, open_key=key, opened_remotely=True
        )
    except IntegrityError:
        return await Pairing.get_or_none(open_key=key).select_related("helper", "learner")
    pairing.helper, pairing.learner = helper, learner
    return pairing


@dataclass(frozen=True)
class SkillMessage:
    offers: list[str] | None  # None: the message does not name this direction
    wants: list[str] | None


_SKILL_KEYWORD = re.compile(r"(?:(?<![\w/])#(offers|wants)\b|\b(offers|wants)\s*:)\s*:?", re.IGNORECASE)
_LINE_BREAK = re.compile(r"<br\s*/?>|</p\s*>|</li\s*>", re.IGNORECASE)


def parse_skill_message(content_html: str) -> SkillMessage | None:
    """What a message to the circle says about the sender's skills: lines
    "offers: a, b" and "wants: c" (or hashtags, "#offers a, b #wants c").
    None when it names neither; an empty list clears that direction."""
    found: dict[str, list[str]] = {}
    for line in _LINE_BREAK.split(content_html[:REMOTE_HTML_MAX]):
        text = plain_excerpt(line, limit=REMOTE_HTML_MAX)
        matches = list(_SKILL_KEYWORD.finditer(text))
        for index, match in enumerate(matches):
            end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
            names = [item.strip().lstrip("#").strip() for item in re.split(r"[,;]", text[match.end():end])]
            direction = (match.group(1) or match.group(2)).lower()
            found.setdefault(direction, []).extend(name for name in names if name)
    if not found:
        return None
    return SkillMessage(offers=found.get("offers"), wants=found.get("wants"))


async def receive_skills(sender: Actor, note: RemoteNoteInput) -> bool:
    """A remote member's direct message to a circle here, stating their own
    skills. The circle answers them directly with what it saved, or why it
    saved nothing. False when the message is not about skills."""
    parsed = parse_skill_message(note.content_html) if note.direct and not sender.local else None
    if parsed is None:
        return False
    addressed = sorted(note.addressees)[:ADDRESSEES_MAX]
    circles = await Circle.filter(actor__uri__in=addressed, actor__local=True).select_related("actor")
    if len(circles) != 1:
        return False
    circle = circles[0]
    await circle_service.require_member(circle, sender)
    current = await skills_of(circle, sender)
    offers = current.offers if parsed.offers is None else parsed.offers
    wants = current.wants if parsed.wants is None else parsed.wants
    try:
        saved = await set_skills(circle, sender, offers=offers, wants=wants)
        text = (
            f"Saved for the circle “{circle.name}”: you can help with {', '.join(saved.offers) or 'nothing yet'}; "
            f"you would like help with {', '.join(saved.wants) or 'nothing yet'}. Members who match you can "
            "now open a tutoring pairing: their first message will reach you as a direct message."
        )
    except InvalidInput as error:
        text = f"Nothing was changed in the circle “{circle.name}”: {error.message}"
    await circle_service.answer_directly(circle, sender.uri, in_reply_to=note.uri, text=text)
    return True


def skills_text(lists: SkillLists) -> str:
    """Skills as a message to a circle elsewhere (what receive_skills reads)."""
    return f"offers: {', '.join(lists.offers)}\nwants: {', '.join(lists.wants)}"


async def send_skills(circle: Circle, actor: Actor, lists: SkillLists) -> None:
    """Tell a circle on another server what one of its members here listed."""
    if not circle.actor.local and actor.local:
        await OutboxEvent.create(kind="tutoring.skills", subject_id=circle.id,
                                 data={"actor": actor.uri, "text": skills_text(lists)})


# --- the person's export ---------------------------------------------------------


async def export_threads(actor: Actor) -> list[dict]:
    """Every tutoring thread the person is in, with all its messages (theirs
    and their partner's), as JSON-able data. Two queries."""
    pairings = await Pairing.filter(Q(helper=actor) | Q(learner=actor)).select_related(
        "circle__actor", "helper", "learner"
    ).order_by("id")
    rows = await TutoringMessage.filter(pairing_id__in=[p.id for p in pairings]).select_related(
        "author"
    ).order_by("id") if pairings else []
    by_pairing = defaultdict(list)
    for message in rows:
        by_pairing[message.pairing_id].append(message)
    return [
        {
            "circle": p.circle.handle,
            "circle_name": p.circle.name,
            "skill": p.skill,
            "role": "helper" if p.helper_id == actor.id else "learner",
            "partner": partner_of(p, actor).handle,
            "opened": _iso(p.created_at),
            "accepted": _iso(p.accepted_at),
            "closed": _iso(p.closed_at),
            "messages": [
                {
                    "author": m.author.handle,
                    "mine": m.author_id == actor.id,
                    "created": _iso(m.created_at),
                    "text": m.source or html_text(m.content),
                    "uri": m.uri,
                }
                for m in by_pairing[p.id]
            ],
        }
        for p in pairings
    ]


def html_text(content: str) -> str:
    """Stored HTML as plain text, a line per paragraph or line break."""
    lines = (plain_excerpt(line, limit=REMOTE_HTML_MAX) for line in _LINE_BREAK.split(content))
    return "\n".join(line for line in lines if line)


def _iso(moment) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
