"""Databases at a chosen migration, for the tests of pending migrations
(tests/unit/models/test_pending_migrations.py, the /readyz and `circles
migrate --check` tests): a new SQLite file, or a new PostgreSQL database
dropped afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from models import db
from tests.conftest import POSTGRES_URL, _create_postgres_database, _drop_postgres_database


@contextlib.asynccontextmanager
async def new_database(tmp_path: Path, name: str) -> AsyncIterator[str]:
    """The URL of a database with nothing in it (no tables at all)."""
    if not POSTGRES_URL:
        yield f"sqlite://{tmp_path / f'{name}.sqlite3'}"
        return
    url = await _create_postgres_database(POSTGRES_URL)
    try:
        yield url
    finally:
        await _drop_postgres_database(POSTGRES_URL, url)


async def migrate_to(url: str, name: str) -> None:
    """Apply the migrations up to `name` included, as `circles migrate` would
    apply them all (tortoise's engine, the same configuration)."""
    await tortoise_migrate(config=db.migration_config(url), target=f"{db.APP_LABEL}.{name}")
