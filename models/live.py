"""Live updates: a service says "this topic changed" (an account's
notifications, a thread) and open pages hear it through server-sent events.

Topics are short strings: `account:<id>` (notifications of that account),
`thread:<root post id>` (a reply in that thread), `posts` (a post was
written, arrived or deleted, anywhere: the client API's streams read what
they may show) and `work` (a worker queue gained a row: a local change to
federate, an activity received; workers wake on it, server/worker.py).
Call `announce` in the transaction of the change.

On PostgreSQL a topic is a `NOTIFY` on the `circles_live` channel, sent on the
caller's connection: the database delivers it when the transaction commits
(never when it rolls back) to every process that listens (web/live.py), so any
number of web processes and workers hear each other. On SQLite there is one
process to tell, and the topic goes at once to the listeners registered here.
That is before the commit: a listener must read the new state from the
database, not from the announcement (on SQLite the read waits for the commit,
since the one connection is the transaction's until then). A separate
`circles worker` process on SQLite cannot reach the web process this way; the
open pages there check again now and then instead (web/html/live.py), and the
worker looks at its queues every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tortoise import connections

CHANNEL = "circles_live"
POSTS = "posts"
GONE = "posts:gone"  # with POSTS when a post is deleted: the client API's streams look for deletions then only
WORK = "work"
log = logging.getLogger(__name__)

_listeners: set[Callable[[str], None]] = set()


def is_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def listen(callback: Callable[[str], None]) -> Callable[[], None]:
    """Call `callback(topic)` for each topic announced in this process (SQLite
    only; PostgreSQL listeners LISTEN). It must not block. Returns the undo."""
    _listeners.add(callback)
    return lambda: _listeners.discard(callback)


async def announce(*topics: str) -> None:
    """Tell listeners these topics changed (once each), when the current
    transaction commits on PostgreSQL, at once on SQLite."""
    unique = list(dict.fromkeys(topic for topic in topics if topic))
    if not unique:
        return
    client = connections.get("default")  # the transaction's own connection inside one
    if client.capabilities.dialect == "postgres":
        await client.execute_query("SELECT pg_notify($1, topic) FROM unnest($2::text[]) AS topic", [CHANNEL, unique])
        return
    for topic in unique:
        for callback in list(_listeners):
            callback(topic)
