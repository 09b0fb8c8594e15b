"""A migrated database has the indexes the models declare: the same ones,
by table, columns and uniqueness, as a database built from the models by
tortoise's `generate_schemas`, on SQLite as on PostgreSQL.

SQLite databases lacked them: tortoise remakes a table to alter a column
there, and the remade table has no indexes (migration 0007 remade `posts`).
`db.migrate` now makes every missing one (models/indexes.py)."""

from __future__ import annotations

import uuid

import asyncpg
from tortoise import Tortoise, connections

from models import db, indexes
from tests.conftest import POSTGRES_URL, _postgres_admin_url, _with_database

async def _indexes_of(database_url: str, *, generate: bool = False) -> indexes.Existing:
    await db.connect(database_url)
    try:
        if generate:
            await Tortoise.generate_schemas()
        have = await indexes.existing(connections.get("default"))
        # Not the tables of no model: tortoise's record of migrations, the search index's (FTS5) own.
        tables = {model._meta.db_table for model in Tortoise.apps[db.APP_LABEL].values()}
    finally:
        await db.disconnect()
    return {index for index in have if index[0] in tables}


async def _generated(tmp_path) -> indexes.Existing:
    """The indexes of an empty database whose tables generate_schemas made from the models."""
    if not POSTGRES_URL:
        return await _indexes_of(f"sqlite://{tmp_path / 'generated.sqlite3'}", generate=True)
    name = f"circles_test_generated_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_postgres_admin_url(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            return await _indexes_of(_with_database(POSTGRES_URL, name), generate=True)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _show(rows) -> str:
    return "\n".join(f"  {table}({', '.join(columns)}){' unique' if unique else ''}" for table, columns, unique in
                     sorted(rows))


async def test_a_migrated_database_has_the_indexes_the_models_declare(database_url, tmp_path):
    migrated = await _indexes_of(database_url)
    generated = await _generated(tmp_path)
    assert len(generated) > 50
    assert not generated - migrated, "missing after migrating:\n" + _show(generated - migrated)
    assert not migrated - generated, "not declared by any model:\n" + _show(migrated - generated)


async def test_what_restore_reads_as_declared_is_what_generate_schemas_builds(database_url, tmp_path):
    # models/indexes.declared spells out tortoise's rules for which index a
    # model declares; the generated database is tortoise's own answer.
    generated = await _generated(tmp_path)
    await db.connect(database_url)
    try:
        declared = indexes.declared(connections.get("default"), db.APP_LABEL)
    finally:
        await db.disconnect()
    spelled = {(index.table, index.columns, index.unique) for index in declared}
    without_keys = {row for row in generated if row[1:] != (("id",), True)}  # every table's primary key
    assert spelled == without_keys, f"only spelled:\n{_show(spelled - without_keys)}\nonly generated:\n" + _show(
        without_keys - spelled)


async def test_migrating_again_puts_back_an_index_a_table_remake_dropped(make_database):
    # As SQLite's table remake does: the posts index newest-first lists walk,
    # and the uniqueness of a meeting's post, gone. The next `circles migrate` restores them.
    url = await make_database("restore")
    await db.connect(url)
    client = connections.get("default")
    declared = {(i.table, i.columns): i for i in indexes.declared(client, db.APP_LABEL)}
    posts, meetings = declared[("posts", ("circle_id", "root_id", "id"))], declared[("meetings", ("post_id",))]
    assert meetings.unique and not posts.unique
    await client.execute_script(f'DROP INDEX "{posts.name}"')
    if client.capabilities.dialect == "sqlite":
        await client.execute_script(f'DROP INDEX IF EXISTS "{meetings.name}"')
        gone = indexes.missing([posts, meetings], await indexes.existing(client))
        assert gone == [posts, meetings]
    await db.disconnect()

    await db.migrate(url)
    await db.connect(url)
    try:
        client = connections.get("default")
        assert indexes.missing(list(declared.values()), await indexes.existing(client)) == []
        assert await indexes.restore(client, db.APP_LABEL) == []  # nothing more to do the second time
    finally:
        await db.disconnect()
