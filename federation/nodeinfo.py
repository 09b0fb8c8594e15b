"""What software a remote host runs, from its NodeInfo, so a circle can spare
microblogging followers the comments that group-aware software expects."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit

from federation import fetch, parse
from federation.runtime import Federation
from models import clock
from models.federation import RemoteHost

log = logging.getLogger(__name__)

RECHECK_AFTER = dt.timedelta(days=7)
# A host that could not be asked (down, a timeout, a 5xx) is asked again
# soon, then less and less often: a short outage must not make a Mastodon
# server count as group-aware, and get every comment, for a week.
RETRY_FIRST = dt.timedelta(minutes=10)
NODEINFO_SCHEMAS = ("http://nodeinfo.diaspora.software/ns/schema/2.1", "http://nodeinfo.diaspora.software/ns/schema/2.0")
JSON_TYPES = ("application/json", "application/jrd+json", "application/activity+json", "application/ld+json")
# Timelines of people, not of groups: they show every comment a circle
# announces as a post of its own (Mastodon and its forks, the *key family…).
MICROBLOGGING = frozenset({
    "mastodon", "hometown", "glitchsoc", "pleroma", "akkoma", "misskey", "sharkey", "firefish",
    "iceshrimp", "catodon", "foundkey", "calckey", "cherrypick", "gotosocial", "snac", "takahe",
})


class Unreachable(Exception):
    """NodeInfo could not be asked this time (not: the host has none)."""


async def is_microblogging(fed: Federation, inbox_url: str) -> bool:
    """Whether the host of an inbox runs microblogging software. Unknown or
    unreachable hosts count as group-aware: FEP-1b12's default is everything."""
    return bool(await microblogging_hosts(fed, [inbox_url]))


async def microblogging_hosts(fed: Federation, inbox_urls: list[str]) -> set[str]:
    """The hosts among these inboxes' that run microblogging software: one
    query for what we know, NodeInfo asked only of hosts new or due again."""
    inboxes = {parse.host_of(url): url for url in inbox_urls if url}
    known = {
        row.host: row.software
        for row in await RemoteHost.filter(host__in=list(inboxes), software_recheck_at__gt=clock.now())
    }
    for host in inboxes.keys() - known.keys():
        known[host] = await software_of(fed, inboxes[host])
    return {host for host, software in known.items() if (software or "") in MICROBLOGGING}


async def software_of(fed: Federation, inbox_url: str) -> str | None:
    """The software name a host reports, asked at most once a week, or again
    after RETRY_FIRST, 4x longer each time, while it cannot be reached."""
    host = parse.host_of(inbox_url)
    row = await RemoteHost.get_or_none(host=host)
    now = clock.now()
    if row is not None and row.software_recheck_at and row.software_recheck_at > now:
        return row.software
    try:
        values = {"software": await _fetch_software(fed, inbox_url), "software_failures": 0,
                  "software_recheck_at": now + RECHECK_AFTER}
    except Unreachable:
        failures = (row.software_failures if row else 0) + 1
        wait = min(RETRY_FIRST * 4 ** (failures - 1), RECHECK_AFTER)
        # What we knew of the host stays (it did not change software by going down).
        values = {"software_failures": failures, "software_recheck_at": now + wait}
    values["software_checked_at"] = now
    if row is None:
        row, _ = await RemoteHost.get_or_create(host=host, defaults=values)
    else:
        await RemoteHost.filter(id=row.id).update(**values)
        await row.refresh_from_db()
    return row.software


async def _fetch_software(fed: Federation, inbox_url: str) -> str | None:
    """The software name in a host's NodeInfo; None when it has none to
    give; Unreachable when it could not be asked."""
    parts = urlsplit(inbox_url)
    try:
        index = await fetch.fetch_json(
            fed.client, f"{parts.scheme}://{parts.netloc}/.well-known/nodeinfo",
            accept="application/json", content_types=JSON_TYPES, max_bytes=64_000, deadline=10.0,
        )
        link = _schema_link(index.json)
        if link is None or parse.host_of(link) != parse.host_of(inbox_url):
            return None
        document = await fetch.fetch_json(
            fed.client, link, accept="application/json", content_types=JSON_TYPES, max_bytes=64_000, deadline=10.0
        )
    except fetch.FetchError as error:
        log.info("no NodeInfo from %s: %s", parts.netloc, error)
        if fetch.is_transient(error):
            raise Unreachable(str(error)) from error
        return None
    software = document.json.get("software")
    name = software.get("name") if isinstance(software, dict) else None
    return name.strip().lower()[:64] if isinstance(name, str) else None


def _schema_link(index: dict) -> str | None:
    links = [link for link in parse.as_list(index.get("links"))[:20] if isinstance(link, dict)]
    for schema in NODEINFO_SCHEMAS:
        for link in links:
            if link.get("rel") == schema and isinstance(link.get("href"), str):
                return link["href"]
    return None
