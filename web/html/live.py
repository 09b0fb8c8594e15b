"""Live updates as server-sent events: `GET /live?topic=account:<id>&topic=thread:<id>`.

A page asks for its topics (base.html writes the address; static/live.js
opens it): the signed-in person's own notifications, and the thread on a
thread page. The stream first says how things stand, then says it again each
time a topic is announced and its state really changed:

    event: unread    data: {"count": 3, "label": "Notifications, 3 unread"}
    event: thread    data: {"replies": 7}

It reads the state from the database each time rather than trusting the
announcement (see models/live.py). A comment every HEARTBEAT_SECONDS keeps
proxies from closing a quiet stream; where other processes cannot announce to
this one (SQLite with a separate `circles worker`), that is also when the
stream looks again by itself. Everything here is extra: without JavaScript the
count is in the page and a reload shows new replies.
"""

from __future__ import annotations

import json

from quart import Blueprint, g, make_response, request, stream_with_context, url_for

from models import db
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.posts import Post
from models.services import notifications as notification_service
from models.services import validation, visibility
from web import security
from web.i18n import _, ngettext
from web.live import hub

bp = Blueprint("live", __name__)

HEARTBEAT_SECONDS = 20.0
RETRY_MILLISECONDS = 5000  # how long a browser waits before it connects again
MAX_TOPICS = 4


def unread_label(count: int) -> str:
    """The notifications link's name as a screen reader says it."""
    if not count:
        return _("Notifications")
    return ngettext("Notifications, %(num)d unread", "Notifications, %(num)d unread", count)


async def unread_count() -> int:
    """The signed-in person's unread notifications, counted once per request (0 for visitors, no query)."""
    account = security.current_account()
    if account is None:
        return 0
    if "unread_count" not in g:
        g.unread_count = await notification_service.unread_count(account)
    return g.unread_count


def stream_url(thread_id: int | None = None) -> str:
    """The page's live address: the signed-in person's notifications, and
    `thread_id`'s replies on a thread page; empty when there is nothing to hear."""
    account = security.current_account()
    topics = [f"account:{account.id}"] if account is not None else []
    if thread_id:
        topics.append(f"thread:{thread_id}")
    return url_for("live.stream", topic=topics) if topics else ""


async def _allowed(raw_topics: list[str]) -> frozenset[str]:
    """The topics asked for, each checked: only one's own notifications, and
    only threads one may read."""
    if not raw_topics or len(raw_topics) > MAX_TOPICS:
        raise InvalidInput("Ask for between one and %(max)d topics.", max=MAX_TOPICS)
    account = security.current_account()
    topics = set()
    for topic in raw_topics:
        kind, _sep, number = topic.partition(":")
        row_id = validation.whole_number(number)
        if kind not in ("account", "thread") or row_id is None or not validation.is_row_id(row_id):
            raise InvalidInput("There is no such topic.")
        if kind == "account" and (account is None or account.id != row_id):
            raise PermissionDenied("You can only follow your own notifications.")
        if kind == "thread":
            await _require_readable_thread(row_id, account)
        topics.add(f"{kind}:{row_id}")  # as models/live.py spells it ("thread:07" is thread:7)
    return frozenset(topics)


async def _require_readable_thread(root_id: int, account) -> None:
    post = await Post.filter(id=root_id, root_id=None).select_related("circle").first()
    if post is None or post.circle is None:
        raise NotFound("That post does not exist or was deleted.")
    await visibility.require_reader(post.circle, account.actor if account else None)


async def _state(topic: str, account) -> tuple[str, dict]:
    """The event that says how `topic` stands now (an account topic is the
    signed-in person's own: `_allowed` checked it)."""
    kind, _sep, number = topic.partition(":")
    if kind == "account":
        count = await notification_service.unread_count(account)
        return "unread", {"count": count, "label": unread_label(count)}
    replies = await Post.filter(id=int(number)).values_list("reply_count", flat=True)
    return "thread", {"replies": replies[0] if replies else 0}


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@bp.get("/live")
async def stream():
    topics = await _allowed(request.args.getlist("topic"))
    account, live = security.current_account(), hub()
    headers = {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    }
    if request.method == "HEAD":
        return "", 200, headers
    client = request.remote_addr or "unknown"
    if not live.has_room(client):
        return _("Too many live updates are open; close a few pages."), 429, {"Retry-After": "60"}

    @stream_with_context
    async def events():
        with live.subscribe(topics, client) as subscription:
            yield f"retry: {RETRY_MILLISECONDS}\n\n"
            said: dict[str, tuple[str, dict]] = {}
            changed: set[str] | None = set(topics)
            while changed is not None:
                for topic in sorted(changed):
                    try:
                        state = await _state(topic, account)
                    except Exception as error:
                        if db.connection_lost(error):
                            return  # the browser connects again in RETRY_MILLISECONDS
                        raise
                    if said.get(topic) != state:
                        said[topic] = state
                        yield _event(*state)
                changed = await subscription.wait(HEARTBEAT_SECONDS)
                if changed == set():  # a quiet while: keep the line open, and look again if no one can tell us
                    yield ": still here\n\n"
                    if not live.cross_process:
                        changed = set(topics)

    response = await make_response(events(), 200, headers)
    response.timeout = None  # open as long as the page is
    return response
