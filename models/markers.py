"""Where a person stopped reading a timeline in their apps (Mastodon's
markers, https://docs.joinmastodon.org/entities/Marker/), so that another app
of theirs starts there. The notifications marker follows the web's own read
state too (web/mastodon/markers.py)."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Marker(Entity):
    account = fields.ForeignKeyField("circles.Account", related_name="markers", on_delete=fields.CASCADE)
    timeline = fields.CharField(max_length=16)  # "home" or "notifications"
    last_read_id = fields.BigIntField()
    version = fields.IntField(default=0)  # how many times it was set: apps compare it
    updated_at = fields.DatetimeField()

    class Meta:
        table = "markers"
        unique_together = (("account", "timeline"),)
