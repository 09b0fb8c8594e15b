"""db.pending_on / db.pending_migrations: the migrations in models/migrations
not yet applied, read from the database in one query, agreeing with
tortoise's own migration plan; an unreachable database is an error, never
"everything pending"."""

from __future__ import annotations

import socket

import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from models import db
from tests.migration_state import migrate_to, new_database


async def tortoise_plan(url: str) -> list[str]:
    """What tortoise's migration engine would apply: the reference."""
    config = db.tortoise_config(url)
    await Tortoise.init(config=config, init_connections=False)
    try:
        executor = MigrationExecutor(connections.get("default"), config["apps"])
        steps = await executor.plan([MigrationTarget(app_label=db.APP_LABEL, name="__latest__")])
        return [step.migration.name for step in steps if not step.backward]
    finally:
        await Tortoise.close_connections()


def test_the_names_are_the_migration_files_in_order():
    names = db.migration_names()
    assert names[0] == "0001_initial"
    assert names == sorted(names) and len(names) == len(set(names)) >= 41
    assert all(name[:4].isdigit() for name in names)


async def test_nothing_is_pending_on_a_migrated_database_in_one_query(database, count_queries):
    with count_queries() as queries:
        assert await db.pending_on() == []
    assert len(queries) == 1, queries.report()


async def test_the_last_migration_is_pending_on_a_database_migrated_to_all_but_it(tmp_path):
    *earlier, last = db.migration_names()
    async with new_database(tmp_path, "behind") as url:
        await migrate_to(url, earlier[-1])
        assert await db.pending_migrations(url) == [last]
        assert await tortoise_plan(url) == [last]
        await db.connect(url)
        try:
            assert await db.pending_on() == [last]
        finally:
            await db.disconnect()
        await db.migrate(url)
        assert await db.pending_migrations(url) == []


async def test_every_migration_is_pending_on_an_empty_database(tmp_path):
    async with new_database(tmp_path, "empty") as url:
        assert await db.pending_migrations(url) == db.migration_names() == await tortoise_plan(url)


async def test_an_unreachable_database_is_an_error_not_everything_pending():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(OSError):
        await db.pending_migrations(f"postgres://circles:x@127.0.0.1:{port}/circles")
