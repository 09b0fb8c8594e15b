"""The outbox of email: each message is a row written in the transaction of
what caused it, and sent later by the worker (server/mail.py), so nothing is
lost while the SMTP server is down and nothing goes out twice."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class EmailState(StrEnum):
    PENDING = "pending"  # waiting for its turn or for a retry (next_attempt_at)
    SENT = "sent"
    FAILED = "failed"  # gave up: refused for good, or too many attempts


class OutgoingEmail(Entity):
    account = fields.ForeignKeyField("circles.Account", related_name="emails", null=True, on_delete=fields.CASCADE)
    to_address = fields.CharField(max_length=254)
    # Which template writes it (e.g. "password_reset", "notification", "digest",
    # "meeting_reminder") and what the template needs; written at send time in
    # `language`, so the row holds no rendered text.
    template = fields.CharField(max_length=32)
    params = fields.JSONField(default=dict)
    language = fields.CharField(max_length=16, default="")
    state = fields.CharEnumField(EmailState, max_length=16, default=EmailState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)  # a worker's claim (lease), like Delivery
    last_error = fields.CharField(max_length=500, default="")
    sent_at = fields.DatetimeField(null=True)
    message_id = fields.CharField(max_length=200, default="")  # the Message-ID header, fixed before the first try

    class Meta:
        table = "outgoing_emails"
        indexes = (("state", "next_attempt_at"),)
