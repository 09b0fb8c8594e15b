import datetime as dt

import pytest

from models import clock
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.meetings import Meeting, Rsvp, RsvpAnswer
from models.notifications import Notification
from models.posts import Post, PostKind, PostRevision
from models.services import meeting_reminders
from models.services import meetings as svc
from models.services import notifications
from tests import factories

# In the past, so ids made while frozen (even days later) never run ahead of the real clock.
NOW = dt.datetime(2025, 11, 26, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


async def _circle(instance, timezone="Europe/Paris"):
    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers", timezone=timezone)
    await factories.member(circle, bob)
    return alice, bob, circle


def _typed(**overrides):
    values = dict(title="Chapter 3", agenda="Read *chapter 3*", starts_local="2025-12-01T18:30",
                  ends_local="2025-12-01T20:00", timezone="", place="Library, room 2",
                  online_url="https://meet.example/abc", capacity="")
    return values | overrides


async def _meeting(instance, circle, organiser, **overrides):
    meeting = await svc.schedule(instance, organiser.actor, circle, **_typed(**overrides))
    return await svc.meeting_for_post(meeting.post_id)


async def test_scheduling_converts_local_time_in_the_circles_zone_to_utc(database, instance):
    alice, _, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice)
    assert meeting.timezone == "Europe/Paris"  # the circle's, when none is given
    assert meeting.starts_at == dt.datetime(2025, 12, 1, 17, 30, tzinfo=dt.timezone.utc)
    assert meeting.ends_at == dt.datetime(2025, 12, 1, 19, 0, tzinfo=dt.timezone.utc)
    post = await Post.get(id=meeting.post_id)
    assert post.kind is PostKind.MEETING and post.title == "Chapter 3" and "<em>chapter 3</em>" in post.content
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).count() == 1
    other = await _meeting(instance, circle, alice, timezone="America/New_York")
    assert other.starts_at == dt.datetime(2025, 12, 1, 23, 30, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"ends_local": "2025-12-01T18:00"}, "ends_local"),  # before the start
        ({"ends_local": "2025-12-01T18:30"}, "ends_local"),  # no length
        ({"ends_local": "2025-12-02T07:00"}, "ends_local"),  # over 12 h
        ({"starts_local": "2025-11-20T18:30", "ends_local": "2025-11-20T19:30"}, "starts_local"),  # past
        ({"starts_local": "2028-01-01T18:30", "ends_local": "2028-01-01T19:30"}, "starts_local"),  # > 2 years
        ({"starts_local": "tomorrow"}, "starts_local"),
        ({"starts_local": "2025-12-01T18:30+05:00"}, "starts_local"),
        ({"starts_local": ""}, "starts_local"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"online_url": "data:text/html,x"}, "online_url"),
        ({"online_url": "https://"}, "online_url"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"place": "p" * 201}, "place"),
        ({"agenda": "a" * 20_001}, "agenda"),
    ],
)
async def test_invalid_meetings_write_nothing(database, instance, overrides, field):
    alice, _, circle = await _circle(instance)
    with pytest.raises(InvalidInput) as caught:
        await svc.schedule(instance, alice.actor, circle, **_typed(**overrides))
    assert caught.value.field == field
    assert await Meeting.all().count() == 0 and await Post.all().count() == 0


async def test_only_members_schedule(database, instance):
    _, _, circle = await _circle(instance)
    stranger = await factories.account(instance, "stranger")
    with pytest.raises(PermissionDenied):
        await svc.schedule(instance, stranger.actor, circle, **_typed())
    assert await Meeting.all().count() == 0


async def test_organiser_or_steward_edit_and_cancel(database, instance):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, bob)
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    with pytest.raises(PermissionDenied):
        await svc.edit(carol.actor, meeting, **_typed(title="Hijacked"))
    await svc.edit(bob.actor, meeting, **_typed(title="Chapter 3 and 4", starts_local="2025-12-01T19:00"))
    meeting = await svc.meeting_for_post(meeting.post_id)
    assert meeting.post.title == "Chapter 3 and 4" and meeting.starts_at.hour == 18
    # The old title is kept (post_edits.keep_revision); a cancelling later changes no words, marks no edit.
    assert [r.by_id for r in await PostRevision.filter(post_id=meeting.post_id)] == [bob.actor.id]
    edited_at = meeting.post.edited_at
    assert edited_at is not None
    with pytest.raises(PermissionDenied):
        await svc.cancel(carol.actor, meeting)
    await svc.cancel(alice.actor, meeting)  # alice facilitates the circle
    assert (await Meeting.get(id=meeting.id)).cancelled_at == NOW
    assert (await Post.get(id=meeting.post_id)).edited_at == edited_at
    assert await OutboxEvent.filter(kind="post.updated", subject_id=meeting.post_id).count() == 2


