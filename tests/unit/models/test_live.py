"""models/live.py: announcements reach listeners, on SQLite in this process,
on PostgreSQL through NOTIFY, only once the transaction commits."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from models import live
from tests.conftest import POSTGRES_URL, _postgres_admin_url

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="needs CIRCLES_TEST_DATABASE_URL (PostgreSQL)")
needs_sqlite = pytest.mark.skipif(bool(POSTGRES_URL), reason="the in-process path is SQLite's")


@needs_sqlite
async def test_sqlite_announces_to_this_process_once_per_topic(database):
    heard: list[str] = []
    undo = live.listen(heard.append)
    try:
        await live.announce("account:1", "thread:2", "account:1", "")
        assert heard == ["account:1", "thread:2"]
    finally:
        undo()
    await live.announce("account:1")
    assert heard == ["account:1", "thread:2"]  # no longer listening


@needs_sqlite
async def test_sqlite_listener_reads_the_committed_state(database):
    """Heard before the commit, but a read made on hearing it waits for the
    commit (the one connection is the transaction's), so it sees the change."""
    from models.instance import Instance
    from models.notifications import Notification
    from models.services import notifications
    from tests import factories
    from tests.conftest import TEST_DOMAIN

    account = await factories.account(Instance(domain=TEST_DOMAIN, scheme="http"), "alice")
    announced = asyncio.Event()

    async def reader() -> int:  # an open stream: its own task, begun before the change
        await announced.wait()
        return await notifications.unread_count(account)

    read = asyncio.create_task(reader())
    undo = live.listen(lambda topic: announced.set())
    try:
        async with in_transaction():
            await Notification.create(recipient=account, kind="circle.invited", text="Hi", url="/")
            await live.announce(f"account:{account.id}")
            await asyncio.sleep(0.05)
            assert announced.is_set() and not read.done()  # heard, and the read waits for the transaction
        assert await read == 1
    finally:
        undo()


async def _listener(url: str) -> tuple[asyncpg.Connection, asyncio.Queue]:
    heard: asyncio.Queue = asyncio.Queue()
    connection = await asyncpg.connect(_postgres_admin_url(url))
    await connection.add_listener(live.CHANNEL, lambda _c, _pid, _channel, payload: heard.put_nowait(payload))
    return connection, heard


@needs_postgres
async def test_postgres_delivers_on_commit_to_another_connection(database):
    connection, heard = await _listener(database)
    try:
        async with in_transaction():
            await live.announce("thread:1", "account:2")
            await asyncio.sleep(0.3)
            assert heard.empty(), "delivered before the commit"
        assert {await asyncio.wait_for(heard.get(), 5), await asyncio.wait_for(heard.get(), 5)} == {
            "thread:1", "account:2"}
    finally:
        await connection.close()


@needs_postgres
async def test_postgres_delivers_nothing_of_a_rolled_back_transaction(database):
    connection, heard = await _listener(database)
    try:
        with pytest.raises(RuntimeError):
            async with in_transaction():
                await live.announce("thread:7")
                raise RuntimeError("changed my mind")
        await live.announce("thread:8")  # outside a transaction: at once
        assert await asyncio.wait_for(heard.get(), 5) == "thread:8"  # in commit order: 7 would have come first
        await asyncio.sleep(0.2)
        assert heard.empty()
    finally:
        await connection.close()
