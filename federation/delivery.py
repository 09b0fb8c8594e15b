"""Delivering activities: claim due Delivery rows, sign, POST, and retry with
exponential backoff and jitter for about three days. Hosts that keep failing
are paused (their deliveries wait), never dropped early."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random

from tortoise.transactions import in_transaction

from federation import keys
from federation.fetch import BlockedAddress, FetchError, UnsafeURL, post_json
from federation.runtime import Federation
from models import clock
from models.federation import Delivery, DeliveryState, RemoteHost
from models.services import moderation

log = logging.getLogger(__name__)

GIVE_UP_AFTER = dt.timedelta(days=3)
FIRST_RETRY = dt.timedelta(seconds=30)
MAX_RETRY = dt.timedelta(hours=12)
PAUSE_AFTER_FAILURES = 5
PER_HOST_CONCURRENCY = 2
WAIT_BEHIND_SENDING = dt.timedelta(seconds=3)  # a row behind an older one of its sender's looks again this soon
SIGNATURE_REJECTED = {400, 401}
# 401 is retried: a host that cannot fetch our key right now may well later.
RETRYABLE_STATUSES = {401, 408, 425, 429}


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try: doubling from 30 s up to 12 h, with ±50% jitter."""
    # Clamp the exponent: 2**11 already passes the cap, and a host's failure
    # count (which drives its pause) grows without bound, so 30 s * 2**n overflows.
    base = min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16)), MAX_RETRY)
    return base * random.uniform(0.5, 1.5)


