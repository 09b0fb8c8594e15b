"""The streaming API, over server-sent events and WebSocket, fed by the web UI's live updates (https://docs.joinmastodon.org/methods/streaming/).

Mastodon's streaming server (streaming/index.js) is the model: the same
channel names and paths, a token for every stream (public ones need no scope),
`update` (a Status as a JSON string), `status.update` (the Status again
once edited), `notification` and `delete` (the id) events, `:thump`
comments to keep a quiet line open, and over WebSocket
`{"type": "subscribe", "stream": ...}` messages and `{"stream": [...], "event",
"payload"}` answers.

What happened comes from the web's live hub (web/live.py): `posts` is
announced when a post is written, edited, arrives or is deleted,
`account:<id>` when that person's notifications change (models/live.py; on
PostgreSQL a NOTIFY heard by every process). Each time, a stream reads from
the database the posts after the last one it sent that its channel shows,
with the same filters as the timelines, so the access of the moment decides:
someone who left a members-only circle stops hearing of its posts at once.
Edits are read the same way, by the revisions kept after the last one it
looked at (each edit keeps one: models/services/post_edits.py); deletions,
announced as `posts:gone` too, by when they happened.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from quart import Blueprint, make_response, request, stream_with_context, websocket
from tortoise.expressions import Q, Subquery

from models import clock, db, live
from models.accounts import AccountState
from models.media import Media
from models.notifications import Notification
from models.oauth import OAuthToken
from models.posts import Post, PostRevision
from models.services import oauth, profiles
from web.live import hub
from web.mastodon import auth, timelines
from web.mastodon.notification_entities import notifications, rows_query
from web.mastodon.status_entities import statuses
from web.site import site

bp = Blueprint("mastodon_streaming", __name__)

HEARTBEAT_SECONDS = 15.0  # streaming/index.js writes ":thump" every 15 s
BATCH = 40  # rows one stream reads at a time
REMEMBERED = 500  # posts a stream remembers having sent, to say when they are deleted
# Deletions are looked for by time: one committed this long after it was stamped is still heard.
DELETE_SLACK = datetime.timedelta(seconds=60)
PUBLIC = frozenset({
    "public", "public:local", "public:remote", "public:media", "public:local:media", "public:remote:media",
    "hashtag", "hashtag:local",
})
ALL = PUBLIC | {"user", "user:notification"}
# The path forms (streaming/index.js, channelNameFromPath); `only_media` picks the :media channel.
PATHS = {
    "user": "user", "user/notification": "user:notification", "public": "public", "public/local": "public:local",
    "public/remote": "public:remote", "hashtag": "hashtag", "hashtag/local": "hashtag:local",
}


class StreamError(Exception):
    """A refusal, in the streaming server's words and statuses (streaming/errors.js)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Channel:
    name: str
    tag: str = ""

    @property
    def stream(self) -> list[str]:
        """How messages name it: `["hashtag", "rust"]`, `["user"]`."""
        return [self.name, self.tag] if self.tag else [self.name]

    @property
    def has_posts(self) -> bool:
        return self.name != "user:notification"


def channel_for(name: str, tag: str | None) -> Channel:
    if name not in ALL:
        raise StreamError(400, "Unknown stream type")
    if name.startswith("hashtag"):
        tag = (tag or "").strip().lstrip("#").lower()
        if not tag:
            raise StreamError(400, "Missing tag name parameter")
        return Channel(name, tag)
    return Channel(name)


def check_scopes(token: OAuthToken, channel: Channel) -> None:
    """Public channels need no scope; the others `read:statuses`, or `read:notifications` for notifications."""
    needed = "read:notifications" if channel.name == "user:notification" else "read:statuses"
    if channel.name not in PUBLIC and not oauth.allows(token.scopes, needed):
        raise StreamError(401, "Access token does not have the required scopes")


def post_filter(channel: Channel) -> Q:
    """What the channel's timeline shows (timelines.py), as a filter."""
    name, parts = channel.name, set(channel.name.split(":"))
    if name == "user":
        return Q()  # filled in with the person's home filter by Reader
    where = timelines.public_filter()
    if "local" in parts:
        where &= Q(local=True)
    if "remote" in parts:
        where &= Q(local=False)
    if "media" in parts:
        where &= Q(id__in=Subquery(Media.all().values("post_id")))
    if channel.tag:
        where &= timelines.tag_filter(channel.tag)
    return where


