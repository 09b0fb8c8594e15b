"""Prometheus metrics of federation: activities the inbox accepted and
refused (by a short reason), deliveries by outcome, and how long received
activities and deliveries waited in their queues; the queue depths, read
from the database when /metrics is scraped (web/observe.py serves it).

The metric objects live here, the lowest layer that counts anything: the
inbox and the delivery worker (federation/) count into them, and the web
layer above reads them and adds its own HTTP metrics. models/ stays free of
them (the domain knows nothing of monitoring; the queue depths come from
models/services/queues.py, as for `circles status`).

Counters are per process. A process's own are what its /metrics shows,
unless PROMETHEUS_MULTIPROC_DIR names a folder shared by every process of
the instance (web and `circles worker`), when prometheus_client writes them
there and any web process's /metrics adds them all up (README, "Monitoring").

Label values are a fixed set (never a host, an actor or free text), so the
number of series stays bounded whatever peers send.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from models import clock
from models.services.queues import QueueDepths

# Seconds from queued to handled: from a fraction of a second (a worker that
# was waiting) to the three days deliveries are retried for.
QUEUE_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400)

INBOX_ACTIVITIES = Counter(
    "circles_inbox_activities", "Activities POSTed to an inbox, by outcome and reason.", ["outcome", "reason"]
)
INBOX_QUEUE_SECONDS = Histogram(
    "circles_inbox_queue_seconds", "Seconds from an activity's arrival to its processing by a worker.",
    buckets=QUEUE_BUCKETS,
)
DELIVERIES = Counter("circles_deliveries", "Delivery attempts, by outcome.", ["outcome"])
DELIVERY_QUEUE_SECONDS = Histogram(
    "circles_delivery_queue_seconds",
    "Seconds from a delivery's queueing to its end (delivered, gone, or given up).", buckets=QUEUE_BUCKETS,
)

# The inbox's refusals (federation/inbox.py, Refused) by the start of their reason; else by status.
REFUSAL_REASONS = (
    ("Send application/", "content_type"),
    ("An activity may be at most", "too_large"),
    ("The activity contains a NUL", "invalid"),
    ("The body is not JSON", "invalid"),
    ("The activity is nested", "invalid"),
    ("An activity", "invalid"),
    ("The activity's", "invalid"),
    ("This server does not accept activities from your domain", "blocked_domain"),
    ("Signature key not found", "key_not_found"),
    ("Signature refused", "bad_signature"),
    ("The signing key does not belong", "key_mismatch"),
    ("Too many activities", "rate_limited"),
    ("This exact signed request was received before", "replay"),
)
ACCEPTED_REASONS = {"Accepted.": "stored", "Already received.": "duplicate", "Nothing to delete here.": "unknown_actor_deleted"}


def refusal_reason(status: int, reason: str) -> str:
    """A short, fixed label for an inbox refusal."""
    for start, label in REFUSAL_REASONS:
        if reason.startswith(start):
            return label
    return f"http_{status}"


def inbox_refused(status: int, reason: str) -> None:
    INBOX_ACTIVITIES.labels("refused", refusal_reason(status, reason)).inc()


def inbox_accepted(message: str) -> None:
    INBOX_ACTIVITIES.labels("accepted", ACCEPTED_REASONS.get(message, "other")).inc()


def waited(histogram: Histogram, queued_at: dt.datetime) -> None:
    """Observe the seconds since `queued_at` (a row's created_at)."""
    histogram.observe(max(0.0, (clock.now() - queued_at).total_seconds()))


def inbox_processed(queued_at: dt.datetime, *, final: bool) -> None:
    """An inbox item left the queue (done, ignored or failed for good); a retry is not counted."""
    if final:
        waited(INBOX_QUEUE_SECONDS, queued_at)


def delivery_outcome(outcome: str, queued_at: dt.datetime | None = None, count: int = 1) -> None:
    """A delivery's attempt ended: "delivered", "retry", "failed", "gone" or
    "blocked" (an admin blocked the host after it was queued). Ends other than
    a retry also observe how long the row waited since it was queued."""
    DELIVERIES.labels(outcome).inc(count)
    if queued_at is not None and outcome != "retry":
        waited(DELIVERY_QUEUE_SECONDS, queued_at)


class QueueCollector(Collector):
    """The queue depths read for one scrape (models/services/queues.py), as gauges."""

    def __init__(self, depths: QueueDepths | None) -> None:
        self.depths = depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        readable = GaugeMetricFamily(
            "circles_queues_readable", "1 when this scrape could read the queue depths from the database, else 0."
        )
        readable.add_metric([], 0 if self.depths is None else 1)
        yield readable
        if self.depths is None:
            return
        d = self.depths
        for name, value, text in (
            ("circles_inbox_queued", d.inbox_queued, "Received activities not yet processed."),
            ("circles_inbox_failed", d.inbox_failed, "Received activities whose processing failed."),
            ("circles_fanout_pending", d.fanout_pending, "Local changes not yet turned into deliveries."),
            ("circles_deliveries_pending", d.deliveries_pending, "Deliveries waiting to be sent, retries included."),
            ("circles_deliveries_retrying", d.deliveries_retrying, "Pending deliveries that failed at least once."),
            ("circles_deliveries_failed", d.deliveries_failed, "Deliveries given up."),
        ):
            yield GaugeMetricFamily(name, text, value=value)
        oldest = d.oldest_pending_delivery
        age = 0.0 if oldest is None else max(0.0, (clock.now() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "circles_oldest_pending_delivery_age_seconds",
            "Seconds since the oldest pending delivery was queued (0 when none is).", value=age,
        )
