"""The worker wakes as soon as there is work (server/worker.py wake_on_work),
rather than at its next look every IDLE_WAIT seconds: a local change to
federate (an OutboxEvent, here a post written in a circle) or an activity
received in the inbox. On PostgreSQL the news goes through NOTIFY, so a
worker in another process hears it too, and only once the change commits."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from tortoise.transactions import in_transaction

from models.federation import OutboxEvent
from models.services import posts as post_service
from server import worker
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.integration.test_inbox import follow_of, peer, post_signed  # noqa: F401 (peer is a fixture)
from web.live import Hub


@contextlib.asynccontextmanager
async def waking_worker():
    """A hub (listening, on PostgreSQL, on its own connection) and the task
    that sets the worker's wake event; yields the event."""
    hub, wake = Hub(), asyncio.Event()
    await hub.start()
    await asyncio.wait_for(hub.listening.wait(), 10)
    task = asyncio.create_task(worker.wake_on_work(hub, wake))
    await asyncio.sleep(0)  # subscribed before the test writes anything
    try:
        yield wake
    finally:
        await hub.stop()
        await asyncio.wait_for(task, 5)


async def test_a_post_written_wakes_the_worker(database, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    async with waking_worker() as wake:
        await asyncio.sleep(0.1)
        wake.clear()  # anything the setup announced
        await post_service.create_post(instance, alice.actor, circle, body="A thought")
        await asyncio.wait_for(wake.wait(), 5)  # not the worker's 2 s poll: the wait would time out without it


async def test_nothing_wakes_the_worker_when_nothing_is_queued(database, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    await post_service.create_post(instance, alice.actor, circle, body="Before the worker listened")
    async with waking_worker() as wake:
        await asyncio.sleep(0.3)
        assert not wake.is_set()
        event = await OutboxEvent.filter().first()
        event.processed_at = event.created_at
        await event.save()  # a row updated is not new work
        await asyncio.sleep(0.3)
        assert not wake.is_set()


@pytest.mark.skipif(not POSTGRES_URL, reason="NOTIFY across processes is PostgreSQL's: set CIRCLES_TEST_DATABASE_URL")
async def test_on_postgres_the_worker_hears_of_work_only_once_it_commits(database):
    async with waking_worker() as wake:
        async with in_transaction():
            await OutboxEvent.create(kind="post.created", subject_id=1)
            await asyncio.sleep(0.3)
            assert not wake.is_set(), "a worker must not look before the row is there to find"
        await asyncio.wait_for(wake.wait(), 5)
        wake.clear()
        with contextlib.suppress(RuntimeError):
            async with in_transaction():
                await OutboxEvent.create(kind="post.created", subject_id=2)
                raise RuntimeError("rolled back")
        await asyncio.sleep(0.3)
        assert not wake.is_set(), "no work was left by a rolled-back change"


async def test_an_activity_received_wakes_the_worker(client, instance, peer, alice):  # noqa: F811
    async with waking_worker() as wake:
        await asyncio.sleep(0.1)
        wake.clear()
        key, rita = peer
        response = await post_signed(client, "/users/alice/inbox", follow_of(rita, alice.actor.uri), key,
                                     f"{rita}#main-key")
        assert response.status_code == 202, await response.get_data(as_text=True)
        await asyncio.wait_for(wake.wait(), 5)


async def test_work_announced_during_a_pass_is_looked_at_at_once(monkeypatch):
    """The wake is cleared before a pass, not after: news arriving while a pass
    runs (after its stage had looked) starts the next pass at once, not
    IDLE_WAIT later."""
    wake, passes = asyncio.Event(), []

    async def stage(fed) -> int:
        passes.append(asyncio.get_running_loop().time())
        if len(passes) == 1:
            wake.set()  # as wake_on_work does when a post is written now
        return 0  # this pass found nothing to do

    monkeypatch.setattr(worker, "STAGES", (stage,))
    loop = asyncio.create_task(worker.run_forever(None, wake))
    try:
        for _ in range(100):
            if len(passes) >= 2:
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert len(passes) >= 2, f"the second pass waited for the {worker.IDLE_WAIT} s poll"
