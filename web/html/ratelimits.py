"""Which web pages spend which rate limit (models/services/ratelimits.py).

Checked once per request, before the page runs (web/html/__init__.py), so
the pages themselves stay free of it. A request past its limit gets the
`429` page with `Retry-After` (web/errors.py)."""

from __future__ import annotations

from quart import current_app, request

from models.services import ratelimits
from models.services.ratelimits import Limit
from web import security
from web.html import forms

# Each endpoint that writes into a circle, with POSTING; a test checks that
# every name here is a real endpoint, so a renamed page cannot slip out.
POSTING_ENDPOINTS = frozenset({
    "circles.create", "circles.create_post", "posts.reply", "questions.create", "resources.create",
    "resources.reshare", "meetings.create", "reviews.create", "reviews.feedback", "reflections.create",
    "governance.create", "tutoring.open_pairing", "tutoring.send", "moderation.report_post",
    "moderation.report_person", "post_actions.update",
})
# Each endpoint that looks a handle up on another server, with LOOKUP.
LOOKUP_ENDPOINTS = frozenset({
    "people.search_post", "circles.follow_remote", "sisters.follow", "people.follow", "circle_invites.invite_person",
})
BY_ENDPOINT: dict[str, Limit] = {
    "auth.signup_post": ratelimits.SIGN_UP,
    "auth.login_post": ratelimits.LOGIN,
    "account_email.forgot_post": ratelimits.PASSWORD_HELP,
    "account_email.change_post": ratelimits.EMAIL_LINKS,
    "account_email.send_verification": ratelimits.EMAIL_LINKS,
    **dict.fromkeys(POSTING_ENDPOINTS, ratelimits.POSTING),
    **dict.fromkeys(LOOKUP_ENDPOINTS, ratelimits.LOOKUP),
    # Toggles that notify and federate, and the costly profile picture.
    **dict.fromkeys(("users.follow", "users.unfollow", "post_actions.like"), ratelimits.ACTIONS),
    **dict.fromkeys(("settings.upload_avatar", "settings.remove_avatar"), ratelimits.PROFILE_PICTURE),
}
# Pages that only read, yet cost the database much (GET, HEAD).
READING_ENDPOINTS: dict[str, Limit] = {"search.index": ratelimits.SEARCH, "search.in_circle": ratelimits.SEARCH}
BY_ADDRESS = {ratelimits.SIGN_UP, ratelimits.LOGIN, ratelimits.PASSWORD_HELP}  # counted per client address, signed in or not


def enabled() -> bool:
    return current_app.extensions.get("circles.rate_limits", True)


async def check_request() -> None:
    """Spend the limit this request's page takes, if any (state-changing
    requests, and the few costly pages that read)."""
    if request.method == "OPTIONS" or not enabled():
        return
    if request.method in ("GET", "HEAD"):
        limit = READING_ENDPOINTS.get(request.endpoint or "")
    else:
        limit = BY_ENDPOINT.get(request.endpoint or "")
        if limit is not None and forms.wants_preview(await request.form):  # a preview saves nothing
            return
    if limit is None:
        return
    account = security.current_account()
    if account is not None and limit not in BY_ADDRESS:
        await ratelimits.spend(limit, f"account:{account.id}")
    else:
        await ratelimits.spend(limit, f"address:{request.remote_addr or 'unknown'}")


async def spend(limit: Limit, subject: str) -> None:
    """Spend `limit` for a subject the page itself knows (say an address typed in a form)."""
    if enabled():
        await ratelimits.spend(limit, subject)
