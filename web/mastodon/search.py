"""Search: accounts, statuses and hashtags, resolving remote handles and
addresses (https://docs.joinmastodon.org/methods/search/), as Mastodon's
app/controllers/api/v2/search_controller.rb and app/services/search_service.rb
do it, over the search the web page uses (models/services/search.py) and
the web's lookup of a handle or address elsewhere (web/html/people.py).

`GET /api/v1/search` is not served: Mastodon removed it in 3.0.
"""

from __future__ import annotations

import logging

from quart import Blueprint, request

from federation import webfinger
from models.actors import Actor
from models.circles import CircleTopic
from models.errors import DomainError, InvalidInput, RateLimited
from models.posts import Post
from models.services import ratelimits
from models.services import search as search_service
from models.services import validation, visibility
from web.mastodon import auth, entities, status_entities
from web.mastodon.errors import ApiError
from web.mastodon.ratelimits import spend
from web.site import site

log = logging.getLogger(__name__)

bp = Blueprint("mastodon_search", __name__)

RESULTS_LIMIT = 20  # the default; at most twice it (Api::BaseController#limit_param)
TYPES = ("accounts", "statuses", "hashtags")
# Mastodon's wording, which apps may show.
MISSING_Q = "param is missing or the value is empty: q"
MAX_OFFSET = 10_000
NEGATIVE = "Pagination values for `offset` and `limit` must be positive"
ANONYMOUS_OFFSET = "Search queries pagination is not supported without authentication"
ANONYMOUS_RESOLVE = "Search queries that resolve remote resources are not supported without authentication"


