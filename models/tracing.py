"""The request id: which web request (or received activity) a piece of work
comes from, so that its log lines and the queued rows it causes can be
traced back to it.

A context variable, set by the web layer for each request (web/observe.py)
and by the worker while it handles a queued row that carries one
(`bound`). The queue tables take it as their default (`current`), so every
InboxItem and OutboxEvent written while a request or a job runs records it,
whichever service writes them; the fan-out copies an event's onto its
Delivery rows. The log set-up (server/logs.py) writes it on each line.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar

MAX_LENGTH = 64
# What an incoming X-Request-Id may be to be kept: a short token of safe
# characters (a proxy's UUID, or our own), never text that could forge a log line.
SAFE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")

_request_id: ContextVar[str | None] = ContextVar("circles_request_id", default=None)


def current() -> str | None:
    """The request id of the work under way, or None."""
    return _request_id.get()


def new() -> str:
    """A fresh request id: 32 hex characters."""
    return secrets.token_hex(16)


def accepted(offered: str | None) -> str:
    """`offered` (an incoming X-Request-Id) if it is a short safe token, else a new id."""
    if offered and SAFE_RE.fullmatch(offered):
        return offered
    return new()


def start(request_id: str | None) -> None:
    """Set the request id for the rest of this task (a web request runs in its own)."""
    _request_id.set(request_id)


@contextlib.contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """The request id while the block runs (a worker handling one queued row)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
