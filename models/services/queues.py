"""How much federation work waits: the inbox, the fan-out of local changes,
the deliveries, and the remote hosts that keep failing (for `circles status`).
A fixed number of queries, whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.federation import Delivery, DeliveryState, InboxItem, InboxState, OutboxEvent, RemoteHost


@dataclass(frozen=True)
class QueueDepths:
    inbox_queued: int  # activities received, not yet processed
    inbox_failed: int  # activities whose processing failed
    fanout_pending: int  # local changes (outbox events) not yet turned into deliveries
    deliveries_pending: int  # waiting to be sent, retries included
    deliveries_retrying: int  # of those, tried at least once and failed so far
    deliveries_failed: int  # given up (the retry window passed, or refused for good)
    oldest_pending_delivery: dt.datetime | None  # when the oldest pending one was queued


@dataclass(frozen=True)
class FailingHost:
    host: str
    consecutive_failures: int
    paused_until: dt.datetime | None
    last_success_at: dt.datetime | None
    blocked: bool


async def depths() -> QueueDepths:
    """Seven counts, each one query."""
    pending = Delivery.filter(state=DeliveryState.PENDING)
    oldest = await pending.order_by("created_at").limit(1).values_list("created_at", flat=True)
    return QueueDepths(
        inbox_queued=await InboxItem.filter(state=InboxState.QUEUED).count(),
        inbox_failed=await InboxItem.filter(state=InboxState.FAILED).count(),
        fanout_pending=await OutboxEvent.filter(processed_at=None).count(),
        deliveries_pending=await pending.count(),
        deliveries_retrying=await pending.filter(attempts__gt=0).count(),
        deliveries_failed=await Delivery.filter(state=DeliveryState.FAILED).count(),
        oldest_pending_delivery=oldest[0] if oldest else None,
    )


async def failing_hosts(limit: int = 10) -> tuple[int, list[FailingHost]]:
    """How many remote hosts failed their latest deliveries, and the `limit`
    with the most failures in a row (most first, then by name). Two queries."""
    failing = RemoteHost.filter(consecutive_failures__gt=0)
    rows = await failing.order_by("-consecutive_failures", "host").limit(limit).values(
        "host", "consecutive_failures", "paused_until", "last_success_at", "blocked_at"
    )
    hosts = [
        FailingHost(row["host"], row["consecutive_failures"], row["paused_until"], row["last_success_at"],
                    row["blocked_at"] is not None)
        for row in rows
    ]
    return await failing.count(), hosts
