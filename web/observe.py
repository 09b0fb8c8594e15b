"""Observability of the web process: a request id for every request, HTTP
metrics, and the Prometheus endpoint.

- Request id: an incoming `X-Request-Id` is kept when it is a short safe
  token (a proxy's), else one is made (models/tracing.py). It is set for the
  request's task, so its log lines and the queue rows it writes carry it, and
  it is sent back in the `X-Request-Id` response header.
- HTTP metrics: requests by method, route (the matched URL rule, such as
  `/c/<handle>`, never the raw path: a fixed number of series) and status,
  and their latency up to the response's headers (a stream's body is not timed).
- `GET /metrics`: the Prometheus text format, behind CIRCLES_METRICS_TOKEN as
  `Authorization: Bearer <token>` (compared in constant time). Without a
  token set the route answers 404, as if it did not exist. The queue depths
  are read from the database at each scrape (federation/metrics.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from quart import Blueprint, Quart, Response, current_app, g, request

from federation.metrics import QueueCollector
from models import tracing
from models.services import queues

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

HEADER = "X-Request-Id"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # a path no route has: one label for every 404 of that kind
QUEUE_READ_TIMEOUT = 2.0  # seconds a scrape waits for the queue depths

HTTP_REQUESTS = Counter("circles_http_requests", "HTTP requests answered, by method, route and status.",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("circles_http_request_duration_seconds",
                         "Seconds from a request's arrival to its response's headers, by method and route.",
                         ["method", "route"])


def register(app: Quart, *, token: str, multiprocess_dir: str | None = None) -> None:
    """Install the request id and HTTP metrics hooks, and the /metrics route.
    Called before the other blueprints register theirs: the id is set first."""
    app.extensions["circles.metrics"] = {"token": token, "multiprocess_dir": multiprocess_dir}
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)


async def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = tracing.accepted(request.headers.get(HEADER))
    tracing.start(g.request_id)  # a request runs in its own task: nothing to undo


async def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[HEADER] = request_id
    started = g.get("request_started")
    if started is not None:
        method = request.method if request.method in METHODS else "OTHER"
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)
    return response


def _refused(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    return Response(reason + "\n", status=status, content_type="text/plain; charset=utf-8", headers=headers)


@bp.get("/metrics")
async def metrics() -> Response:
    config = current_app.extensions["circles.metrics"]
    if not config["token"]:
        return _refused(404, "Not found: metrics are off (no CIRCLES_METRICS_TOKEN is set).")
    given = request.headers.get("Authorization", "")
    scheme, _, offered = given.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
    if scheme.lower() != "bearer" or not offered.strip():
        return _refused(401, "Send the metrics token as `Authorization: Bearer <token>`.", challenge)
    if not hmac.compare_digest(offered.strip().encode(), config["token"].encode()):
        return _refused(401, "The metrics token is wrong.", challenge)
    try:
        depths = await asyncio.wait_for(queues.depths(), QUEUE_READ_TIMEOUT)
    except Exception as error:  # unreachable, slow, or not migrated yet: the other metrics still answer
        log.warning("metrics: cannot read the queue depths: %s: %s", type(error).__name__, error)
        depths = None
    scrape = CollectorRegistry()
    scrape.register(QueueCollector(depths))
    if config["multiprocess_dir"]:
        # Every process's counters, summed from the files they write there (prometheus_client).
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted, path=config["multiprocess_dir"])
    else:
        counted = REGISTRY
    body = generate_latest(counted) + generate_latest(scrape)
    return Response(body, status=200, content_type=CONTENT_TYPE_LATEST)
