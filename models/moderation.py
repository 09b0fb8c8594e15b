"""Reports (Flag activities and, later, the report form) for moderators."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity, url_field


class Report(Entity):
    reporter = fields.ForeignKeyField("circles.Actor", related_name="reports_made", on_delete=fields.CASCADE)
    # What was reported: a local actor and/or posts, by id as the reporter sent them.
    target_actor = fields.ForeignKeyField(
        "circles.Actor", related_name="reports_received", null=True, on_delete=fields.CASCADE
    )
    object_uris = fields.JSONField(default=list)
    comment = fields.TextField(default="")
    uri = url_field(null=True, unique=True)  # the Flag activity's id
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reports"
