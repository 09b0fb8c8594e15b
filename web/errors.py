"""The one place that maps domain errors to HTTP, and the error pages."""

from __future__ import annotations

import logging
from html import escape
from urllib.parse import urlsplit

from quart import Quart, render_template, request
from werkzeug.exceptions import HTTPException

from federation import vocab
from models import db
from models.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from web.i18n import N_, _, error_message
from web.mastodon import errors as api_errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (InvalidInput, 400),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (Gone, 410),  # before NotFound, of which it is a kind
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
]

TITLES = {
    400: N_("That did not work"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("That clashes with something"),
    410: N_("Gone"),
    413: N_("Too large"),
    429: N_("Slow down"),
    500: N_("Something went wrong"),
    503: N_("Back in a moment"),
}
RETRY_AFTER_LOST_DATABASE = 5  # seconds: the connection pool reconnects on the next request


def status_for(error: DomainError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def headers_for(error: DomainError) -> dict[str, str]:
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.retry_after)}
    return {}


def wants_json() -> bool:
    """ActivityPub and API clients get errors as JSON, browsers as a page."""
    if api_errors.is_api_request():
        return True
    accept = request.headers.get("Accept", "")
    return vocab.is_activitypub_media_type(accept) or request.accept_mimetypes.best == "application/json"


# The page a failed form came from (a same-site Referer), to go back to and reload.
def _page_before() -> str | None:
    referrer = urlsplit(request.referrer or "")
    path = referrer.path
    if referrer.netloc != request.host or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None  # another site's page, or a path a browser would read as one
    if not path.isprintable():
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


async def error_page(status: int, message: str, headers: dict[str, str] | None = None):
    if wants_json():
        return {"error": message}, status, headers or {}
    title = _(TITLES.get(status, N_("Error")))
    back = _page_before() if request.method not in ("GET", "HEAD") else None
    try:
        html = await render_template("error.html", status=status, title=title, message=message, back=back)
    except Exception:  # the page itself failed (say the database is gone): a plain one, still styled
        log.exception("cannot render the error page for %s", status)
        html = FALLBACK_PAGE.format(title=escape(title), message=escape(message), status=status)
    return html, status, headers or {}


FALLBACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header class="site-header"><nav aria-label="Main"><a class="brand" href="/">Home</a></nav></header>
<main id="main"><section class="error-page"><h1>{title}</h1><p>{message}</p>
<p class="meta">Error {status} · <a href="/">Go to the home page</a></p></section></main></body></html>"""


def register(app: Quart) -> None:
    @app.errorhandler(DomainError)
    async def domain_error(error: DomainError):
        if api_errors.is_api_request():
            return api_errors.body_for(error), api_errors.status_for(error, status_for(error)), api_errors.headers_for(error)
        # JSON clients get the English; a page is in the reader's language.
        message = error.message if wants_json() else error_message(error)
        return await error_page(status_for(error), message, headers_for(error))

    @app.errorhandler(api_errors.ApiError)
    async def api_error(error: api_errors.ApiError):
        return {"error": error.message}, error.status

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException):
        messages = {
            404: N_("There is nothing at this address. Check the link, or start from the home page."),
            405: N_("This address does not take that kind of request."),
            413: N_("What you sent is larger than this server accepts (an image may be at most 8 MB). Nothing was saved."),
        }
        message = _(messages[error.code]) if error.code in messages else error.description or ""
        # A body refused as too large is refused before all of it is read, and hypercorn
        # then closes the connection: say so, or a keep-alive client (httpx, say) sends
        # its next request on that connection and gets no answer.
        headers = {"Connection": "close"} if error.code == 413 else None
        return await error_page(error.code or 500, message, headers)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception):
        if db.connection_lost(error):
            log.warning("database connection lost on %s %s: %s", request.method, request.path, error)
            return await error_page(
                503, _("The database stopped answering for a moment. Nothing you sent was saved: please try again."),
                {"Retry-After": str(RETRY_AFTER_LOST_DATABASE)},
            )
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await error_page(
            500, _("The server hit a problem it did not expect. It has been logged; please try again later.")
        )
