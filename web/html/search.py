"""Search: `/search` across every circle the person may read (and people and
circles by name), `/c/<handle>/search` within one circle. Plain GET forms,
so they work without JavaScript and results can be linked. Looking a handle
or address up on another server writes rows, so it is a POST with its own
rate limit (`people.search_post`), offered here as a button."""

from __future__ import annotations

from quart import Blueprint, render_template, request

from federation import webfinger
from models.errors import InvalidInput
from models.services import circles as circle_service
from models.services import search as search_service
from web import security
from web.html.forms import page_param
from web.i18n import _, error_message

bp = Blueprint("search", __name__)


def _viewer():
    account = security.current_account()
    return account.actor if account else None


def is_address(text: str) -> bool:
    """A web address (rather than a handle)."""
    return text.strip().startswith(("https://", "http://")) and " " not in text.strip()


def looks_remote(query: str) -> bool:
    """A handle (@name@example.org) or a web address: something to look up where it lives."""
    if is_address(query):
        return True
    try:
        webfinger.parse_handle(query)
    except InvalidInput:
        return False
    return True


def search_page(q: str, *, handle: str = "", handle_error: str | None = None) -> dict:
    """The search page's context with nothing found (yet); `handle` fills the
    form that looks someone up elsewhere, `handle_error` says what went wrong."""
    return {"q": q, "page": 1, "error": None, "results": None, "people": [], "circles": [],
            "lookup_values": {"handle": handle}, "lookup_errors": {"handle": handle_error} if handle_error else {},
            "max_query": search_service.MAX_QUERY}


async def _results(circle=None) -> tuple[dict, int]:
    """What the page shows for `?q=`, and its status: 400 for a query too long."""
    raw = request.args.get("q", "")
    page = page_param(request.args.get("page"))
    context = {**search_page(raw[: search_service.MAX_QUERY * 2]), "page": page}
    try:
        query = search_service.clean_query(raw)
    except InvalidInput as error:
        return {**context, "error": error_message(error)}, 400
    if not query:
        if "q" in request.args:
            context["error"] = _(search_service.EMPTY)
        return context, 200
    viewer = _viewer()
    context["q"] = query
    context["results"] = await search_service.search_posts(
        query, viewer=viewer, circle=circle, page=page, per_page=search_service.PAGE_SIZE
    )
    if circle is None and page == 1:
        context["people"] = await search_service.find_people(query)
        context["circles"] = await search_service.find_circles(query)
        if looks_remote(query):
            context["lookup_values"] = {"handle": query}
    return context, 200


@bp.get("/search")
async def index():
    context, status = await _results()
    return await render_template("search/index.html", **context), status


@bp.get("/c/<handle>/search")
async def in_circle(handle: str):
    # web/html/visibility.py has checked that the person may read this circle.
    circle = await circle_service.get_circle(handle)
    context, status = await _results(circle)
    return await render_template("search/circle.html", circle=circle, **context), status
