"""OAuth 2 for apps (RFC 6749, PKCE per RFC 7636), with Mastodon's scopes.

An app registers (`register_app`), a signed-in person consents on a web page
(`grant`, which returns a one-time code), the app exchanges the code for a
token (`exchange_code`), and each API request presents the token
(`token_for`). Secrets are returned once and stored only as digests.

Scopes are Mastodon's (https://docs.joinmastodon.org/api/oauth-scopes/): the
top-level `read`, `write`, `push`, `profile`, the deprecated `follow`, and the
granular `read:statuses` and the like. A granted top-level scope covers its
granular ones; `follow` covers the follow, block and mute ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account, AccountState
from models.base import URL_LENGTH
from models.errors import AuthenticationFailed, InvalidInput, NotFound
from models.oauth import OAuthApp, OAuthGrant, OAuthToken
from models.translation import N_

OOB = "urn:ietf:wg:oauth:2.0:oob"  # "show me the code" instead of redirecting
CODE_LIFETIME = dt.timedelta(minutes=10)
LAST_USED_PRECISION = dt.timedelta(hours=1)  # how stale `last_used_at` may be, to spare a write per request
MAX_REDIRECT_URIS = 10
MAX_NAME = 200
WRONG_SECRET = N_("The client secret is wrong.")

GRANULAR = {
    "read": (
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
        "notifications", "search", "statuses",
    ),
    "write": (
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
        "media", "mutes", "notifications", "reports", "statuses",
    ),
}
FOLLOW_COVERS = frozenset(
    {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
)
TOP_LEVEL = ("read", "write", "follow", "push", "profile")
KNOWN_SCOPES = frozenset(TOP_LEVEL) | {f"{top}:{part}" for top, parts in GRANULAR.items() for part in parts}
DEFAULT_SCOPES = ("read",)


def parse_scopes(text: str | None, *, field: str = "scopes") -> tuple[str, ...]:
    """Space-separated scopes (Mastodon also takes `+`), each one known; none means `read`."""
    names = tuple(dict.fromkeys((text or "").replace("+", " ").split()))
    if not names:
        return DEFAULT_SCOPES
    unknown = [name for name in names if name not in KNOWN_SCOPES]
    if unknown:
        raise InvalidInput("Unknown scope “%(scope)s”.", field=field, scope=unknown[0][:60])
    return names


def allows(granted: str | tuple[str, ...], needed: str) -> bool:
    """Whether scopes `granted` cover `needed` (a top-level or granular scope)."""
    scopes = set(granted.split() if isinstance(granted, str) else granted)
    if needed in scopes:
        return True
    top = needed.split(":", 1)[0]
    if top != needed and top in scopes:
        return True
    if needed == "profile":  # verify_credentials: any reading of accounts will do
        return bool(scopes & {"read", "read:accounts"})
    return "follow" in scopes and needed in FOLLOW_COVERS


def _within(requested: tuple[str, ...], registered: str) -> bool:
    return all(allows(registered, scope) for scope in requested)


def _check_redirect_uri(uri: str) -> str:
    uri = uri.strip()
    if uri == OOB:
        return uri
    parts = urlsplit(uri)
    # Apps use https, loopback http, or their own scheme (tusky://oauth): any absolute URI without a fragment.
    if not parts.scheme or parts.fragment or len(uri) > 2000 or not uri.isprintable():
        raise InvalidInput("Each redirect URI must be an absolute URI without a fragment.", field="redirect_uris")
    if parts.scheme in ("http", "https") and not parts.netloc:
        raise InvalidInput("Each redirect URI must be an absolute URI without a fragment.", field="redirect_uris")
    if parts.scheme.lower() in ("javascript", "data", "vbscript", "file"):
        raise InvalidInput("Each redirect URI must be an absolute URI without a fragment.", field="redirect_uris")
    return uri


async def register_app(
    *, name: str, redirect_uris: str | list[str], scopes: str | None, website: str | None
) -> tuple[OAuthApp, str]:
    """A new app; returns it and its client secret, which is not kept."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the app a name.", field="client_name")
    if len(name) > MAX_NAME:
        raise InvalidInput("An app's name is at most %(max)d characters.", field="client_name", max=MAX_NAME)
    lines = redirect_uris if isinstance(redirect_uris, list) else (redirect_uris or "").split()
    uris = [_check_redirect_uri(uri) for uri in lines if uri.strip()]
    if not uris:
        raise InvalidInput("Give at least one redirect URI.", field="redirect_uris")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidInput("At most %(max)d redirect URIs.", field="redirect_uris", max=MAX_REDIRECT_URIS)
    website = (website or "").strip() or None
    if website and (
        urlsplit(website).scheme not in ("http", "https") or len(website) > URL_LENGTH or not website.isprintable()
    ):
        raise InvalidInput("The website must be an http or https address.", field="website")
    secret = clock.token(32)
    app = await OAuthApp.create(
        name=name, website=website, redirect_uris="\n".join(uris), scopes=" ".join(parse_scopes(scopes)),
        client_id=clock.token(32), client_secret_digest=clock.token_digest(secret),
    )
    return app, secret


