"""Opening the database and applying migrations.

Schema changes go through tortoise-orm's own migration engine: the files in
models/migrations/ are generated with `circles makemigrations` after a model
change and applied with `circles migrate` (idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg.exceptions as pg
from tortoise import Tortoise, connections
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from models import search_index

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
    called before and after each one. Then the search index's SQLite triggers,
    should a migration's table remake have dropped them."""
    try:
        await tortoise_migrate(config=migration_config(database_url), progress=progress)
        await search_index.restore_triggers(connections.get("default"))
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


async def pending_migrations(database_url: str) -> list[str]:
    """Names of the migrations not yet applied to this database."""
    config = tortoise_config(database_url)
    await Tortoise.init(config=config, init_connections=False)
    try:
        executor = MigrationExecutor(connections.get("default"), config["apps"])
        steps = await executor.plan([MigrationTarget(app_label=APP_LABEL, name="__latest__")])
        return [step.migration.name for step in steps if not step.backward]
    finally:
        await Tortoise.close_connections()
