"""Delivering activities: claim due Delivery rows, sign, POST, and retry with
exponential backoff and jitter for about three days. Hosts that keep failing
are paused (their deliveries wait), never dropped early."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
from dataclasses import dataclass, field

from tortoise.expressions import F
from tortoise.functions import Min
from tortoise.transactions import in_transaction

from federation import keys, metrics
from federation.fetch import BlockedAddress, FetchError, UnsafeURL, post_json
from federation.runtime import Federation
from models import clock, tracing
from models.actors import ActorKey
from models.errors import NotFound
from models.federation import Delivery, DeliveryState, RemoteHost
from models.services import actors as actor_service
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


# A claimed row's fields but its payload, which is the same for every row of
# an activity: a pass reads and encodes it once (Pass.bodies), not per row.
CLAIMED_FIELDS = ("id", "event_id", "activity_id", "signer_id", "inbox_url", "host", "state", "attempts",
                  "next_attempt_at", "last_error", "delivered_at", "request_id", "created_at")


async def claim_due(limit: int, lease: dt.timedelta) -> list[Delivery]:
    """Rows due now, leased to this worker (invisible to the others for
    `lease`), without their payload (`_bodies`). On PostgreSQL concurrent
    workers skip each other's locked rows, so no row is delivered twice."""
    now = clock.now()
    async with in_transaction():
        rows = await (
            Delivery.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
            .only(*CLAIMED_FIELDS)
        )
        if rows:
            await Delivery.filter(id__in=[r.id for r in rows]).update(next_attempt_at=now + lease)
            for row in rows:
                row.next_attempt_at = now + lease
    return rows


async def _renew_lease(batch: Pass, row: Delivery) -> bool:
    """Just before sending: when less than half this worker's lease on the row
    is left (it waited its turn behind a slow host), extend it, unless it ran
    out and another worker claimed the row. With more left no other worker
    can have claimed it, and a send (even knocking twice) ends well within it:
    no statement."""
    now, lease = clock.now(), batch.fed.lease
    if row.next_attempt_at - now > lease / 2:
        return True
    leased_until = now + lease
    renewed = await Delivery.filter(
        id=row.id, state=DeliveryState.PENDING, next_attempt_at=row.next_attempt_at
    ).update(next_attempt_at=leased_until)
    row.next_attempt_at = leased_until
    return renewed == 1


@dataclass
class Pass:
    """What one pass over a batch of claimed rows reads once: the hosts (with
    blocks), each sender's signer, the oldest row still pending of each
    (sender, inbox); and what it writes together: the rows delivered, and how
    each host fared."""

    fed: Federation
    hosts: dict[str, RemoteHost]
    blocked: set[str]
    keys: dict[int, ActorKey]
    oldest: dict[tuple[int, str], int]
    bodies: dict[str, bytes]  # by activity id: what is POSTed
    signers: dict[tuple[int, str], object] = field(default_factory=dict)
    outcomes: list[HostOutcome] = field(default_factory=list)
    _delivered: list[int] = field(default_factory=list)
    _recording: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    async def load(cls, fed: Federation, rows: list[Delivery]) -> Pass:
        names = {row.host for row in rows}
        return cls(fed, await _remote_hosts(names), await moderation.blocked_among(names),
                   await actor_service.signing_keys(sorted({row.signer_id for row in rows})), await _oldest(rows),
                   await _bodies(rows))

    def signer(self, row: Delivery, scheme: str):
        """The signing callable for this row's sender: its key parsed once a pass."""
        if (row.signer_id, scheme) not in self.signers:
            key = self.keys.get(row.signer_id)
            if key is None:
                raise NotFound("%(id)s has no signing key.", id=row.signer_id)
            self.signers[row.signer_id, scheme] = keys.request_signer(key.private_pem, key.key_id, scheme=scheme)
        return self.signers[row.signer_id, scheme]

    async def delivered(self, row: Delivery) -> None:
        """Record a row delivered before its sender goes on (a worker killed now
        sends again only what was on its way). Rows delivered while another
        write is under way go together in the next one: one statement for
        many when answers come in at once."""
        self._delivered.append(row.id)
        async with self._recording:
            ids, self._delivered = self._delivered, []
            if ids:
                await Delivery.filter(id__in=ids).update(
                    state=DeliveryState.DELIVERED, delivered_at=clock.now(), last_error="", attempts=F("attempts") + 1)

    async def record_hosts(self) -> None:
        """How each host fared: the hosts that only answered well in one
        statement (their failures reset, as any success resets them), the others each."""
        fine = [outcome.host.id for outcome in self.outcomes if outcome.only_succeeded()]
        if fine:
            await RemoteHost.filter(id__in=fine).update(consecutive_failures=0, paused_until=None,
                                                        last_success_at=clock.now())
        for outcome in self.outcomes:
            if not outcome.only_succeeded():
                await outcome.save()


