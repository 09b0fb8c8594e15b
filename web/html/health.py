from __future__ import annotations

from quart import Blueprint

from models import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
async def healthz():
    reachable = await db.ping()
    body = {"status": "ok" if reachable else "degraded", "database": reachable}
    return body, 200 if reachable else 503
