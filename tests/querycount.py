"""Counting the SQL statements tortoise sends, on SQLite and PostgreSQL alike.

    with count_queries() as queries:
        await client.get("/c/rust")
    assert len(queries) <= 12, queries.report()

Every statement goes through one of the execute_* methods of a connection
client (tortoise.backends.sqlite.client.SqliteClient, asyncpg's
AsyncpgDBClient, and their transaction wrappers, which subclass them). Those
methods are wrapped once, on the classes, for the whole process; outside a
`count_queries` block the wrapper only forwards the call. A wrapped method
that calls another (the base execute_query_dict calls execute_query) counts
once. Transaction control (BEGIN/COMMIT/ROLLBACK, SQLite's PRAGMAs on connect)
is not counted: it does not grow with rows.

Counting is process-wide, not per task: measure one request at a time, with no
worker running (the test app has run_worker=False).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator

from tortoise.backends.asyncpg import client as asyncpg_client
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite import client as sqlite_client

METHODS = (
    "execute_insert", "execute_many", "execute_query", "execute_query_dict",
    "execute_query_dict_with_affected", "execute_script",
)
CLIENT_CLASSES = (
    sqlite_client.SqliteClient, sqlite_client.SqliteTransactionWrapper,
    asyncpg_client.AsyncpgDBClient, asyncpg_client.TransactionWrapper,
)


class Queries(list):
    """The statements sent inside a `count_queries` block, in order; `values`
    holds each one's parameters (None when it had none), at the same place."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list = []

    def report(self) -> str:
        return f"{len(self)} queries:\n" + "\n".join(f"  {n + 1:3}. {q[:300]}" for n, q in enumerate(self))


_active: list[Queries] = []
_inside = contextvars.ContextVar("inside_counted_query", default=False)


def _wrap(method):
    @functools.wraps(method)
    async def counted(self, query, *args, **kwargs):
        if not _active or _inside.get():
            return await method(self, query, *args, **kwargs)
        values = args[0] if args else kwargs.get("values")
        for queries in _active:
            queries.append(" ".join(str(query).split()))
            queries.values.append(values)
        token = _inside.set(True)
        try:
            return await method(self, query, *args, **kwargs)
        finally:
            _inside.reset(token)

    counted.__query_counter__ = True
    return counted


def install() -> None:
    """Wrap the execute_* methods each client class defines itself (idempotent)."""
    for cls in CLIENT_CLASSES:
        assert issubclass(cls, BaseDBAsyncClient)
        for name in METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__query_counter__", False):
                setattr(cls, name, _wrap(method))


@contextlib.contextmanager
def count_queries() -> Iterator[Queries]:
    install()
    queries = Queries()
    _active.append(queries)
    try:
        yield queries
    finally:
        _active.remove(queries)