class Reader:
    """One connection's channels, and what it sent of each: each read gives
    the events since, checked against what the person may read now."""

    def __init__(self, token: OAuthToken) -> None:
        self.token, self.account = token, token.account
        self.instance = site().instance
        self.cursors: dict[Channel, int] = {}  # the newest post each channel has seen
        self.edit_cursors: dict[Channel, int] = {}  # the newest revision (an edit) it has seen
        self.note_cursors: dict[Channel, int] = {}  # the newest notification
        self.looked: dict[Channel, tuple[datetime.datetime, datetime.datetime]] = {}  # (opened, last looked)
        self.sent: collections.OrderedDict[int, set[Channel]] = collections.OrderedDict()
        self.said_gone: collections.OrderedDict[tuple[int, Channel], None] = collections.OrderedDict()
        self.lock = asyncio.Lock()

    @property
    def topics(self) -> frozenset[str]:
        return frozenset({live.POSTS, live.GONE, f"account:{self.account.id}"})

    def hears_notifications(self, channel: Channel) -> bool:
        """`user` carries notifications only for a token that may read them (channelsForUserStream)."""
        return channel.name == "user:notification" or (
            channel.name == "user" and oauth.allows(self.token.scopes, "read:notifications"))

    async def add(self, channel: Channel) -> None:
        """Listen from now on: the newest row so far is where it starts."""
        async with self.lock:
            if channel in self.cursors:
                return
            self.cursors[channel] = 0
            if channel.has_posts:
                newest = await Post.all().order_by("-id").first().values_list("id", flat=True)
                edited = await PostRevision.all().order_by("-id").first().values_list("id", flat=True)
                self.cursors[channel], self.edit_cursors[channel] = newest or 0, edited or 0
                now = clock.now()
                self.looked[channel] = (now, now)
            if self.hears_notifications(channel):
                newest = await Notification.filter(recipient_id=self.account.id).order_by("-id").first().values_list(
                    "id", flat=True)
                self.note_cursors[channel] = newest or 0

    async def remove(self, channel: Channel) -> None:
        """Stop listening, once any read under way is done (it reads the channel's cursors)."""
        async with self.lock:
            for cursors in (self.cursors, self.edit_cursors, self.note_cursors, self.looked):
                cursors.pop(channel, None)

    async def read(self, changed: set[str]) -> list[tuple[Channel, str, str]]:
        """(channel, event, payload) for what happened since the last read."""
        events: list[tuple[Channel, str, str]] = []
        async with self.lock:
            for channel in list(self.cursors):
                if live.POSTS in changed and channel.has_posts:
                    events += await self._edits(channel)
                    if live.GONE in changed:
                        events += await self._gone(channel)
                    events += await self._updates(channel)
                if f"account:{self.account.id}" in changed and self.hears_notifications(channel):
                    events += await self._notifications(channel)
            if live.POSTS in changed:
                events += await self._deletes()
        return events

    def _where(self, channel: Channel) -> Q:
        return profiles.home_filter(self.account.actor) if channel.name == "user" else post_filter(channel)

    def _shown(self, channel: Channel):
        """The posts the channel shows this person now."""
        return timelines.visible_posts(self._where(channel), self.account)

    async def _updates(self, channel: Channel) -> list[tuple[Channel, str, str]]:
        rows = await self._shown(channel).filter(id__gt=self.cursors[channel]).order_by("id").limit(BATCH)
        if not rows:
            return []
        self.cursors[channel] = rows[-1].id
        return await self._send(channel, "update", rows)

    async def _edits(self, channel: Channel) -> list[tuple[Channel, str, str]]:
        """`status.update` for the posts edited since the last look that the
        channel showed before this read (newer ones go out as `update`, already
        edited), whether or not this stream sent them: Mastodon sends it to
        every stream the edited status goes to (app/services/fan_out_on_write_service.rb,
        `anonymous_payload` with `update: true`; app/workers/push_update_worker.rb for home feeds)."""
        edits = await PostRevision.filter(id__gt=self.edit_cursors[channel], post_id__lte=self.cursors[channel]) \
            .order_by("id").limit(BATCH).values_list("id", "post_id")
        if not edits:
            return []
        self.edit_cursors[channel] = edits[-1][0]
        rows = await self._shown(channel).filter(id__in=sorted({post_id for _, post_id in edits})).order_by("id")
        return await self._send(channel, "status.update", rows)

    async def _send(self, channel: Channel, event: str, rows: list[Post]) -> list[tuple[Channel, str, str]]:
        """The events for these posts, those of a hashtag channel that carry its tag;
        each remembered, to say when it is deleted."""
        if channel.tag:
            rows = await timelines.carrying_tag(rows, channel.tag)
        for post in rows:
            self.sent.setdefault(post.id, set()).add(channel)
            self.sent.move_to_end(post.id)
        while len(self.sent) > REMEMBERED:
            self.sent.popitem(last=False)
        entities = await statuses(rows, instance=self.instance, viewer=self.account)
        return [(channel, event, json.dumps(entity, ensure_ascii=False)) for entity in entities]

    async def _notifications(self, channel: Channel) -> list[tuple[Channel, str, str]]:
        rows = await rows_query(self.account).filter(id__gt=self.note_cursors[channel]).order_by("id").limit(BATCH)
        if not rows:
            return []
        self.note_cursors[channel] = rows[-1].id
        entities = await notifications(rows, instance=self.instance, viewer=self.account)
        return [(channel, "notification", json.dumps(entity, ensure_ascii=False)) for entity in entities]

    async def _gone(self, channel: Channel) -> list[tuple[Channel, str, str]]:
        """`delete` for posts deleted since the channel last looked (or a little
        before: DELETE_SLACK) that it would have shown, sent here or not (a
        client shows what it read from the timelines too): Mastodon tells
        the home, public and hashtag streams of every deleted status
        (app/services/remove_status_service.rb). Posts have no index by
        deletion time, so this looks only when a post was deleted."""
        opened, last = self.looked[channel]
        now = clock.now()
        self.looked[channel] = (opened, now)
        rows = await Post.filter(self._where(channel), deleted_at__gte=max(opened, last - DELETE_SLACK),
                                 id__lte=self.cursors[channel]).order_by("id").limit(BATCH)
        if channel.tag:
            rows = await timelines.carrying_tag(rows, channel.tag)
        return self._say_gone([(channel, post.id) for post in rows])

    async def _deletes(self) -> list[tuple[Channel, str, str]]:
        """`delete` for the posts this stream sent that are gone now, however long after."""
        if not self.sent:
            return []
        gone = await Post.filter(id__in=list(self.sent), deleted_at__isnull=False).values_list("id", flat=True)
        return self._say_gone([(channel, post_id) for post_id in gone for channel in self.sent.pop(post_id)
                               if channel in self.cursors])

    def _say_gone(self, deleted: list[tuple[Channel, int]]) -> list[tuple[Channel, str, str]]:
        """Each deletion once for each channel."""
        events = []
        for channel, post_id in deleted:
            if (post_id, channel) not in self.said_gone:
                self.said_gone[(post_id, channel)] = None
                events.append((channel, "delete", str(post_id)))
        while len(self.said_gone) > REMEMBERED:
            self.said_gone.popitem(last=False)
        return events

    async def still_allowed(self) -> bool:
        """The token is not revoked and its person may still sign in."""
        return await OAuthToken.filter(
            id=self.token.id, revoked_at__isnull=True, account__state=AccountState.ACTIVE).exists()


