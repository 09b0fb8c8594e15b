"""Meetings through the web UI: scheduling, RSVP, feeds, notifications."""

from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.meetings import Meeting, Rsvp, RsvpAnswer
from models.notifications import Notification
from models.posts import Post
from models.services import meeting_reminders
from models.services import meetings as meeting_service
from tests import factories
from tests.integration.test_web_posts import assert_no_live_markup
from tests.integration.webforms import logged_in, submit, text


def _local(days: float, zone: str = "UTC") -> str:
    from zoneinfo import ZoneInfo

    moment = (clock.now() + dt.timedelta(days=days)).astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%dT%H:%M")


def _form(**overrides) -> dict:
    return {
        "title": "Chapter 3", "agenda": "Read *chapter 3*", "starts_local": _local(3),
        "ends_local": _local(3.05), "timezone": "Asia/Tokyo", "place": "Library", "online_url": "https://meet.example/x",
        "capacity": "",
    } | overrides


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers", timezone="Europe/Paris")


async def test_a_member_schedules_and_members_answer(app, instance, alice, circle):
    client = await logged_in(app, alice)
    circle_page = await text(await client.get("/c/readers"))
    assert 'href="/c/readers/meetings"' in circle_page
    form = await text(await client.get("/c/readers/meetings/new"))
    assert 'value="Europe/Paris"' in form and 'for="f-starts_local"' in form
    starts = _local(3, "Asia/Tokyo")
    response = await submit(client, "/c/readers/meetings/new", **_form(starts_local=starts, ends_local=_local(3.05, "Asia/Tokyo")))
    assert response.status_code == 302, await text(response)
    meeting = await Meeting.get().select_related("post")
    assert response.location == f"/meetings/{meeting.post_id}"
    assert meeting.timezone == "Asia/Tokyo" and meeting.post.title == "Chapter 3"
    page = await text(await client.get(response.location))
    assert "<h1>Chapter 3</h1>" in page and "(Asia/Tokyo)" in page
    assert starts[11:16] in page  # shown in the meeting's own zone
    assert "0 going" in page

    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    bob_client = await logged_in(app, bob)
    response = await submit(bob_client, f"/meetings/{meeting.post_id}/rsvp", answer="going")
    assert response.status_code == 302
    page = await text(await bob_client.get(f"/meetings/{meeting.post_id}"))
    assert "1 going" in page and ">bob</a>" in page and "Your answer: <strong>Going</strong>" in page
    response = await submit(bob_client, f"/meetings/{meeting.post_id}/rsvp", answer="maybe")
    assert (await Meeting.get(id=meeting.id)).maybe_count == 1
    listing = await text(await client.get("/c/readers/meetings"))
    assert "Chapter 3" in listing and "0 going, 1 maybe" in listing
    mine = await text(await bob_client.get("/meetings"))
    assert "Chapter 3" in mine
    # The post page links to the meeting block.
    assert f'href="/meetings/{meeting.post_id}"' in await text(await client.get(f"/posts/{meeting.post_id}"))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"online_url": "javascript:alert(1)"}, "must be a web address"),
        ({"ends_local": _local(2)}, "must end after it starts"),
        ({"title": "t" * 201}, "Title is too long"),
        ({"title": ""}, "Title is required"),
        ({"timezone": "Nowhere/Land"}, "Unknown time zone"),
    ],
)
async def test_bad_input_is_refused_with_the_form_kept(app, alice, circle, overrides, message):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/meetings/new", **_form(**overrides))
    page = await text(response)
    assert response.status_code == 400 and message in page
    assert 'value="Library"' in page  # what was typed is kept
    assert await Meeting.all().count() == 0 and await Post.all().count() == 0


async def test_html_in_a_meeting_is_shown_harmless(app, alice, circle):
    client = await logged_in(app, alice)
    xss = "<script>alert(1)</script>"
    response = await submit(client, "/c/readers/meetings/new", **_form(title=f"T {xss}", agenda=f"A {xss} [x](javascript:alert(1))", place=xss))
    assert response.status_code == 302
    assert_no_live_markup(await text(await client.get(response.location)))


async def test_forms_without_csrf_change_nothing(app, alice, circle):
    client = await logged_in(app, alice)
    response = await client.post("/c/readers/meetings/new", form=_form())
    assert response.status_code in (400, 403)
    assert await Meeting.all().count() == 0


async def test_strangers_cannot_schedule_or_answer(app, instance, alice, circle):
    meeting = await meeting_service.schedule(instance, alice.actor, circle, **_form())
    stranger = await logged_in(app, await factories.account(instance, "stranger"))
    response = await submit(stranger, "/c/readers/meetings/new", **_form())
    assert response.status_code == 403
    response = await submit(stranger, f"/meetings/{meeting.post_id}/rsvp", answer="going")
    assert response.status_code == 403 and "Join this circle" in await text(response)
    response = await submit(stranger, f"/meetings/{meeting.post_id}/cancel", confirm="yes")
    assert response.status_code == 403
    assert await Rsvp.all().count() == 0 and (await Meeting.get(id=meeting.id)).cancelled_at is None
    anonymous = app.test_client()
    assert (await anonymous.get(f"/meetings/{meeting.post_id}")).status_code == 200
    assert (await anonymous.get("/meetings/99999999999")).status_code == 404


