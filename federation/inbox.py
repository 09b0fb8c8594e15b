"""Receiving activities: check, verify, store, answer 202 — and, in the
worker, process what was stored (idempotently, resumable after a crash)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from quart import Blueprint, Response, current_app, request
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from federation import fetch, handlers, keys, metrics, parse, signatures
from federation.fetch import FetchError
from federation.runtime import Federation
from models import clock, live, tracing
from models.actors import ActorKind
from models.errors import DomainError, RateLimited
from models.federation import INBOX_TRANSITIONS, InboxItem, InboxState
from models.services import actors as actor_service
from models.services import circles as circle_service
from models.services import moderation, ratelimits
from models.services import remote

log = logging.getLogger(__name__)
bp = Blueprint("inbox", __name__)

MAX_BODY = 512 * 1024
MAX_DEPTH = 32
MAX_ATTEMPTS = 5


class Refused(Exception):
    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


def federation() -> Federation:
    return current_app.extensions["circles.federation"]


def _depth(value, limit: int, level: int = 0) -> int:
    if level > limit:
        return level
    if isinstance(value, dict):
        return max((_depth(v, limit, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, limit, level + 1) for v in value), default=level)
    return level


def parse_activity(content_type: str, body: bytes) -> dict:
    base_type = content_type.split(";", 1)[0].strip().lower()
    if base_type not in ("application/activity+json", "application/ld+json", "application/json"):
        raise Refused(415, "Send application/activity+json.")
    if len(body) > MAX_BODY:
        raise Refused(413, f"An activity may be at most {MAX_BODY} bytes.")
    if b"\\u0000" in body or b"\x00" in body:
        # No activity needs NUL, and PostgreSQL cannot store it in text or JSON.
        raise Refused(400, "The activity contains a NUL character.")
    try:
        activity = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "The body is not JSON.") from None
    except RecursionError:  # thousands of nested brackets: json gives up before _depth can look
        raise Refused(400, "The activity is nested too deeply.") from None
    if not isinstance(activity, dict):
        raise Refused(400, "An activity is a JSON object.")
    if _depth(activity, MAX_DEPTH) > MAX_DEPTH:
        raise Refused(400, "The activity is nested too deeply.")
    if not isinstance(activity.get("type"), str) or not isinstance(parse.id_of(activity.get("actor")), str):
        raise Refused(400, "An activity needs a type and an actor.")
    activity_id = activity.get("id")
    if not isinstance(activity_id, str) or not activity_id.startswith(("https://", "http://")) or len(activity_id) > 2048:
        raise Refused(400, "An activity needs an http(s) id.")
    actor_host = parse.host_of(parse.id_of(activity["actor"]))
    if not actor_host:
        raise Refused(400, "The activity's actor is not a valid URL.")
    if parse.host_of(activity_id) != actor_host:
        raise Refused(400, "The activity's id is on another host than its actor.")
    return activity


def _is_self_delete(activity: dict) -> bool:
    actor = parse.id_of(activity.get("actor"))
    return activity.get("type") == "Delete" and parse.id_of(activity.get("object")) == actor


async def verify_sender(fed: Federation, activity: dict, body: bytes) -> str:
    """Check the HTTP signature and that its key belongs to the activity's actor.
    Returns the key id."""
    actor_uri = parse.id_of(activity["actor"])
    owners: dict[str, str] = {}

    async def lookup(key_id: str, *, refresh: bool = False):
        try:
            public_key, owner = await keys.key_for(fed, key_id, refresh=refresh)
        except (FetchError, parse.InvalidDocument, DomainError, ValueError, TypeError) as error:
            # ValueError/TypeError: a key document we cannot read (a bad PEM, odd JSON).
            raise signatures.KeyNotFound(f"cannot get the key {key_id[:200]}: {error}") from None
        owners[key_id] = owner.uri
        return public_key

    async def refetch(key_id: str):
        return await lookup(key_id, refresh=True)

    url = fed.instance.base_url + request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    # The signed host must be ours, whatever Host the request arrived with: a
    # request signed for another server and replayed here fails (and a proxy
    # that rewrites Host does not break signatures made for us).
    headers = {name: value for name, value in request.headers.items() if name.lower() != "host"}
    headers["Host"] = fed.instance.domain
    try:
        verified = await signatures.verify_request(
            request.method, url, headers, body, lookup, now=clock.now(), refetch=refetch
        )
    except signatures.KeyNotFound as error:
        raise Refused(401, f"Signature key not found: {error}") from None
    except signatures.SignatureError as error:
        raise Refused(401, f"Signature refused: {error.reason}") from None
    if owners.get(verified.key_id) != actor_uri:
        raise Refused(401, "The signing key does not belong to the activity's actor.")
    return verified.key_id


def _signature_fingerprint() -> str:
    """A hash of the request's signature: the same bytes twice is a replay."""
    value = request.headers.get("Signature", "") + request.headers.get("Signature-Input", "")
    return hashlib.sha256(value.encode()).hexdigest()


