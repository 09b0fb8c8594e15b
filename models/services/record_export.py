"""A circle's learning record as a download (JSON or Markdown): the twelve
months the record page shows, with the reflections shared and the questions
answered in them. Who may download it is who may read the page: the web
layer's members-only check covers every /c/<handle>/ address.

The JSON keys are stable (README, "Exporting a circle's learning record")."""

from __future__ import annotations

import datetime as dt

from models import clock
from models.circles import Circle
from models.posts import Post, PostKind
from models.reflections import VALUE_CYCLE_EXPLANATIONS, Reflection, ValueCycle
from models.services import reflections
from models.text import plain_excerpt

FORMAT = 1  # bump when a key changes meaning or goes away


def _month(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def _url(post: Post | None) -> str | None:
    return (post.url or post.uri) if post is not None else None


def _kind_name(cycle: ValueCycle) -> str:
    return VALUE_CYCLE_EXPLANATIONS[cycle].split(":")[0]  # "Immediate value", as the page names it


async def record_data(circle: Circle, *, before: dt.date | None = None) -> dict:
    """The record of the twelve months before `before` (default: the latest
    twelve), as JSON-able data: a few queries, bounded like the page's."""
    record = await reflections.learning_record(circle, before=before, limit=0)
    first, last = record.months[-1].month, record.months[0].month
    window = record.window
    shared = await (
        Reflection.filter(circle=circle, shared_post__deleted_at=None,
                          shared_post__published_at__gte=window[0], shared_post__published_at__lt=window[1])
        .select_related("author", "shared_post", "meeting")
        .order_by("shared_post__published_at", "id")
        .limit(reflections.RECORD_ROWS_MAX)
    )
    answered = await (
        Post.filter(circle=circle, kind=PostKind.QUESTION, root_id=None, deleted_at=None,
                    answered_at__gte=window[0], answered_at__lt=window[1])
        .order_by("answered_at", "id")
        .limit(reflections.RECORD_ROWS_MAX)
    )
    return {
        "format": FORMAT,
        "circle": circle.handle,
        "circle_name": circle.name,
        "timezone": circle.timezone,
        "first_month": _month(first),
        "last_month": _month(last),
        "exported_at": reflections.iso_utc(clock.now()),
        "months": [
            {
                "month": _month(m.month),
                "meetings_held": m.meetings,
                "shared_reflections": m.reflections,
                "value_created": {cycle.value: m.value_cycles[cycle] for cycle in ValueCycle if m.value_cycles[cycle]},
                "answered_questions": m.answered_questions,
                "resources_added": m.resources,
            }
            for m in record.months
        ],
        "reflections": [
            {
                "author": r.author.handle,
                "author_name": r.author.name,
                "shared_at": reflections.iso_utc(r.shared_post.published_at),
                "value_created": r.value_cycle.value if r.value_cycle else None,
                "text": r.source,
                "url": _url(r.shared_post),
                "meeting": _url(r.meeting),
            }
            for r in shared
        ],
        "answered_questions": [
            {
                "title": q.title or plain_excerpt(q.content, 120),
                "answered_at": reflections.iso_utc(q.answered_at),
                "url": _url(q),
            }
            for q in answered
        ],
    }


def record_markdown(data: dict) -> str:
    """The same record as one Markdown document; what people wrote is quoted."""
    lines = [
        f"# Learning record of {data['circle_name']} (@{data['circle']})", "",
        f"Twelve months from {data['first_month']} to {data['last_month']} ({data['timezone']}). "
        f"Exported {data['exported_at']}.", "", "## By month", "",
        "| Month | Meetings held | Shared reflections | Value created | Answered questions | Resources added |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in data["months"]:
        value = "; ".join(f"{_kind_name(ValueCycle(k))}: {n}" for k, n in m["value_created"].items()) or "—"
        lines.append(f"| {m['month']} | {m['meetings_held']} | {m['shared_reflections']} | {value} "
                     f"| {m['answered_questions']} | {m['resources_added']} |")
    lines += ["", "## Shared reflections"]
    for r in data["reflections"]:
        kind = _kind_name(ValueCycle(r["value_created"])) if r["value_created"] else "No kind of value chosen"
        lines += ["", f"### {r['shared_at']} · {r['author_name']} (@{r['author']}) · {kind}", "",
                  reflections.quoted(r["text"]), "", f"<{r['url']}>"]
    if not data["reflections"]:
        lines += ["", "None in these months."]
    lines += ["", "## Answered questions", ""]
    lines += [f"- {q['answered_at']} · {q['title']} · <{q['url']}>" for q in data["answered_questions"]]
    if not data["answered_questions"]:
        lines.append("None in these months.")
    return "\n".join(lines) + "\n"
