"""OAuth 2 for apps: registering an app, the token and revoke endpoints, and
the server's metadata (https://docs.joinmastodon.org/methods/apps/,
/methods/oauth/). The consent page people see is in web/html/oauth_consent.py.

The token endpoints answer as Doorkeeper (Mastodon's OAuth library) does:
`{"error": "invalid_grant", "error_description": ...}` with 400, and 401 for
a client that fails to authenticate (RFC 6749 §5.2).
"""

from __future__ import annotations

import base64
import binascii

from quart import Blueprint, current_app, request

from models.errors import AuthenticationFailed, InvalidInput, NotFound
from models.oauth import OAuthApp
from models.services import oauth
from web.mastodon import auth
from web.mastodon.params import read as params

bp = Blueprint("mastodon_oauth", __name__)

# Doorkeeper's wording (config/locales/doorkeeper.en.yml), which apps may show.
DESCRIPTIONS = {
    "invalid_request": "The request is missing a required parameter, includes an unsupported parameter value, "
    "or is otherwise malformed.",
    "invalid_client": "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method.",
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "unauthorized_client": "You are not authorized to revoke this token",
}
GRANT_TYPES = ("authorization_code", "client_credentials")


def text(values: dict, name: str) -> str | None:
    """A string parameter; None when absent or not a string (a JSON number, list...)."""
    value = values.get(name)
    return value if isinstance(value, str) else None


def oauth_error(error: str, status: int = 400, description: str | None = None):
    return {"error": error, "error_description": description or DESCRIPTIONS[error]}, status


def app_entity(app: OAuthApp, *, secret: str | None = None) -> dict:
    """Mastodon's Application (app/serializers/rest/application_serializer.rb), and
    CredentialApplication (with client_id and client_secret) when `secret` is given."""
    uris = app.redirect_uris.split("\n")
    body = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website or None,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),  # deprecated in 4.3, still read by older apps
        "redirect_uris": uris,
        "vapid_key": "",  # no Web Push here
    }
    if secret is not None:
        body.update(client_id=app.client_id, client_secret=secret, client_secret_expires_at=0)
    return body


@bp.post("/api/v1/apps")
async def create_app():
    values = await params()
    uris = values.get("redirect_uris")
    if not isinstance(uris, (str, list)) or (isinstance(uris, list) and not all(isinstance(u, str) for u in uris)):
        raise InvalidInput("Give at least one redirect URI.", field="redirect_uris")
    scopes = values.get("scopes")
    if isinstance(scopes, list):  # some clients send a JSON array
        scopes = " ".join(str(scope) for scope in scopes)
    app, secret = await oauth.register_app(
        name=text(values, "client_name") or "", redirect_uris=uris,
        scopes=scopes if isinstance(scopes, str) else None, website=text(values, "website"),
    )
    return app_entity(app, secret=secret)


@bp.get("/api/v1/apps/verify_credentials")
async def verify_app():
    # Any valid token, the app's own or a person's (app/controllers/api/v1/apps/credentials_controller.rb).
    token = auth.current_token()
    if token is None:
        return {"error": auth.INVALID_TOKEN}, 401
    return app_entity(token.app)


def _client_credentials(values: dict) -> tuple[str | None, str | None]:
    """client_id and client_secret from HTTP Basic (client_secret_basic) or the body (client_secret_post)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None, None
        return (None, None) if "\x00" in client_id + secret else (client_id, secret)
    return text(values, "client_id"), text(values, "client_secret")


async def _client(client_id: str | None) -> OAuthApp | None:
    try:
        return await oauth.app_for_client(client_id)
    except NotFound:
        return None


def _token_response(token, secret: str) -> dict:
    return {
        "access_token": secret, "token_type": "Bearer", "scope": token.scopes,
        "created_at": int(token.created_at.timestamp()),
    }


@bp.post("/oauth/token")
async def token():
    try:
        values = await params()
    except InvalidInput:
        return oauth_error("invalid_request")
    grant_type = text(values, "grant_type")
    if not grant_type:
        return oauth_error("invalid_request", description=DESCRIPTIONS["invalid_request"] + " Missing param: grant_type.")
    if grant_type not in GRANT_TYPES:
        return oauth_error("unsupported_grant_type")
    client_id, client_secret = _client_credentials(values)
    app = await _client(client_id)
    if app is None or (client_secret and not oauth.secret_matches(app, client_secret)):
        return oauth_error("invalid_client", 401)
    try:
        if grant_type == "client_credentials":
            issued, secret = await oauth.app_token(app, client_secret, text(values, "scope"))
        else:
            if not text(values, "code"):
                return oauth_error("invalid_request", description=DESCRIPTIONS["invalid_request"] + " Missing param: code.")
            issued, secret = await oauth.exchange_code(
                app, code=text(values, "code"), redirect_uri=text(values, "redirect_uri"),
                client_secret=client_secret, code_verifier=text(values, "code_verifier"),
            )
    except AuthenticationFailed as error:
        if error.message == oauth.WRONG_SECRET:
            return oauth_error("invalid_client", 401)
        return oauth_error("invalid_grant")
    except InvalidInput:  # a scope unknown or beyond the app's
        return oauth_error("invalid_scope")
    return _token_response(issued, secret)


@bp.post("/oauth/revoke")
async def revoke():
    # RFC 7009 as Doorkeeper answers it: 200 {} even for an unknown token; 403 for a client that is not the token's.
    try:
        values = await params()
    except InvalidInput:
        return oauth_error("invalid_request")
    client_id, client_secret = _client_credentials(values)
    app = await _client(client_id)
    if app is None or not oauth.secret_matches(app, client_secret):
        return oauth_error("unauthorized_client", 403)
    token_text = text(values, "token")
    if not token_text:
        return oauth_error("invalid_request", description=DESCRIPTIONS["invalid_request"] + " Missing param: token.")
    await oauth.revoke(app, client_secret, token_text)
    return {}


@bp.get("/.well-known/oauth-authorization-server")
async def metadata():
    """RFC 8414, as Mastodon serves it (app/presenters/oauth_metadata_presenter.rb)."""
    base = current_app.extensions["circles.instance"].base_url
    return {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": sorted(oauth.KNOWN_SCOPES, key=_scope_order),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": list(oauth.CODE_CHALLENGE_METHODS),  # S256 alone, as Mastodon
    }


def _scope_order(scope: str) -> tuple:
    top, _, part = scope.partition(":")
    return (oauth.TOP_LEVEL.index(top), part)