async def receive() -> Response:
    fed = federation()
    body = await request.get_data(cache=False)
    fingerprint = _signature_fingerprint()
    try:
        await _spend(ratelimits.INBOX_ADDRESS, f"address:{request.remote_addr or 'unknown'}")
        activity = parse_activity(request.headers.get("Content-Type", ""), body)
        if await moderation.is_blocked(parse.host_of(parse.id_of(activity["actor"]))):
            raise Refused(403, "This server does not accept activities from your domain.")
        if _is_self_delete(activity) and await remote.remote_actor(activity["actor"]) is None:
            return _accepted("Nothing to delete here.")
        key_id = await verify_sender(fed, activity, body)
        await _spend(ratelimits.INBOX_HOST, f"host:{parse.host_of(key_id)}")  # counted once the signature holds
        try:
            await InboxItem.create(
                activity_id=activity["id"], actor_uri=parse.id_of(activity["actor"]),
                activity_type=activity["type"][:64], payload=activity, signature_key_id=key_id,
                signature_fingerprint=fingerprint,
            )
        except IntegrityError:
            await _refuse_replay(activity["id"], fingerprint)
            return _accepted("Already received.")
    except Refused as refused:
        log.info("inbox refused: %s", refused.reason, extra={"remote_addr": request.remote_addr})
        metrics.inbox_refused(refused.status, refused.reason)
        return Response(
            json.dumps({"error": refused.reason}), status=refused.status, content_type="application/json",
            headers=refused.headers,
        )
    await live.announce(live.WORK)  # a worker, here or in another process, processes it now
    return _accepted("Accepted.")


async def _spend(limit: ratelimits.Limit, subject: str) -> None:
    if not current_app.extensions.get("circles.rate_limits", True):
        return
    try:
        await ratelimits.spend(limit, subject)
    except RateLimited as error:
        raise Refused(429, "Too many activities from you; try again later.",
                      {"Retry-After": str(error.retry_after)}) from None


async def _refuse_replay(activity_id: str, fingerprint: str) -> None:
    """A sender retrying signs anew (a new Date): that is acknowledged again and
    changes nothing. The very same signature again is someone replaying it."""
    stored = await InboxItem.get_or_none(activity_id=activity_id)
    if stored is not None and stored.signature_fingerprint == fingerprint:
        raise Refused(409, "This exact signed request was received before (a replay).")


def _accepted(message: str) -> Response:
    metrics.inbox_accepted(message)
    return Response(json.dumps({"status": message}), status=202, content_type="application/json")


@bp.post("/inbox")
async def shared_inbox():
    return await receive()


@bp.post("/actor/inbox")
async def instance_inbox():
    return await receive()


@bp.post("/users/<username>/inbox")
async def person_inbox(username: str):
    await actor_service.local_actor(ActorKind.PERSON, username)
    return await receive()


@bp.post("/c/<handle>/inbox")
async def group_inbox(handle: str):
    await circle_service.get_circle(handle)
    return await receive()


# --- processing (in the worker) -----------------------------------------------------


async def _claim(limit: int, lease: dt.timedelta) -> list[InboxItem]:
    """Queued items no other worker holds, claimed for this one for `lease`."""
    now = clock.now()
    async with in_transaction():
        rows = await (
            InboxItem.filter(Q(claimed_until=None) | Q(claimed_until__lt=now), state=InboxState.QUEUED)
            .order_by("id").limit(limit).select_for_update(skip_locked=True)
        )
        if rows:
            await InboxItem.filter(id__in=[r.id for r in rows]).update(claimed_until=now + lease)
    return rows


async def process_pending(fed: Federation, *, limit: int = 20) -> int:
    """Process queued activities; returns how many were handled."""
    items = await _claim(limit, fed.lease)
    for item in items:
        with tracing.bound(item.request_id):  # its log lines carry the id of the request that brought it
            await process_item(fed, item)
    return len(items)


def _retry(item: InboxItem):
    """(state, claimed_until) for another try later, with growing pauses."""
    item.attempts += 1
    if item.attempts >= MAX_ATTEMPTS:
        return InboxState.FAILED, None
    return InboxState.QUEUED, clock.now() + dt.timedelta(seconds=30 * 4 ** (item.attempts - 1))


async def process_item(fed: Federation, item: InboxItem) -> None:
    retry_at = None
    try:
        outcome = await handlers.dispatch(fed, item.payload)
        state, error = (InboxState.DONE, "") if outcome else (InboxState.IGNORED, "")
    except (DomainError, parse.InvalidDocument, FetchError) as refused:
        state, error = InboxState.IGNORED, str(refused)[:2000]
        if fetch.is_transient(refused):  # the other server is down for now: try again later
            state, retry_at = _retry(item)
    except Exception as crash:  # worker loop: record and retry a few times
        log.exception("processing %s failed", item.activity_id, extra={"activity_id": item.activity_id})
        error = f"{type(crash).__name__}: {crash}"[:2000]
        state, retry_at = _retry(item)
    if state is not item.state and state not in INBOX_TRANSITIONS[item.state]:
        raise RuntimeError(f"inbox item {item.id}: {item.state.value} -> {state.value} is not allowed")
    item.state, item.error, item.processed_at = state, error, clock.now()
    item.claimed_until = retry_at
    await item.save(update_fields=["state", "error", "processed_at", "attempts", "claimed_until"])
    metrics.inbox_processed(item.created_at, final=state is not InboxState.QUEUED)
