"""The circle's participation dashboard: how the circle is doing, in
aggregate only (counts and medians, never a per-person table), so members
can look after their circle without anyone being watched."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass

from tortoise.functions import Count

from models import clock
from models.circles import Circle
from models.meetings import Meeting
from models.posts import Post, PostKind
from models.reflections import Reflection

PERIOD_DAYS = 90  # what "recently" means on the dashboard
UNANSWERED_AFTER = dt.timedelta(days=7)
MAX_QUESTIONS = 5000  # bounds the work for the median in a very busy circle


@dataclass(frozen=True)
class Dashboard:
    period_days: int
    members: int
    active_members: int  # wrote a post or reply in the period
    questions_asked: int
    questions_answered: int  # with an accepted answer
    median_hours_to_first_answer: float | None  # first reply by someone other than who asked
    unanswered_over_7_days: int  # no reply at all, asked more than 7 days ago
    meetings_held: int
    average_attendance: float | None  # people "going" per meeting held
    reflections_shared: int

    def as_rows(self) -> list[tuple[str, object]]:
        return list(asdict(self).items())


async def dashboard(circle: Circle, *, days: int = PERIOD_DAYS) -> Dashboard:
    """The circle's figures for the last `days` days, in a fixed number of queries."""
    now = clock.now()
    since = now - dt.timedelta(days=days)
    in_period = Post.filter(circle=circle, deleted_at=None, published_at__gte=since)
    questions = await (
        in_period.filter(kind=PostKind.QUESTION, root_id=None)
        .order_by("-published_at")
        .limit(MAX_QUESTIONS)
        .values("id", "author_id", "asked_by_id", "published_at", "accepted_answer_id")
    )
    held = await Meeting.filter(
        circle=circle, cancelled_at=None, post__deleted_at=None, ends_at__gte=since, ends_at__lte=now
    ).values_list("going_count", flat=True)
    return Dashboard(
        period_days=days,
        members=await Circle.filter(id=circle.id).first().values_list("member_count", flat=True),
        active_members=await _active_members(in_period.exclude(author_id=circle.actor_id)),
        questions_asked=len(questions),
        questions_answered=sum(1 for q in questions if q["accepted_answer_id"]),
        median_hours_to_first_answer=await _median_hours_to_first_answer(questions),
        unanswered_over_7_days=await Post.filter(
            circle=circle, kind=PostKind.QUESTION, root_id=None, deleted_at=None, reply_count=0,
            published_at__lt=now - UNANSWERED_AFTER,
        ).count(),
        meetings_held=len(held),
        average_attendance=round(float(statistics.mean(held)), 1) if held else None,
        reflections_shared=await Reflection.filter(
            circle=circle, shared_post_id__isnull=False, shared_post__deleted_at=None,
            shared_post__published_at__gte=since,
        ).count(),
    )


async def _active_members(in_period) -> int:
    rows = await in_period.annotate(n=Count("id")).group_by("author_id").values("author_id")
    return len(rows)


async def _median_hours_to_first_answer(questions: list[dict]) -> float | None:
    """The median wait, over the period's questions that someone other than
    the asker replied to, from asking to that first reply."""
    if not questions:
        return None
    replies = await (
        Post.filter(root_id__in=[q["id"] for q in questions], deleted_at=None)
        .order_by("published_at")
        .values("root_id", "author_id", "published_at")
    )
    first: dict[int, dt.datetime] = {}
    askers = {q["id"]: {q["author_id"], q["asked_by_id"]} for q in questions}
    for reply in replies:
        if reply["root_id"] not in first and reply["author_id"] not in askers[reply["root_id"]]:
            first[reply["root_id"]] = reply["published_at"]
    waits = [
        (first[q["id"]] - q["published_at"]).total_seconds() / 3600 for q in questions if q["id"] in first
    ]
    return round(statistics.median(waits), 1) if waits else None
