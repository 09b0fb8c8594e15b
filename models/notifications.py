"""Notifications for local accounts: small and generic, shown on /notifications."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity, url_field


class Notification(Entity):
    recipient = fields.ForeignKeyField(
        "circles.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)  # e.g. "meeting.reminder"
    subject = fields.ForeignKeyField(
        "circles.Post", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    text = fields.CharField(max_length=500)
    url = url_field(default="")  # a local path such as /meetings/123
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        indexes = (("recipient_id", "read_at"),)