async def _remote_hosts(names: set[str]) -> dict[str, RemoteHost]:
    """The hosts' rows, made for the ones new to us: one query when all are known."""
    hosts = {host.host: host for host in await RemoteHost.filter(host__in=sorted(names))}
    if missing := names - hosts.keys():
        await RemoteHost.bulk_create([RemoteHost(host=name) for name in sorted(missing)], ignore_conflicts=True)
        hosts |= {host.host: host for host in await RemoteHost.filter(host__in=sorted(missing))}
    return hosts


async def _bodies(rows: list[Delivery]) -> dict[str, bytes]:
    """Each activity's payload as the bytes to POST: one query, one row read per activity."""
    one_each = {row.activity_id: row.id for row in rows}
    found = await Delivery.filter(id__in=sorted(one_each.values())).values_list("activity_id", "payload")
    return {activity_id: json.dumps(payload, separators=(",", ":")).encode() for activity_id, payload in found}


async def _oldest(rows: list[Delivery]) -> dict[tuple[int, str], int]:
    """The id of the oldest pending row of each (sender, inbox) in `rows`: one query."""
    found = await Delivery.filter(
        state=DeliveryState.PENDING, signer_id__in=sorted({r.signer_id for r in rows}),
        inbox_url__in=sorted({r.inbox_url for r in rows}),
    ).annotate(first=Min("id")).group_by("signer_id", "inbox_url").values_list("signer_id", "inbox_url", "first")
    return {(signer_id, inbox_url): first for signer_id, inbox_url, first in found}


async def deliver_due(fed: Federation, *, limit: int = 50) -> int:
    rows = await claim_due(limit, fed.lease)
    if not rows:
        return 0
    batch = await Pass.load(fed, rows)
    by_host: dict[str, list[Delivery]] = {}
    for row in rows:
        by_host.setdefault(row.host, []).append(row)
    try:
        await asyncio.gather(*(_deliver_host(batch, host, group) for host, group in by_host.items()))
    finally:
        await batch.record_hosts()
    return len(rows)


async def _deliver_host(batch: Pass, name: str, group: list[Delivery]) -> None:
    host = batch.hosts[name]
    if name in batch.blocked:  # an admin blocked the domain after these were queued
        await Delivery.filter(id__in=[d.id for d in group]).update(
            state=DeliveryState.FAILED, last_error="The domain is blocked by an admin."
        )
        metrics.delivery_outcome("blocked", count=len(group))
        return
    if host.paused_until and host.paused_until > clock.now():
        await Delivery.filter(id__in=[d.id for d in group]).update(next_attempt_at=host.paused_until)
        return
    limit = asyncio.Semaphore(PER_HOST_CONCURRENCY)
    # One sender's activities reach one inbox in the order they were made (a
    # Create before its Update): each (signer, inbox) is sent one at a time, in
    # id order, and waits behind an older row of its own that is not yet due.
    in_order: dict[tuple[int, str], list[Delivery]] = {}
    for row in sorted(group, key=lambda r: r.id):
        in_order.setdefault((row.signer_id, row.inbox_url), []).append(row)
    outcome = HostOutcome(host)
    batch.outcomes.append(outcome)

    async def in_turn(rows: list[Delivery]) -> None:
        async with limit:
            first = rows[0]
            if batch.oldest.get((first.signer_id, first.inbox_url), first.id) < first.id:
                older = await Delivery.filter(
                    signer_id=first.signer_id, inbox_url=first.inbox_url, state=DeliveryState.PENDING,
                    id__lt=first.id,
                ).order_by("id").first()
                if older is not None:
                    # Its time may be another worker's lease (it is being sent now):
                    # look again soon rather than a whole lease later.
                    await _wait_behind(rows, min(older.next_attempt_at, clock.now() + WAIT_BEHIND_SENDING))
                    return
            for index, row in enumerate(rows):
                if not await _renew_lease(batch, row):
                    return
                await deliver_one(batch, row, outcome)
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


async def _post(batch: Pass, row: Delivery, body: bytes, scheme: str):
    return await post_json(batch.fed.client, row.inbox_url, body, sign=batch.signer(row, scheme))


