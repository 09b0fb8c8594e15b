"""Meetings (study sessions): scheduling, RSVPs, listings and the secret
calendar links (reminders: meeting_reminders.py; who hears of changes:
meeting_notices.py). A meeting is a Post of kind MEETING (title and agenda)
plus a Meeting row (when and where), so it threads and federates like a post."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account
from models.actors import Actor
from models.circles import Circle
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.meetings import CalendarFeed, Meeting, Rsvp, RsvpAnswer
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import meeting_notices, post_edits
from models.services import posts as post_service
from models.services import validation
from models.text import render_markdown
from models.translation import N_

TITLE_MAX = post_service.TITLE_MAX
AGENDA_MAX = post_service.BODY_MAX
PLACE_MAX = 200
CAPACITY_MAX = 10_000
LONGEST = dt.timedelta(hours=12)
FURTHEST = dt.timedelta(days=730)
PAGE_SIZE = 20
FEED_PAST = dt.timedelta(days=90)  # how far back calendar feeds reach
FEED_MAX = 500
RSVP_POLL_TEXT = "Are you coming? Answer Going, Maybe or Not going — here or in this poll from any fediverse app."
POLL_ANSWERS = {"going": RsvpAnswer.GOING, "maybe": RsvpAnswer.MAYBE, "not going": RsvpAnswer.NOT_GOING}


@dataclass(frozen=True)
class MeetingInput:
    # What a person typed, checked: times already converted to UTC.
    title: str
    agenda: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str
    place: str
    online_url: str | None
    capacity: int | None


def _local_time(value: str | None, field: str, label: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """A date and time typed in the meeting's zone (2026-12-01T18:30), in UTC."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput("%(label)s is required.", field=field, label=label)
    try:
        moment = dt.datetime.fromisoformat(value) if len(value) <= 19 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None:
        raise InvalidInput("%(label)s: give a date and time like 2026-12-01 18:30.", field=field, label=label)
    return moment.replace(tzinfo=zone).astimezone(dt.timezone.utc)


