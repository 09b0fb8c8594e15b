"""The indexes the models declare, the ones a database has, and putting back
those it lacks.

SQLite cannot alter or drop a column in place: tortoise's migration engine
remakes the table (a copy, `DROP TABLE`, rename: migrations/schema_editor/
sqlite.py, `_remake_table`), and the copy keeps only its columns, their own
UNIQUE and the CHECK constraints. Every index of the table goes, its
`unique_together` constraints and the uniqueness of a one-to-one field with
them. Migration 0007 remade `posts` that way, and later ones `meetings`,
`proposals` and `moderation_actions`: their declared indexes existed only on
PostgreSQL. `restore`, run by `db.migrate` after every migration run, makes
each declared index a database lacks, under the name tortoise gives it, so a
later migration that drops it by that name finds it.

What counts as declared is what `generate_schemas` would build from the
models: an index per `db_index=True` field and per `Meta.indexes` entry, a
unique index per `unique=True` field (the primary key aside) and per
`unique_together`. An index exists when one on the same table has the same
columns in the same order (and is unique, where uniqueness is declared),
whatever its name; expression and partial indexes (the search index) match
nothing. tests/unit/models/test_indexes.py compares a migrated database
with one `generate_schemas` built."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.indexes import Index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Declared:
    table: str
    columns: tuple[str, ...]
    unique: bool
    name: str  # tortoise's name for it: idx_... (an index) or uid_... (a unique one)

    def create_sql(self) -> str:
        columns = ", ".join(f'"{column}"' for column in self.columns)
        kind = "UNIQUE INDEX" if self.unique else "INDEX"
        return f'CREATE {kind} IF NOT EXISTS "{self.name}" ON "{self.table}" ({columns})'


# (table, columns, unique) of the indexes a database has
Existing = set[tuple[str, tuple[str, ...], bool]]


def declared(client: BaseDBAsyncClient, app_label: str) -> list[Declared]:
    """Every index the app's models declare, in model order."""
    names = client.schema_generator(client)
    found: dict[tuple[str, tuple[str, ...], bool], Declared] = {}

    def add(model, columns: list[str], unique: bool, name: str | None = None) -> None:
        key = (model._meta.db_table, tuple(columns), unique)
        name = name or names._get_index_name("uid" if unique else "idx", model, columns)
        found.setdefault(key, Declared(*key, name))

    for model in Tortoise.apps[app_label].values():
        meta = model._meta

        def column(field_name: str) -> str:
            return meta.fields_map[field_name].source_field or field_name

        for field_name, column_name in meta.fields_db_projection.items():
            field = meta.fields_map[field_name]
            if field.pk:
                continue
            if field.unique:
                add(model, [column_name], True)
            elif field.index:
                add(model, [column_name], False)
        for fields in meta.unique_together or ():
            add(model, [column(name) for name in fields], True)
        for index in meta.indexes or ():
            if isinstance(index, Index):
                if index.expressions or index.INDEX_TYPE:
                    continue  # not a plain b-tree on columns: built by its own migration
                add(model, [column(name) for name in index.field_names], False, index.name)
            else:
                add(model, [column(name) for name in index], False)
    return list(found.values())


# Each index of each table with its columns in order; an expression's column has no name.
SQLITE_INDEXES = """
SELECT m.name AS "table", il.name AS "index", il."unique" AS "unique", il.partial AS partial,
       ii.seqno AS seqno, ii.name AS "column"
FROM sqlite_master AS m
JOIN pragma_index_list(m.name) AS il
JOIN pragma_index_info(il.name) AS ii
WHERE m.type = 'table'
ORDER BY 1, 2, 5
"""
POSTGRES_INDEXES = """
SELECT t.relname AS "table", i.relname AS "index", x.indisunique AS "unique",
       (x.indpred IS NOT NULL) AS partial, k.n AS seqno, a.attname AS "column"
FROM pg_index AS x
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_namespace AS ns ON ns.oid = t.relnamespace
CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
LEFT JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
WHERE ns.nspname = current_schema()
ORDER BY 1, 2, 5
"""


async def existing(client: BaseDBAsyncClient) -> Existing:
    """(table, columns, unique) of every plain index the database has: one query."""
    dialect = client.capabilities.dialect
    if dialect not in ("sqlite", "postgres"):
        raise RuntimeError(f"Indexes are read on SQLite and PostgreSQL, not {dialect}.")
    rows = await client.execute_query_dict(SQLITE_INDEXES if dialect == "sqlite" else POSTGRES_INDEXES)
    indexes: dict[tuple[str, str], list] = {}
    for row in rows:
        indexes.setdefault((row["table"], row["index"]), [bool(row["unique"]), bool(row["partial"]), []])
        indexes[(row["table"], row["index"])][2].append(row["column"])
    return {
        (table, tuple(columns), unique)
        for (table, _), (unique, partial, columns) in indexes.items()
        if not partial and None not in columns
    }


def missing(wanted: list[Declared], have: Existing) -> list[Declared]:
    """The declared indexes the database lacks (a unique one serves a plain one too)."""
    return [
        index for index in wanted
        if (index.table, index.columns, True) not in have
        and (index.unique or (index.table, index.columns, False) not in have)
    ]


async def restore(client: BaseDBAsyncClient, app_label: str) -> list[Declared]:
    """Create every declared index the database lacks (CREATE INDEX IF NOT
    EXISTS); the ones made. A unique index over rows that repeat a value is
    refused by the database, and that error raised: the rows break a rule the
    models declare, and someone must decide which to keep."""
    made = missing(declared(client, app_label), await existing(client))
    for index in made:
        log.info("Restoring index %s on %s (%s)", index.name, index.table, ", ".join(index.columns))
        await client.execute_script(index.create_sql())
    return made