async def app_for_client(client_id: str | None) -> OAuthApp:
    app = await OAuthApp.get_or_none(client_id=client_id or "") if client_id and len(client_id) <= 64 else None
    if app is None:
        raise NotFound("No app with this client_id is registered here.")
    return app


def secret_matches(app: OAuthApp, client_secret: str | None) -> bool:
    return bool(client_secret) and hmac.compare_digest(
        app.client_secret_digest, clock.token_digest(client_secret or "")
    )


def check_authorization_request(
    app: OAuthApp, *, redirect_uri: str | None, scope: str | None, response_type: str | None,
    code_challenge: str | None = None, code_challenge_method: str | None = None,
) -> tuple[str, tuple[str, ...]]:
    """What the consent page will grant, checked before it is shown: the
    redirect URI (one the app registered) and the scopes (within the app's)."""
    if response_type != "code":
        raise InvalidInput("Only response_type=code is supported.", field="response_type")
    registered = app.redirect_uris.split("\n")
    uri = (redirect_uri or "").strip() or (registered[0] if len(registered) == 1 else "")
    if uri not in registered:
        raise InvalidInput("The redirect URI is not one this app registered.", field="redirect_uri")
    scopes = parse_scopes(scope, field="scope") if scope else tuple(app.scopes.split())
    if not _within(scopes, app.scopes):
        raise InvalidInput("The app asks for more than it registered for.", field="scope")
    _check_challenge(code_challenge, code_challenge_method)
    return uri, scopes


# PKCE (RFC 7636) with S256 only, as Mastodon: config/initializers/doorkeeper.rb sets
# `pkce_code_challenge_methods ['S256']`. "plain" would send the verifier itself in the
# authorization request, where anyone who reads that request could use it.
CODE_CHALLENGE_METHODS = ("S256",)
# Doorkeeper's refusal of another method (lib/doorkeeper/oauth/pre_authorization.rb,
# validate_code_challenge_method -> Errors::InvalidCodeChallengeMethod), worded by its
# config/locales/en.yml errors.messages.invalid_code_challenge_method for one method.
BAD_CHALLENGE_METHOD = N_("The code_challenge_method must be S256.")


def _check_challenge(challenge: str | None, method: str | None) -> None:
    if not challenge:
        if method:
            raise InvalidInput("A code_challenge_method needs a code_challenge.", field="code_challenge")
        return
    # A challenge needs its method named: Doorkeeper falls back to none (RFC 7636's default is plain).
    if method not in CODE_CHALLENGE_METHODS:
        raise InvalidInput(BAD_CHALLENGE_METHOD, field="code_challenge_method")
    if not 43 <= len(challenge) <= 128:
        raise InvalidInput("code_challenge must be 43 to 128 characters.", field="code_challenge")


async def grant(
    app: OAuthApp, account: Account, *, redirect_uri: str, scopes: tuple[str, ...],
    code_challenge: str = "", code_challenge_method: str = "",
) -> str:
    """The person said yes: a one-time code for the app to exchange."""
    _check_challenge(code_challenge, code_challenge_method)
    code = clock.token(32)
    await OAuthGrant.create(
        app=app, account=account, code_digest=clock.token_digest(code), redirect_uri=redirect_uri,
        scopes=" ".join(scopes), code_challenge=code_challenge or "",
        code_challenge_method=code_challenge_method if code_challenge else "",
        expires_at=clock.now() + CODE_LIFETIME,
    )
    return code


