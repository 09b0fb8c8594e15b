"""Reflections: written after a meeting, private to their author until shared
with the circle (as a post of kind reflection, which threads and federates);
the circle's learning record; and a person's export of what they contributed."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle
from models.errors import InvalidInput, NotFound
from models.federation import OutboxEvent
from models.instance import Instance
from models.meetings import Meeting
from models.posts import Post, PostKind
from models.reflections import VALUE_CYCLE_EXPLANATIONS, Reflection, ValueCycle
from models.services import circles as circle_service
from models.services import post_edits
from models.services import posts as post_service
from models.services import validation
from models.services import tutoring as tutoring_service
from models.text import render_markdown
from models.translation import N_

BODY_MAX = 5000
PAGE_SIZE = 20
RECORD_MONTHS = 12
# Rows read per kind for one learning record: keeps a very busy circle's page cheap.
RECORD_ROWS_MAX = 10_000
NOT_FOUND = N_("That reflection does not exist, or it is not yours.")
NOT_A_MEETING = N_("That is not a meeting of this circle, so the reflection is not linked to it.")


# --- writing ----------------------------------------------------------------------


def _body(body: str) -> str:
    return validation.text(body, "body", label="Your reflection", max_length=BODY_MAX, required=True)


def _value_cycle(value: str | None) -> ValueCycle | None:
    if not (value or "").strip():
        return None
    return validation.choice(value, ValueCycle, "value_cycle", label="Kind of value")


async def meeting_of(circle: Circle, meeting_id: int | None) -> Post | None:
    """The meeting post a reflection is about: a live meeting of this circle."""
    if meeting_id is None:
        return None
    meeting = None
    if validation.is_row_id(meeting_id):
        meeting = await Post.get_or_none(
            id=meeting_id, circle=circle, kind=PostKind.MEETING, root_id=None, deleted_at=None
        )
    if meeting is None:
        raise InvalidInput(NOT_A_MEETING, field="meeting")
    return meeting


async def write(
    instance: Instance, author: Actor, circle: Circle, *, body: str, value_cycle: str = "",
    meeting_id: int | None = None, share: bool = False,
) -> Reflection:
    """A new reflection by an active member; private unless `share`."""
    body = _body(body)
    cycle = _value_cycle(value_cycle)
    meeting = await meeting_of(circle, meeting_id)
    await circle_service.require_member(circle, author)
    async with in_transaction():
        reflection = await Reflection.create(
            author=author, circle=circle, meeting=meeting, source=body,
            content=render_markdown(body), value_cycle=cycle,
        )
        if share:
            await _share(instance, author, circle, reflection)
    return reflection


async def get_own(author: Actor, reflection_id: int, *, circle: Circle | None = None) -> Reflection:
    """One of the author's reflections (in `circle`, when given); anyone else's
    is as if it did not exist."""
    reflection = None
    where = {"circle": circle} if circle is not None else {}
    if validation.is_row_id(reflection_id):
        reflection = await Reflection.get_or_none(id=reflection_id, author=author, **where).select_related(
            "circle__actor", "shared_post", "meeting"
        )
    if reflection is None:
        raise NotFound(NOT_FOUND)
    return reflection


def is_shared(reflection: Reflection) -> bool:
    """Shared and still in the circle (a steward may have deleted its post).
    Needs shared_post loaded."""
    return reflection.shared_post_id is not None and reflection.shared_post.deleted_at is None


async def edit(author: Actor, reflection_id: int, *, body: str, value_cycle: str = "") -> Reflection:
    """The author rewrites a reflection; a shared one's post follows (and federates the update)."""
    reflection = await get_own(author, reflection_id)
    body = _body(body)
    cycle = _value_cycle(value_cycle)
    now = clock.now()
    async with in_transaction():
        reflection.source, reflection.content = body, render_markdown(body)
        reflection.value_cycle, reflection.updated_at = cycle, now
        await reflection.save(update_fields=["source", "content", "value_cycle", "updated_at"])
        if is_shared(reflection):
            post = reflection.shared_post
            if post.source != reflection.source:
                await post_edits.keep_revision(post, title=post.title, source=post.source, content=post.content, by_id=author.id)
            post.source, post.content, post.updated_at = reflection.source, reflection.content, now
            await post.save(update_fields=["source", "content", "updated_at"])
            await OutboxEvent.create(kind="post.updated", subject_id=post.id)
    return reflection