async def claim_due(limit: int, lease: dt.timedelta) -> list[Delivery]:
    """Rows due now, leased to this worker (invisible to the others for
    `lease`). On PostgreSQL concurrent workers skip each other's locked rows,
    so no row is delivered twice."""
    now = clock.now()
    async with in_transaction():
        rows = await (
            Delivery.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        if rows:
            await Delivery.filter(id__in=[r.id for r in rows]).update(next_attempt_at=now + lease)
            for row in rows:
                row.next_attempt_at = now + lease
    return rows


async def _renew_lease(row: Delivery, lease: dt.timedelta) -> bool:
    """Just before sending: extend this worker's lease on the row, unless it ran
    out while the row waited its turn (a slow host) and another worker claimed it."""
    leased_until = clock.now() + lease
    renewed = await Delivery.filter(
        id=row.id, state=DeliveryState.PENDING, next_attempt_at=row.next_attempt_at
    ).update(next_attempt_at=leased_until)
    row.next_attempt_at = leased_until
    return renewed == 1


async def deliver_due(fed: Federation, *, limit: int = 50) -> int:
    rows = await claim_due(limit, fed.lease)
    by_host: dict[str, list[Delivery]] = {}
    for row in rows:
        by_host.setdefault(row.host, []).append(row)
    await asyncio.gather(*(_deliver_host(fed, host, batch) for host, batch in by_host.items()))
    return len(rows)


async def _deliver_host(fed: Federation, host: str, batch: list[Delivery]) -> None:
    remote_host, _ = await RemoteHost.get_or_create(host=host)
    if await moderation.is_blocked(host):  # an admin blocked the domain after these were queued
        await Delivery.filter(id__in=[d.id for d in batch]).update(
            state=DeliveryState.FAILED, last_error="The domain is blocked by an admin."
        )
        return
    if remote_host.paused_until and remote_host.paused_until > clock.now():
        await Delivery.filter(id__in=[d.id for d in batch]).update(next_attempt_at=remote_host.paused_until)
        return
    limit = asyncio.Semaphore(PER_HOST_CONCURRENCY)
    # One sender's activities reach one inbox in the order they were made (a
    # Create before its Update): each (signer, inbox) is sent one at a time, in
    # id order, and waits behind an older row of its own that is not yet due.
    in_order: dict[tuple[int, str], list[Delivery]] = {}
    for row in sorted(batch, key=lambda r: r.id):
        in_order.setdefault((row.signer_id, row.inbox_url), []).append(row)

    async def in_turn(rows: list[Delivery]) -> None:
        async with limit:
            first = rows[0]
            older = await Delivery.filter(
                signer_id=first.signer_id, inbox_url=first.inbox_url, state=DeliveryState.PENDING, id__lt=first.id
            ).order_by("id").first()
            if older is not None:
                # Its time may be another worker's lease (it is being sent now):
                # look again soon rather than a whole lease later.
                await _wait_behind(rows, min(older.next_attempt_at, clock.now() + WAIT_BEHIND_SENDING))
                return
            for index, row in enumerate(rows):
                if not await _renew_lease(row, fed.lease):
                    return
                await deliver_one(fed, row, remote_host)
                if row.state is DeliveryState.PENDING:  # to try again later: the rest waits behind it
                    await _wait_behind(rows[index + 1:], row.next_attempt_at)
                    return

    await asyncio.gather(*(in_turn(rows) for rows in in_order.values()))


async def _wait_behind(rows: list[Delivery], when: dt.datetime) -> None:
    """Put rows back to be tried just after `when`, when the row ahead of them is due."""
    if rows:
        await Delivery.filter(id__in=[r.id for r in rows], state=DeliveryState.PENDING).update(
            next_attempt_at=when + dt.timedelta(seconds=1)
        )


async def _post(fed: Federation, row: Delivery, body: bytes, scheme: str):
    signer = await row.signer
    return await post_json(fed.client, row.inbox_url, body, sign=await keys.signer_for(signer, scheme=scheme))


async def deliver_one(fed: Federation, row: Delivery, host: RemoteHost) -> None:
    body = json.dumps(row.payload, separators=(",", ":")).encode()
    row.attempts += 1
    try:
        # RFC 9421 first, then draft-cavage once if the host refuses it ("double knock").
        scheme = host.signature_scheme or "rfc9421"
        result = await _post(fed, row, body, scheme)
        if result.status in SIGNATURE_REJECTED and host.signature_scheme is None:
            scheme = "cavage"
            result = await _post(fed, row, body, scheme)
        status, error = result.status, f"HTTP {result.status}: {result.text[:200]}"
    except (BlockedAddress, UnsafeURL) as refused:
        # The inbox is on a private address or is no http(s) URL: never deliverable.
        row.state, row.last_error = DeliveryState.FAILED, str(refused)
        await row.save(update_fields=["state", "attempts", "last_error"])
        return
    except FetchError as failure:
        scheme, status, error = None, None, str(failure)
    except Exception as crash:  # worker loop: record it on the row and retry later
        log.exception("delivery %s failed", row.activity_id, extra={"activity_id": row.activity_id})
        scheme, status, error = None, None, f"{type(crash).__name__}: {crash}"
    await _record(row, host, status, error, scheme)


async def _record(row: Delivery, host: RemoteHost, status: int | None, error: str, scheme: str | None) -> None:
    now = clock.now()
    if status is not None and 200 <= status < 300:
        row.state, row.delivered_at, row.last_error = DeliveryState.DELIVERED, now, ""
        host.signature_scheme = host.signature_scheme or scheme
        host.consecutive_failures, host.paused_until, host.last_success_at = 0, None, now
    elif status == 410:
        row.state, row.last_error = DeliveryState.GONE, error
    elif status is not None and 400 <= status < 500 and status not in RETRYABLE_STATUSES:
        row.state, row.last_error = DeliveryState.FAILED, error  # the inbox refuses this activity for good
    else:
        row.last_error = error
        host.consecutive_failures += 1
        if host.consecutive_failures >= PAUSE_AFTER_FAILURES:
            host.paused_until = now + backoff(host.consecutive_failures - PAUSE_AFTER_FAILURES + 1)
        if now - row.created_at > GIVE_UP_AFTER:
            row.state = DeliveryState.FAILED
        else:
            row.next_attempt_at = max(now + backoff(row.attempts), host.paused_until or now)
    log.info("delivery %s to %s: %s", row.activity_id, row.inbox_url, row.state.value,
             extra={"activity_id": row.activity_id, "remote_host": row.host})
    await row.save(update_fields=["state", "attempts", "next_attempt_at", "last_error", "delivered_at"])
    if row.state is DeliveryState.GONE:
        # The actor behind this inbox is gone for good (Mastodon answers 410 for a
        # deleted account): nothing else waiting for it will arrive either.
        await Delivery.filter(inbox_url=row.inbox_url, state=DeliveryState.PENDING).update(
            state=DeliveryState.GONE, last_error=f"An earlier delivery to this inbox got {error[:200]}"
        )
    await host.save(update_fields=["signature_scheme", "consecutive_failures", "paused_until", "last_success_at"])
