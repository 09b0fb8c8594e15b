"""Who hears that a meeting was planned, changed or cancelled, here or on
another server: a new meeting goes to the circle's local members, a change
of time or place and a cancellation to those who answered going or maybe.
Called in the transaction of the change; the organiser is never told of
their own act (models/services/notifications.py notify)."""

from __future__ import annotations

import zoneinfo

from models.circles import Membership, MembershipState
from models.meetings import ATTENDING, Meeting, MeetingReminder, Rsvp
from models.posts import Post
from models.services import notifications

WHERE = ("place", "online_url")


def when(meeting: Meeting) -> str:
    """The start in the meeting's own zone: "2026-12-01 18:30 (Europe/Berlin)"."""
    local = meeting.starts_at.astimezone(zoneinfo.ZoneInfo(meeting.timezone))
    return f"{local:%Y-%m-%d %H:%M} ({meeting.timezone})"


def _params(meeting: Meeting, post: Post, circle_name: str) -> dict:
    return {
        "title": post.title, "circle": circle_name, "starts_at": meeting.starts_at.isoformat(),
        "timezone": meeting.timezone, "place": meeting.place,
    }


async def _attendees(meeting: Meeting) -> list[int]:
    return list(await Rsvp.filter(meeting_id=meeting.id, answer__in=list(ATTENDING), actor__local=True)
                .values_list("actor_id", flat=True))


async def tell_created(meeting: Meeting, post: Post, circle_name: str) -> int:
    """The circle's local active members hear of a new meeting."""
    members = await Membership.filter(
        circle_id=meeting.circle_id, state=MembershipState.ACTIVE, actor__local=True
    ).values_list("actor_id", flat=True)
    return await notifications.notify(
        list(members), "meeting.created", f"New meeting in {circle_name}: “{post.title}”, {when(meeting)}.",
        f"/meetings/{post.id}", subject_id=post.id, actor_id=post.author_id, circle_id=meeting.circle_id,
        params=_params(meeting, post, circle_name),
    )


def changes(before: Meeting, after: dict) -> list[str]:
    """What of a meeting's time and place `after` (new field values) changes:
    some of "time", "place"."""
    changed = []
    if any(after.get(name, getattr(before, name)) != getattr(before, name) for name in ("starts_at", "ends_at")):
        changed.append("time")
    if any(after.get(name, getattr(before, name)) != getattr(before, name) for name in WHERE):
        changed.append("place")
    return changed


async def tell_changed(
    meeting: Meeting, post: Post, circle_name: str, changed: list[str], *, moved: bool, by: int | None,
) -> int:
    """Attendees hear that the time or place changed (`meeting` holds the new
    values). A new start time also forgets the reminders already sent, so
    the new time is reminded afresh."""
    if moved:
        await MeetingReminder.filter(meeting_id=meeting.id).delete()
    if not changed:
        return 0
    what = " and ".join(changed)
    where = f" at {meeting.place}" if meeting.place else ""
    return await notifications.notify(
        await _attendees(meeting), "meeting.changed",
        f"“{post.title}” in {circle_name} changed its {what}: now {when(meeting)}{where}.",
        f"/meetings/{post.id}", subject_id=post.id, actor_id=by, circle_id=meeting.circle_id,
        params={**_params(meeting, post, circle_name), "changed": changed},
    )


async def tell_cancelled(meeting: Meeting, post: Post, circle_name: str, *, by: int | None) -> int:
    """Attendees hear that the meeting is off."""
    return await notifications.notify(
        await _attendees(meeting), "meeting.cancelled",
        f"“{post.title}” in {circle_name}, {when(meeting)}, was cancelled.",
        f"/meetings/{post.id}", subject_id=post.id, actor_id=by, circle_id=meeting.circle_id,
        params=_params(meeting, post, circle_name),
    )
