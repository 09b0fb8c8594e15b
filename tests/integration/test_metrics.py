"""Observability through the real app: GET /metrics behind its token, the
metrics counting real requests, inbox refusals and deliveries to a real
inbox on loopback; and the request id carried from a web request into the
rows it queues and the worker's log lines for them (web/observe.py,
federation/metrics.py, models/tracing.py, server/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from federation import delivery, fanout, inbox
from models.federation import Delivery, DeliveryState, InboxItem, OutboxEvent
from server import logs
from tests import factories
from tests.conftest import csrf_from
from tests.integration.test_delivery import queue, remote_member
from tests.integration.test_inbox import follow_of, post_signed, remote_key, remote_person
from tests.integration.webforms import logged_in, text

TOKEN = "scrape-me-" + "t" * 24
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_app(make_app):
    return make_app(metrics_token=TOKEN)


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, by name and labels."""
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, await text(response)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(await text(response)):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- the token -----------------------------------------------------------------------


async def test_metrics_are_404_when_no_token_is_set(client):
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 404
    assert "CIRCLES_METRICS_TOKEN" in await text(response)


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "Send the metrics token as `Authorization: Bearer <token>`."),
    ({"Authorization": "Bearer "}, "Send the metrics token"),
    ({"Authorization": f"Basic {TOKEN}"}, "Send the metrics token"),
    ({"Authorization": "Bearer wrong-token-" + "t" * 20}, "The metrics token is wrong."),
    ({"Authorization": f"Bearer {TOKEN}x"}, "The metrics token is wrong."),
    ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "The metrics token is wrong."),
])
async def test_metrics_refuse_a_missing_or_wrong_token_with_401(metrics_app, headers, reason):
    response = await metrics_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    body = await text(response)
    assert body.startswith(reason) and TOKEN not in body


async def test_metrics_with_the_token_list_every_family(metrics_app):
    samples = await scrape(metrics_app.test_client())
    names = {name for name, _ in samples}
    for family in (
        "circles_queues_readable", "circles_inbox_queued", "circles_inbox_failed", "circles_fanout_pending",
        "circles_deliveries_pending", "circles_deliveries_retrying", "circles_deliveries_failed",
        "circles_oldest_pending_delivery_age_seconds",
        "circles_inbox_queue_seconds_count", "circles_delivery_queue_seconds_count",
        "circles_http_request_duration_seconds_count", "circles_http_requests_total",
    ):
        assert family in names, family
    assert value(samples, "circles_queues_readable") == 1
    assert value(samples, "circles_deliveries_pending") == 0


# --- counting real work ----------------------------------------------------------------


async def test_http_requests_are_counted_by_route_not_path(metrics_app, instance, alice):
    await factories.circle(instance, alice, "readers")
    await factories.circle(instance, alice, "writers")
    client = metrics_app.test_client()
    before = await scrape(client)
    for path in ("/c/readers/about", "/c/writers/about", "/c/nobody/about", "/no/such/page"):
        await client.get(path)
    after = await scrape(client)
    route = "/c/<handle>/about"

    def grew(**labels):
        return value(after, "circles_http_requests_total", **labels) - value(
            before, "circles_http_requests_total", **labels)

    assert grew(method="GET", route=route, status="200") == 2
    assert grew(method="GET", route=route, status="404") == 1
    assert grew(method="GET", route="(unmatched)", status="404") == 1
    assert not any("/c/readers" in dict(labels).get("route", "") for _, labels in after)
    assert (value(after, "circles_http_request_duration_seconds_count", method="GET", route=route)
            - value(before, "circles_http_request_duration_seconds_count", method="GET", route=route)) == 3


