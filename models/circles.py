"""Circles (each a Group actor) and memberships."""

from __future__ import annotations

import zoneinfo
from enum import StrEnum

from tortoise import fields

from models.base import Entity


class JoinMode(StrEnum):
    OPEN = "open"  # anyone joins at once
    APPROVAL = "approval"  # a facilitator approves each request
    INVITE = "invite"  # only people a facilitator invites


class Visibility(StrEnum):
    # Who can read what the circle says (its posts, questions, resources,
    # meetings, shared reflections, members and dashboard). Its profile
    # (name, purpose, rules) is public either way.
    PUBLIC = "public"  # anyone on the web and the fediverse
    MEMBERS = "members"  # signed-in active members only; federated to followers, never Public


class Circle(Entity):
    actor = fields.OneToOneField("circles.Actor", related_name="circle", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    purpose = fields.TextField(default="")  # Markdown source
    rules = fields.TextField(default="")  # Markdown source
    join_mode = fields.CharEnumField(JoinMode, max_length=16, default=JoinMode.OPEN)
    # Chosen at creation; afterwards changed only by a passed proposal.
    visibility = fields.CharEnumField(Visibility, max_length=16, default=Visibility.PUBLIC)
    language = fields.CharField(max_length=16, default="en")
    location = fields.CharField(max_length=120, default="")
    # models.text.fold(location), for the directory; db_default so a table with rows can gain the column
    location_folded = fields.CharField(max_length=255, default="", db_default="")
    timezone = fields.CharField(max_length=64, default="UTC")
    meeting_cadence = fields.CharField(max_length=120, default="")  # e.g. "Tuesdays 18:00, fortnightly"
    size_limit = fields.IntField(null=True)  # most active members; null: no limit
    # Once the members adopt their charter, its rules change only through a
    # passed proposal (models/services/governance.py), never by one steward.
    charter_adopted_at = fields.DatetimeField(null=True)
    member_count = fields.IntField(default=0)  # active members; kept by the membership service
    post_count = fields.IntField(default=0)  # top-level posts; kept by the post service
    created_by = fields.ForeignKeyField(
        "circles.Account", related_name="circles_created", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "circles"

    @property
    def handle(self) -> str:
        """The name in URLs: `name` here, `name@domain` for a circle elsewhere."""
        return self.actor.username if self.actor.local else f"{self.actor.username}@{self.actor.domain}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The circle's time zone; UTC when its name is unknown here."""
        try:
            return zoneinfo.ZoneInfo(self.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def members_only(self) -> bool:
        return self.visibility is Visibility.MEMBERS

    @property
    def is_full(self) -> bool:
        """No room for another active member under the circle's size limit."""
        return self.size_limit is not None and self.member_count >= self.size_limit


class CircleTopic(Entity):
    # A topic (hashtag) of a circle, lowercase without '#', for the directory filter.
    circle = fields.ForeignKeyField("circles.Circle", related_name="topics", on_delete=fields.CASCADE)
    tag = fields.CharField(max_length=40, db_index=True)

    class Meta:
        table = "circle_topics"
        unique_together = (("circle", "tag"),)


class Role(StrEnum):
    FACILITATOR = "facilitator"
    MODERATOR = "moderator"
    MEMBER = "member"


class MembershipState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    BANNED = "banned"


# Allowed state changes; leaving or rejecting deletes the row instead.
MEMBERSHIP_TRANSITIONS: dict[MembershipState, set[MembershipState]] = {
    MembershipState.PENDING: {MembershipState.ACTIVE, MembershipState.BANNED},
    MembershipState.ACTIVE: {MembershipState.BANNED},
    MembershipState.BANNED: {MembershipState.ACTIVE},
}


class Membership(Entity):
    circle = fields.ForeignKeyField(
        "circles.Circle", related_name="memberships", on_delete=fields.CASCADE
    )
    actor = fields.ForeignKeyField(
        "circles.Actor", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(Role, max_length=16, default=Role.MEMBER)
    state = fields.CharEnumField(MembershipState, max_length=16, default=MembershipState.PENDING)
    request_text = fields.TextField(default="")  # what the person wrote when asking to join
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "memberships"
        unique_together = (("circle", "actor"),)
        # A person's circles (every "circles I may read" filter), newest first; a circle's
        # members in the order they joined, a page at a time.
        indexes = (("actor_id", "id"), ("circle_id", "state", "id"))