async def events_after(reader: Reader, subscription) -> AsyncIterator[tuple[Channel, str, str] | None]:
    """The events of an open stream, and None after each quiet while (time
    for a keep-alive), until the hub closes, the token goes or the database
    connection is lost (the app connects again). The token is checked at
    least every HEARTBEAT_SECONDS, busy or quiet: a revoked token or a
    disabled account ends the stream."""
    checked = time.monotonic()
    while True:
        changed = await subscription.wait(HEARTBEAT_SECONDS)
        if changed is None:
            return
        try:
            if time.monotonic() - checked >= HEARTBEAT_SECONDS:
                if not await reader.still_allowed():
                    return
                checked = time.monotonic()
            if not changed:
                yield None
                if hub().cross_process:
                    continue
                changed = set(reader.topics)  # no other process can tell this one: look again now and then
            events = await reader.read(changed)
        except Exception as error:
            if db.connection_lost(error):
                return
            raise
        for event in events:
            yield event


def _error(status: int, message: str):
    return {"error": message}, status


# --- server-sent events ---------------------------------------------------------------


@bp.get("/api/v1/streaming/health")
async def health():
    return "OK", 200, {"Content-Type": "text/plain"}


def _sse_channel(path: str | None) -> Channel:
    if path is None:
        name = request.args.get("stream", "")
    else:
        name = PATHS.get(path.strip("/"))
        if name is None:
            raise StreamError(400, "Unknown channel requested")
        if name.startswith("public") and timelines.flag("only_media"):
            name = f"{name}:media"
    return channel_for(name, request.args.get("tag"))


