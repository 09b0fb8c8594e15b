"""Notifications for local accounts, and each person's choice of how to hear
about each kind (on the web, by email, or not at all)."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field


class Channel(StrEnum):
    WEB = "web"  # on /notifications and in the header's unread count
    EMAIL = "email"  # that too, and by email (at once or in the digest, see Account.email_digest)
    NONE = "none"  # not at all


class Notification(Entity):
    recipient = fields.ForeignKeyField(
        "circles.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)  # one of models.services.notifications.KINDS, e.g. "post.reply"
    subject = fields.ForeignKeyField(
        "circles.Post", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    # Who caused it (the replier, the liker, the new follower), when someone did.
    actor = fields.ForeignKeyField("circles.Actor", related_name="caused_notifications", null=True,
                                   on_delete=fields.CASCADE)
    circle = fields.ForeignKeyField("circles.Circle", related_name="notifications", null=True,
                                    on_delete=fields.CASCADE)
    # English text, kept for kinds the page cannot write again and for old rows;
    # the page writes known kinds in the reader's language from `params`.
    text = fields.CharField(max_length=500)
    params = fields.JSONField(default=dict)
    url = url_field(default="")  # a local path such as /meetings/123
    # Unread notifications with the same key show as one line ("3 new answers to …").
    group_key = fields.CharField(max_length=200, default="")
    read_at = fields.DatetimeField(null=True)
    # Set when its email went out, alone or in a digest (null: not yet, or never wanted).
    emailed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        # A person's notifications newest first, a page at a time (recipient_id, id).
        indexes = (("recipient_id", "read_at"), ("recipient_id", "emailed_at"), ("recipient_id", "id"))


class NotificationPreference(Entity):
    # One row per person and kind they changed; a kind without a row uses the default channel.
    account = fields.ForeignKeyField("circles.Account", related_name="notification_preferences",
                                     on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=32)
    channel = fields.CharEnumField(Channel, max_length=8)

    class Meta:
        table = "notification_preferences"
        unique_together = (("account", "kind"),)
