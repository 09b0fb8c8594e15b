"""Probes for a process supervisor or load balancer.

/healthz: the process is alive. Always 200 while it answers; the body also
says whether the database answered a trivial query within DATABASE_TIMEOUT,
for people, but the status code never depends on it (a liveness probe that fails
with the database would restart every process for a database outage).

/readyz: this process can serve: the database is reachable and every
migration in models/migrations is applied. 200, or 503 with what is missing.
"""

from __future__ import annotations

import asyncio
import logging

from quart import Blueprint

from models import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# Seconds a probe waits for each database query, under a probe's usual 1 s: a
# database that hangs (or a SQLite file that failed to open, whose next use
# never returns) makes the answer "no", not a request that never ends.
DATABASE_TIMEOUT = 0.8


async def _ping() -> bool:
    try:
        return await asyncio.wait_for(db.ping(), DATABASE_TIMEOUT)
    except TimeoutError:
        return False


@bp.get("/healthz")
async def healthz():
    reachable = await _ping()
    return {"status": "ok" if reachable else "degraded", "database": reachable}, 200


@bp.get("/readyz")
async def readyz():
    try:
        pending = await asyncio.wait_for(db.pending_on(), DATABASE_TIMEOUT)
    except Exception as error:  # unreachable, slow, or the record unreadable: either way not ready
        log.warning("readyz: cannot read the applied migrations: %s: %s", type(error).__name__, error)
        reachable, migrations = await _ping(), "unknown"
    else:
        reachable, migrations = True, ("pending: " + ", ".join(pending)) if pending else "current"
    ready = reachable and migrations == "current"
    body = {"status": "ready" if ready else "not ready", "database": reachable, "migrations": migrations}
    return body, 200 if ready else 503