def _capacity(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = value if isinstance(value, int) else validation.whole_number(str(value).strip())
    if number is None or not 1 <= number <= CAPACITY_MAX:
        raise InvalidInput("Places: a whole number from 1 to %(max)d, or leave it empty.", field="capacity",
                           max=CAPACITY_MAX)
    return number


def check_input(
    circle: Circle, *, title: str, agenda: str, starts_local: str, ends_local: str, timezone: str = "",
    place: str = "", online_url: str = "", capacity=None,
) -> MeetingInput:
    """Every scheduling rule that needs no database."""
    title = validation.single_line(title, "title", label="Title", max_length=TITLE_MAX, required=True)
    agenda = validation.text(agenda, "agenda", label="Agenda", max_length=AGENDA_MAX)
    zone_name = validation.timezone(timezone or circle.timezone)
    zone = zoneinfo.ZoneInfo(zone_name)
    starts_at = _local_time(starts_local, "starts_local", N_("Start"), zone)
    ends_at = _local_time(ends_local, "ends_local", N_("End"), zone)
    if ends_at <= starts_at:
        raise InvalidInput("The meeting must end after it starts.", field="ends_local")
    if ends_at - starts_at > LONGEST:
        raise InvalidInput("A meeting lasts at most 12 hours; split longer ones.", field="ends_local")
    now = clock.now()
    if starts_at < now:
        raise InvalidInput("That start time has passed; choose a time in the future.", field="starts_local")
    if starts_at > now + FURTHEST:
        raise InvalidInput("Schedule meetings at most two years ahead.", field="starts_local")
    place = validation.single_line(place, "place", label="Place", max_length=PLACE_MAX)
    url = validation.http_url(online_url, "online_url", label="Online link", max_length=2048, required=False) or None
    return MeetingInput(title, agenda, starts_at, ends_at, zone_name, place, url, _capacity(capacity))


async def schedule(instance: Instance, organiser: Actor, circle: Circle, **typed) -> Meeting:
    """A new meeting in a circle the organiser is an active member of."""
    data = check_input(circle, **typed)
    await circle_service.require_member(circle, organiser)
    async with in_transaction():
        # Inside one transaction: the post.created event is fanned out only
        # once the Meeting row exists, so it goes out as an Event.
        post = await post_service.create_post(
            instance, organiser, circle, title=data.title, body=data.agenda or data.title,
            kind=PostKind.MEETING.value,
        )
        meeting = await Meeting.create(
            post=post, circle=circle, starts_at=data.starts_at, ends_at=data.ends_at, timezone=data.timezone,
            place=data.place, online_url=data.online_url, capacity=data.capacity,
        )
        if circle.actor.local:
            # The circle's reply under the Event is its RSVP poll (federation/polls.py):
            # Mastodon shows no Events, but everyone can answer a poll.
            await post_service.reply_as_circle(instance, circle, post, RSVP_POLL_TEXT, kind=PostKind.MEETING)
        await meeting_notices.tell_created(meeting, post, circle.name)
    meeting.post = post
    return meeting


async def require_organiser(actor: Actor, meeting: Meeting) -> None:
    """The meeting's organiser, or a steward of its circle; else PermissionDenied."""
    if meeting.post.author_id != actor.id:
        await circle_service.require_steward(meeting.circle, actor)


async def edit(actor: Actor, meeting: Meeting, **typed) -> Meeting:
    """The organiser, or a steward, changes a meeting that has not ended."""
    if not meeting.post.local:
        raise PermissionDenied("This meeting was planned on another server; only its organiser changes it there.")
    await require_organiser(actor, meeting)
    if meeting.ends_at <= clock.now() or meeting.cancelled_at:
        raise Conflict("This meeting is over or cancelled; schedule a new one instead.")
    data = check_input(meeting.circle, **typed)
    if data.capacity is not None and data.capacity < meeting.going_count:
        raise InvalidInput(
            "%(going)d people are going already; allow at least that many places.", field="capacity",
            going=meeting.going_count,
        )
    now = clock.now()
    post = meeting.post
    before = (post.title, post.source, post.content)
    post.title, post.source, post.content, post.updated_at = (
        data.title, data.agenda or data.title, render_markdown(data.agenda or data.title), now,
    )
    changes = dict(
        starts_at=data.starts_at, ends_at=data.ends_at, timezone=data.timezone, place=data.place,
        online_url=data.online_url, capacity=data.capacity, updated_at=now,
    )
    changed = meeting_notices.changes(meeting, changes)
    moved = data.starts_at != meeting.starts_at
    async with in_transaction():
        if before != (post.title, post.source, post.content):
            await post_edits.keep_revision(post, title=before[0], source=before[1], content=before[2], by_id=actor.id)
        await post.save(update_fields=["title", "source", "content", "updated_at"])
        await Meeting.filter(id=meeting.id).update(**changes)
        await OutboxEvent.create(kind="post.updated", subject_id=post.id)
        for name, value in changes.items():
            setattr(meeting, name, value)
        await meeting_notices.tell_changed(meeting, post, meeting.circle.name, changed, moved=moved, by=actor.id)
    return meeting


async def cancel(actor: Actor, meeting: Meeting) -> Meeting:
    await require_organiser(actor, meeting)
    if meeting.cancelled_at is not None:
        return meeting
    if meeting.ends_at <= clock.now():
        raise Conflict("This meeting is over already; there is nothing to cancel.")
    now = clock.now()
    async with in_transaction():
        # Conditional: of two cancels at once (a double submit), one tells the attendees.
        if not await Meeting.filter(id=meeting.id, cancelled_at=None).update(cancelled_at=now, updated_at=now):
            return meeting
        await Post.filter(id=meeting.post_id).update(updated_at=now)
        await OutboxEvent.create(kind="post.updated", subject_id=meeting.post_id)
        # The circle's RSVP poll under the Event closes too.
        for poll in await Post.filter(root_id=meeting.post_id, author_id=meeting.circle.actor_id, kind=PostKind.MEETING):
            await OutboxEvent.create(kind="post.updated", subject_id=poll.id)
        await meeting_notices.tell_cancelled(meeting, meeting.post, meeting.circle.name, by=actor.id)
    meeting.cancelled_at = now
    return meeting


# --- answers -----------------------------------------------------------------------


async def rsvp(actor: Actor, meeting: Meeting, answer: str | RsvpAnswer, *, uri: str | None = None) -> Rsvp:
    """A member (here or elsewhere) answers going / maybe / not going. `uri`
    is the remote Join or Leave that carried the answer."""
    answer = validation.choice(answer, RsvpAnswer, "answer", label="Your answer")
    await circle_service.require_member(meeting.circle, actor)
    if meeting.cancelled_at is not None:
        raise Conflict("This meeting was cancelled, so it takes no answers any more.")
    if meeting.ends_at <= clock.now():
        raise Conflict("This meeting is over, so it takes no answers any more.")
    async with in_transaction():
        row = await Rsvp.get_or_none(meeting=meeting, actor=actor)
        previous = row.answer if row else None
        try:
            if row is None:
                row = await Rsvp.create(meeting=meeting, actor=actor, answer=answer, uri=uri, updated_at=clock.now())
            elif previous is not answer or (uri and uri != row.uri):
                # Conditional on the answer we read: of two changes at once, one wins.
                if not await Rsvp.filter(id=row.id, answer=previous).update(
                    answer=answer, uri=uri or row.uri, updated_at=clock.now()
                ):
                    raise IntegrityError("changed meanwhile")
        except IntegrityError:
            raise Conflict("You answered twice at the same moment; reload the page.") from None
        if previous is not answer:
            await _count(meeting, answer, +1)
            if previous is not None:
                await _count(meeting, previous, -1)
        await _federate_answer(actor, meeting, row, answer, previous, uri)
        row.answer = answer
    await meeting.refresh_from_db(fields=["going_count", "maybe_count"])
    return row


async def forget_answers(actor: Actor) -> None:
    """Delete every answer `actor` gave, and its place in the counts (their
    account is being deleted). Call in a transaction."""
    for row in await Rsvp.filter(actor=actor).select_related("meeting"):
        if await Rsvp.filter(id=row.id).delete():
            await _count(row.meeting, row.answer, -1)


async def _count(meeting: Meeting, answer: RsvpAnswer, delta: int) -> None:
    if answer is RsvpAnswer.NOT_GOING:
        return
    name = "going_count" if answer is RsvpAnswer.GOING else "maybe_count"
    rows = Meeting.filter(id=meeting.id)
    if delta > 0 and answer is RsvpAnswer.GOING and meeting.capacity is not None:
        # Conditional on the count, so two people cannot take the last place at once.
        rows = rows.filter(going_count__lt=meeting.capacity)
    if not await rows.update(**{name: F(name) + delta}):
        raise Conflict("This meeting is full. Answer Maybe, and change it if a place frees up.")


async def _federate_answer(
    actor: Actor, meeting: Meeting, row: Rsvp, answer: RsvpAnswer, previous: RsvpAnswer | None, uri: str | None,
) -> None:
    post = meeting.post
    if actor.local and not post.local and answer is not previous:
        # Our member answers a meeting held elsewhere: tell its circle (Join / Leave).
        if answer is RsvpAnswer.GOING or previous is RsvpAnswer.GOING:
            await OutboxEvent.create(kind="meeting.answered", subject_id=row.id, data={"answer": answer.value})
    elif not actor.local and post.local and answer is RsvpAnswer.GOING and uri:
        # A remote member's Join: the circle accepts it, as Mobilizon expects.
        await OutboxEvent.create(kind="meeting.join_accepted", subject_id=row.id, data={"join": uri})


async def refuse_join(meeting: Meeting, actor: Actor, join_uri: str) -> None:
    """A remote member's Join that the rules refused (full, cancelled, over):
    the circle answers with a Reject, so their server does not wait forever."""
    await OutboxEvent.create(
        kind="meeting.join_rejected", subject_id=meeting.id, data={"actor": actor.uri, "join": join_uri}
    )


async def rsvp_from_poll(actor: Actor, meeting_post: Post, option_name: str) -> Rsvp:
    """A vote in the meeting's poll ("Going", "Maybe", "Not going") as an answer."""
    answer = POLL_ANSWERS.get(" ".join((option_name or "").split()).lower())
    if answer is None:
        raise InvalidInput("Answer Going, Maybe or Not going.", field="answer")
    return await rsvp(actor, await meeting_for_post(meeting_post), answer)


# --- reading -----------------------------------------------------------------------


async def answer_counts(meeting: Meeting) -> dict[RsvpAnswer, int]:
    """How many answered each way (the "not going" count is counted here)."""
    not_going = await Rsvp.filter(meeting=meeting, answer=RsvpAnswer.NOT_GOING).count()
    return {RsvpAnswer.GOING: meeting.going_count, RsvpAnswer.MAYBE: meeting.maybe_count,
            RsvpAnswer.NOT_GOING: not_going}


async def answer_counts_of(meetings: list[Meeting]) -> dict[int, dict[RsvpAnswer, int]]:
    """answer_counts for several meetings, by meeting id, in one query."""
    if not meetings:
        return {}
    not_going = dict(
        await Rsvp.filter(meeting_id__in=[m.id for m in meetings], answer=RsvpAnswer.NOT_GOING)
        .annotate(n=Count("id")).group_by("meeting_id").values_list("meeting_id", "n")
    )
    return {
        m.id: {RsvpAnswer.GOING: m.going_count, RsvpAnswer.MAYBE: m.maybe_count,
               RsvpAnswer.NOT_GOING: not_going.get(m.id, 0)}
        for m in meetings
    }


async def meetings_by_post_ids(post_ids: list[int]) -> dict[int, Meeting]:
    """meeting_for_post for several posts (deleted ones left out), by post id, in one query."""
    if not post_ids:
        return {}
    rows = await Meeting.filter(post_id__in=post_ids, post__deleted_at=None).select_related("post__author", "circle__actor")
    return {m.post_id: m for m in rows}


async def meeting_for_post(post: Post | int) -> Meeting:
    post_id = post if isinstance(post, int) else post.id
    if not validation.is_row_id(post_id):
        raise NotFound("That meeting does not exist.")
    meeting = (
        await Meeting.filter(post_id=post_id, post__deleted_at=None)
        .select_related("post__author", "circle__actor")
        .first()
    )
    if meeting is None:
        raise NotFound("That meeting does not exist or was deleted.")
    return meeting


async def meeting_by_uri(uri: str) -> Meeting | None:
    return (
        await Meeting.filter(post__uri=uri, post__deleted_at=None)
        .select_related("post__author", "circle__actor")
        .first()
    )


async def meetings_of_posts(posts: list[Post]) -> dict[int, Meeting]:
    """The meetings among a page of posts, by post id, in one query."""
    ids = [p.id for p in posts if p.kind is PostKind.MEETING]
    return {m.post_id: m for m in await Meeting.filter(post_id__in=ids)} if ids else {}


async def answer_of(meeting: Meeting, actor: Actor) -> RsvpAnswer | None:
    row = await Rsvp.get_or_none(meeting=meeting, actor=actor)
    return row.answer if row else None


async def attendees(meeting: Meeting, answer: RsvpAnswer = RsvpAnswer.GOING, *, limit: int = 200) -> list[Actor]:
    rows = await Rsvp.filter(meeting=meeting, answer=answer).select_related("actor").order_by("id").limit(limit)
    return [row.actor for row in rows]


def _listed():
    return Meeting.filter(post__deleted_at=None).select_related("post__author", "circle__actor")


async def upcoming_in(circle: Circle, *, page: int = 1, per_page: int = PAGE_SIZE) -> list[Meeting]:
    """Meetings not yet over, soonest first; one more than a page tells whether another follows."""
    rows = _listed().filter(circle=circle, ends_at__gt=clock.now()).order_by("starts_at", "id")
    return await rows.offset((page - 1) * per_page).limit(per_page + 1)


async def past_in(circle: Circle, *, page: int = 1, per_page: int = PAGE_SIZE) -> list[Meeting]:
    """Meetings that are over, latest first; one more than a page, as above."""
    rows = _listed().filter(circle=circle, ends_at__lte=clock.now()).order_by("-starts_at", "-id")
    return await rows.offset((page - 1) * per_page).limit(per_page + 1)


async def next_meetings_for(
    actor: Actor, *, limit: int = 10, circle_ids: list[int] | None = None, circles: dict[int, Circle] | None = None,
) -> list[Meeting]:
    """"My next meetings": not cancelled, not over, in every circle the person
    belongs to (`circle_ids`, when their memberships are loaded already; or
    `circles`, by id with their actors, attached rather than joined again,
    the posts then without their authors: the home page's short list)."""
    if circles is not None:
        circle_ids = list(circles)
    elif circle_ids is None:
        circle_ids = [m.circle_id for m in await circle_service.memberships_of(actor)]
    if not circle_ids:
        return []
    if circles is None:
        rows = _listed().filter(circle_id__in=circle_ids, ends_at__gt=clock.now(), cancelled_at=None)
        return await rows.order_by("starts_at", "id").limit(limit)
    rows = Meeting.filter(post__deleted_at=None, circle_id__in=circle_ids, ends_at__gt=clock.now(), cancelled_at=None)
    meetings = await rows.select_related("post").order_by("starts_at", "id").limit(limit)
    for meeting in meetings:
        meeting.circle = circles[meeting.circle_id]
    return meetings


async def calendar_of_circle(circle: Circle) -> list[Meeting]:
    rows = _listed().filter(circle=circle, ends_at__gt=clock.now() - FEED_PAST)
    return await rows.order_by("starts_at", "id").limit(FEED_MAX)


async def calendar_of_member(actor: Actor) -> list[Meeting]:
    circle_ids = [m.circle_id for m in await circle_service.memberships_of(actor)]
    if not circle_ids:
        return []
    rows = _listed().filter(circle_id__in=circle_ids, ends_at__gt=clock.now() - FEED_PAST)
    return await rows.order_by("starts_at", "id").limit(FEED_MAX)


# --- secret calendar links ---------------------------------------------------------


async def new_calendar_token(account: Account) -> str:
    """A fresh secret for the person's calendar link; the old link stops working."""
    token = clock.token()
    async with in_transaction():
        if not await CalendarFeed.filter(account=account).update(token_hash=clock.token_digest(token)):
            await CalendarFeed.create(account=account, token_hash=clock.token_digest(token))
    return token


async def account_for_calendar(username: str, token: str | None) -> Account:
    invalid = NotFound("This calendar link is not valid (any more): make a new one on your meetings page.")
    if not token or len(token) > 100:
        raise invalid
    feed = await CalendarFeed.filter(account__actor__username=username, account__actor__local=True).select_related(
        "account__actor"
    ).first()
    if feed is None or not secrets.compare_digest(feed.token_hash, clock.token_digest(token)):
        raise invalid
    return feed.account


async def has_calendar_link(account: Account) -> bool:
    return await CalendarFeed.filter(account=account).exists()


# --- meetings held elsewhere -----------------------------------------------------------


@dataclass(frozen=True)
class RemoteMeetingInput:
    # When and where of a remote Event (Mobilizon and others), checked by federation.
    starts_at: dt.datetime
    ends_at: dt.datetime
    timezone: str = "UTC"
    place: str = ""
    online_url: str | None = None
    cancelled: bool = False


async def store_remote(post: Post, data: RemoteMeetingInput) -> Meeting:
    """The Meeting row of a remote Event stored as a post, and what our
    members hear of it (new, changed, cancelled). Call in a transaction."""
    now = clock.now()
    values = dict(
        starts_at=data.starts_at, ends_at=data.ends_at, timezone=data.timezone, place=data.place[:PLACE_MAX],
        online_url=data.online_url, cancelled_at=now if data.cancelled else None,
    )
    meeting = await Meeting.get_or_none(post=post)
    circle_name = (await Circle.filter(id=post.circle_id).values_list("name", flat=True))[0]
    if meeting is None:
        meeting = await Meeting.create(post=post, circle_id=post.circle_id, **values)
        if not data.cancelled and data.ends_at > now:  # not an old Event fetched with its thread
            await meeting_notices.tell_created(meeting, post, circle_name)
        return meeting
    if meeting.cancelled_at and data.cancelled:
        values.pop("cancelled_at")
    changed = meeting_notices.changes(meeting, values)
    moved = data.starts_at != meeting.starts_at
    newly_cancelled = data.cancelled and meeting.cancelled_at is None
    await Meeting.filter(id=meeting.id).update(updated_at=now, **values)
    for name, value in values.items():
        setattr(meeting, name, value)
    if meeting.ends_at <= now:
        return meeting  # what happens to a meeting that is over concerns nobody any more
    if newly_cancelled:
        await meeting_notices.tell_cancelled(meeting, post, circle_name, by=post.author_id)
    elif meeting.cancelled_at is None:
        await meeting_notices.tell_changed(meeting, post, circle_name, changed, moved=moved, by=post.author_id)
    return meeting

