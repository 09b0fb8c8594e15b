"""The federation worker: processes received activities, fans local events
out into deliveries, and delivers them. Runs inside `circles serve` by
default, or alone as `circles worker` (any number of them on PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging

from federation import delivery, fanout, inbox
from federation.runtime import Federation

log = logging.getLogger(__name__)
IDLE_WAIT = 2.0  # seconds between polls when nothing woke us


async def run_once(fed: Federation) -> int:
    """One pass over every queue; returns how many rows it handled."""
    handled = await inbox.process_pending(fed)
    handled += await fanout.fan_out_pending(fed)
    handled += await delivery.deliver_due(fed)
    return handled


async def run_forever(fed: Federation, wake: asyncio.Event) -> None:
    while True:
        try:
            busy = await run_once(fed)
        except asyncio.CancelledError:
            raise
        except Exception:  # the loop must survive one bad pass; each row records its own errors
            log.exception("worker pass failed")
            busy = 0
        if busy:
            continue
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), timeout=IDLE_WAIT)
        except TimeoutError:
            pass
