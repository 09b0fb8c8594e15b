"""The federation worker: processes received activities, fans local events
out into deliveries, and delivers them; queues email digests and sends the
email outbox (server/mail.py). Runs inside `circles serve` by
default, or alone as `circles worker` (any number of them on PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging

from federation import delivery, fanout, inbox
from federation.runtime import Federation
from models import clock, live
from models.services import governance, idempotency, mail, meeting_reminders, ratelimits
from server.mail import Postman
from web.live import Hub

log = logging.getLogger(__name__)
IDLE_WAIT = 2.0  # seconds between looks when nothing woke us (rows due later; SQLite across processes)


async def close_due_proposals(fed: Federation) -> int:
    """Decide the circles' proposals whose voting has closed (one query when none is)."""
    return await governance.close_due(fed.instance, clock.now())


async def send_meeting_reminders(fed: Federation) -> int:
    """Meeting reminders (at the lead times CIRCLES_MEETING_REMINDERS sets)
    and reflection prompts now due: a few indexed queries when none is, and
    each goes out once even with several workers."""
    return await meeting_reminders.due_reminders(clock.now(), fed.meeting_reminders)


async def queue_email_digests(fed: Federation) -> int:
    """Daily and weekly digests now due: one query per choice when none is."""
    return await mail.queue_digests(clock.now())


async def send_email(fed: Federation, postman: Postman | None = None) -> int:
    """The email outbox: nothing when no SMTP server is set (rows wait)."""
    return await postman.send_due(fed.lease) if postman is not None else 0


async def forget_old_rows(fed: Federation) -> int:
    """Hourly: rate-limit windows that have ended, and apps' idempotency keys
    past their hour."""
    if clock.now().minute != 0:
        return 0
    await ratelimits.forget_old()
    await idempotency.forget_expired()
    return 0  # not work that should make the loop run again at once


# Proposals close before the fan-out, so their outcome goes out in the same pass.
STAGES = (
    inbox.process_pending, close_due_proposals, send_meeting_reminders, fanout.fan_out_pending, delivery.deliver_due,
    queue_email_digests, send_email, forget_old_rows,
)
NEEDS_POSTMAN = frozenset({send_email})
# The stages `circles worker --concurrency N` runs N at once: each call claims
# its own batch (rows leased to it, skipped by the others), so N received
# activities are processed and N delivery passes (each up to
# delivery.PER_HOST_CONCURRENCY sends per host) run side by side.
SLOTTED = frozenset({inbox.process_pending, delivery.deliver_due})
MAX_SLOTS = 64


async def run_once(fed: Federation, postman: Postman | None = None, *, slots: int = 1) -> int:
    """One pass over every queue; returns how many rows it handled. A failing
    stage (or slot) is logged and does not keep the others from running."""
    if not 1 <= slots <= MAX_SLOTS:
        raise ValueError(f"slots must be from 1 to {MAX_SLOTS}, not {slots}")
    handled = 0
    for stage in STAGES:
        if stage in NEEDS_POSTMAN:
            calls = [stage(fed, postman)]
        else:
            calls = [stage(fed) for _ in range(slots if stage in SLOTTED else 1)]
        for outcome in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):  # worker loop: each row records its own errors
                log.error("worker stage %s failed", stage.__qualname__, exc_info=outcome)
            else:
                handled += outcome
    return handled


async def run_forever(fed: Federation, wake: asyncio.Event, postman: Postman | None = None, *,
                      slots: int = 1) -> None:
    while True:
        wake.clear()  # before the pass: news arriving during it starts the next one at once
        if await run_once(fed, postman, slots=slots):
            continue
        try:
            await asyncio.wait_for(wake.wait(), timeout=IDLE_WAIT)
        except TimeoutError:
            pass


async def wake_on_work(hub: Hub, wake: asyncio.Event) -> None:
    """Set `wake` each time a queue gains a row (models/live.py, WORK): in this
    process, or on PostgreSQL in any process, so a post starts federating
    at once rather than at the next look. The hub says "everything" after it
    reconnects, which wakes the worker too: announcements may have been missed."""
    with hub.subscribe(frozenset({live.WORK}), client="worker") as subscription:
        while (changed := await subscription.wait(timeout=60)) is not None:
            if changed:
                wake.set()
