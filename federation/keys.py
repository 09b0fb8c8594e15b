"""Keys: signing our outgoing requests, and finding (and caching) the public
keys of remote actors to verify theirs."""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import urldefrag

import httpx

from federation import fetch, parse, signatures, webfinger
from federation.runtime import Federation
from models.actors import Actor, KeyAlgorithm
from models.errors import DomainError
from models.services import actors as actor_service
from models.services import remote

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=256)
def _private_key(private_pem: str):
    # Parsing and checking an RSA key costs tens of milliseconds of CPU: once per key.
    return signatures.load_private_key(private_pem)


def request_signer(private_pem: str, key_id: str, *, scheme: str = "cavage"):
    """A `sign(request)` callable for federation/fetch.py that signs with this key."""
    private_key = _private_key(private_pem)

    async def sign(request: httpx.Request) -> None:
        body = request.content if request.method != "GET" else b""
        sign_with = signatures.sign_rfc9421 if scheme == "rfc9421" else signatures.sign_cavage
        added = sign_with(request.method, str(request.url), dict(request.headers), body, key_id, private_key)
        request.headers.update(added)

    return sign


async def signer_for(actor: Actor, *, scheme: str = "cavage"):
    key = await actor_service.signing_key(actor, KeyAlgorithm.RSA)
    return request_signer(key.private_pem, key.key_id, scheme=scheme)


async def fetch_signed(fed: Federation, url: str) -> fetch.FetchResult:
    """GET an ActivityPub document, signed by the instance actor (so servers in
    authorized-fetch mode answer)."""
    instance_actor = await actor_service.ensure_instance_actor(fed.instance)
    return await fetch.fetch_json(fed.client, url, sign=await signer_for(instance_actor))


async def resolve_actor(fed: Federation, uri: str, *, refresh: bool = False) -> Actor:
    """A remote actor by id: from the database when fresh, else fetched and stored."""
    actor = await remote.remote_actor(uri)
    if actor is not None and not refresh and not remote.is_stale(actor):
        return actor
    return await _store_actor(fed, await fetch_signed(fed, uri), uri)


async def _store_actor(fed: Federation, result: fetch.FetchResult, uri: str) -> Actor:
    data = parse.as_to_actor_input(result.json, fetched_from=result.url_final, addresses=fed.allow_private_addresses)
    if data.uri != uri:
        raise parse.InvalidDocument("the fetched actor has another id than the one asked for")
    await _check_handle_claim(fed, data)
    return await remote.upsert_actor(data)


async def _check_handle_claim(fed: Federation, data: remote.RemoteActorInput) -> None:
    """An actor may take a handle another actor holds here only when its server's
    WebFinger says the handle is now theirs (a rename or a move), as Mastodon
    checks that WebFinger loops back to the actor (app/services/activitypub/
    fetch_remote_actor_service.rb, check_webfinger!). Otherwise anyone on a
    server could publish a document naming itself `alice` and pass for her."""
    holder = await Actor.filter(username=data.username, domain=data.domain, local=False).exclude(uri=data.uri).first()
    if holder is None:
        return
    try:
        confirmed = await webfinger.lookup(fed, f"@{data.username}@{data.domain}")
    except DomainError as error:
        raise parse.InvalidDocument(f"@{data.username}@{data.domain} belongs to another actor here, "
                                    f"and WebFinger does not confirm the change ({error})") from None
    if confirmed != data.uri:
        raise parse.InvalidDocument(f"@{data.username}@{data.domain} belongs to another actor; WebFinger agrees")


# keyId -> (public key, owner, until): saves a database query per inbox POST.
# Per process and short-lived; a failed signature refreshes the key anyway.
_key_cache: dict[str, tuple[object, Actor, float]] = {}
KEY_CACHE_SECONDS = 300
KEY_CACHE_SIZE = 2048
REFRESH_INTERVAL = 60  # seconds between two refetches of one key
_last_refresh: dict[str, float] = {}


def _cached(key_id: str):
    entry = _key_cache.get(key_id)
    if entry is None or entry[2] < time.monotonic():
        return None
    return entry[0], entry[1]


def _remember(key_id: str, public_key, owner: Actor):
    if len(_key_cache) >= KEY_CACHE_SIZE:
        _key_cache.clear()
    _key_cache[key_id] = (public_key, owner, time.monotonic() + KEY_CACHE_SECONDS)
    return public_key, owner


async def key_for(fed: Federation, key_id: str, *, refresh: bool = False):
    """(public key, owner actor) for a keyId, fetching the owner when unknown
    or when `refresh` (a signature failed: the key may have rotated)."""
    if not refresh:
        hit = _cached(key_id)
        if hit is not None:
            return hit
        stored = await remote.key_by_id(key_id)
        if stored is not None:
            return _remember(key_id, signatures.load_public_key(stored.public_pem), stored.actor)
    elif time.monotonic() - _last_refresh.get(key_id, float("-inf")) < REFRESH_INTERVAL:
        # Junk signatures naming someone's key must not make us fetch it again and again.
        raise signatures.KeyNotFound(f"{key_id[:200]} was refreshed moments ago")
    if refresh:
        if len(_last_refresh) >= KEY_CACHE_SIZE:
            _last_refresh.clear()
        _last_refresh[key_id] = time.monotonic()
    document_url = urldefrag(key_id).url
    result = await fetch_signed(fed, document_url)
    doc = result.json
    owner_uri = doc.get("owner") if parse.type_of(doc) not in parse.ACTOR_TYPES else doc.get("id")
    if not isinstance(owner_uri, str):
        raise signatures.KeyNotFound(f"{key_id[:200]} names no owner")
    if owner_uri == doc.get("id"):
        owner = await _store_actor(fed, result, owner_uri)  # the key lives in the actor: no second fetch
    else:
        owner = await resolve_actor(fed, owner_uri, refresh=True)
    stored = await remote.key_by_id(key_id)
    if stored is None or stored.actor_id != owner.id:
        _key_cache.pop(key_id, None)
        raise signatures.KeyNotFound(f"{owner_uri[:200]} does not publish the key {key_id[:200]}")
    return _remember(key_id, signatures.load_public_key(stored.public_pem), owner)