async def test_rsvp_counts_and_changes(database, instance):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice)
    await svc.rsvp(bob.actor, meeting, "going")
    await svc.rsvp(alice.actor, meeting, RsvpAnswer.MAYBE)
    assert (meeting.going_count, meeting.maybe_count) == (1, 1)
    await svc.rsvp(bob.actor, meeting, "going")  # the same answer twice changes nothing
    await svc.rsvp(alice.actor, meeting, "going")
    await svc.rsvp(bob.actor, meeting, "not_going")
    stored = await Meeting.get(id=meeting.id)
    assert (stored.going_count, stored.maybe_count) == (1, 0)
    assert [a.username for a in await svc.attendees(meeting)] == ["alice"]
    assert await Rsvp.all().count() == 2
    assert await svc.answer_of(meeting, bob.actor) is RsvpAnswer.NOT_GOING
    with pytest.raises(InvalidInput):
        await svc.rsvp(bob.actor, meeting, "perhaps")


async def test_rsvp_refused_for_strangers_past_and_cancelled_meetings(database, instance):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice)
    stranger = await factories.account(instance, "stranger")
    with pytest.raises(PermissionDenied):
        await svc.rsvp(stranger.actor, meeting, "going")
    clock.freeze(NOW + dt.timedelta(days=10))
    with pytest.raises(Conflict, match="over"):
        await svc.rsvp(bob.actor, meeting, "going")
    clock.freeze(NOW)
    await svc.cancel(alice.actor, meeting)
    with pytest.raises(Conflict, match="cancelled"):
        await svc.rsvp(bob.actor, meeting, "going")
    assert await Rsvp.all().count() == 0


async def test_a_full_meeting_refuses_going_but_allows_maybe(database, instance):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice, capacity="1")
    await svc.rsvp(alice.actor, meeting, "going")
    with pytest.raises(Conflict, match="full"):
        await svc.rsvp(bob.actor, meeting, "going")
    await svc.rsvp(bob.actor, meeting, "maybe")
    await svc.rsvp(alice.actor, meeting, "not_going")  # a place frees up
    await svc.rsvp(bob.actor, meeting, "going")
    stored = await Meeting.get(id=meeting.id)
    assert (stored.going_count, stored.maybe_count) == (1, 0)


@pytest.mark.parametrize(
    "option, answer",
    [("Going", RsvpAnswer.GOING), ("maybe", RsvpAnswer.MAYBE), ("Not going", RsvpAnswer.NOT_GOING),
     ("  NOT   GOING ", RsvpAnswer.NOT_GOING)],
)
async def test_poll_votes_map_to_answers(database, instance, option, answer):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice)
    row = await svc.rsvp_from_poll(bob.actor, await Post.get(id=meeting.post_id), option)
    assert row.answer is answer and await svc.answer_of(meeting, bob.actor) is answer


async def test_poll_votes_for_other_options_or_posts_are_refused(database, instance):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice)
    with pytest.raises(InvalidInput):
        await svc.rsvp_from_poll(bob.actor, await Post.get(id=meeting.post_id), "Pizza")
    plain = await factories.post(instance, alice, circle)
    with pytest.raises(NotFound):
        await svc.rsvp_from_poll(bob.actor, plain, "Going")
    assert await Rsvp.all().count() == 0


