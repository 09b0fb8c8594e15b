"""Meeting reminders at the configured lead times, once per person, also for
meetings planned or moved late; and who hears that a meeting was planned,
changed or cancelled, here or on another server."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from models import clock
from models.actors import Actor, ActorKind
from models.circles import Membership, MembershipState
from models.meetings import Meeting, MeetingReminder
from models.notifications import Notification
from models.posts import Post, PostKind
from models.services import meeting_reminders, meetings
from server import worker
from tests import factories

UTC = dt.timezone.utc
# In the past, so ids made while frozen (even days later) never run ahead of the real clock.
NOW = dt.datetime(2025, 11, 26, 12, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture
async def people(database, instance):
    """alice organises in "readers"; bob, carol and dave are members."""
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    others = [await factories.account(instance, name) for name in ("bob", "carol", "dave")]
    for account in others:
        await factories.member(circle, account)
    return circle, alice, *others


def _typed(starts_at: dt.datetime, **overrides) -> dict:
    values = dict(
        title="Chapter 3", agenda="", starts_local=f"{starts_at:%Y-%m-%dT%H:%M}",
        ends_local=f"{starts_at + HOUR:%Y-%m-%dT%H:%M}", timezone="UTC", place="Library",
    )
    return values | overrides


async def _plan(instance, circle, organiser, ahead: dt.timedelta):
    meeting = await meetings.schedule(instance, organiser.actor, circle, **_typed(clock.now() + ahead))
    return await meetings.meeting_for_post(meeting.post_id)


async def _answer(account, meeting, answer: str, *, at: dt.datetime) -> None:
    clock.freeze(at)
    await meetings.rsvp(account.actor, meeting, answer)


async def _reminders(*accounts) -> list[tuple[str, int]]:
    """(username, lead in minutes) of every reminder notification, in order."""
    rows = await Notification.filter(kind="meeting.reminder").select_related("recipient__actor").order_by("id")
    wanted = {a.id for a in accounts}
    return [(n.recipient.actor.username, n.params["lead_minutes"]) for n in rows if not wanted or n.recipient_id in wanted]


async def _due(at: dt.datetime, leads=meeting_reminders.DEFAULT_LEADS) -> int:
    clock.freeze(at)
    return await meeting_reminders.due_reminders(at, leads)


async def _kinds_of(account) -> list[str]:
    return list(await Notification.filter(recipient=account).order_by("id").values_list("kind", flat=True))


# --- reminders ------------------------------------------------------------------------------


async def test_a_meeting_planned_two_days_ahead_reminds_a_day_and_an_hour_before(instance, people):
    circle, alice, bob, carol, dave = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    start = meeting.starts_at
    await _answer(bob, meeting, "going", at=NOW + MINUTE)
    await _answer(carol, meeting, "maybe", at=NOW + MINUTE)
    await _answer(dave, meeting, "not_going", at=NOW + MINUTE)
    assert await _due(NOW + 2 * MINUTE) == 0
    assert await _due(start - 24 * HOUR - MINUTE) == 0
    assert await _due(start - 24 * HOUR) == 2
    assert await _due(start - 23 * HOUR) == 0  # once only
    assert await _due(start - HOUR - MINUTE) == 0
    assert await _due(start - HOUR) == 2
    assert await _due(start - 30 * MINUTE) == 0
    assert await _due(start + MINUTE) == 0  # started: nothing more
    assert await _reminders() == [("bob", 1440), ("carol", 1440), ("bob", 60), ("carol", 60)]
    day, hour = await Notification.filter(kind="meeting.reminder", recipient=bob).order_by("id")
    assert day.text == "Reminder: “Chapter 3” in Readers starts within a day."
    assert hour.text == "Reminder: “Chapter 3” in Readers starts in 1 hour."
    assert hour.params == {"title": "Chapter 3", "circle": "Readers", "starts_at": start.isoformat(),
                           "timezone": "UTC", "lead_minutes": 60}
    assert (hour.subject_id, hour.circle_id, hour.url) == (meeting.post_id, circle.id, f"/meetings/{meeting.post_id}")
    assert "meeting.reminder" not in await _kinds_of(dave) + await _kinds_of(alice)


async def test_a_meeting_planned_five_hours_ahead_reminds_an_hour_before_only(instance, people):
    circle, alice, bob, *_ = people
    meeting = await _plan(instance, circle, alice, 5 * HOUR)
    await _answer(bob, meeting, "going", at=NOW + MINUTE)
    assert await _due(NOW + 2 * MINUTE) == 0  # the day's reminder was due before bob answered: skipped
    assert await _due(meeting.starts_at - HOUR - MINUTE) == 0
    assert await _due(meeting.starts_at - HOUR) == 1
    assert await _due(meeting.starts_at - 10 * MINUTE) == 0
    assert await _reminders() == [("bob", 60)]


async def test_a_meeting_planned_half_an_hour_ahead_reminds_nobody(instance, people):
    circle, alice, bob, *_ = people
    meeting = await _plan(instance, circle, alice, 30 * MINUTE)
    await _answer(bob, meeting, "going", at=NOW + MINUTE)
    for at in (NOW + 2 * MINUTE, meeting.starts_at - MINUTE):
        assert await _due(at) == 0
    assert await _reminders() == []


async def test_who_answers_after_a_lead_time_skips_it_and_hears_at_the_next(instance, people):
    circle, alice, bob, carol, _ = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=3))
    start = meeting.starts_at
    await _answer(bob, meeting, "going", at=NOW)
    assert await _due(start - 24 * HOUR) == 1  # bob
    await _answer(carol, meeting, "going", at=start - 20 * HOUR)
    assert await _due(start - 19 * HOUR) == 0  # carol answered after the day's moment
    assert await _due(start - HOUR) == 2
    assert await _reminders() == [("bob", 1440), ("bob", 60), ("carol", 60)]


async def test_a_worker_that_was_away_sends_only_the_shortest_lead_reached(instance, people):
    circle, alice, bob, *_ = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, meeting, "going", at=NOW)
    assert await _due(meeting.starts_at - 30 * MINUTE) == 1
    assert await _due(meeting.starts_at - 20 * MINUTE) == 0
    assert await _reminders() == [("bob", 60)]  # no "within a day" half an hour before


async def test_two_workers_at_once_remind_each_person_once(instance, people):
    circle, alice, bob, carol, _ = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, meeting, "going", at=NOW)
    await _answer(carol, meeting, "maybe", at=NOW)
    at = meeting.starts_at - 24 * HOUR
    clock.freeze(at)
    sent = await asyncio.gather(*(meeting_reminders.due_reminders(at) for _ in range(3)))
    assert sum(sent) == 2
    assert sorted(await _reminders()) == [("bob", 1440), ("carol", 1440)]
    assert await MeetingReminder.filter(meeting_id=meeting.id).count() == 2


async def test_a_moved_meeting_is_reminded_again_for_its_new_time(instance, people):
    circle, alice, bob, *_ = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, meeting, "going", at=NOW)
    assert await _due(meeting.starts_at - HOUR) == 1
    clock.freeze(meeting.starts_at - 50 * MINUTE)
    new_start = meeting.starts_at + dt.timedelta(days=1)
    await meetings.edit(alice.actor, meeting, **_typed(new_start))
    assert await MeetingReminder.filter(meeting_id=meeting.id).count() == 0
    assert await _due(new_start - 24 * HOUR) == 1  # bob answered long before
    assert await _due(new_start - HOUR) == 1
    assert await _reminders() == [("bob", 60), ("bob", 1440), ("bob", 60)]


async def test_cancelled_meetings_and_people_not_going_hear_no_reminder(instance, people):
    circle, alice, bob, carol, _ = people
    cancelled = await _plan(instance, circle, alice, dt.timedelta(days=2))
    kept = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, cancelled, "going", at=NOW)
    await _answer(carol, kept, "not_going", at=NOW)
    await meetings.cancel(alice.actor, cancelled)
    for at in (cancelled.starts_at - 24 * HOUR, cancelled.starts_at - HOUR):
        assert await _due(at) == 0
    assert await _reminders() == []


async def test_the_lead_times_come_from_the_setting_through_the_worker(make_app, instance, people):
    circle, alice, bob, *_ = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, meeting, "going", at=NOW)
    fed = make_app(meeting_reminders="30m").extensions["circles.federation"]
    assert fed.meeting_reminders == (30,)
    clock.freeze(meeting.starts_at - HOUR)
    assert await worker.send_meeting_reminders(fed) == 0  # no hour's reminder configured
    clock.freeze(meeting.starts_at - 30 * MINUTE)
    assert await worker.send_meeting_reminders(fed) == 1
    assert await worker.send_meeting_reminders(fed) == 0
    assert await _reminders() == [("bob", 30)]
    assert (await Notification.get(kind="meeting.reminder")).text.endswith("starts in 30 minutes.")
    silent = make_app(meeting_reminders="none").extensions["circles.federation"]
    assert silent.meeting_reminders == ()
    assert await meeting_reminders.due_reminders(meeting.starts_at - 10 * MINUTE, silent.meeting_reminders) == 0


def test_lead_times_in_words():
    assert [meeting_reminders.lead_phrase(m) for m in (1440, 60, 120, 30, 90, 2880, 1)] == [
        "within a day", "in 1 hour", "in 2 hours", "in 30 minutes", "in 90 minutes", "in 2 days", "in 1 minute",
    ]


# --- planned, changed, cancelled ------------------------------------------------------------


async def test_a_new_meeting_tells_the_circles_active_members_but_the_organiser(instance, people):
    circle, alice, bob, carol, dave = people
    pending = await factories.account(instance, "erin")
    await Membership.create(circle=circle, actor=pending.actor, state=MembershipState.PENDING)
    outsider = await factories.account(instance, "frank")
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    created = await Notification.filter(kind="meeting.created").select_related("recipient__actor")
    assert sorted(n.recipient.actor.username for n in created) == ["bob", "carol", "dave"]
    note = created[0]
    assert note.text == "New meeting in Readers: “Chapter 3”, 2025-11-28 12:00 (UTC)."
    assert (note.actor_id, note.subject_id, note.circle_id) == (alice.actor_id, meeting.post_id, circle.id)
    assert note.params == {"title": "Chapter 3", "circle": "Readers", "starts_at": meeting.starts_at.isoformat(),
                           "timezone": "UTC", "place": "Library"}
    assert await _kinds_of(pending) == [] and await _kinds_of(outsider) == [] and await _kinds_of(alice) == []


async def test_a_change_of_time_or_place_tells_who_answered_going_or_maybe(instance, people):
    circle, alice, bob, carol, dave = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, meeting, "going", at=NOW)
    await _answer(carol, meeting, "maybe", at=NOW)
    await _answer(dave, meeting, "not_going", at=NOW)
    await meetings.edit(alice.actor, meeting, **_typed(meeting.starts_at, title="Chapter 3, again"))
    assert await Notification.filter(kind="meeting.changed").count() == 0  # the title only
    await meetings.edit(alice.actor, meeting, **_typed(meeting.starts_at, title="Chapter 3", place="Café"))
    changed = await Notification.filter(kind="meeting.changed").select_related("recipient__actor")
    assert sorted(n.recipient.actor.username for n in changed) == ["bob", "carol"]
    assert changed[0].text == "“Chapter 3” in Readers changed its place: now 2025-11-28 12:00 (UTC) at Café."
    assert changed[0].params["changed"] == ["place"] and changed[0].params["place"] == "Café"
    await meetings.edit(alice.actor, meeting, **_typed(meeting.starts_at + HOUR, place="Café"))
    last = await Notification.filter(kind="meeting.changed", recipient=bob).order_by("-id").first()
    assert last.params["changed"] == ["time"] and last.text.startswith("“Chapter 3” in Readers changed its time: now")
    assert await _kinds_of(dave) == ["meeting.created"]


async def test_a_cancellation_tells_who_answered_going_or_maybe(instance, people):
    circle, alice, bob, carol, dave = people
    meeting = await _plan(instance, circle, alice, dt.timedelta(days=2))
    await _answer(bob, meeting, "going", at=NOW)
    await _answer(carol, meeting, "maybe", at=NOW)
    await _answer(dave, meeting, "not_going", at=NOW)
    stale = await Meeting.get(id=meeting.id).select_related("post", "circle")  # a second form, sent at once
    await meetings.cancel(alice.actor, meeting)
    await meetings.cancel(alice.actor, meeting)  # twice: told once
    await meetings.cancel(alice.actor, stale)  # read before the first cancel: still told once
    cancelled = await Notification.filter(kind="meeting.cancelled").select_related("recipient__actor")
    assert sorted(n.recipient.actor.username for n in cancelled) == ["bob", "carol"]
    assert cancelled[0].text == "“Chapter 3” in Readers, 2025-11-28 12:00 (UTC), was cancelled."
    assert cancelled[0].actor_id == alice.actor_id


# --- meetings planned on another server -----------------------------------------------------


async def _remote_event(circle, *, ahead: dt.timedelta) -> tuple[Post, meetings.RemoteMeetingInput]:
    rita = await Actor.create(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, local=False, username="rita",
        domain="elsewhere.example", inbox_url="https://elsewhere.example/users/rita/inbox",
    )
    await Membership.create(circle=circle, actor=rita, state=MembershipState.ACTIVE)
    post = await Post.create(
        uri="https://elsewhere.example/events/1", circle=circle, author=rita, kind=PostKind.MEETING,
        title="Rita's walk", source="", content="<p>Walk</p>", local=False, published_at=clock.now(),
    )
    starts = clock.now() + ahead
    return post, meetings.RemoteMeetingInput(starts_at=starts, ends_at=starts + HOUR, place="Park")


async def test_a_meeting_from_another_server_is_told_and_reminded_like_ours(instance, people):
    circle, alice, bob, carol, dave = people
    post, event = await _remote_event(circle, ahead=dt.timedelta(days=2))
    meeting = await meetings.store_remote(post, event)
    created = await Notification.filter(kind="meeting.created").select_related("recipient__actor")
    assert sorted(n.recipient.actor.username for n in created) == ["alice", "bob", "carol", "dave"]
    assert created[0].actor_id == post.author_id
    await meetings.store_remote(post, event)  # the same Update again: nothing new
    assert await Notification.filter(kind="meeting.created").count() == 4
    meeting = await meetings.meeting_for_post(post.id)
    await _answer(bob, meeting, "going", at=NOW)
    await _answer(carol, meeting, "not_going", at=NOW)
    assert await _due(event.starts_at - 24 * HOUR) == 1
    clock.freeze(NOW + MINUTE)
    moved = meetings.RemoteMeetingInput(starts_at=event.starts_at + HOUR, ends_at=event.ends_at + HOUR, place="Park")
    await meetings.store_remote(post, moved)
    assert await _kinds_of(bob) == ["meeting.created", "meeting.reminder", "meeting.changed"]
    assert await MeetingReminder.filter(meeting_id=meeting.id).count() == 0  # reminded afresh
    assert await _due(moved.starts_at - 24 * HOUR) == 1
    off = meetings.RemoteMeetingInput(starts_at=moved.starts_at, ends_at=moved.ends_at, place="Park", cancelled=True)
    await meetings.store_remote(post, off)
    await meetings.store_remote(post, off)
    assert await _kinds_of(bob) == [
        "meeting.created", "meeting.reminder", "meeting.changed", "meeting.reminder", "meeting.cancelled",
    ]
    assert await _kinds_of(carol) == ["meeting.created"]
    assert await _due(moved.starts_at - HOUR) == 0


async def test_an_old_event_arriving_with_its_thread_tells_nobody(instance, people):
    circle, *_ = people
    post, event = await _remote_event(circle, ahead=-dt.timedelta(days=3))
    await meetings.store_remote(post, event)
    assert await Notification.all().count() == 0
