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


async def run_once(fed: Federation, postman: Postman | None = None) -> int:
    """One pass over every queue; returns how many rows it handled. A failing
    stage is logged and does not keep the others from running."""
    handled = 0
    for stage in STAGES:
        try:
            handled += await (stage(fed, postman) if stage in NEEDS_POSTMAN else stage(fed))
        except asyncio.CancelledError:
            raise
        except Exception:  # worker loop: each row records its own errors
            log.exception("worker stage %s failed", stage.__qualname__)
    return handled


async def run_forever(fed: Federation, wake: asyncio.Event, postman: Postman | None = None) -> None:
    while True:
        wake.clear()  # before the pass: news arriving during it starts the next one at once
        if await run_once(fed, postman):
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