def _verifier_matches(grant_row: OAuthGrant, verifier: str | None) -> bool:
    if not grant_row.code_challenge:
        return True
    if not verifier:
        return False
    if grant_row.code_challenge_method not in CODE_CHALLENGE_METHODS:
        return False  # a "plain" code from before S256 alone was taken: refused, as a new one would be
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, grant_row.code_challenge)


INVALID_GRANT = "The authorization code is invalid, expired, already used, or was issued to another app."


async def exchange_code(
    app: OAuthApp, *, code: str | None, redirect_uri: str | None, client_secret: str | None,
    code_verifier: str | None,
) -> tuple[OAuthToken, str]:
    """The code from the consent page, for a token; the code works once.
    A client without its secret must prove the PKCE verifier instead."""
    if not code:
        raise InvalidInput("Give the authorization code.", field="code")
    async with in_transaction():
        grant_row = await OAuthGrant.select_for_update().filter(
            code_digest=clock.token_digest(code), app_id=app.id
        ).first()
        if grant_row is None or grant_row.used_at is not None or grant_row.expires_at <= clock.now():
            raise AuthenticationFailed(INVALID_GRANT)
        if (redirect_uri or grant_row.redirect_uri) != grant_row.redirect_uri:
            raise AuthenticationFailed(INVALID_GRANT)
        if not secret_matches(app, client_secret) and not grant_row.code_challenge:
            raise AuthenticationFailed(WRONG_SECRET)
        if not _verifier_matches(grant_row, code_verifier):
            raise AuthenticationFailed("The PKCE code_verifier does not match the code_challenge.")
        grant_row.used_at = clock.now()
        await grant_row.save(update_fields=["used_at"])
        account = await Account.get(id=grant_row.account_id)
        if account.state is not AccountState.ACTIVE:
            raise AuthenticationFailed(INVALID_GRANT)
        return await issue_token(app, account, tuple(grant_row.scopes.split()))


async def issue_token(app: OAuthApp, account: Account | None, scopes: tuple[str, ...]) -> tuple[OAuthToken, str]:
    """A new access token (for `account`, or the app's own when None); returns it and its secret."""
    secret = clock.token(32)
    token = await OAuthToken.create(
        app=app, account=account, token_digest=clock.token_digest(secret), scopes=" ".join(scopes)
    )
    return token, secret


async def app_token(app: OAuthApp, client_secret: str | None, scope: str | None) -> tuple[OAuthToken, str]:
    """client_credentials: a token for the app itself, within its registered scopes."""
    if not secret_matches(app, client_secret):
        raise AuthenticationFailed(WRONG_SECRET)
    scopes = parse_scopes(scope, field="scope") if scope else tuple(app.scopes.split())
    if not _within(scopes, app.scopes):
        raise InvalidInput("The app asks for more than it registered for.", field="scope")
    return await issue_token(app, None, scopes)


async def token_for(secret: str) -> OAuthToken | None:
    """The live token with this secret, its app and account (and actor) loaded;
    None when it is unknown, revoked, or its account may not sign in."""
    if not secret or len(secret) > 200:
        return None
    token = await OAuthToken.filter(
        token_digest=clock.token_digest(secret), revoked_at__isnull=True
    ).select_related("app", "account", "account__actor").first()
    if token is None:
        return None
    if token.account_id is not None and token.account.state is not AccountState.ACTIVE:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        token.last_used_at = now
        await OAuthToken.filter(id=token.id).update(last_used_at=now)
    return token


async def revoke(app: OAuthApp, client_secret: str | None, secret: str) -> None:
    """RFC 7009: the app gives up a token it was issued. An unknown token is no error."""
    if not secret_matches(app, client_secret):
        raise AuthenticationFailed(WRONG_SECRET)
    await OAuthToken.filter(
        token_digest=clock.token_digest(secret or ""), app_id=app.id, revoked_at__isnull=True
    ).update(revoked_at=clock.now())


async def revoke_all(account: Account) -> int:
    """Every token of this account (its password changed, or it was disabled)."""
    return await OAuthToken.filter(account_id=account.id, revoked_at__isnull=True).update(revoked_at=clock.now())
