"""CORS for browser apps (Elk, Phanpy...) on the client API, as Mastodon's
config/initializers/cors.rb allows it: any origin, no cookies, the paging
and rate-limit headers exposed. The consent page (/oauth/authorize) is a
page for people and gets none of it."""

from __future__ import annotations

from quart import Quart, Response, request

PATHS = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization-server")
EXPOSE = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"
METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE = "7200"


def applies() -> bool:
    return request.path.startswith(PATHS)


def _allow(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSE
    response.headers.add("Vary", "Origin")
    return response


async def preflight() -> Response | None:
    """Answer a preflight before anything else runs (no token, CSRF or body checks)."""
    if request.method != "OPTIONS" or not applies():
        return None
    response = Response("", status=204)
    response.headers["Access-Control-Allow-Methods"] = METHODS
    asked = request.headers.get("Access-Control-Request-Headers", "")
    # rack-cors `headers: :any` echoes what the browser asks for.
    response.headers["Access-Control-Allow-Headers"] = asked or "Authorization, Content-Type, Idempotency-Key"
    response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


async def add_headers(response: Response) -> Response:
    return _allow(response) if applies() else response


def register(app: Quart) -> None:
    # First of all before-request functions, so a preflight spends nothing.
    app.before_request_funcs.setdefault(None, []).insert(0, preflight)
    app.after_request(add_headers)
