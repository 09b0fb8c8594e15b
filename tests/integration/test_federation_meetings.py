"""Meetings over ActivityPub: the Event document, Mobilizon-style Join/Leave
into one app's inbox, and two real instances federating a meeting."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from federation import vocab
from models import clock
from models.federation import Delivery, InboxItem, InboxState
from models.meetings import Meeting, Rsvp, RsvpAnswer
from models.posts import Post
from models.services import meetings as meeting_service
from tests import factories
from tests.integration.federated import eventually, page_has, post_form
from tests.integration.test_inbox import follow_of, peer, post_signed, process  # noqa: F401 (peer is a fixture)
from tests.servers import redirected_to, sign_up


def _when(days: float) -> str:
    return (clock.now() + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


async def _meeting(instance, alice, circle, **fields):
    values = dict(title="Chapter 3", agenda="Read it", starts_local=_when(2), ends_local=_when(2.05),
                  place="Library", online_url="https://meet.example/x")
    return await meeting_service.schedule(instance, alice.actor, circle, **(values | fields))


def join_of(actor: str, event: str, n: int = 1, kind: str = "Join") -> dict:
    # As Mobilizon sends it: the Event's id as object, a participation message.
    return {"@context": ["https://www.w3.org/ns/activitystreams", {"mz": "https://joinmobilizon.org/ns#"}],
            "id": f"{actor}/{kind.lower()}/{n}", "type": kind, "actor": actor, "object": event,
            "participationMessage": None, "to": [event]}


async def test_the_post_url_serves_the_event_to_activitypub_clients(client, instance):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers", timezone="Europe/Paris")
    meeting = await _meeting(instance, alice, circle)
    response = await client.get(f"/posts/{meeting.post_id}", headers={"Accept": vocab.ACTIVITY_JSON})
    event = await response.get_json()
    assert event["type"] == "Event" and event["startTime"] == convert_iso(meeting.starts_at)
    assert event["timezone"] == "Europe/Paris" and event["location"]["name"] == "Library"
    assert event["audience"] == circle.actor.uri and event["joinMode"] == "free"
    activity = await (await client.get(f"/posts/{meeting.post_id}/activity")).get_json()
    assert activity["type"] == "Create" and activity["object"]["type"] == "Event"
    for outbox in ("/c/readers/outbox?page=true", "/users/alice/outbox?page=true"):
        page = await (await client.get(outbox, headers={"Accept": vocab.ACTIVITY_JSON})).get_json()
        objects = [(item.get("object", {}).get("object") or item["object"]) for item in page["orderedItems"]]
        assert next(o for o in objects if o["id"] == meeting.post.uri)["type"] == "Event"


async def test_the_circle_announces_the_event_to_its_followers(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    meeting = await _meeting(instance, alice, circle)
    await process(app)
    announces = [d.payload for d in await Delivery.all() if d.payload["type"] == "Announce"]
    # The Event, and the circle's RSVP poll under it (for Mastodon).
    assert sorted(a["object"]["object"]["type"] for a in announces) == ["Event", "Question"]
    event = next(a["object"]["object"] for a in announces if a["object"]["object"]["type"] == "Event")
    assert event["id"] == f"http://circles.test/posts/{meeting.post_id}"
    await meeting_service.cancel(alice.actor, meeting)
    await process(app)
    updates = [d.payload["object"] for d in await Delivery.all() if d.payload["object"].get("type") == "Update"]
    assert sorted(u["object"]["type"] for u in updates) == ["Event", "Question"]
    event_update = next(u["object"] for u in updates if u["object"]["type"] == "Event")
    poll_update = next(u["object"] for u in updates if u["object"]["type"] == "Question")
    assert event_update["ical:status"] == "CANCELLED" and poll_update["closed"]


def convert_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_signed_mobilizon_join_counts_as_going_and_is_accepted(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    meeting = await _meeting(instance, alice, circle)
    event_uri = f"http://circles.test/posts/{meeting.post_id}"

    # Not a member yet: the Join changes nothing.
    await post_signed(client, "/inbox", join_of(rita, event_uri, 1), key, f"{rita}#main-key")
    await process(app)
    assert (await InboxItem.get(activity_id=f"{rita}/join/1")).state is InboxState.IGNORED
    assert await Rsvp.all().count() == 0

    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    response = await post_signed(client, "/c/readers/inbox", join_of(rita, event_uri, 2), key, f"{rita}#main-key")
    assert response.status_code == 202
    await process(app)
    rsvp = await Rsvp.get(actor__uri=rita)
    assert rsvp.answer is RsvpAnswer.GOING and rsvp.uri == f"{rita}/join/2"
    assert (await Meeting.get(id=meeting.id)).going_count == 1
    accept = next(
        d for d in await Delivery.all() if d.payload["type"] == "Accept" and d.payload["object"].get("type") == "Join"
    )
    assert accept.payload["actor"] == circle.actor.uri and accept.payload["object"]["id"] == f"{rita}/join/2"
    assert accept.payload["object"]["object"] == event_uri and accept.inbox_url == "https://remote.example/inbox"
    page = await (await client.get(f"/meetings/{meeting.post_id}")).get_data(as_text=True)
    assert "1 going" in page and "rita" in page

    # Leave: not going any more; a Join for a post that is no meeting changes nothing.
    await post_signed(client, "/inbox", join_of(rita, event_uri, 3, kind="Leave"), key, f"{rita}#main-key")
    plain = await factories.post(instance, alice, circle)
    await post_signed(client, "/inbox", join_of(rita, plain.uri, 4), key, f"{rita}#main-key")
    await process(app)
    assert (await Rsvp.get(actor__uri=rita)).answer is RsvpAnswer.NOT_GOING
    assert (await Meeting.get(id=meeting.id)).going_count == 0
    assert (await InboxItem.get(activity_id=f"{rita}/join/4")).state is InboxState.IGNORED


async def test_a_member_elsewhere_sees_the_meeting_and_answers_going(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/readers@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        redirected_to(
            await post_form(ann, "/circles/new", "/circles/new", handle="readers", name="Readers",
                            join_mode="open", language="en", timezone="Europe/Paris"),
            "/c/readers",
        )
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@readers@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting the follow", servers)

        # Ann schedules a meeting on A; the circle announces it as an Event to B.
        response = await post_form(ann, "/c/readers/meetings/new", "/c/readers/meetings/new",
                                   title="Chapter 3 together", agenda="Bring questions.", starts_local=_when(2),
                                   ends_local=_when(2.05), timezone="Europe/Paris", place="Library, room 2")
        a_meeting = redirected_to(response, re.compile(r"/meetings/\d+"))
        await eventually(lambda: page_has(bea, remote_circle, "Chapter 3 together"), "the Event reaching B", servers)
        copy = re.search(r'href="(/posts/\d+)">Chapter 3 together', (await bea.get(remote_circle)).text)
        assert copy, (await bea.get(remote_circle)).text
        b_meeting = copy.group(1).replace("/posts/", "/meetings/")
        page = (await bea.get(b_meeting)).text
        assert "(Europe/Paris)" in page and "Library, room 2" in page

        # Bea answers Going on B: B sends a Join, A counts her and accepts.
        response = await post_form(bea, b_meeting, f"{b_meeting}/rsvp", answer="going")
        redirected_to(response, b_meeting)
        await eventually(lambda: page_has(ann, a_meeting, "1 going"), "Bea's Join counted on A", servers)
        assert ">bea</a>" in (await ann.get(a_meeting)).text
        assert "BEGIN:VEVENT" in (await ann.get("/c/readers/meetings.ics")).text

        # Not going after all: a Leave.
        response = await post_form(bea, b_meeting, f"{b_meeting}/rsvp", answer="not_going")
        redirected_to(response, b_meeting)
        await eventually(lambda: page_has(ann, a_meeting, "0 going"), "Bea's Leave counted on A", servers)

        # The circle's RSVP poll under the Event reached B too; answering it sends a vote.
        await eventually(lambda: page_has(bea, copy.group(1), 'value="Maybe"'), "the RSVP poll on B", servers)
        poll_action = re.search(r'action="(/posts/\d+/poll)"', (await bea.get(copy.group(1))).text).group(1)
        response = await post_form(bea, copy.group(1), poll_action, option="Maybe")
        assert response.status_code == 302, response.text
        response = await post_form(bea, copy.group(1), poll_action, option="Going")
        assert response.status_code == 409 and "answered this poll already" in response.text
        await eventually(lambda: page_has(ann, a_meeting, "0 going · 1 maybe"), "Bea's poll answer on A", servers)

        # Ann cancels on A: B shows the meeting cancelled.
        redirected_to(await post_form(ann, a_meeting, f"{a_meeting}/cancel", confirm="yes"), a_meeting)
        await eventually(lambda: page_has(bea, b_meeting, "This meeting is cancelled"), "the cancel reaching B", servers)

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()


async def test_a_join_the_rules_refuse_is_rejected(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    meeting = await _meeting(instance, alice, circle, capacity="1")
    await meeting_service.rsvp(alice.actor, meeting, "going")
    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await post_signed(client, "/inbox", join_of(rita, meeting.post.uri, 1), key, f"{rita}#main-key")
    await process(app)
    assert not await Rsvp.filter(actor__uri=rita).exists()
    assert (await Meeting.get(id=meeting.id)).going_count == 1
    reject = next(d.payload for d in await Delivery.all() if d.payload["type"] == "Reject")
    assert reject["actor"] == circle.actor.uri and reject["object"]["id"] == f"{rita}/join/1"
    assert not [d for d in await Delivery.all() if d.payload["type"] == "Accept" and d.payload["object"].get("type") == "Join"]


async def test_people_on_mastodon_answer_in_the_circles_rsvp_poll(app, client, instance, peer):  # noqa: F811
    from tests.integration.test_federation_governance import mastodon_vote

    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    meeting = await _meeting(instance, alice, circle)
    poll = await Post.get(root_id=meeting.post_id, author_id=circle.actor_id)

    response = await client.get(f"/posts/{poll.id}", headers={"Accept": vocab.ACTIVITY_JSON})
    question = await response.get_json()
    assert question["type"] == "Question" and question["name"] == "Coming to “Chapter 3”?"
    assert [o["name"] for o in question["oneOf"]] == ["Going", "Maybe", "Not going"]
    assert question["endTime"] == convert_iso(meeting.starts_at) and "closed" not in question
    assert question["attributedTo"] == circle.actor.uri and question["inReplyTo"] == meeting.post.uri

    # Rita votes from Mastodon: to the poll's author (the circle), no content.
    await post_signed(client, "/inbox", mastodon_vote(rita, poll.uri, circle.actor.uri, "Going", 1), key,
                      f"{rita}#main-key")
    await process(app)
    assert (await Rsvp.get(actor__uri=rita)).answer is RsvpAnswer.GOING
    await post_signed(client, "/inbox", mastodon_vote(rita, poll.uri, circle.actor.uri, "not  going", 2), key,
                      f"{rita}#main-key")
    await process(app)
    assert (await Rsvp.get(actor__uri=rita)).answer is RsvpAnswer.NOT_GOING
    counts = (await (await client.get(f"/posts/{poll.id}", headers={"Accept": vocab.ACTIVITY_JSON})).get_json())
    assert [o["replies"]["totalItems"] for o in counts["oneOf"]] == [0, 0, 1]

    # An option the poll does not have changes nothing.
    await post_signed(client, "/inbox", mastodon_vote(rita, poll.uri, circle.actor.uri, "Perhaps", 3), key,
                      f"{rita}#main-key")
    await process(app)
    assert (await InboxItem.get(activity_id=f"{rita}#votes/3/activity")).state is InboxState.IGNORED
    assert (await Rsvp.get(actor__uri=rita)).answer is RsvpAnswer.NOT_GOING
