"""The built-in web UI: server-rendered pages that work without JavaScript."""

from __future__ import annotations

from markupsafe import Markup
from quart import Quart, request, url_for

from models.actors import ActorKind
from models.services import circles as circle_service
from models.text import clean_html, render_markdown
from web import i18n, security
from web.html import (
    account_email, admin, auth, circle_header, circle_invites, circles, dashboard, governance, health, home, meetings, notifications, posts, questions, reflections, resources,
    reviews, sisters, tutoring, users,
)
from web.html import (
    language, live, media, moderation, notification_settings, people, person_blocks, post_actions,
    ratelimits, oauth_consent, roles, search, settings, unsubscribe, visibility,
)
from web.site import site

BLUEPRINTS = (
    home.bp, auth.bp, circles.bp, posts.bp, questions.bp, resources.bp, reviews.bp, reflections.bp,
    governance.bp, meetings.bp, notifications.bp, sisters.bp, tutoring.bp, dashboard.bp, users.bp,
    admin.bp, health.bp, moderation.bp, people.bp, settings.bp, media.bp, circle_invites.bp, roles.bp,
    person_blocks.bp, account_email.bp, unsubscribe.bp, notification_settings.bp, live.bp,
    language.bp, post_actions.bp, search.bp, oauth_consent.bp,
)


def register(app: Quart) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    i18n.register(app)

    ui_blueprints = {blueprint.name for blueprint in BLUEPRINTS}

    @app.before_request
    async def before_request() -> None:
        await media.limit_body()  # only image uploads may be as large as MAX_CONTENT_LENGTH
        # The federation blueprints (signed JSON, no cookies) need none of this.
        if request.blueprint not in ui_blueprints and request.blueprint is not None:
            return
        await security.refuse_nul_characters()
        await security.load_current_account()
        await security.check_csrf()
        await ratelimits.check_request()
        await visibility.check_request()  # members-only circles

    # A global, not a context value: macros imported without context (macros.html) need it.
    app.add_template_global(security.csrf_token, "csrf_token")

    @app.template_global("actor_url")
    def actor_url(actor) -> str:
        """Where an actor's name links: a person's or circle's page here, or their home server."""
        if actor.local and actor.kind is ActorKind.GROUP:
            return url_for("circles.show", handle=actor.username)
        if actor.local:
            return url_for("users.show", username=actor.username)
        return actor.profile_url or actor.uri

    # The header on every page of a circle (web/templates/circles/_header.html).
    app.add_template_global(circle_header.CIRCLE_TABS, "circle_tabs")
    app.add_template_global(circle_header.PRIMARY_TABS, "primary_tabs")
    app.add_template_global(circle_header.viewer_membership, "viewer_membership")
    app.add_template_global(circle_header.is_active_steward, "is_active_steward")
    app.add_template_filter(circle_header.markdown_as_text, "markdown_as_text")
    app.add_template_global(circle_service.BANNED, "banned_message")  # circles/_banned.html
    # The header's notifications link, and the page's live updates (web/html/live.py, static/live.js).
    app.add_template_global(live.unread_label, "unread_label")
    app.add_template_global(live.stream_url, "live_stream_url")

    @app.template_filter("markdown")
    def markdown_filter(source: str) -> Markup:
        return Markup(render_markdown(source or ""))  # render_markdown's output is sanitised

    @app.template_filter("sanitised")
    def sanitised_filter(html: str) -> Markup:
        """Stored HTML cleaned again as it is shown, where a row may have other writers."""
        return Markup(clean_html(html or ""))

    @app.context_processor
    async def template_globals() -> dict:
        return {
            "current_account": security.current_account(),
            "site": site(),
            "unread_count": await live.unread_count(),  # one query, for the signed-in only
        }

    @app.after_request
    async def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
