"""Opening the database and applying migrations.

Schema changes go through tortoise-orm's own migration engine: the files in
models/migrations/ are generated with `circles makemigrations` after a model
change and applied with `circles migrate` (idempotent).
"""

from __future__ import annotations

import pkgutil
import sqlite3
from collections.abc import Callable
from typing import Any

import asyncpg.exceptions as pg
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as tortoise_migrate

import models.migrations
from models import indexes, search_index

APP_LABEL = "circles"
MODEL_MODULES = [
    "models.actors",
    "models.accounts",
    "models.circles",
    "models.circle_invites",
    "models.posts",
    "models.federation",
    "models.moderation",
    "models.questions",
    "models.reviews",
    "models.reflections",
    "models.resources",
    "models.governance",
    "models.meetings",
    "models.notifications",
    "models.sisters",
    "models.tutoring",
    "models.polls",
    "models.media",
    "models.ratelimits",
    "models.person_blocks",
    "models.emails",
    "models.oauth",
    "models.bookmarks",
    "models.idempotency",
    "models.markers",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite") and "synchronous=" not in database_url:
        # In WAL mode (tortoise's default) NORMAL cannot corrupt the database; a
        # power cut (not a crash) may lose the last commits. A commit then no longer
        # waits for the disk: 2.6 ms to 0.01 ms here, which a fan-out does hundreds
        # of times (https://www.sqlite.org/pragma.html#pragma_synchronous).
        # `?synchronous=FULL` in the URL keeps SQLite's default.
        database_url += ("&" if "?" in database_url else "?") + "synchronous=NORMAL"
    return {
        "connections": {"default": database_url},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def connect(database_url: str) -> None:
    # The global fallback lets requests served by hypercorn (which run outside
    # the task that called init) find the connections.
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def disconnect() -> None:
    await Tortoise.close_connections()


async def migrate(
    database_url: str, progress: Callable[[str, str, str], object] | None = None
) -> None:
    """Apply every migration not yet applied. `progress(event, app, name)` is
    called before and after each one. Then what a migration's table remake on
    SQLite may have dropped: the search index's triggers, and every index the
    models declare (models/indexes.py; on PostgreSQL it finds none missing)."""
    try:
        await tortoise_migrate(config=migration_config(database_url), progress=progress)
        await search_index.restore_triggers(connections.get("default"))
        await indexes.restore(connections.get("default"), APP_LABEL)
    finally:
        await Tortoise.close_connections()


def migration_config(database_url: str) -> dict[str, Any]:
    """The configuration to migrate with. SQLite cannot alter or drop a column in
    place: tortoise rebuilds the table (create a copy, DROP the old one, rename).
    With foreign keys on, that DROP deletes every row referring to the table
    (ON DELETE CASCADE): a meeting's RSVPs, a circle's posts. SQLite's own
    procedure for such changes turns foreign keys off while they run
    (https://www.sqlite.org/lang_altertable.html#otheralter)."""
    if database_url.startswith("sqlite"):
        database_url += ("&" if "?" in database_url else "?") + "foreign_keys=OFF"
    return tortoise_config(database_url)


def connection_lost(error: BaseException) -> bool:
    """The error (or one it came from) says the database connection broke or
    the server is shutting down: try again soon, rather than a bug. The
    transaction it was in is rolled back by the database, so nothing of it stays."""
    lost = (DBConnectionError, ConnectionError, pg.PostgresConnectionError, pg.AdminShutdownError,
            pg.CannotConnectNowError, pg.ConnectionDoesNotExistError, pg.InterfaceError)
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, lost):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


async def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any driver error means "not reachable"; the caller reports it
        return False
    return True


async def server_version() -> tuple[str, str]:
    """The open database's kind ("sqlite" or "postgres") and its server's version."""
    connection = connections.get("default")
    kind = connection.capabilities.dialect
    query = "SELECT sqlite_version() AS v" if kind == "sqlite" else "SHOW server_version"
    _, rows = await connection.execute_query(query)
    return kind, str(next(iter(dict(rows[0]).values())))


# Where tortoise's migration engine (tortoise.migrations.recorder.MigrationRecorder)
# writes one row (app, name, applied_at) per migration it applied.
MIGRATIONS_TABLE = "tortoise_migrations"


def migration_names() -> list[str]:
    """The migrations in models/migrations, in the order they apply (they are
    numbered). Read from the folder each time; the same modules tortoise's
    loader takes (not packages, not names starting with _ or ~)."""
    found = pkgutil.iter_modules(models.migrations.__path__)
    return sorted(m.name for m in found if not m.ispkg and m.name[0] not in "_~")


async def pending_on(connection: BaseDBAsyncClient | None = None) -> list[str]:
    """The migrations in models/migrations not yet applied to this database
    (the connection, or the open default one), in order. One query; nothing
    is cached, so it is true at the moment it is asked.

    A database with no record of migrations (new, empty) has all of them
    pending. Any other error, such as an unreachable database, is raised for
    the caller to report: it says nothing about migrations (tortoise's own
    recorder answers "none applied" to every error)."""
    connection = connection or connections.get("default")
    try:
        _, rows = await connection.execute_query(f'SELECT "app", "name" FROM "{MIGRATIONS_TABLE}"')  # nosec B608
    except Exception as error:
        if not _no_such_table(error):
            raise
        rows = []
    applied = {row["name"] for row in rows if row["app"] == APP_LABEL}
    return [name for name in migration_names() if name not in applied]


def _no_such_table(error: BaseException) -> bool:
    """The error (or one it came from) says the table queried does not exist."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, pg.UndefinedTableError):
            return True
        if isinstance(error, sqlite3.OperationalError) and str(error).startswith("no such table"):
            return True
        seen.add(id(error))
        wrapped = error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
        error = error.__cause__ or wrapped or error.__context__
    return False


async def pending_migrations(database_url: str) -> list[str]:
    """Names of the migrations not yet applied to the database at this URL
    (for the command line: opens its own connection, and closes every one)."""
    await Tortoise.init(config=tortoise_config(database_url), init_connections=False)
    try:
        return await pending_on(connections.get("default"))
    finally:
        await Tortoise.close_connections()
