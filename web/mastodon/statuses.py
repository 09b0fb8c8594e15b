"""Statuses: posting (to a circle by mentioning it), reading, editing,
deleting (https://docs.joinmastodon.org/methods/statuses/). Favourites,
bookmarks, boosts and pins are in status_actions.py, on this blueprint.

Posting as Mastodon users address groups: a top-level status names a circle
here (`@circle` or `@circle@ourdomain`) and becomes a post in it, through
the same services as the web UI's forms (posts, questions, post_edits);
`#question` makes it a question, titled by its first line. A reply goes to
its parent's thread. Mastodon's codes: 422 for invalid parameters, 403 for
what the person may not do, 404 for what they may not see
(app/controllers/api/v1/statuses_controller.rb).
"""

from __future__ import annotations

import re

from quart import Blueprint, current_app, request

from models.accounts import Account
from models.actors import Actor, ActorKind
from models.circles import Circle, MembershipState
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import idempotency, person_blocks, post_edits, ratelimits, visibility
from models.services import posts as post_service
from models.services import questions as question_service
from models.services.notification_events import MENTION_RE
from web.i18n import N_
from web.mastodon import auth
from web.mastodon import params as api_params
from web.mastodon.errors import RECORD_NOT_FOUND
from web.mastodon.params import given, listed, row_id
from web.mastodon.pagination import MAX_ID
from web.mastodon.ratelimits import spend
from web.mastodon.status_entities import QUESTION_TAG, status_edits, statuses
from web.site import site

bp = Blueprint("mastodon_statuses", __name__)

REPLY_NOT_FOUND = N_("The post you are trying to reply to does not appear to exist.")  # Mastodon's, config/locales/en.yml
MANY_LIMIT = 20  # GET /api/v1/statuses?id[]= (Api::V1::StatusesController: DEFAULT_STATUSES_LIMIT)
QUESTION_RE = re.compile(rf"(?<![\w#&/])#{QUESTION_TAG}\b", re.IGNORECASE)
VISIBILITIES = ("public", "unlisted", "private", "direct")
# A context reads at most this much of a thread, and shows at most this many
# replies (app/controllers/api/v1/statuses_controller.rb: CONTEXT_LIMIT 4096, and 60 without a token).
THREAD_MAX = 4096
DESCENDANTS_MAX, DESCENDANTS_ANONYMOUS = 4096, 60


# --- shared with status_actions.py ---

def instance():
    return site().instance


def viewer() -> Account | None:
    return auth.current_account()


def viewer_actor() -> Actor | None:
    account = viewer()
    return account.actor if account is not None else None


async def visible_post(raw_id: str) -> Post:
    """A live post the viewer may read: in a circle they may read, by no one
    who blocked them. Anything else is 404, as Mastodon hides statuses
    (`set_status` turns NotPermittedError into RecordNotFound)."""
    post_id = row_id(raw_id)
    post = await Post.filter(id=post_id, deleted_at=None).select_related(
        "author", "circle").first() if post_id is not None else None
    if post is None or not await may_read(post, viewer_actor()):
        raise NotFound(RECORD_NOT_FOUND)
    return post


async def may_read(post: Post, actor: Actor | None) -> bool:
    circle = post.circle if post.circle_id else None
    if circle is not None and not await visibility.can_read(circle, actor):
        return False
    return actor is None or not await person_blocks.is_blocked_by(actor, post.author)


async def one(post: Post, **options) -> dict:
    return (await statuses([post], instance=instance(), viewer=viewer(), **options))[0]


def media_store():
    return current_app.extensions["circles.media"]


# --- posting ---

@bp.post("/api/v1/statuses")
@auth.scoped("write:statuses")
async def create():
    params = await api_params.read()
    account = viewer()
    await spend(ratelimits.POSTING)
    _refuse_unsupported(params)
    text = _status_text(params)
    language = _text(params, "language")
    wanted = _visibility(params)
    key = request.headers.get("Idempotency-Key", "").strip() or None
    reply_to = _text(params, "in_reply_to_id").strip()
    if reply_to:
        parent = await _reply_parent(reply_to)
        circle = parent.circle
        _check_visibility(wanted, circle)

        async def make() -> Post:
            return await post_service.reply(instance(), account.actor, parent, body=text, language=language)
    else:
        circle = await _addressed_circle(text)
        _check_visibility(wanted, circle)

        async def make() -> Post:
            if QUESTION_RE.search(text):
                return await question_service.ask(
                    instance(), account.actor, circle, title=_question_title(text), body=text, language=language)
            return await post_service.create_post(instance(), account.actor, circle, body=text, language=language)
    post = await _as_status_field(idempotency.once(account, key, make), circle=circle)
    return await one(await Post.get(id=post.id).select_related("author"))


