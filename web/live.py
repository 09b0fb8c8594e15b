"""The live hub of one web process: who is waiting to hear of which topic
(models/live.py says what topics are), and where the topics come from.

On PostgreSQL the hub keeps one connection of its own that LISTENs on the
`circles_live` channel, so it hears what every process (web or worker)
announces once its transaction commits. If that connection breaks, it
connects again and tells every open stream to read its state again, since
announcements made meanwhile were missed. On SQLite it hears the announcements
of its own process (models.live.listen).

Started and stopped with the app (server/app.py). `close` ends every open
stream at once; `circles serve` calls it when told to stop, so that open
streams do not hold up the server's graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterator

import asyncpg
from quart import current_app
from tortoise import connections

from models import live

log = logging.getLogger(__name__)

RECONNECT_MAX_SECONDS = 30.0
HEALTH_CHECK_SECONDS = 30.0  # how often a silent listening connection is asked whether it is alive
# Each open stream holds a connection and a task: a few per person (tabs),
# and a ceiling for the process, so no one client can exhaust them.
MAX_STREAMS = 2000
MAX_STREAMS_PER_CLIENT = 16
EVERYTHING = "*"  # delivered to every subscription: read your state again


class Subscription:
    """One open stream's topics, and those of them that changed since it last looked."""

    def __init__(self, topics: frozenset[str]) -> None:
        self.topics = topics
        self.changed: set[str] = set()
        self.closed = False
        self._wake = asyncio.Event()

    def notify(self, topic: str) -> None:
        self.changed.update(self.topics if topic == EVERYTHING else {topic})
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def wait(self, timeout: float) -> set[str] | None:
        """The topics that changed (an empty set when `timeout` passed first),
        or None once the hub is closing: then the stream ends."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        if self.closed:
            return None
        self._wake.clear()
        changed, self.changed = self.changed, set()
        return changed


class Hub:
    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._open_by_client: Counter[str] = Counter()
        self._closing = False
        self._task: asyncio.Task | None = None
        self._unlisten = None
        self.listening = asyncio.Event()  # the PostgreSQL LISTEN is in place (tests wait for it)

    @property
    def cross_process(self) -> bool:
        """Whether announcements of other processes reach this one (PostgreSQL)."""
        return self._task is not None

    async def start(self) -> None:
        """Begin hearing announcements; call with the database connected."""
        if live.is_postgres():
            self._task = asyncio.create_task(self._listen_forever(_connect_arguments()))
        else:
            self._unlisten = live.listen(self.deliver)
            self.listening.set()

    def close(self) -> None:
        """End every open stream now, and refuse new ones."""
        self._closing = True
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.close()

    async def stop(self) -> None:
        self.close()
        if self._unlisten is not None:
            self._unlisten()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def deliver(self, topic: str) -> None:
        if topic == EVERYTHING:
            targets = {s for subscriptions in self._subscriptions.values() for s in subscriptions}
        else:
            targets = self._subscriptions.get(topic, set())
        for subscription in list(targets):
            subscription.notify(topic)

    def has_room(self, client: str) -> bool:
        """Whether `client` (an address) may open one more stream."""
        return (sum(self._open_by_client.values()) < MAX_STREAMS
                and self._open_by_client[client] < MAX_STREAMS_PER_CLIENT)

    @contextlib.contextmanager
    def subscribe(self, topics: frozenset[str], client: str = "") -> Iterator[Subscription]:
        subscription = Subscription(topics)
        self._open_by_client[client] += 1
        if self._closing:
            subscription.close()
        for topic in topics:
            self._subscriptions.setdefault(topic, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._open_by_client[client] -= 1
            if not self._open_by_client[client]:
                del self._open_by_client[client]
            for topic in topics:
                waiting = self._subscriptions.get(topic)
                if waiting is not None:
                    waiting.discard(subscription)
                    if not waiting:
                        del self._subscriptions[topic]

    async def _listen_forever(self, arguments: dict) -> None:
        delay = 1.0
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(**arguments)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection: lost.set())
                await connection.add_listener(live.CHANNEL, self._heard)
                self.listening.set()
                self.deliver(EVERYTHING)  # what was announced while no one listened
                delay = 1.0
                await _until_lost(connection, lost)
                log.warning("The connection listening for live updates was lost; connecting again")
            except Exception as error:  # any failure: listen again, or the streams would go deaf for good
                log.warning("Cannot listen for live updates (%s); trying again in %.0f s", error, delay)
            finally:
                self.listening.clear()
                if connection is not None and not connection.is_closed():
                    connection.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _heard(self, _connection, _pid: int, _channel: str, payload: str) -> None:
        self.deliver(payload)


async def _until_lost(connection: asyncpg.Connection, lost: asyncio.Event) -> None:
    """Return when the listening connection is gone: closed by the server, or
    silent (a half-open TCP connection never tells), which a query now and
    then finds out."""
    while True:
        try:
            await asyncio.wait_for(lost.wait(), timeout=HEALTH_CHECK_SECONDS)
            return
        except TimeoutError:
            await connection.fetchval("SELECT 1", timeout=HEALTH_CHECK_SECONDS)


def _connect_arguments() -> dict:
    """How to open a connection of our own to the database tortoise uses."""
    client = connections.get("default")
    arguments = {"host": client.host, "port": client.port, "user": client.user, "password": client.password,
                 "database": client.database}
    if "ssl" in client.extra:
        arguments["ssl"] = client.extra["ssl"]
    return arguments


def hub() -> Hub:
    return current_app.extensions["circles.live"]
