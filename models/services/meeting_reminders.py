"""What the worker tells attendees around a meeting: a reminder at each lead
time before it starts (CIRCLES_MEETING_REMINDERS, by default a day and an
hour), and after it ended, a prompt to write a reflection.

A reminder is one MeetingReminder row per person and lead time, inserted
before the notification: the unique key keeps two workers from sending it
twice. Only the shortest lead time already reached is sent, so a person is
never reminded of a meeting a day ahead after the hour's reminder; who
answered only after a lead time was reached skips it (they have just seen
the meeting) and hears at the next, shorter one — a meeting set up five
hours ahead reminds an hour before, one set up thirty minutes ahead, nobody.
Moving a meeting deletes its rows (models/services/meetings.py edit), so
the new time is reminded afresh; a cancelled meeting reminds no one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from tortoise.transactions import in_transaction

from models.meetings import ATTENDING, Meeting, MeetingReminder, Rsvp, RsvpAnswer
from models.services import notifications

DEFAULT_LEADS = (24 * 60, 60)  # minutes: a day and an hour before
REFLECTION_WINDOW = dt.timedelta(days=2)  # meetings that ended longer ago get no prompt
BATCH = 100  # meetings handled per pass; the worker comes back at once for more


async def due_reminders(now: dt.datetime, leads: tuple[int, ...] = DEFAULT_LEADS) -> int:
    """Send the reminders and reflection prompts due at `now`; returns how
    many went out (0 tells the worker nothing is left). When none is due,
    a few indexed queries, whatever the number of meetings."""
    return await _remind(now, leads) + await _prompt_reflections(now)


def lead_phrase(minutes: int) -> str:
    """How long before the start a reminder goes out, in words: "in 1 hour"."""
    if minutes == 24 * 60:
        return "within a day"
    size, unit = next((s, u) for s, u in ((24 * 60, "day"), (60, "hour"), (1, "minute")) if minutes % s == 0)
    count = minutes // size
    return f"in {count} {unit}{'' if count == 1 else 's'}"


async def _remind(now: dt.datetime, leads: tuple[int, ...]) -> int:
    if not leads:
        return 0
    leads = tuple(sorted(set(leads), reverse=True))
    starts = dict(
        await Meeting.filter(
            cancelled_at=None, starts_at__gt=now, starts_at__lte=now + dt.timedelta(minutes=leads[0]),
            post__deleted_at=None,
        ).values_list("id", "starts_at")
    )
    if not starts:
        return 0
    answers = await Rsvp.filter(
        meeting_id__in=list(starts), answer__in=list(ATTENDING), actor__local=True
    ).values_list("meeting_id", "actor_id", "updated_at", "created_at")
    if not answers:
        return 0
    sent: dict[tuple[int, int], int] = {}  # (meeting, person): the shortest lead reminded
    for meeting_id, actor_id, lead in await MeetingReminder.filter(meeting_id__in=list(starts)).values_list(
        "meeting_id", "actor_id", "lead_minutes"
    ):
        sent[meeting_id, actor_id] = min(lead, sent.get((meeting_id, actor_id), lead))
    due: dict[int, list[int]] = defaultdict(list)  # meeting: people to remind
    lead_of: dict[int, int] = {}
    for meeting_id, actor_id, updated_at, created_at in answers:
        lead = _shortest_reached(starts[meeting_id], now, leads)
        reached = starts[meeting_id] - dt.timedelta(minutes=lead)
        if (updated_at or created_at) >= reached or sent.get((meeting_id, actor_id), lead + 1) <= lead:
            continue
        due[meeting_id].append(actor_id)
        lead_of[meeting_id] = lead
    soonest = sorted(due, key=lambda m: starts[m])[:BATCH]
    if not soonest:
        return 0
    # Cancelled or moved since they were read above: not these reminders.
    meetings = await Meeting.filter(id__in=soonest, cancelled_at=None).select_related("post", "circle")
    meetings = [m for m in meetings if m.starts_at == starts[m.id]]
    return sum([await _send(m, due[m.id], lead_of[m.id]) for m in meetings])


def _shortest_reached(starts_at: dt.datetime, now: dt.datetime, leads: tuple[int, ...]) -> int:
    """The shortest lead time whose moment has come (leads longest first)."""
    return [lead for lead in leads if now >= starts_at - dt.timedelta(minutes=lead)][-1]


async def _send(meeting: Meeting, actor_ids: list[int], lead: int) -> int:
    rows = [MeetingReminder(meeting_id=meeting.id, actor_id=a, lead_minutes=lead) for a in actor_ids]
    async with in_transaction():
        # Rows another worker inserted first are skipped; ours are the ids we made.
        await MeetingReminder.bulk_create(rows, ignore_conflicts=True)
        ours = await MeetingReminder.filter(id__in=[r.id for r in rows]).values_list("actor_id", flat=True)
        if not ours:
            return 0
        post, circle = meeting.post, meeting.circle
        await notifications.notify(
            list(ours), "meeting.reminder",
            f"Reminder: “{post.title}” in {circle.name} starts {lead_phrase(lead)}.",
            f"/meetings/{meeting.post_id}", subject_id=meeting.post_id, circle_id=circle.id,
            params={"title": post.title, "circle": circle.name, "starts_at": meeting.starts_at.isoformat(),
                    "timezone": meeting.timezone, "lead_minutes": lead},
        )
    return len(ours)


async def _prompt_reflections(now: dt.datetime) -> int:
    """Once a meeting ended, those who went are asked how it went (once)."""
    ended = await (
        Meeting.filter(
            cancelled_at=None, reflection_prompted_at=None, ends_at__lte=now, ends_at__gt=now - REFLECTION_WINDOW,
            post__deleted_at=None,
        ).select_related("post", "circle__actor").order_by("ends_at").limit(BATCH)
    )
    handled = 0
    for meeting in ended:
        async with in_transaction():
            # Conditional on the mark still being empty: of two workers, one prompts.
            if not await Meeting.filter(id=meeting.id, reflection_prompted_at=None).update(
                reflection_prompted_at=now
            ):
                continue
            went = await Rsvp.filter(meeting=meeting, answer=RsvpAnswer.GOING, actor__local=True).values_list(
                "actor_id", flat=True
            )
            await notifications.notify(
                list(went), "meeting.reflection",
                f"How did “{meeting.post.title}” go? Write a short reflection for {meeting.circle.name}.",
                f"/c/{meeting.circle.handle}/reflections/new?meeting={meeting.post_id}",
                subject_id=meeting.post_id, circle_id=meeting.circle_id,
                params={"title": meeting.post.title, "circle": meeting.circle.name},
            )
        handled += 1
    return handled
