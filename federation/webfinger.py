"""Finding an actor from a handle such as @name@example.org (RFC 7033)."""

from __future__ import annotations

import re
from urllib.parse import quote

from federation import fetch, parse, vocab
from federation.runtime import Federation
from models.errors import InvalidInput

HANDLE_RE = re.compile(r"@?(?P<name>[^@\s/]{1,255})@(?P<domain>[a-z0-9.-]{1,253}(?::\d{1,5})?)", re.IGNORECASE)


class UnknownHandle(InvalidInput):
    """The server answered, and knows nobody by that name."""


class Unreachable(InvalidInput):
    """The server could not be asked (down, refused, timed out, not a server)."""


class NotAnActor(InvalidInput):
    """The server knows the name but links no ActivityPub actor for it."""


def parse_handle(handle: str) -> tuple[str, str]:
    match = HANDLE_RE.fullmatch(handle.strip())
    if not match:
        raise InvalidInput("Write a handle as @name@example.org.", field="handle")
    return match["name"], match["domain"].lower()


async def lookup(fed: Federation, handle: str) -> str:
    """The ActivityPub id a handle names. Tries https; plain http only where
    private addresses are allowed (local development and tests)."""
    name, domain = parse_handle(handle)
    schemes = ["https", "http"] if fed.allow_private_addresses.any_private else ["https"]
    last_error: Exception | None = None
    for scheme in schemes:
        url = f"{scheme}://{domain}/.well-known/webfinger?resource={quote(f'acct:{name}@{domain}')}"
        try:
            result = await fetch.fetch_json(
                fed.client, url, accept=f"{vocab.JRD_JSON}, application/json", content_types=fetch.JRD_CONTENT_TYPES,
                max_bytes=100_000,
            )
        except fetch.FetchError as error:
            last_error = error
            continue
        for link in parse.as_list(result.json.get("links")):
            if isinstance(link, dict) and link.get("rel") == "self" and vocab.is_activitypub_media_type(
                str(link.get("type", ""))
            ) and isinstance(link.get("href"), str):
                return link["href"]
        raise NotAnActor(f"{domain} has no ActivityPub actor for @{name}.", field="handle")
    if isinstance(last_error, fetch.HTTPStatusError) and last_error.status in (404, 410):
        raise UnknownHandle(f"{domain} knows nobody called @{name}.", field="handle")
    raise Unreachable(f"Could not look up @{name}@{domain}: {last_error}", field="handle")
