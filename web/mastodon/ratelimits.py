"""Rate limits on the client API, with Mastodon's `X-RateLimit-*` headers.

Every API request spends one hit of `ratelimits.API`: per token when it
carries one, per client address when not, as Mastodon's rack-attack
throttles `throttle_per_token_api` and `throttle_unauthenticated_api`
(config/initializers/rack_attack.rb). Registering apps has its own, lower
limit per address. Acts the web UI limits too (posting, liking, following,
lookups) spend the web's limit for the same person (`spend`), so an app is
no way around it.

The headers describe the most spent of the limits the request used
(app/controllers/concerns/api/rate_limit_headers.rb picks the one with the
fewest hits left); a request past a limit gets `429` with the same headers,
`X-RateLimit-Remaining: 0` and `Retry-After` (errors.headers_for).
"""

from __future__ import annotations

from quart import current_app, g, request
from quart.wrappers import Response

from models.services import ratelimits
from web.mastodon import auth
from web.mastodon.errors import rate_limit_headers

# Endpoints with a limit of their own, spent besides the general one.
BY_ENDPOINT = {"mastodon_oauth.create_app": ratelimits.API_APPS}
BY_ADDRESS = {ratelimits.API_APPS}


def enabled() -> bool:
    return current_app.extensions.get("circles.rate_limits", True)


def _address() -> str:
    return f"address:{request.remote_addr or 'unknown'}"


def _subject(limit: ratelimits.Limit) -> str:
    """The person for acts the web limits too; the token, else the address, for the API's own."""
    if limit in BY_ADDRESS:
        return _address()
    if limit is ratelimits.API:
        token = auth.current_token()
        return f"token:{token.id}" if token is not None else _address()
    account = auth.current_account()
    return f"account:{account.id}" if account is not None else _address()


async def spend(limit: ratelimits.Limit) -> None:
    """Spend `limit` for this request (429 past it); its usage goes in the headers."""
    if not enabled():
        return
    usage = await ratelimits.spend(limit, _subject(limit))
    used = g.get("api_rate_usage")
    if used is None or usage.remaining < used.remaining:
        g.api_rate_usage = usage


async def check_request() -> None:
    """Before every API request, once its token is known."""
    if not request.path.startswith("/api/"):
        return  # OAuth's token endpoints: Mastodon counts only /api (Request#api_request?)
    await spend(ratelimits.API)
    extra = BY_ENDPOINT.get(request.endpoint or "")
    if extra is not None:
        await spend(extra)


def add_headers(response: Response) -> Response:
    usage = g.get("api_rate_usage")
    if usage is not None and "X-RateLimit-Limit" not in response.headers:
        response.headers.update(rate_limit_headers(usage.limit.hits, usage.remaining, usage.resets_at))
    return response