async def test_inbox_activities_are_counted_accepted_and_refused_with_their_reason(metrics_app, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    key, pem = remote_key()
    rita = await remote_person("rita", pem)
    client = metrics_app.test_client()
    before = await scrape(client)
    tampered = await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key",
                                 tamper=lambda b: b.replace(b"follows/1", b"follows/9"))
    assert tampered.status_code == 401
    unsigned = await client.post("/inbox", data=json.dumps(follow_of(rita, circle.actor.uri, 2)),
                                 headers={"Content-Type": "application/activity+json"})
    assert unsigned.status_code == 401
    wrong_type = await client.post("/inbox", data=b"{}", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    accepted = await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri, 3), key, f"{rita}#main-key")
    assert accepted.status_code == 202
    after = await scrape(client)

    def grew(outcome, reason):
        labels = {"outcome": outcome, "reason": reason}
        return (value(after, "circles_inbox_activities_total", **labels)
                - value(before, "circles_inbox_activities_total", **labels))

    assert grew("refused", "bad_signature") == 2
    assert grew("refused", "content_type") == 1
    assert grew("accepted", "stored") == 1
    assert value(after, "circles_inbox_queued") == 1  # read from the database at the scrape

    await inbox.process_pending(metrics_app.extensions["circles.federation"])
    processed = await scrape(client)
    assert value(processed, "circles_inbox_queued") == 0
    assert (value(processed, "circles_inbox_queue_seconds_count")
            - value(after, "circles_inbox_queue_seconds_count")) == 1


async def test_a_real_delivery_counts_as_delivered_and_the_queue_gauges_follow(metrics_app, instance, alice, stub):
    receiver = await stub()
    fed = metrics_app.extensions["circles.federation"]
    circle = await factories.circle(instance, alice, "readers")
    await remote_member(circle, receiver, "rita")
    await factories.post(instance, alice, circle, body="Chapter 4")
    client = metrics_app.test_client()
    before = await scrape(client)
    assert value(before, "circles_fanout_pending") == 2
    await fanout.fan_out_pending(fed)
    queued = await scrape(client)
    assert value(queued, "circles_fanout_pending") == 0
    assert value(queued, "circles_deliveries_pending") == 2

    assert await delivery.deliver_due(fed) == 2
    assert len(receiver.received) == 2
    after = await scrape(client)
    assert (value(after, "circles_deliveries_total", outcome="delivered")
            - value(before, "circles_deliveries_total", outcome="delivered")) == 2
    assert (value(after, "circles_delivery_queue_seconds_count")
            - value(before, "circles_delivery_queue_seconds_count")) == 2
    assert value(after, "circles_deliveries_pending") == 0
    assert value(after, "circles_oldest_pending_delivery_age_seconds") == 0


async def test_a_refusing_inbox_counts_as_failed_and_a_down_one_as_retry(metrics_app, instance, alice, stub):
    refusing = await stub(lambda request: 403)
    fed = metrics_app.extensions["circles.federation"]
    client = metrics_app.test_client()
    await queue(alice.actor, refusing.url("/inbox"))
    before = await scrape(client)
    assert value(before, "circles_deliveries_pending") == 1
    await delivery.deliver_due(fed)
    after = await scrape(client)
    assert (await Delivery.get()).state is DeliveryState.FAILED
    assert (value(after, "circles_deliveries_total", outcome="failed")
            - value(before, "circles_deliveries_total", outcome="failed")) == 1
    assert value(after, "circles_deliveries_failed") == 1


# --- the request id -----------------------------------------------------------------


@pytest.fixture
def json_lines(caplog):
    """The JSON log lines written while the test runs (server/logs.py's handler on the root logger)."""
    stream = io.StringIO()
    handler = logs.handler_for("json", stream)
    caplog.set_level(logging.INFO)
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