async def delete(author: Actor, reflection_id: int) -> None:
    """The author deletes a reflection, and its post in the circle when shared."""
    reflection = await get_own(author, reflection_id)
    async with in_transaction():
        if is_shared(reflection):
            await post_service.mark_deleted(reflection.shared_post, by=author)
        await reflection.delete()


class _AlreadyShared(Exception):
    """Rolls back the post of a share that lost a race."""


async def share(instance: Instance, author: Actor, reflection_id: int) -> bool:
    """Post the reflection in its circle; False when it is shared already."""
    reflection = await get_own(author, reflection_id)
    if is_shared(reflection):
        return False
    try:
        async with in_transaction():
            return await _share(instance, author, reflection.circle, reflection)
    except _AlreadyShared:
        return False


async def _share(instance: Instance, author: Actor, circle: Circle, reflection: Reflection) -> bool:
    post = await post_service.create_post(
        instance, author, circle, body=reflection.source, kind=PostKind.REFLECTION.value,
    )
    # Conditional on what we read: of two simultaneous shares, only one links its post.
    linked = await Reflection.filter(id=reflection.id, shared_post_id=reflection.shared_post_id).update(
        shared_post_id=post.id
    )
    if not linked:
        raise _AlreadyShared
    reflection.shared_post = post
    return True


async def unshare(author: Actor, reflection_id: int) -> bool:
    """Take the reflection's post out of the circle, keep the private reflection;
    False when it was not shared."""
    reflection = await get_own(author, reflection_id)
    if not is_shared(reflection):
        return False
    async with in_transaction():
        await post_service.mark_deleted(reflection.shared_post, by=author)
        await Reflection.filter(id=reflection.id).update(shared_post_id=None)
    reflection.shared_post_id = None
    return True


async def value_cycle_of(post: Post) -> ValueCycle | None:
    """The value cycle of a shared reflection's post (for its hashtags)."""
    if post.kind is not PostKind.REFLECTION:
        return None
    reflection = await Reflection.get_or_none(shared_post_id=post.id)
    return reflection.value_cycle if reflection else None


async def value_cycles_of(posts: list[Post]) -> dict[int, ValueCycle | None]:
    """value_cycle_of for a page of posts, by post id, in one query."""
    ids = [p.id for p in posts if p.kind is PostKind.REFLECTION]
    if not ids:
        return {}
    return {r.shared_post_id: r.value_cycle for r in await Reflection.filter(shared_post_id__in=ids)}


# --- reading ----------------------------------------------------------------------


