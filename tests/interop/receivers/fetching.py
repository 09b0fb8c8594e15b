"""Fetching documents over real HTTP, as both receivers do, for the models:
a GET with the ActivityPub Accept header, answered with the status, the
Content-Type and the parsed JSON. Each model applies its own checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@dataclass
class Fetched:
    url: str
    status: int
    content_type: str  # as sent, parameters included
    body: dict | None  # None when not JSON


Fetch = Callable[[str], Fetched]


@dataclass
class HttpFetch:
    """Fetch over loopback; every request is kept in `log` (for failure messages)."""

    timeout: float = 10.0
    log: list[Fetched] = field(default_factory=list)

    def __call__(self, url: str) -> Fetched:
        try:
            response = httpx.get(url, headers={"Accept": ACCEPT}, timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError as error:
            fetched = Fetched(url, 0, "", {"error": repr(error)})
        else:
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            fetched = Fetched(url, response.status_code, response.headers.get("content-type", ""),
                              body if isinstance(body, dict) else None)
        self.log.append(fetched)
        return fetched


@dataclass
class Rejection:
    """What a model refused, and why (the rule's citation is in the reason)."""
    activity_id: str | None
    activity_type: str | None
    reason: str