async def test_a_json_log_line_has_its_fields(json_lines):
    logging.getLogger("circles.test").warning("hello %s", "there", extra={"remote_host": "a.example"})
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("circles.test").exception("it failed")
    first, second = json_lines()
    assert set(first) == {"time", "level", "logger", "message", "request_id", "remote_host"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert (first["level"], first["logger"], first["message"]) == ("WARNING", "circles.test", "hello there")
    assert first["request_id"] is None and first["remote_host"] == "a.example"
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exception"]


async def test_every_response_carries_a_request_id_a_safe_incoming_one_kept(client):
    made = (await client.get("/healthz")).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert (await client.get("/healthz")).headers["X-Request-Id"] != made
    assert (await client.get("/no/such/page")).headers["X-Request-Id"]  # a 404 too
    kept = "nginx-4f1c2a9e-77b3"
    assert (await client.get("/healthz", headers={"X-Request-Id": kept})).headers["X-Request-Id"] == kept
    for unsafe in ("short", "a" * 65, "has space in it", "quote\"and<angle>", "-starts-with-dash"):
        answered = (await client.get("/healthz", headers={"X-Request-Id": unsafe})).headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", answered), unsafe


async def test_the_request_id_goes_from_a_web_post_to_the_workers_log_of_its_delivery(
        app, instance, alice, stub, json_lines):
    receiver = await stub()
    circle = await factories.circle(instance, alice, "readers")
    await remote_member(circle, receiver, "rita")
    await fanout.fan_out_pending(app.extensions["circles.federation"])  # the Accept of Rita's follow: no request
    await delivery.deliver_due(app.extensions["circles.federation"])
    client = await logged_in(app, alice)
    token = csrf_from(await text(await client.get("/c/readers/posts/new")))
    request_id = "trace-from-the-proxy-0001"
    response = await client.post("/c/readers/posts/new", form={"csrf_token": token, "title": "Hi",
                                                               "body": "Chapter 5"},
                                 headers={"X-Request-Id": request_id})
    assert response.status_code == 302
    assert response.headers["X-Request-Id"] == request_id
    event = await OutboxEvent.get(kind="post.created")
    assert event.request_id == request_id

    fed = app.extensions["circles.federation"]
    await fanout.fan_out_pending(fed)
    row = await Delivery.get(event_id=event.id)
    assert row.request_id == request_id
    assert await delivery.deliver_due(fed) == 1
    assert (await Delivery.get(id=row.id)).state is DeliveryState.DELIVERED
    lines = [line for line in json_lines() if line["logger"] == "federation.delivery"]
    accept, post = lines  # a line for each delivery: the Accept's first
    assert accept["request_id"] is None  # the Accept of Rita's follow: no web request behind it
    assert post["message"] == f"delivery {row.activity_id} to {receiver.url('/inbox')}: delivered"
    assert post["request_id"] == request_id and post["remote_host"] == receiver.host


async def test_a_received_activity_keeps_its_request_id_into_its_processing(app, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    key, pem = remote_key()
    rita = await remote_person("rita", pem)
    client = app.test_client()
    response = await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    assert response.status_code == 202
    request_id = response.headers["X-Request-Id"]
    assert (await InboxItem.get()).request_id == request_id
    await inbox.process_pending(app.extensions["circles.federation"])
    # The follow's Accept, queued while the worker handled the item, is traced to the same request.
    assert await OutboxEvent.filter(kind="follow.accepted").values_list("request_id", flat=True) == [request_id]


# --- several processes --------------------------------------------------------------

COUNT_IN_A_WORKER = """
from federation import metrics
for _ in range(3):
    metrics.delivery_outcome("delivered")
"""

SCRAPE_IN_A_WEB_PROCESS = """
import asyncio, sys
from server.app import create_app
from server.config import Settings

async def main():
    app = create_app(Settings(domain="circles.test", scheme="http", data_dir=sys.argv[1],
                              secret_key="s" * 40, metrics_token=sys.argv[2]), manage_database=False)
    response = await app.test_client().get("/metrics", headers={"Authorization": "Bearer " + sys.argv[2]})
    print(response.status_code)
    print(await response.get_data(as_text=True))

asyncio.run(main())
"""


def test_with_a_shared_folder_one_scrape_adds_up_every_processes_counters(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR (read by prometheus_client as it is imported,
    so each process here is a new one): a worker's deliveries show in a web
    process's /metrics."""
    import os
    import subprocess
    import sys

    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", COUNT_IN_A_WORKER], env=env, check=True, timeout=120)
    web = subprocess.run([sys.executable, "-c", SCRAPE_IN_A_WEB_PROCESS, str(tmp_path / "data"), TOKEN],
                         env=env, check=True, timeout=120, capture_output=True, text=True)
    status, _, body = web.stdout.partition("\n")
    assert status == "200", web.stdout + web.stderr
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(body) for s in family.samples}
    assert value(samples, "circles_deliveries_total", outcome="delivered") == 6
    assert value(samples, "circles_queues_readable") == 0  # no database in that process: the rest still answers
