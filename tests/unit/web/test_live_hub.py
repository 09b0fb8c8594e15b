"""web/live.py's hub: subscriptions hear their own topics, close ends them,
and on PostgreSQL the LISTEN connection comes back after it was cut."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from models import live
from tests.conftest import POSTGRES_URL, _postgres_admin_url
from web.live import Hub


async def test_a_subscription_hears_its_topics_only_and_ends_on_close():
    hub = Hub()
    with hub.subscribe(frozenset({"thread:1", "account:2"})) as mine, hub.subscribe(frozenset({"thread:9"})) as other:
        hub.deliver("thread:1")
        hub.deliver("thread:3")
        assert await mine.wait(1) == {"thread:1"}
        assert await mine.wait(0.05) == set()  # nothing new: the timeout
        assert await other.wait(0.05) == set()
        hub.deliver("*")  # read everything again
        assert await mine.wait(1) == {"thread:1", "account:2"}
        hub.close()
        assert await mine.wait(1) is None and await other.wait(1) is None
    assert hub._subscriptions == {}
    with hub.subscribe(frozenset({"thread:1"})) as late:
        assert await late.wait(1) is None  # a closing hub takes no new streams


def test_one_client_cannot_hold_every_stream(monkeypatch):
    monkeypatch.setattr("web.live.MAX_STREAMS_PER_CLIENT", 2)
    monkeypatch.setattr("web.live.MAX_STREAMS", 3)
    hub, topics = Hub(), frozenset({"thread:1"})
    with hub.subscribe(topics, "10.0.0.1"), hub.subscribe(topics, "10.0.0.1"):
        assert not hub.has_room("10.0.0.1") and hub.has_room("10.0.0.2")
        with hub.subscribe(topics, "10.0.0.2"):
            assert not hub.has_room("10.0.0.3"), "the process is full"
    assert hub.has_room("10.0.0.1") and hub._open_by_client == {}


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CIRCLES_TEST_DATABASE_URL (PostgreSQL)")
async def test_postgres_listening_comes_back_after_the_connection_is_cut(database, monkeypatch):
    monkeypatch.setattr(asyncio, "sleep", _quick(asyncio.sleep))
    hub = Hub()
    await hub.start()
    try:
        await asyncio.wait_for(hub.listening.wait(), 10)
        with hub.subscribe(frozenset({"thread:5"})) as subscription:
            await live.announce("thread:5")
            assert await subscription.wait(5) == {"thread:5"}
            admin = await asyncpg.connect(_postgres_admin_url(database))
            try:
                cut = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'")
            finally:
                await admin.close()
            assert cut == 1
            # Connected again, it says "read everything again": what was said meanwhile was missed.
            assert await subscription.wait(10) == {"thread:5"}
            await asyncio.wait_for(hub.listening.wait(), 10)
            await live.announce("thread:5")
            assert await subscription.wait(5) == {"thread:5"}
    finally:
        await hub.stop()


def _quick(sleep):
    """The hub waits a second before connecting again; a tenth is enough here."""
    async def quick(delay, *args, **kwargs):
        return await sleep(min(delay, 0.1), *args, **kwargs)
    return quick
