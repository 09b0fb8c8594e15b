"""Meetings as Mobilizon-style Events, both directions."""

import datetime as dt

from federation import convert, parse
from models.actors import Actor, ActorKind
from models.meetings import Meeting
from models.posts import Post, PostKind
from tests.conftest import corpus_json

UTC = dt.timezone.utc


def _shapes(**meeting_fields):
    author = Actor(uri="https://circles.test/users/alice", kind=ActorKind.PERSON, username="alice", domain="circles.test")
    group = Actor(uri="https://circles.test/c/readers", kind=ActorKind.GROUP, username="readers", domain="circles.test",
                  followers_url="https://circles.test/c/readers/followers")
    post = Post(id=7, uri="https://circles.test/posts/7", title="Chapter 3", content="<p>Read it</p>", source="Read it",
                kind=PostKind.MEETING, language="en", published_at=dt.datetime(2026, 11, 26, 12, tzinfo=UTC))
    values = dict(starts_at=dt.datetime(2026, 12, 1, 17, 30, tzinfo=UTC), ends_at=dt.datetime(2026, 12, 1, 19, tzinfo=UTC),
                  timezone="Europe/Paris", place="Library", online_url="https://meet.example/x", capacity=None,
                  going_count=3, maybe_count=1, cancelled_at=None, updated_at=None)
    return post, Meeting(**(values | meeting_fields)), author, group


def test_a_meeting_renders_as_a_mobilizon_event():
    post, meeting, author, group = _shapes()
    event = convert.post_to_as(post, author=author, circle_actor=group, parent_uri=None, meeting=meeting)
    assert event["type"] == "Event" and event["id"] == post.uri and event["name"] == "Chapter 3"
    assert event["content"] == "<p>Read it</p>" and event["attributedTo"] == author.uri
    assert (event["startTime"], event["endTime"]) == ("2026-12-01T17:30:00Z", "2026-12-01T19:00:00Z")
    assert event["timezone"] == "Europe/Paris"
    assert event["location"] == {"type": "Place", "name": "Library"}
    assert event["attachment"] == [{"type": "Link", "name": "Website", "mediaType": "text/html", "href": "https://meet.example/x"}]
    assert event["joinMode"] == "free" and event["anonymousParticipationEnabled"] is False
    assert event["participantCount"] == 3 and event["ical:status"] == "CONFIRMED"
    assert event["audience"] == group.uri and group.uri in event["to"]
    create = convert.post_to_create(post, author=author, circle_actor=group, parent_uri=None, meeting=meeting)
    assert create["type"] == "Create" and create["object"]["type"] == "Event"


def test_a_cancelled_meeting_with_no_place_or_link():
    post, meeting, author, group = _shapes(place="", online_url=None, capacity=5,
                                           cancelled_at=dt.datetime(2026, 11, 27, tzinfo=UTC))
    event = convert.meeting_to_as(post, meeting, author=author, circle_actor=group)
    assert event["ical:status"] == "CANCELLED" and "location" not in event and "attachment" not in event
    assert event["maximumAttendeeCapacity"] == 5 and event["remainingAttendeeCapacity"] == 2


def test_our_event_reads_back_as_a_meeting():
    post, meeting, author, group = _shapes()
    event = convert.meeting_to_as(post, meeting, author=author, circle_actor=group)
    data = parse.as_to_post_input(event, local_circle_uris=set())
    assert data.kind is PostKind.MEETING and data.title == "Chapter 3"
    assert data.meeting.starts_at == meeting.starts_at and data.meeting.ends_at == meeting.ends_at
    assert (data.meeting.timezone, data.meeting.place, data.meeting.online_url) == (
        "Europe/Paris", "Library", "https://meet.example/x")


def test_a_real_mobilizon_event_reads_as_a_meeting():
    doc = corpus_json("mobilizon/objects_event.json")
    doc["attributedTo"] = doc["actor"]  # the organiser (the group lives on the same host)
    data = parse.as_to_post_input(doc, local_circle_uris=set())
    assert data.kind is PostKind.MEETING and data.title == "Caledonian scottish dance class"
    assert data.meeting.starts_at == dt.datetime(2022, 12, 11, 19, tzinfo=UTC)
    assert data.meeting.timezone == "Europe/London" and data.meeting.place == "The Kenn Centre"
    assert data.meeting.online_url is None  # its attachment is a banner image, not a Link


def test_hostile_event_fields_are_bounded_or_dropped():
    post, meeting, author, group = _shapes()
    event = convert.meeting_to_as(post, meeting, author=author, circle_actor=group)
    event |= {"timezone": "Not/AZone", "endTime": "2027-06-01T00:00:00Z", "location": {"name": "x" * 5000},
              "attachment": [{"type": "Link", "href": "javascript:alert(1)"}]}
    data = parse.as_to_post_input(event, local_circle_uris=set())
    assert data.meeting.timezone == "UTC" and len(data.meeting.place) == 200 and data.meeting.online_url is None
    assert data.meeting.ends_at - data.meeting.starts_at == parse.EVENT_LONGEST
    no_start = parse.as_to_post_input({**event, "startTime": "soon"}, local_circle_uris=set())
    assert no_start.meeting is None and no_start.kind is PostKind.DISCUSSION