async def _as_status_field(awaitable, *, circle: Circle | None = None):
    """The services name the text `body` or `title`; Mastodon's parameter is
    `status`. A banned person is told so, as the circle's pages tell them."""
    try:
        return await awaitable
    except InvalidInput as error:
        if error.field in ("body", "title"):
            error.field = "status"
        raise
    except PermissionDenied:
        member = await circle_service.membership(circle, viewer_actor()) if circle is not None else None
        if member is not None and member.state is MembershipState.BANNED:
            raise PermissionDenied(circle_service.BANNED) from None
        raise


def _refuse_unsupported(params: dict) -> None:
    """What a Mastodon status may carry but a post here cannot: said plainly (422)."""
    if given(params, "poll"):
        raise InvalidInput("Posts here have no polls: a circle decides through proposals and asks who comes "
                           "to a meeting on its page.", field="poll")
    if given(params, "scheduled_at"):
        raise InvalidInput("Scheduled posts are not supported here: send it when it is due.", field="scheduled_at")
    if listed(params, "media_ids"):
        raise InvalidInput("Images can be added to a post on its circle's page; there is no media upload "
                           "through apps yet.", field="media_ids")
    if _text(params, "spoiler_text").strip() or api_params.boolean(params, "sensitive"):
        raise InvalidInput("Posts here have no content warnings: say what it is about in its first line.",
                           field="spoiler_text")


def _text(params: dict, name: str) -> str:
    return api_params.text(params, name) or ""


def _status_text(params: dict) -> str:
    text = _text(params, "status")
    if len(text) > post_service.BODY_MAX:
        # Mastodon's wording (config/locales/en.yml, statuses.over_character_limit)
        raise InvalidInput("Text character limit of %(max)d exceeded", field="status", max=post_service.BODY_MAX)
    if not text.strip():
        raise InvalidInput("Write something to post.", field="status")
    return text


def _visibility(params: dict) -> str:
    wanted = _text(params, "visibility").strip() or "public"
    if wanted not in VISIBILITIES:
        raise InvalidInput("visibility must be public, unlisted, private or direct.", field="visibility")
    if wanted == "direct":
        raise InvalidInput("Direct messages are not posts here: tutoring pairs talk in their own private thread "
                           "on the web.", field="visibility")
    return wanted


def _check_visibility(wanted: str, circle: Circle | None) -> None:
    """Who reads a post is its circle's choice: "private" (followers only)
    fits a members-only circle; a public circle's posts are public, so asking
    for "private" there is refused rather than published. "public" or
    "unlisted" in a members-only circle stays with its members (apps send
    "public" by default)."""
    if wanted == "private" and circle is not None and not circle.members_only:
        raise InvalidInput("This circle is public, so its posts are public: post to a members-only circle for "
                           "members to read alone.", field="visibility")


async def _reply_parent(raw_id: str) -> Post:
    try:
        parent = await visible_post(raw_id)
    except NotFound:
        raise NotFound(REPLY_NOT_FOUND) from None
    if parent.circle_id is None:
        raise InvalidInput("Replies here go to posts in circles; this one is only kept on its author's page.",
                           field="in_reply_to_id")
    return parent


async def _addressed_circle(text: str) -> Circle:
    """The one circle here the status names, as Mastodon users address a group."""
    domain = instance().domain.lower()
    names = list(dict.fromkeys(
        match.group(1).lower() for match in MENTION_RE.finditer(text)
        if match.group(2) is None or match.group(2).lower() == domain
    ))
    circles = await Circle.filter(
        actor__username__in=names, actor__local=True, actor__kind=ActorKind.GROUP, actor__deleted_at=None,
    ).select_related("actor") if names else []
    if not circles:
        raise InvalidInput("Mention the circle to post in, as @circle (or @circle@%(domain)s), or reply to a post.",
                           field="status", domain=instance().domain)
    if len(circles) > 1:
        raise InvalidInput("Mention one circle only: a post belongs to one circle.", field="status")
    return circles[0]