async def test_reminders_go_out_once_a_day_before_and_reflection_prompts_after(database, instance):
    alice, bob, circle = await _circle(instance)
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    meeting = await _meeting(instance, circle, alice)  # starts 2025-12-01 17:30 UTC
    await svc.rsvp(bob.actor, meeting, "going")
    await svc.rsvp(carol.actor, meeting, "maybe")
    await svc.rsvp(alice.actor, meeting, "not_going")
    assert await meeting_reminders.due_reminders(NOW) == 0  # five days ahead: nothing due
    day_before = meeting.starts_at - dt.timedelta(hours=23)
    assert await meeting_reminders.due_reminders(day_before) == 2  # bob and carol
    assert await meeting_reminders.due_reminders(day_before + dt.timedelta(minutes=5)) == 0  # once only
    reminders = await Notification.filter(kind="meeting.reminder").select_related("recipient__actor")
    assert sorted(n.recipient.actor.username for n in reminders) == ["bob", "carol"]
    assert reminders[0].url == f"/meetings/{meeting.post_id}"
    assert await meeting_reminders.due_reminders(meeting.ends_at - dt.timedelta(minutes=1)) == 0  # not over yet
    after = meeting.ends_at + dt.timedelta(minutes=1)
    assert await meeting_reminders.due_reminders(after) == 1
    assert await meeting_reminders.due_reminders(after + dt.timedelta(hours=1)) == 0
    prompts = await Notification.filter(kind="meeting.reflection").select_related("recipient__actor")
    assert [n.recipient.actor.username for n in prompts] == ["bob"]  # only who was going
    assert prompts[0].url == f"/c/readers/reflections/new?meeting={meeting.post_id}"
    assert await notifications.unread_count(bob) == 3  # the new meeting, its reminder, the prompt
    await notifications.mark_all_read(bob)
    assert await notifications.unread_count(bob) == 0 and await notifications.unread_count(carol) == 2


async def test_cancelled_meetings_send_no_reminders(database, instance):
    alice, bob, circle = await _circle(instance)
    meeting = await _meeting(instance, circle, alice)
    await svc.rsvp(bob.actor, meeting, "going")
    await svc.cancel(alice.actor, meeting)
    assert await meeting_reminders.due_reminders(meeting.starts_at - dt.timedelta(hours=1)) == 0
    assert await meeting_reminders.due_reminders(meeting.ends_at + dt.timedelta(hours=1)) == 0
    # bob heard of the meeting and of its cancellation, nothing more
    assert sorted(await Notification.all().values_list("kind", flat=True)) == ["meeting.cancelled", "meeting.created"]


async def test_listings_upcoming_past_and_my_next_meetings(database, instance):
    alice, bob, circle = await _circle(instance)
    other = await factories.circle(instance, bob, "writers")
    first = await _meeting(instance, circle, alice, starts_local="2025-11-27T10:00", ends_local="2025-11-27T11:00")
    second = await _meeting(instance, other, bob, starts_local="2025-11-28T10:00", ends_local="2025-11-28T11:00")
    third = await _meeting(instance, circle, alice, starts_local="2025-11-29T10:00", ends_local="2025-11-29T11:00")
    page = await svc.upcoming_in(circle, per_page=1)
    assert [m.id for m in page] == [first.id, third.id]  # one more than the page: another follows
    assert [m.id for m in await svc.upcoming_in(circle, page=2, per_page=1)] == [third.id]
    assert [m.id for m in await svc.next_meetings_for(bob.actor)] == [first.id, second.id, third.id]
    assert [m.id for m in await svc.next_meetings_for(alice.actor)] == [first.id, third.id]
    clock.freeze(dt.datetime(2025, 11, 28, 12, 0, tzinfo=dt.timezone.utc))
    assert [m.id for m in await svc.past_in(circle)] == [first.id]
    assert [m.id for m in await svc.upcoming_in(circle)] == [third.id]


async def test_calendar_tokens_are_secret_and_replaceable(database, instance):
    alice, _, _ = await _circle(instance)
    token = await svc.new_calendar_token(alice)
    assert (await svc.account_for_calendar("alice", token)).id == alice.id
    for wrong in ("", None, token + "x", "x" * 500):
        with pytest.raises(NotFound):
            await svc.account_for_calendar("alice", wrong)
    with pytest.raises(NotFound):
        await svc.account_for_calendar("bob", token)
    newer = await svc.new_calendar_token(alice)
    with pytest.raises(NotFound):
        await svc.account_for_calendar("alice", token)
    assert (await svc.account_for_calendar("alice", newer)).id == alice.id