def _number(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    number = validation.whole_number(raw.removeprefix("-"))
    if number is None or len(raw) > 18:
        raise InvalidInput("%(name)s must be a whole number.", field=name, name=name)
    if raw.startswith("-") and number > 0:
        raise ApiError(400, NEGATIVE)  # require_valid_pagination_options!
    return number


def _truthy(name: str) -> bool:
    """Rails' truthy_param?: anything but false-like values."""
    return request.args.get(name, "").strip().lower() not in ("", "0", "f", "false", "off", "no")


def _account_id() -> int | None:
    raw = request.args.get("account_id", "").strip()
    if not raw:
        return None
    number = validation.whole_number(raw)
    if number is None or not validation.is_row_id(number):
        raise InvalidInput("%(name)s must be an id.", field="account_id", name="account_id")  # pagination.py's
    return number


# web/html's lookups are imported when first used: web.errors imports this
# package (through web.mastodon.errors) while web/html's pages import web.errors.


def _is_address(text: str) -> bool:
    from web.html.search import is_address

    return is_address(text)


async def _readable(post: Post, viewer: Actor | None) -> bool:
    """Loaded with its circle: whether the searcher may read it."""
    return post.circle is None or await visibility.can_read(post.circle, viewer)


async def _resolve_address(query: str, viewer: Actor | None) -> tuple[list[Actor], list[Post]]:
    """The person, circle or post a web address names (the web's lookup,
    fetching it from its server when not known here); nothing when it cannot
    be found, as Mastodon's ResolveURLService answers nil."""
    from web.html import people

    await spend(ratelimits.LOOKUP)
    try:
        found, _ = await people.resolve_address(query)
    except RateLimited:
        raise
    except DomainError as error:
        log.info("search: %s not resolved: %s", query[:200], error.message)
        return [], []
    if isinstance(found, Post):
        post = await Post.filter(id=found.id).select_related("author", "circle__actor").first()
        return [], [post] if post is not None and await _readable(post, viewer) else []
    return [found], []


async def _resolve_handle(query: str) -> Actor | None:
    """The person or circle a full handle names, looked up where it lives."""
    try:
        webfinger.parse_handle(query)
    except InvalidInput:
        return None
    from web.html import people

    await spend(ratelimits.LOOKUP)
    try:
        return await people.find_actor(query)
    except RateLimited:
        raise
    except DomainError as error:
        log.info("search: %s not resolved: %s", query[:200], error.message)
        return None


async def _accounts(query: str, *, resolve: bool, limit: int, offset: int) -> list[Actor]:
    """People, then circles, by a piece of their name or handle; with
    `resolve`, the one a full handle names first."""
    exact = await _resolve_handle(query) if resolve and offset == 0 else None
    window = offset + limit
    found = await search_service.find_people(query, limit=window)
    found += [circle.actor for circle in await search_service.find_circles(query, limit=window)]
    if exact is not None:
        found = [exact, *(actor for actor in found if actor.id != exact.id)]
    return found[offset:window]


async def _statuses(query: str, viewer: Actor, *, limit: int, offset: int) -> list[Post]:
    results = await search_service.search_posts(query, viewer=viewer, per_page=limit, offset=offset,
                                                author_id=_account_id())
    return [hit.post for hit in results.hits]


async def _hashtags(query: str, *, limit: int, offset: int) -> list[dict]:
    """Circles' topics starting with the word (Tag.search_for matches a prefix)."""
    term = query.lstrip("#").strip().lower()
    if not term:
        return []
    tags = await (CircleTopic.filter(tag__startswith=term).order_by("tag").distinct()
                  .offset(offset).limit(limit).values_list("tag", flat=True))
    base = site().instance.base_url
    following = {"following": False} if auth.current_account() else {}  # no followed tags here
    return [{"name": tag, "url": f"{base}/circles?topic={tag}", "history": [], **following} for tag in tags]


@bp.get("/api/v2/search")
async def search():
    auth.require_if_token("read:search")  # authorize_if_got_token! :read, :'read:search'
    raw = request.args.get("q", "")
    if not raw.strip():
        raise ApiError(400, MISSING_Q)  # params.require(:q)
    account = auth.current_account()
    resolve = _truthy("resolve")
    if account is None and request.args.get("offset", "").strip():
        raise ApiError(401, ANONYMOUS_OFFSET)
    if account is None and resolve:
        raise ApiError(401, ANONYMOUS_RESOLVE)
    kind = request.args.get("type", "").strip() or None
    limit = min(_number("limit", RESULTS_LIMIT), RESULTS_LIMIT * 2)
    # SearchService: no offset without a type; a bound, as a large one would load every match to skip them
    offset = min(_number("offset", 0), MAX_OFFSET) if kind else 0
    query = search_service.clean_query(raw)
    await spend(ratelimits.SEARCH)
    return await _results(query, kind, account, resolve=resolve, limit=limit, offset=offset)


async def _results(query: str, kind: str | None, account, *, resolve: bool, limit: int, offset: int) -> dict:
    """SearchService#call: an address (with resolve) is looked up alone; else
    each type asked for, as Mastodon's rules say which fit the query."""
    viewer = account.actor if account else None
    actors: list[Actor] = []
    posts: list[Post] = []
    tags: list[dict] = []
    wanted = TYPES if kind is None else (kind,) if kind in TYPES else ()
    if limit and wanted and resolve and _is_address(query):
        if offset == 0:
            actors, posts = await _resolve_address(query, viewer)
        actors = actors if "accounts" in wanted else []
        posts = posts if "statuses" in wanted else []
    elif limit:
        hashtag, handle = query.startswith("#"), "@" in query
        if "accounts" in wanted and not hashtag and not (handle and " " in query):
            actors = await _accounts(query, resolve=resolve, limit=limit, offset=offset)
        if "statuses" in wanted and viewer is not None and not ((hashtag or handle) and " " not in query):
            posts = await _statuses(query, viewer, limit=limit, offset=offset)
        if "hashtags" in wanted and not handle:
            tags = await _hashtags(query, limit=limit, offset=offset)
    instance = site().instance
    return {
        "accounts": await entities.accounts(actors, instance=instance, viewer=account),
        "statuses": await status_entities.statuses(posts, instance=instance, viewer=account),
        "hashtags": tags,
    }
