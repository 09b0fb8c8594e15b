"""Meetings (study sessions): a post of kind MEETING plus when and where, and
who answered Going / Maybe / Not going."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field


class Meeting(Entity):
    # One-to-one with its Post (title and agenda), so it threads and federates like a post.
    post = fields.OneToOneField("circles.Post", related_name="meeting", on_delete=fields.CASCADE)
    circle = fields.ForeignKeyField("circles.Circle", related_name="meetings", on_delete=fields.CASCADE)
    starts_at = fields.DatetimeField(db_index=True)  # UTC
    ends_at = fields.DatetimeField(db_index=True)  # UTC
    timezone = fields.CharField(max_length=64, default="UTC")  # IANA name the times were typed in
    place = fields.CharField(max_length=200, default="")
    online_url = url_field(null=True)  # http(s) only
    capacity = fields.IntField(null=True)  # most people "going"; null: no limit
    # Kept by the RSVP service, so listings and the Event's participantCount need no count query.
    going_count = fields.IntField(default=0)
    maybe_count = fields.IntField(default=0)
    cancelled_at = fields.DatetimeField(null=True)
    reflection_prompted_at = fields.DatetimeField(null=True)  # the "how did it go" prompt went out
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "meetings"
        indexes = (("circle_id", "starts_at"),)


class RsvpAnswer(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not_going"


ATTENDING = (RsvpAnswer.GOING, RsvpAnswer.MAYBE)  # the answers of those who hear of changes and reminders


class Rsvp(Entity):
    # One answer per person and meeting; a new answer replaces the old one.
    meeting = fields.ForeignKeyField("circles.Meeting", related_name="rsvps", on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("circles.Actor", related_name="rsvps", on_delete=fields.CASCADE)
    answer = fields.CharEnumField(RsvpAnswer, max_length=16)
    uri = url_field(null=True)  # the remote Join/Leave activity's id, for remote people
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rsvps"
        unique_together = (("meeting", "actor"),)


class MeetingReminder(Entity):
    # One reminder sent to one person, `lead_minutes` before the start; the
    # unique key keeps it from going out twice. Moving the meeting deletes them.
    meeting = fields.ForeignKeyField("circles.Meeting", related_name="reminders", on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("circles.Actor", related_name="meeting_reminders", on_delete=fields.CASCADE)
    lead_minutes = fields.IntField()

    class Meta:
        table = "meeting_reminders"
        unique_together = (("meeting", "actor", "lead_minutes"),)


class CalendarFeed(Entity):
    # A secret link to a person's meetings as iCalendar, for calendar apps
    # (which carry no session cookie). Only the token's SHA-256 is kept.
    account = fields.OneToOneField("circles.Account", related_name="calendar_feed", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64)

    class Meta:
        table = "calendar_feeds"