async def deliver_one(batch: Pass, row: Delivery, outcome: HostOutcome) -> None:
    tracing.start(row.request_id)  # this task's log lines carry the id of the request behind the row
    body = batch.bodies[row.activity_id]
    row.attempts += 1
    try:
        # RFC 9421 first, then draft-cavage once if the host refuses it ("double knock").
        scheme = outcome.host.signature_scheme or "rfc9421"
        result = await _post(batch, row, body, scheme)
        if result.status in SIGNATURE_REJECTED and outcome.host.signature_scheme is None:
            scheme = "cavage"
            result = await _post(batch, row, body, scheme)
        status, error = result.status, f"HTTP {result.status}: {result.text[:200]}"
    except (BlockedAddress, UnsafeURL) as refused:
        # The inbox is on a private address or is no http(s) URL: never deliverable.
        row.state, row.last_error = DeliveryState.FAILED, str(refused)
        await row.save(update_fields=["state", "attempts", "last_error"])
        metrics.delivery_outcome("failed", row.created_at)
        return
    except FetchError as failure:
        scheme, status, error = None, None, str(failure)
    except Exception as crash:  # worker loop: record it on the row and retry later
        log.exception("delivery %s failed", row.activity_id, extra={"activity_id": row.activity_id})
        scheme, status, error = None, None, f"{type(crash).__name__}: {crash}"
    await _record(batch, row, outcome, status, error, scheme)


class HostOutcome:
    """How a host fared in one pass, written to its row once at the end. A
    failure adds to the stored count (another worker may be adding too: no
    lost updates); a success resets it."""

    def __init__(self, host: RemoteHost) -> None:
        self.host = host
        self.succeeded = False
        self.learned_scheme: str | None = None
        self.failures_since_success = 0

    def success(self, scheme: str | None) -> None:
        if self.host.signature_scheme is None and scheme is not None:
            self.host.signature_scheme = self.learned_scheme = scheme
        self.succeeded, self.failures_since_success = True, 0
        self.host.consecutive_failures, self.host.paused_until = 0, None

    def failure(self, now: dt.datetime) -> None:
        self.failures_since_success += 1
        self.host.consecutive_failures += 1
        if self.host.consecutive_failures >= PAUSE_AFTER_FAILURES:
            self.host.paused_until = now + backoff(self.host.consecutive_failures - PAUSE_AFTER_FAILURES + 1)

    def only_succeeded(self) -> bool:
        """Answered well, and nothing else to write than that (no new scheme)."""
        return self.succeeded and not self.failures_since_success and not self.learned_scheme

    async def save(self) -> None:
        rows = RemoteHost.filter(id=self.host.id)
        if self.succeeded:
            values: dict = {"consecutive_failures": self.failures_since_success, "last_success_at": clock.now(),
                            "paused_until": self.host.paused_until}
            if self.learned_scheme:
                values["signature_scheme"] = self.learned_scheme
            await rows.update(**values)
        elif self.failures_since_success:
            values = {"consecutive_failures": F("consecutive_failures") + self.failures_since_success}
            if self.host.paused_until is not None:
                values["paused_until"] = self.host.paused_until
            await rows.update(**values)


async def _record(batch: Pass, row: Delivery, outcome: HostOutcome, status: int | None, error: str,
                  scheme: str | None) -> None:
    now = clock.now()
    if status is not None and 200 <= status < 300:
        row.state, row.delivered_at, row.last_error = DeliveryState.DELIVERED, now, ""
        outcome.success(scheme)
    elif status == 410:
        row.state, row.last_error = DeliveryState.GONE, error
    elif status is not None and 400 <= status < 500 and status not in RETRYABLE_STATUSES:
        row.state, row.last_error = DeliveryState.FAILED, error  # the inbox refuses this activity for good
    else:
        row.last_error = error
        outcome.failure(now)
        if now - row.created_at > GIVE_UP_AFTER:
            row.state = DeliveryState.FAILED
        else:
            row.next_attempt_at = max(now + backoff(row.attempts), outcome.host.paused_until or now)
    log.info("delivery %s to %s: %s", row.activity_id, row.inbox_url, row.state.value,
             extra={"activity_id": row.activity_id, "remote_host": row.host})
    metrics.delivery_outcome("retry" if row.state is DeliveryState.PENDING else row.state.value, row.created_at)
    if row.state is DeliveryState.DELIVERED:
        await batch.delivered(row)
        return
    await row.save(update_fields=["state", "attempts", "next_attempt_at", "last_error", "delivered_at"])
    if row.state is DeliveryState.GONE:
        # The actor behind this inbox is gone for good (Mastodon answers 410 for a
        # deleted account): nothing else waiting for it will arrive either.
        await Delivery.filter(inbox_url=row.inbox_url, state=DeliveryState.PENDING).update(
            state=DeliveryState.GONE, last_error=f"An earlier delivery to this inbox got {error[:200]}"
        )