async def shared_in(circle: Circle, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[Reflection]:
    """The circle's shared reflections, newest share first; page with the last
    `shared_post_id` seen as before_id."""
    rows = Reflection.filter(circle=circle, shared_post_id__isnull=False, shared_post__deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        rows = rows.filter(shared_post_id__lt=before_id)
    return await rows.select_related("author", "shared_post", "meeting").order_by("-shared_post_id").limit(limit)


async def private_of(
    author: Actor, circle: Circle, *, before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Reflection]:
    """The author's own reflections in a circle that are not shared, newest first."""
    rows = Reflection.filter(author=author, circle=circle).filter(
        Q(shared_post_id__isnull=True) | Q(shared_post__deleted_at__isnull=False)
    )
    if before_id is not None and validation.is_row_id(before_id):
        rows = rows.filter(id__lt=before_id)
    return await rows.select_related("shared_post", "meeting").order_by("-id").limit(limit)


# --- the learning record ------------------------------------------------------------


@dataclass
class MonthRecord:
    month: dt.date  # its first day, in the circle's time zone
    reflections: int = 0
    value_cycles: Counter = field(default_factory=Counter)  # ValueCycle -> shared reflections
    answered_questions: int = 0
    resources: int = 0
    meetings: int = 0


@dataclass
class LearningRecord:
    months: list[MonthRecord]  # newest first, every month of the window, empty ones too
    earlier: dt.date  # `before` for the twelve months before these
    later: dt.date | None  # `before` for the twelve months after these, unless these are the latest
    reflections: list[Reflection]  # the latest shared reflections
    next_reflections_before: int | None
    window: tuple[dt.datetime, dt.datetime]  # the months', as UTC instants (start included, end not)


def parse_month(raw: str | None) -> dt.date | None:
    """A `YYYY-MM` from a URL as the first day of that month, else None."""
    try:
        moment = dt.datetime.strptime((raw or "")[:7], "%Y-%m")
    except ValueError:
        return None
    return moment.date() if 1971 <= moment.year <= 9998 else None


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


async def learning_record(
    circle: Circle, *, before: dt.date | None = None, reflections_before: int | None = None,
    limit: int = PAGE_SIZE,
) -> LearningRecord:
    """What the circle learned, by month, for the twelve months before `before`
    (default: up to this month, in the circle's time zone), with one query per
    kind of activity, bucketed here so SQLite and PostgreSQL agree."""
    zone = circle.zone
    today = clock.now().astimezone(zone).date()
    latest_end = _add_months(today.replace(day=1), 1)
    end = before or latest_end
    start = _add_months(end, -RECORD_MONTHS)
    window = (_midnight(start, zone), _midnight(end, zone))
    months = {(m.year, m.month): MonthRecord(m) for m in (_add_months(start, i) for i in range(RECORD_MONTHS))}

    def bucket(moment: dt.datetime) -> MonthRecord:
        local = moment.astimezone(zone)
        return months[(local.year, local.month)]

    for published, cycle in await _shared_reflections(circle, *window):
        record = bucket(published)
        record.reflections += 1
        if cycle:
            record.value_cycles[ValueCycle(cycle)] += 1
    for published in await _answered_questions(circle, *window):
        bucket(published).answered_questions += 1
    for published in await _top_level_posts(circle, PostKind.RESOURCE, *window):
        bucket(published).resources += 1
    for published in await _meetings_held(circle, *window):
        bucket(published).meetings += 1
    latest = await shared_in(circle, before_id=reflections_before, limit=limit + 1)
    return LearningRecord(
        months=sorted(months.values(), key=lambda m: m.month, reverse=True),
        earlier=start,
        later=min(_add_months(end, RECORD_MONTHS), latest_end) if end < latest_end else None,
        reflections=latest[:limit],
        next_reflections_before=latest[limit - 1].shared_post_id if len(latest) > limit else None,
        window=window,
    )


def _midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


async def _shared_reflections(circle: Circle, start: dt.datetime, end: dt.datetime) -> list[tuple]:
    """(shared at, value cycle) of the reflections shared in the window."""
    return await (
        Reflection.filter(
            circle=circle, shared_post__deleted_at=None,
            shared_post__published_at__gte=start, shared_post__published_at__lt=end,
        )
        .limit(RECORD_ROWS_MAX)
        .values_list("shared_post__published_at", "value_cycle")
    )


def _circle_posts(circle: Circle, start: dt.datetime, end: dt.datetime):
    return Post.filter(
        circle=circle, root_id=None, deleted_at=None, published_at__gte=start, published_at__lt=end
    )


async def _published(posts) -> list[dt.datetime]:
    return await posts.limit(RECORD_ROWS_MAX).values_list("published_at", flat=True)


async def _answered_questions(circle: Circle, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    # When each question got its accepted answer.
    return await (
        Post.filter(circle=circle, kind=PostKind.QUESTION, root_id=None, deleted_at=None,
                    answered_at__gte=start, answered_at__lt=end)
        .limit(RECORD_ROWS_MAX)
        .values_list("answered_at", flat=True)
    )


async def _meetings_held(circle: Circle, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    # Meetings that took place (not cancelled, over by now), when they started.
    return await (
        Meeting.filter(circle=circle, cancelled_at=None, post__deleted_at=None, starts_at__gte=start,
                       starts_at__lt=end, ends_at__lte=clock.now())
        .limit(RECORD_ROWS_MAX)
        .values_list("starts_at", flat=True)
    )


async def _top_level_posts(
    circle: Circle, kind: PostKind, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    return await _published(_circle_posts(circle, start, end).filter(kind=kind))


# --- export -------------------------------------------------------------------------


def iso_utc(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _circle_fields(circle: Circle | None) -> dict:
    if circle is None:
        return {"circle": None, "circle_name": None}
    return {"circle": circle.handle, "circle_name": circle.name}


async def export_contributions(actor: Actor) -> dict:
    """Everything the person wrote, as JSON-able data: their reflections (private
    ones too: it is their own export), posts and replies, and the tutoring
    threads they are in (their partner's messages too: the conversation whole)."""
    reflections = await Reflection.filter(author=actor).select_related(
        "circle__actor", "shared_post", "meeting"
    ).order_by("id")
    # Shared reflections are listed as reflections, not again as posts.
    posts = await Post.filter(author=actor, deleted_at=None).exclude(kind=PostKind.REFLECTION).select_related(
        "circle__actor", "in_reply_to"
    ).order_by("id")
    return {
        "actor": actor.handle,
        "exported_at": iso_utc(clock.now()),
        "reflections": [
            {
                **_circle_fields(r.circle),
                "value_cycle": r.value_cycle.value if r.value_cycle else None,
                "source": r.source,
                "created": iso_utc(r.created_at),
                "updated": iso_utc(r.updated_at),
                "shared": is_shared(r),
                "url": (r.shared_post.url or r.shared_post.uri) if is_shared(r) else None,
                "meeting": (r.meeting.url or r.meeting.uri) if r.meeting else None,
            }
            for r in reflections
        ],
        "posts": [
            {
                **_circle_fields(p.circle),
                "kind": p.kind.value,
                "title": p.title,
                "source": p.source,
                "published": iso_utc(p.published_at),
                "url": p.url or p.uri,
                "in_reply_to": (p.in_reply_to.url or p.in_reply_to.uri) if p.in_reply_to else None,
            }
            for p in posts
        ],
        "tutoring": await tutoring_service.export_threads(actor),
    }


def export_markdown(export: dict) -> str:
    """The export as one Markdown document: a section per circle, reflections
    grouped by value cycle, then posts and replies. What people wrote is quoted,
    so their own headings stay inside their entry."""
    lines = [f"# Contributions of @{export['actor']}", "", f"Exported {export['exported_at']}."]
    circles = sorted(
        {(e["circle_name"] or "", e["circle"] or "") for e in export["reflections"] + export["posts"]}
    )
    for name, handle in circles:
        lines += ["", f"## {name or 'Outside any circle'}" + (f" (@{handle})" if handle else "")]
        mine = [r for r in export["reflections"] if (r["circle"] or "") == handle]
        if mine:
            lines += ["", "### Reflections"]
            for cycle in [*ValueCycle, None]:
                group = [r for r in mine if r["value_cycle"] == (cycle.value if cycle else None)]
                if group:
                    heading = VALUE_CYCLE_EXPLANATIONS[cycle] if cycle else "No kind of value chosen"
                    lines += ["", f"#### {heading}"]
                    for r in group:
                        where = f"shared: {r['url']}" if r["shared"] else "private"
                        lines += ["", f"*{r['created']} · {where}*", "", quoted(r["source"])]
        theirs = [p for p in export["posts"] if (p["circle"] or "") == handle]
        if theirs:
            lines += ["", "### Posts and replies"]
            for p in theirs:
                heading = p["title"] or ("Reply" if p["in_reply_to"] else f"A {p['kind']}")
                lines += ["", f"#### {heading}", "", f"*{p['published']} · {p['kind']} · {p['url']}*", "",
                          quoted(p["source"])]
    lines += _tutoring_markdown(export.get("tutoring", []))
    return "\n".join(lines) + "\n"


def _tutoring_markdown(threads: list[dict]) -> list[str]:
    if not threads:
        return []
    lines = ["", "## Tutoring"]
    for t in threads:
        role = "helping" if t["role"] == "helper" else "learning from"
        lines += ["", f"### {t['skill']}: {role} @{t['partner']} ({t['circle_name']}, @{t['circle']})", "",
                  f"*opened {t['opened']}" + (f" · closed {t['closed']}" if t["closed"] else "") + "*"]
        for m in t["messages"]:
            lines += ["", f"**@{m['author']}** · {m['created']}", "", quoted(m["text"])]
    return lines


def quoted(source: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in (source or "").splitlines()) or ">"
