"""Durable federation state: what arrived (InboxItem), what happened locally
that must go out (OutboxEvent), each outgoing POST (Delivery), and what we
know of each remote host."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models import live, tracing
from models.base import Entity, url_field


class InboxState(StrEnum):
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"
    IGNORED = "ignored"


INBOX_TRANSITIONS: dict[InboxState, set[InboxState]] = {
    InboxState.QUEUED: {InboxState.DONE, InboxState.FAILED, InboxState.IGNORED},
    InboxState.FAILED: {InboxState.QUEUED},
    InboxState.DONE: set(),
    InboxState.IGNORED: set(),
}


class InboxItem(Entity):
    activity_id = url_field(unique=True)
    actor_uri = url_field()
    activity_type = fields.CharField(max_length=64)
    payload = fields.JSONField()
    signature_key_id = url_field(null=True)
    signature_fingerprint = fields.CharField(max_length=64, null=True)  # sha-256 of the signature, to spot replays
    state = fields.CharEnumField(InboxState, max_length=16, default=InboxState.QUEUED)
    attempts = fields.IntField(default=0)
    error = fields.TextField(default="")
    processed_at = fields.DatetimeField(null=True)
    # A worker's claim: other workers skip the row until then (a crashed
    # worker's rows are picked up again when it passes).
    claimed_until = fields.DatetimeField(null=True)
    # The request that received it (models/tracing.py): its processing logs under the same id.
    request_id = fields.CharField(max_length=tracing.MAX_LENGTH, null=True, default=tracing.current)

    class Meta:
        table = "inbox_items"
        indexes = (("state", "created_at"),)


class OutboxEvent(Entity):
    # A local change that must federate, written in the same transaction as the change.

    kind = fields.CharField(max_length=64)  # e.g. "post.created"
    subject_id = fields.BigIntField()
    data = fields.JSONField(default=dict)
    processed_at = fields.DatetimeField(null=True, db_index=True)
    # The web request, or the received activity's, that caused it (models/tracing.py).
    request_id = fields.CharField(max_length=tracing.MAX_LENGTH, null=True, default=tracing.current)

    class Meta:
        table = "outbox_events"

    async def save(self, *args, **kwargs) -> None:
        new = not self._saved_in_db
        await super().save(*args, **kwargs)
        if new:  # a worker starts on it now, not at its next look (models/live.py, WORK)
            await live.announce(live.WORK)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the retry window
    GONE = "gone"  # the inbox answered 410


DELIVERY_TRANSITIONS: dict[DeliveryState, set[DeliveryState]] = {
    DeliveryState.PENDING: {DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.GONE},
    DeliveryState.FAILED: {DeliveryState.PENDING},
    DeliveryState.DELIVERED: set(),
    DeliveryState.GONE: set(),
}


class Delivery(Entity):
    event = fields.ForeignKeyField(
        "circles.OutboxEvent", related_name="deliveries", null=True, on_delete=fields.SET_NULL
    )
    activity_id = url_field()
    signer = fields.ForeignKeyField("circles.Actor", related_name="deliveries", on_delete=fields.CASCADE)
    inbox_url = url_field()
    host = fields.CharField(max_length=255, db_index=True)
    payload = fields.JSONField()
    state = fields.CharEnumField(DeliveryState, max_length=16, default=DeliveryState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(default="")
    delivered_at = fields.DatetimeField(null=True)
    request_id = fields.CharField(max_length=tracing.MAX_LENGTH, null=True)  # its event's (federation/fanout.py)

    class Meta:
        table = "deliveries"
        unique_together = (("activity_id", "inbox_url"),)
        # the second: a sender's older rows to the same inbox (delivery.py), inboxes gone (410)
        indexes = (("state", "next_attempt_at"), ("inbox_url", "state"))


class RemoteHost(Entity):
    host = fields.CharField(max_length=255, unique=True)
    signature_scheme = fields.CharField(max_length=16, null=True)  # "rfc9421" or "cavage"
    software = fields.CharField(max_length=64, null=True)  # from NodeInfo
    software_checked_at = fields.DatetimeField(null=True)  # when NodeInfo was last asked
    software_recheck_at = fields.DatetimeField(null=True)  # when to ask again (sooner after a failure)
    software_failures = fields.IntField(default=0)  # NodeInfo lookups failed in a row
    consecutive_failures = fields.IntField(default=0)
    paused_until = fields.DatetimeField(null=True)
    last_success_at = fields.DatetimeField(null=True)
    # An admin's domain block: its inbox activities are refused (403), nothing
    # is delivered to it, and its actors' content is hidden.
    blocked_at = fields.DatetimeField(null=True)
    block_reason = fields.TextField(default="")

    class Meta:
        table = "remote_hosts"