@bp.get("/api/v1/streaming")
@bp.get("/api/v1/streaming/<path:path>")
async def sse(path: str | None = None):
    token = auth.current_token()
    if token is None or token.account_id is None:
        return _error(401, "Missing access token" if token is None else "Invalid access token")
    try:
        channel = _sse_channel(path)
        check_scopes(token, channel)
    except StreamError as error:
        return _error(error.status, error.message)
    live_hub, client = hub(), request.remote_addr or "unknown"
    if not live_hub.has_room(client):
        return _error(429, "Too many streams are open")
    reader = Reader(token)
    await reader.add(channel)

    headers = {"Content-Type": "text/event-stream", "Cache-Control": "private, no-store", "X-Accel-Buffering": "no"}
    # The entity builders may need the request (addresses): the body keeps its context.
    response = await make_response(stream_with_context(_body)(reader, live_hub, client), 200, headers)
    response.timeout = None
    return response


async def _body(reader: Reader, live_hub, client: str):
    """The SSE body: events as they come, a `:thump` after each quiet while."""
    with live_hub.subscribe(reader.topics, client) as subscription:
        yield ":)\n"
        async for item in events_after(reader, subscription):
            if item is None:
                yield ":thump\n"
            else:
                yield f"event: {item[1]}\ndata: {item[2]}\n\n"


# --- WebSocket ----------------------------------------------------------------------------


async def _ws_token() -> tuple[OAuthToken | None, str | None]:
    """The token from `access_token`, the Sec-WebSocket-Protocol header (then
    accepted as the subprotocol, as browsers require) or Authorization."""
    header = websocket.headers.get("Sec-WebSocket-Protocol", "")
    offered = websocket.requested_subprotocols or [part.strip() for part in header.split(",")]
    protocol = offered[0].strip() if offered and offered[0].strip() else None
    authorization = websocket.headers.get("Authorization", "")
    bearer = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    secret = websocket.args.get("access_token") or bearer or protocol
    token = await oauth.token_for(secret) if secret else None
    return token, protocol if secret == protocol else None


@bp.websocket("/api/v1/streaming")
async def ws():
    token, subprotocol = await _ws_token()
    if token is None or token.account_id is None:
        return "", 401, {"X-Error-Message": "Invalid access token"}
    live_hub, client = hub(), websocket.remote_addr or "unknown"
    if not live_hub.has_room(client):
        return "", 429
    await websocket.accept(subprotocol=subprotocol)
    reader = Reader(token)
    if websocket.args.get("stream"):
        await _subscribe(reader, {"stream": websocket.args.get("stream"), "tag": websocket.args.get("tag")})
    with live_hub.subscribe(reader.topics, client) as subscription:
        listening = asyncio.create_task(_receive(reader))
        try:
            async for item in events_after(reader, subscription):
                if item is not None:  # quiet: the WebSocket's own pings keep it open
                    channel, event, payload = item
                    await websocket.send(json.dumps({"stream": channel.stream, "event": event, "payload": payload}))
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening


async def _receive(reader: Reader) -> None:
    """Subscribe and unsubscribe messages; anything else is ignored, as Mastodon does."""
    while True:
        message = await websocket.receive()
        try:
            data = json.loads(message)
        except (TypeError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        if data.get("type") == "subscribe":
            await _subscribe(reader, data)
        elif data.get("type") == "unsubscribe":
            with contextlib.suppress(StreamError):
                await reader.remove(channel_for(_first(data.get("stream")), data.get("tag")))


def _first(value) -> str:
    """`stream` may be a string or a list of them (streaming/utils.js, firstParam)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


async def _subscribe(reader: Reader, data: dict) -> None:
    tag = data.get("tag")
    try:
        channel = channel_for(_first(data.get("stream")), tag if isinstance(tag, str) else None)
        check_scopes(reader.token, channel)
    except StreamError as error:
        await websocket.send(json.dumps({"error": error.message, "status": error.status}))
        return
    await reader.add(channel)
