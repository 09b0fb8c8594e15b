"""The one source of time and ids, so tests can freeze both.

Ids are sortable 64-bit integers (milliseconds since the epoch in the high
bits, a per-process counter and random bits in the low 16), like Mastodon's:
newer rows have larger ids, which later drives client-API pagination.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading

_frozen: dt.datetime | None = None
_lock = threading.Lock()
_last_ms = 0
_seq = 0


def now() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.timezone.utc)


def freeze(at: dt.datetime | None) -> None:
    """Pin now() to `at` (None unfreezes). For tests. Unfreezing forgets the
    ids made in a frozen future, so later tests' ids carry the real time."""
    global _frozen, _last_ms
    _frozen = at
    if at is None:
        with _lock:
            _last_ms = min(_last_ms, int(now().timestamp() * 1000))


def new_id() -> int:
    global _last_ms, _seq
    ms = int(now().timestamp() * 1000)
    with _lock:
        if ms <= _last_ms:
            # Same millisecond (or a frozen clock): keep ids strictly increasing.
            ms = _last_ms
            _seq += 1
            if _seq >= 1 << 16:
                ms += 1
                _seq = 0
        else:
            _seq = secrets.randbelow(1 << 8)  # random start makes ids hard to guess across processes
        _last_ms = ms
        return (ms << 16) | _seq


def token(nbytes: int = 24) -> str:
    """An unguessable URL-safe token (invites, CSRF)."""
    return secrets.token_urlsafe(nbytes)


def token_digest(secret: str) -> str:
    """What is stored of a secret link's token (calendar links, invitations,
    password resets): its SHA-256, so a database leak opens nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()