def _question_title(text: str) -> str:
    """A question's title: its first line, without the circle's name and the
    #question tag, cut to the title's length at a word."""
    for line in text.splitlines():
        title = MENTION_RE.sub("", QUESTION_RE.sub("", line))
        title = " ".join(title.split())
        if title:
            break
    else:
        return ""
    if len(title) > post_service.TITLE_MAX:
        title = title[:post_service.TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"
    return title


def _edited_title(post: Post, text: str) -> str | None:
    """A question titled by its first line (asked from an app) keeps that
    title in step with its text; any other title stays as it is (None)."""
    if post.kind is PostKind.QUESTION and not post.root_id and post.title == _question_title(post.source):
        return _question_title(text) or None
    return None


# --- reading ---

@bp.get("/api/v1/statuses/<raw_id>")
async def show(raw_id: str):
    auth.require_if_token("read:statuses")
    return await one(await visible_post(raw_id))


@bp.get("/api/v1/statuses")
async def show_many():
    """Several statuses by `id[]`: those the viewer may read, in the order asked."""
    auth.require_if_token("read:statuses")
    raw = request.args.getlist("id[]") or request.args.getlist("id")
    ids = list(dict.fromkeys(int(value) for value in raw if value.isascii() and value.isdigit()
                             and len(value) <= 19 and 0 < int(value) <= MAX_ID))[:MANY_LIMIT]
    found = {post.id: post for post in await Post.filter(
        visibility.readable_circles(viewer_actor()), person_blocks.not_hidden_from(viewer_actor()),
        id__in=ids, deleted_at=None,
    ).select_related("author")}
    return await statuses([found[i] for i in ids if i in found], instance=instance(), viewer=viewer())


@bp.get("/api/v1/statuses/<raw_id>/context")
async def context(raw_id: str):
    """Ancestors (root first) and descendants (depth first, oldest first),
    as Mastodon's Context; deleted posts and people the viewer hid are left
    out, but replies under a deleted one stay. A long thread is cut, as
    Mastodon cuts it."""
    auth.require_if_token("read:statuses")
    post = await visible_post(raw_id)
    root_id = post.root_id or post.id
    thread = await Post.filter(id=root_id).select_related("author") + await Post.filter(
        root_id=root_id).select_related("author").order_by("id").limit(THREAD_MAX)
    hidden = await person_blocks.hidden_ids(viewer_actor()) if viewer_actor() else set()
    by_id = {row.id: row for row in thread}
    children: dict[int, list[Post]] = {}
    for row in thread:
        if row.in_reply_to_id:
            children.setdefault(row.in_reply_to_id, []).append(row)
    ancestors, cursor = [], by_id.get(post.in_reply_to_id)
    while cursor is not None and len(ancestors) < len(thread):
        ancestors.append(cursor)
        cursor = by_id.get(cursor.in_reply_to_id)
    descendants, stack = [], list(reversed(children.get(post.id, [])))
    while stack:
        row = stack.pop()
        descendants.append(row)
        stack.extend(reversed(children.get(row.id, [])))

    def shown(rows: list[Post]) -> list[Post]:
        return [row for row in rows if row.deleted_at is None and row.author_id not in hidden]

    limit = DESCENDANTS_MAX if viewer() is not None else DESCENDANTS_ANONYMOUS
    ancestors, descendants = shown(list(reversed(ancestors))), shown(descendants)[:limit]
    entities = await statuses(ancestors + descendants, instance=instance(), viewer=viewer())
    return {"ancestors": entities[:len(ancestors)], "descendants": entities[len(ancestors):]}


@bp.get("/api/v1/statuses/<raw_id>/source")
async def source(raw_id: str):
    """StatusSource: the text as typed, to edit it (https://docs.joinmastodon.org/entities/StatusSource/)."""
    auth.require("read:statuses", user=True)
    post = await visible_post(raw_id)
    if not post_edits.is_editor(viewer_actor(), post):  # Mastodon gives the source only to who may edit
        raise NotFound(RECORD_NOT_FOUND)
    return {"id": str(post.id), "text": post.source, "spoiler_text": ""}


@bp.get("/api/v1/statuses/<raw_id>/history")
async def history(raw_id: str):
    """Earlier versions, for the author and the circle's stewards (the web
    UI's rule); to anyone else the post as it is now, as Mastodon shows a
    status never edited."""
    auth.require_if_token("read:statuses")
    post = await visible_post(raw_id)
    revisions = await post_edits.history(viewer_actor(), post) if await post_edits.may_see_history(
        viewer_actor(), post) else []
    return await status_edits(post, revisions, instance=instance(), viewer=viewer())


# --- changing ---

@bp.put("/api/v1/statuses/<raw_id>")
@auth.scoped("write:statuses")
async def edit(raw_id: str):
    """Edit the text (post_edits: its history kept, one federated Update)."""
    params = await api_params.read()
    post = await visible_post(raw_id)
    await spend(ratelimits.POSTING)  # as the web UI's edit form (web/html/ratelimits.py)
    _refuse_unsupported(params)
    text = _status_text(params)
    try:
        await _as_status_field(post_edits.edit_post(viewer_actor(), post, body=text, title=_edited_title(post, text)),
                               circle=post.circle)
    except Conflict as error:  # a kind with its own editor: the request cannot be done here (422)
        raise InvalidInput(error.template, field="status", **error.params) from None
    return await one(await Post.get(id=post.id).select_related("author"))


@bp.delete("/api/v1/statuses/<raw_id>")
@auth.scoped("write:statuses")
async def delete(raw_id: str):
    """Delete (its author, or a steward of its circle: 403 for others), and
    answer with the status and its `text`, for redrafting, as Mastodon does."""
    post = await visible_post(raw_id)
    entity = await one(post, source=True)
    await post_service.delete_post(viewer_actor(), post, media_store=media_store())
    return entity


from web.mastodon import status_actions  # noqa: F401  (its routes are on bp)
