"""Bookmarks: posts a person keeps to read again, private to them (the
client API's /api/v1/bookmarks; Mastodon's `Bookmark`)."""

from __future__ import annotations

from tortoise import fields

from models.base import Entity


class Bookmark(Entity):
    # One per account and post; its id orders the list (newest bookmark first).
    account = fields.ForeignKeyField("circles.Account", related_name="bookmarks", on_delete=fields.CASCADE)
    post = fields.ForeignKeyField("circles.Post", related_name="bookmarks", on_delete=fields.CASCADE)

    class Meta:
        table = "bookmarks"
        unique_together = (("account", "post"),)
