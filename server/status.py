"""`circles status`: what an operator checks first. Versions, migration
state, federation queue depths, the oldest pending delivery and the remote
hosts that keep failing; as text for people or JSON for machines.

A fixed number of queries (no query per row): the migrations one, the
database's version, and those of models/services/queues.py.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from pathlib import Path
from typing import Any

import click

from federation.routes import software_version
from models import clock, db
from models.services import queues
from server.cli_support import on_database, require_database_file, settings_or_exit, settings_origin
from server.wording import plural

FAILING_HOSTS_SHOWN = 10


async def gather() -> dict[str, Any]:
    """The report, as JSON-able data, from the open database. Queues are left
    out (None) while migrations are pending: their tables may not match."""
    kind, version = await db.server_version()
    pending = await db.pending_on()
    report: dict[str, Any] = {
        "versions": {"circles": software_version(), "python": platform.python_version(),
                     "database": kind, "database_version": version},
        "migrations": {"current": not pending, "applied": len(db.migration_names()) - len(pending),
                       "pending": pending},
        "queues": None,
        "failing_hosts": None,
    }
    if pending:
        return report
    now = clock.now()
    depths = await queues.depths()
    count, hosts = await queues.failing_hosts(FAILING_HOSTS_SHOWN)
    oldest = depths.oldest_pending_delivery
    report["queues"] = {
        "inbox_queued": depths.inbox_queued,
        "inbox_failed": depths.inbox_failed,
        "fanout_pending": depths.fanout_pending,
        "deliveries_pending": depths.deliveries_pending,
        "deliveries_retrying": depths.deliveries_retrying,
        "deliveries_failed": depths.deliveries_failed,
        "oldest_pending_delivery_at": _iso(oldest),
        "oldest_pending_delivery_age_seconds": None if oldest is None else max(0, int((now - oldest).total_seconds())),
    }
    report["failing_hosts"] = {
        "count": count,
        "top": [{"host": h.host, "consecutive_failures": h.consecutive_failures, "paused_until": _iso(h.paused_until),
                 "last_success_at": _iso(h.last_success_at), "blocked": h.blocked} for h in hosts],
    }
    return report


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def as_json_text(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2)


def age(seconds: int) -> str:
    """A duration as people read it: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def as_text(report: dict[str, Any]) -> str:
    v, m = report["versions"], report["migrations"]
    lines = [
        f"Circles {v['circles']}, Python {v['python']}, {_database_name(v['database'])} {v['database_version']}",
    ]
    if m["current"]:
        lines.append(f"Migrations: current ({m['applied']} applied)")
    else:
        lines.append(f"Migrations: {len(m['pending'])} pending ({', '.join(m['pending'])}): run `circles migrate`")
        lines.append("Queues: not read until the database is migrated.")
        return "\n".join(lines)
    q = report["queues"]
    oldest = q["oldest_pending_delivery_age_seconds"]
    lines += [
        "Queues:",
        f"  inbox        {q['inbox_queued']} queued, {q['inbox_failed']} failed",
        f"  fan-out      {q['fanout_pending']} pending",
        f"  deliveries   {q['deliveries_pending']} pending ({q['deliveries_retrying']} retrying after a failure), "
        f"{q['deliveries_failed']} failed",
        "  oldest pending delivery: "
        + ("none" if oldest is None else f"{age(oldest)} old (queued {q['oldest_pending_delivery_at']})"),
    ]
    failing = report["failing_hosts"]
    if not failing["count"]:
        lines.append("Failing hosts: none")
        return "\n".join(lines)
    shown = len(failing["top"])
    more = f", the {shown} with the most failures in a row" if failing["count"] > shown else ""
    lines.append(f"Failing hosts: {failing['count']}{more}:")
    width = max(len(h["host"]) for h in failing["top"])
    for h in failing["top"]:
        notes = [plural(h["consecutive_failures"], "failure") + " in a row"]
        if h["paused_until"]:
            notes.append(f"paused until {h['paused_until']}")
        notes.append(f"last success {h['last_success_at']}" if h["last_success_at"] else "no success recorded")
        if h["blocked"]:
            notes.append("blocked")
        lines.append(f"  {h['host']:<{width}}  {', '.join(notes)}")
    return "\n".join(lines)


def _database_name(kind: str) -> str:
    return {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(kind, kind)


def migration_check_text(pending: list[str], missing_file: Path | None, settings_origin: str) -> str:
    """What `circles migrate --check` says."""
    total = len(db.migration_names())
    if not pending:
        return f"migrations current: all {total} applied."
    if missing_file is not None:
        lines = [f"migrations pending: there is no database at {missing_file} yet (settings: {settings_origin}), "
                 f"so all {total} are."]
    else:
        lines = [f"migrations pending: {len(pending)} of {total} not applied:", *(f"  {name}" for name in pending)]
    lines.append("Run `circles migrate` to apply them (back up the database first: `circles backup FILE`).")
    return "\n".join(lines)


def migrate_check_command() -> None:
    """`circles migrate --check`: exit 0 when current, 1 listing what is pending; applies and
    writes nothing (no database file, no secret key)."""
    settings = settings_or_exit(create_secret=False)
    missing = settings.sqlite_file if settings.sqlite_file and not settings.sqlite_file.is_file() else None
    pending = db.migration_names() if missing else on_database(settings, db.pending_on)
    click.echo(migration_check_text(pending, missing, settings_origin()))
    sys.exit(1 if pending else 0)


def status_command(as_json: bool) -> None:
    """`circles status (--json)` on the configured database, which must exist and answer."""
    settings = settings_or_exit(create_secret=False)
    require_database_file(settings)
    report = on_database(settings, gather)
    click.echo(as_json_text(report) if as_json else as_text(report))
