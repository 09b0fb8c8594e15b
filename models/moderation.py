"""Reports (from the report form and from incoming Flag activities) and the
moderation log each circle shows its members."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field


class ReportCategory(StrEnum):
    SPAM = "spam"
    HARASSMENT = "harassment"  # abuse, threats, hate
    UNSAFE = "unsafe"  # sexual or violent content, self-harm, someone in danger
    RULES = "rules"  # breaks the circle's rules
    OTHER = "other"


class ReportState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # something was done
    DISMISSED = "dismissed"  # looked at, nothing to do


REPORT_TRANSITIONS: dict[ReportState, set[ReportState]] = {
    ReportState.OPEN: {ReportState.RESOLVED, ReportState.DISMISSED},
    ReportState.RESOLVED: set(),
    ReportState.DISMISSED: set(),
}


class Report(Entity):
    reporter = fields.ForeignKeyField("circles.Actor", related_name="reports_made", on_delete=fields.CASCADE)
    # What was reported: an actor and/or posts, by id as the reporter sent them.
    target_actor = fields.ForeignKeyField(
        "circles.Actor", related_name="reports_received", null=True, on_delete=fields.CASCADE
    )
    object_uris = fields.JSONField(default=list)
    comment = fields.TextField(default="")
    uri = url_field(null=True, unique=True)  # the Flag activity's id
    resolved_at = fields.DatetimeField(null=True)
    # The circle whose stewards see it (a post in it, a member of it); null:
    # for the instance's admins only (admins see every report).
    circle = fields.ForeignKeyField("circles.Circle", related_name="reports", null=True, on_delete=fields.CASCADE)
    post = fields.ForeignKeyField("circles.Post", related_name="reports", null=True, on_delete=fields.SET_NULL)
    category = fields.CharEnumField(ReportCategory, max_length=16, default=ReportCategory.OTHER)
    state = fields.CharEnumField(ReportState, max_length=16, default=ReportState.OPEN)
    resolved_by = fields.ForeignKeyField(
        "circles.Actor", related_name="reports_resolved", null=True, on_delete=fields.SET_NULL
    )
    resolution_note = fields.TextField(default="")
    forwarded = fields.BooleanField(default=False)  # also sent as a Flag to the reported one's server

    class Meta:
        table = "reports"
        indexes = (("state", "circle_id"),)


class ModerationKind(StrEnum):
    REMOVE_POST = "remove_post"
    BAN = "ban"
    UNBAN = "unban"
    RESOLVE_REPORT = "resolve_report"
    DISMISS_REPORT = "dismiss_report"
    GIVE_MODERATOR = "give_moderator"
    TAKE_MODERATOR = "take_moderator"


class ModerationAction(Entity):
    # One line of a circle's moderation log, shown to all its members: what
    # was done, by whom, why. It never names who reported.
    circle = fields.ForeignKeyField("circles.Circle", related_name="moderation_log", on_delete=fields.CASCADE)
    moderator = fields.ForeignKeyField("circles.Actor", related_name="moderation_actions", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(ModerationKind, max_length=16)
    target_actor = fields.ForeignKeyField(
        "circles.Actor", related_name="moderation_received", null=True, on_delete=fields.SET_NULL
    )
    post = fields.ForeignKeyField("circles.Post", related_name="moderation_actions", null=True, on_delete=fields.SET_NULL)
    reason = fields.TextField(default="")

    class Meta:
        table = "moderation_actions"
        indexes = (("circle_id", "created_at"),)
