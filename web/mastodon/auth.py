"""Bearer tokens on API requests, and the scopes each endpoint needs.

`load_token` runs before every API request: a request without a token goes on
as anonymous (public endpoints allow it), one with a bad token is refused
(401). `@scoped("read:statuses")` guards an endpoint; `user_scoped` also
needs a person behind the token, not an app's own token.
"""

from __future__ import annotations

import functools

from quart import g, request

from models.accounts import Account
from models.oauth import OAuthToken
from models.services import oauth
from web.mastodon.errors import ApiError

INVALID_TOKEN = "The access token is invalid"  # Mastodon's wording, which apps may match
OUT_OF_SCOPE = "This action is outside the authorized scopes"
NEEDS_USER = "This method requires an authenticated user"


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.args.get("access_token") or None  # the streaming API's browser clients


async def load_token() -> None:
    g.api_token = None
    secret = _bearer()
    if secret is None:
        return
    g.api_token = await oauth.token_for(secret)
    if g.api_token is None:
        raise ApiError(401, INVALID_TOKEN)


def current_token() -> OAuthToken | None:
    return g.get("api_token")


def current_account() -> Account | None:
    """The person the request acts for: the token's account, if it has one."""
    token = current_token()
    return token.account if token is not None and token.account_id is not None else None


def require(scope: str, *, user: bool = False) -> OAuthToken:
    token = current_token()
    if token is None:
        raise ApiError(401, INVALID_TOKEN)
    if not oauth.allows(token.scopes, scope):
        raise ApiError(403, OUT_OF_SCOPE)
    if user and token.account_id is None:
        raise ApiError(422, NEEDS_USER)
    return token


def require_if_token(scope: str) -> None:
    """Public endpoints: anyone may call them, but a token, when sent, must
    allow `scope` (Mastodon's `authorize_if_got_token!`)."""
    if current_token() is not None:
        require(scope)


def scoped(scope: str, *, user: bool = True):
    """Guard an endpoint: a token with `scope` (and, with `user`, a person behind it)."""

    def decorate(view):
        @functools.wraps(view)
        async def wrapper(*args, **kwargs):
            require(scope, user=user)
            return await view(*args, **kwargs)

        return wrapper

    return decorate