async def test_full_and_cancelled_meetings_say_why(app, instance, alice, circle):
    meeting = await meeting_service.schedule(instance, alice.actor, circle, **_form(capacity="1"))
    await meeting_service.rsvp(alice.actor, meeting, RsvpAnswer.GOING)
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    client = await logged_in(app, bob)
    response = await submit(client, f"/meetings/{meeting.post_id}/rsvp", answer="going")
    assert response.status_code == 409 and "This meeting is full" in await text(response)
    alice_client = await logged_in(app, alice)
    assert (await submit(alice_client, f"/meetings/{meeting.post_id}/cancel", confirm="yes")).status_code == 302
    response = await submit(client, f"/meetings/{meeting.post_id}/rsvp", answer="maybe")
    assert response.status_code == 409 and "cancelled" in await text(response)
    assert "This meeting is cancelled" in await text(await client.get(f"/meetings/{meeting.post_id}"))


async def test_the_organiser_edits(app, instance, alice, circle):
    meeting = await meeting_service.schedule(instance, alice.actor, circle, **_form())
    client = await logged_in(app, alice)
    form = await text(await client.get(f"/meetings/{meeting.post_id}/edit"))
    assert 'value="Chapter 3"' in form
    response = await submit(client, f"/meetings/{meeting.post_id}/edit", **_form(title="Chapter 4"))
    assert response.status_code == 302
    assert (await Post.get(id=meeting.post_id)).title == "Chapter 4"
    response = await submit(client, f"/meetings/{meeting.post_id}/edit", **_form(online_url="javascript:x"))
    assert response.status_code == 400 and (await Meeting.get(id=meeting.id)).online_url == "https://meet.example/x"


async def test_calendar_feeds(app, instance, alice, circle):
    await meeting_service.schedule(instance, alice.actor, circle, **_form(title="Chapter 3, part; one"))
    client = app.test_client()
    response = await client.get("/c/readers/meetings.ics")
    body = await text(response)
    assert response.status_code == 200 and response.content_type.startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and "SUMMARY:Chapter 3\\, part\\; one\r\n" in body
    # The member's feed needs the secret link, no cookie.
    assert (await client.get("/users/alice/meetings.ics")).status_code == 404
    alice_client = await logged_in(app, alice)
    page = await text(await submit(alice_client, "/meetings/calendar-link"))
    link = page.split('id="calendar-url" type="text" readonly value="', 1)[1].split('"', 1)[0]
    path = link.removeprefix("http://circles.test").replace("&amp;", "&")
    response = await client.get(path)
    assert response.status_code == 200 and "Chapter 3" in await text(response)
    assert (await client.get(path + "x")).status_code == 404


async def test_a_members_only_circles_meetings_reach_members_by_their_own_link(app, instance, alice, bob):
    quiet = await factories.circle(instance, alice, "quiet", visibility="members")
    await factories.member(quiet, bob)
    await meeting_service.schedule(instance, alice.actor, quiet, **_form(title="Quiet reading"))
    assert (await app.test_client().get("/c/quiet/meetings.ics")).status_code == 403
    bob_client = await logged_in(app, bob)
    page = await text(await bob_client.get("/c/quiet/meetings"))
    assert "/c/quiet/meetings.ics" not in page and 'href="/meetings">your personal calendar link' in page
    page = await text(await submit(bob_client, "/meetings/calendar-link"))
    link = page.split('id="calendar-url" type="text" readonly value="', 1)[1].split('"', 1)[0]
    feed = await app.test_client().get(link.removeprefix("http://circles.test").replace("&amp;", "&"))
    assert feed.status_code == 200 and "Quiet reading" in await text(feed)


async def test_notifications_page_lists_and_marks_read(app, instance, alice, circle):
    meeting = await meeting_service.schedule(instance, alice.actor, circle, **_form())
    await meeting_service.rsvp(alice.actor, meeting, "going")
    assert await meeting_reminders.due_reminders(meeting.starts_at - dt.timedelta(hours=2)) == 1
    client = await logged_in(app, alice)
    page = await text(await client.get("/notifications"))
    [reminder] = await Notification.filter(recipient=alice, kind="meeting.reminder")
    assert "Reminder: “Chapter 3”" in page and "New:" in page and f'href="/notifications/{reminder.id}/open"' in page
    opened = await client.get(f"/notifications/{reminder.id}/open")  # the link leads to the meeting
    assert opened.status_code == 302 and opened.headers["Location"] == f"/meetings/{meeting.post_id}"
    await Notification.filter(id=reminder.id).update(read_at=None)
    assert (await client.post("/notifications/read")).status_code in (400, 403)  # no CSRF token
    assert "New:" in await text(await client.get("/notifications"))
    response = await submit(client, "/notifications/read")
    assert response.status_code == 302
    assert "New:" not in await text(await client.get("/notifications"))
    assert (await app.test_client().get("/notifications")).status_code == 302  # log in first


async def test_the_worker_loop_sends_due_reminders_once(app, instance, alice, circle):
    from server import worker

    # Starting in three hours: due at once. (No clock freezing into the future:
    # ids made meanwhile would run ahead of the real clock for the whole process.)
    meeting = await meeting_service.schedule(
        instance, alice.actor, circle, **_form(starts_local=_local(0.125), ends_local=_local(0.2), timezone="UTC")
    )
    await meeting_service.rsvp(alice.actor, meeting, "maybe")
    # She answered a day ago, before the day's reminder was due, so it goes out now.
    await Rsvp.filter(meeting_id=meeting.id).update(updated_at=clock.now() - dt.timedelta(days=1))
    fed = app.extensions["circles.federation"]
    await worker.run_once(fed)
    assert [n.kind for n in await Notification.all()] == ["meeting.reminder"]
    assert await worker.run_once(fed) == 0  # once only, and a quiet pass when nothing is due
    assert await Notification.all().count() == 1
