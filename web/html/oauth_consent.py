"""The page where a person lets an app act for them: OAuth's authorization
endpoint (GET and POST /oauth/authorize), a web page with the session and
CSRF checks of every other form.

A request that names an unknown app, a redirect URI the app did not
register, or scopes beyond its own gets an error page (400), never a
redirect: only a registered URI is ever redirected to (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from quart import Blueprint, redirect, render_template, request

from models.errors import InvalidInput, NotFound
from models.services import oauth
from web import security
from web.i18n import N_, _

bp = Blueprint("oauth_consent", __name__)

# Each scope in plain words (https://docs.joinmastodon.org/api/oauth-scopes/).
SCOPE_WORDS = {
    "read": N_("See everything in your account: your posts, circles, follows, notifications and profile"),
    "write": N_("Post, reply, like, follow and change your profile for you"),
    "follow": N_("See and change whom you follow, block and mute"),
    "push": N_("Receive your notifications"),
    "profile": N_("See your profile (your name, picture and handle)"),
    "read:accounts": N_("See your profile and other people's"),
    "read:blocks": N_("See whom you block"),
    "read:bookmarks": N_("See your bookmarks"),
    "read:favourites": N_("See what you liked"),
    "read:filters": N_("See your filters"),
    "read:follows": N_("See whom you follow"),
    "read:lists": N_("See your lists"),
    "read:mutes": N_("See whom you mute"),
    "read:notifications": N_("See your notifications"),
    "read:search": N_("Search for you"),
    "read:statuses": N_("See posts you can see, and your own"),
    "write:accounts": N_("Change your profile"),
    "write:blocks": N_("Block and unblock people"),
    "write:bookmarks": N_("Bookmark posts"),
    "write:conversations": N_("Change your conversations"),
    "write:favourites": N_("Like posts"),
    "write:filters": N_("Change your filters"),
    "write:follows": N_("Follow and unfollow"),
    "write:lists": N_("Change your lists"),
    "write:media": N_("Upload images"),
    "write:mutes": N_("Mute and unmute people"),
    "write:notifications": N_("Dismiss your notifications"),
    "write:reports": N_("Report posts and people"),
    "write:statuses": N_("Post, reply and delete your posts"),
}
DENIED = "The resource owner or authorization server denied the request."
FIELDS = ("client_id", "redirect_uri", "scope", "state", "response_type", "code_challenge", "code_challenge_method")


async def _checked(values) -> tuple:
    """The app and what it asks for, checked as the token endpoint will check them."""
    try:
        app = await oauth.app_for_client(values.get("client_id"))
    except NotFound:
        raise InvalidInput("No app with this client_id is registered here.", field="client_id") from None
    redirect_uri, scopes = oauth.check_authorization_request(
        app, redirect_uri=values.get("redirect_uri"), scope=values.get("scope"),
        response_type=values.get("response_type"), code_challenge=values.get("code_challenge"),
        code_challenge_method=values.get("code_challenge_method"),
    )
    return app, redirect_uri, scopes


def _with_query(uri: str, **params: str) -> str:
    query = urlencode({key: value for key, value in params.items() if value})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _form_action_source(redirect_uri: str) -> str:
    """The CSP source that lets the consent form's redirect reach the app
    (browsers check form-action on the redirect after a POST too)."""
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


# As Rails routes do, a trailing slash is the same path: toot asks for /oauth/authorize/.
@bp.get("/oauth/authorize", strict_slashes=False)
@security.login_required
async def authorize():
    values = request.args
    app, redirect_uri, scopes = await _checked(values)
    hidden = {name: values.get(name, "") for name in FIELDS}
    hidden["redirect_uri"], hidden["scope"] = redirect_uri, " ".join(scopes)
    html = await render_template(
        "oauth/authorize.html", app=app, hidden=hidden,
        scope_words=[_(SCOPE_WORDS[scope]) for scope in scopes],
        website_host=urlsplit(app.website).netloc if app.website else "",
    )
    headers = {"Cache-Control": "no-store"}
    if redirect_uri != oauth.OOB:
        headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
            f"frame-ancestors 'none'; form-action 'self' {_form_action_source(redirect_uri)}; base-uri 'none'"
        )
    return html, 200, headers


@bp.post("/oauth/authorize", strict_slashes=False)
@security.login_required
async def decide():
    form = await request.form
    app, redirect_uri, scopes = await _checked(form)
    state = form.get("state", "")
    if form.get("decision") != "authorize":
        if redirect_uri == oauth.OOB:
            return await render_template("oauth/denied.html", app=app)
        # Doorkeeper's denial (config/locales/doorkeeper.en.yml, errors.messages.access_denied).
        return redirect(_with_query(redirect_uri, error="access_denied", error_description=DENIED, state=state))
    code = await oauth.grant(
        app, security.current_account(), redirect_uri=redirect_uri, scopes=scopes,
        code_challenge=form.get("code_challenge", ""), code_challenge_method=form.get("code_challenge_method", ""),
    )
    if redirect_uri == oauth.OOB:
        html = await render_template("oauth/code.html", app=app, code=code)
        return html, 200, {"Cache-Control": "no-store"}
    return redirect(_with_query(redirect_uri, code=code, state=state))
