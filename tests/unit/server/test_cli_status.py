"""`circles migrate --check` and `circles status`, run for real as
subprocesses (as in test_cli.py), and the status report's fixed number of
queries, measured in this process."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from models import clock, db
from models.federation import Delivery, DeliveryState, InboxItem, InboxState, OutboxEvent, RemoteHost
from server import status
from tests import factories
from tests.migration_state import migrate_to, new_database
from tests.unit.server.test_cli import Circles, OpenDatabase, assert_one_line_error, closed_port
from tests.unit.server.test_cli import circles  # noqa: F401 (a fixture: `circles` on this test's database)

# --- migrate --check ------------------------------------------------------------------


async def test_migrate_check_on_a_migrated_database_says_current(circles):
    result = circles("migrate", "--check")
    assert result.code == 0, str(result)
    assert result.out == f"migrations current: all {len(db.migration_names())} applied.\n"
    assert result.err == ""


async def test_migrate_check_lists_the_pending_migration_and_applies_nothing(tmp_path):
    *earlier, last = db.migration_names()
    async with new_database(tmp_path, "behind") as url:
        await migrate_to(url, earlier[-1])
        circles = Circles(tmp_path, url)
        result = circles("migrate", "--check")
        assert result.code == 1, str(result)
        assert result.out.splitlines() == [
            f"migrations pending: 1 of {len(earlier) + 1} not applied:",
            f"  {last}",
            "Run `circles migrate` to apply them (back up the database first: `circles backup FILE`).",
        ]
        assert await db.pending_migrations(url) == [last]  # still pending: --check applied nothing

        report = json.loads(circles.ok("status", "--json"))  # status works on it, and says so
        assert report["migrations"] == {"current": False, "applied": len(earlier), "pending": [last]}
        assert report["queues"] is None
        assert "run `circles migrate`" in circles.ok("status")


async def test_migrate_check_without_a_database_creates_none(tmp_path):
    missing = tmp_path / "fresh" / "circles.sqlite3"
    circles = Circles(tmp_path, f"sqlite://{missing}")
    result = circles("migrate", "--check")
    assert result.code == 1, str(result)
    assert f"there is no database at {missing} yet" in result.out
    assert f"all {len(db.migration_names())} are" in result.out and "circles migrate" in result.out
    assert not missing.exists() and not missing.parent.exists()
    assert not (tmp_path / "data").exists()  # nor a secret key, nor a data folder


async def test_migrate_check_on_an_unreachable_database_is_one_line(circles):
    url = f"postgres://circles:Tr0ub4dor@127.0.0.1:{closed_port()}/circles"
    line = assert_one_line_error(circles("migrate", "--check", database_url=url), 2, "cannot reach",
                                 "CIRCLES_DATABASE_URL")
    assert "Tr0ub4dor" not in line


# --- status ---------------------------------------------------------------------------


async def fill_queues(instance, hosts: int) -> dt.datetime:
    """Queue rows of every kind, and `hosts` failing hosts (host i failed i + 1 times in a row).
    Returns when the oldest pending delivery was queued."""
    alice = await factories.account(instance, "alice")
    oldest = clock.now() - dt.timedelta(hours=3, minutes=5)

    async def delivery(state: DeliveryState, *, attempts: int = 0, created_at: dt.datetime | None = None) -> None:
        activity_id = f"{alice.actor.uri}/activities/{uuid.uuid4().hex}"
        row = await Delivery.create(activity_id=activity_id, signer=alice.actor, inbox_url="https://far.example/inbox",
                                    host="far.example", payload={"id": activity_id}, state=state,
                                    attempts=attempts, next_attempt_at=clock.now())
        if created_at is not None:
            await Delivery.filter(id=row.id).update(created_at=created_at)

    await delivery(DeliveryState.PENDING, created_at=oldest)
    await delivery(DeliveryState.PENDING, attempts=2)
    await delivery(DeliveryState.PENDING)
    await delivery(DeliveryState.FAILED, attempts=9)
    await delivery(DeliveryState.DELIVERED, attempts=1)
    for n, state in enumerate([InboxState.QUEUED, InboxState.QUEUED, InboxState.FAILED, InboxState.DONE]):
        await InboxItem.create(activity_id=f"https://far.example/a/{n}", actor_uri="https://far.example/u/bob",
                               activity_type="Like", payload={}, state=state)
    await OutboxEvent.create(kind="post.created", subject_id=1)
    await OutboxEvent.create(kind="post.created", subject_id=2, processed_at=clock.now())
    await RemoteHost.create(host="fine.example", last_success_at=clock.now())
    for i in range(hosts):
        await RemoteHost.create(host=f"h{i:02}.example", consecutive_failures=i + 1,
                                paused_until=clock.now() + dt.timedelta(minutes=5) if i >= 5 else None,
                                blocked_at=clock.now() if i == 0 else None)
    return oldest


async def test_status_reports_versions_queues_and_the_ten_most_failing_hosts(circles, database_url, instance):
    async with OpenDatabase(database_url):
        oldest = await fill_queues(instance, hosts=12)
    report = json.loads(circles.ok("status", "--json"))
    versions = report["versions"]
    assert versions["database"] == ("postgres" if database_url.startswith("postgres") else "sqlite")
    assert versions["database_version"][0].isdigit() and versions["python"][0].isdigit()
    assert versions["circles"]
    assert report["migrations"] == {"current": True, "applied": len(db.migration_names()), "pending": []}
    queues = report["queues"]
    age = queues.pop("oldest_pending_delivery_age_seconds")
    assert 3 * 3600 + 5 * 60 <= age < 3 * 3600 + 5 * 60 + 120
    assert dt.datetime.fromisoformat(queues.pop("oldest_pending_delivery_at")) == oldest.replace(microsecond=0)
    assert queues == {"inbox_queued": 2, "inbox_failed": 1, "fanout_pending": 1, "deliveries_pending": 3,
                      "deliveries_retrying": 1, "deliveries_failed": 1}
    failing = report["failing_hosts"]
    assert failing["count"] == 12
    assert [h["host"] for h in failing["top"]] == [f"h{i:02}.example" for i in range(11, 1, -1)]
    assert failing["top"][0]["consecutive_failures"] == 12 and failing["top"][0]["paused_until"]
    assert failing["top"][0]["last_success_at"] is None and not failing["top"][0]["blocked"]

    text = circles.ok("status")
    assert text.startswith("Circles ")
    assert f"Migrations: current ({len(db.migration_names())} applied)" in text
    assert "inbox        2 queued, 1 failed" in text
    assert "fan-out      1 pending" in text
    assert "deliveries   3 pending (1 retrying after a failure), 1 failed" in text
    assert "oldest pending delivery: 3 h 5 min old" in text or "oldest pending delivery: 3 h 6 min old" in text
    assert "Failing hosts: 12, the 10 with the most failures in a row:" in text
    assert "h11.example  12 failures in a row, paused until " in text
    assert "h01.example" not in text and "fine.example" not in text


async def test_status_of_an_idle_instance(circles):
    text = circles.ok("status")
    assert "deliveries   0 pending (0 retrying after a failure), 0 failed" in text
    assert "oldest pending delivery: none" in text
    assert text.rstrip().endswith("Failing hosts: none")


async def test_status_errors_say_what_to_do(circles, tmp_path):
    missing = tmp_path / "none" / "circles.sqlite3"
    assert_one_line_error(circles("status", database_url=f"sqlite://{missing}"), 2, "no database", "circles migrate")
    assert not missing.exists()
    url = f"postgres://circles:Tr0ub4dor@127.0.0.1:{closed_port()}/circles"
    assert_one_line_error(circles("status", database_url=url), 2, "cannot reach", "CIRCLES_DATABASE_URL")


async def test_the_status_report_is_a_fixed_number_of_queries(database, instance, count_queries):
    with count_queries() as idle:
        await status.gather()
    await fill_queues(instance, hosts=15)
    with count_queries() as busy:
        report = await status.gather()
    assert len(report["failing_hosts"]["top"]) == 10
    assert len(busy) == len(idle) == 11, busy.report()


def test_ages_read_well():
    assert [status.age(s) for s in (0, 59, 60, 3599, 3600, 3 * 3600 + 5 * 60, 86400 * 2 + 3600 * 4 + 7)] == [
        "0 s", "59 s", "1 min", "59 min", "1 h 0 min", "3 h 5 min", "2 d 4 h"]
