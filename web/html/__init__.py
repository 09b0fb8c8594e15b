"""The built-in web UI: server-rendered pages that work without JavaScript."""

from __future__ import annotations

from markupsafe import Markup
from quart import Quart

from models.text import render_markdown

from web import security
from web.html import admin, auth, circles, health, home, posts, users
from web.site import site

BLUEPRINTS = (home.bp, auth.bp, circles.bp, posts.bp, users.bp, admin.bp, health.bp)


def register(app: Quart) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.before_request
    async def before_request() -> None:
        await security.load_current_account()
        await security.check_csrf()

    @app.template_filter("markdown")
    def markdown_filter(source: str) -> Markup:
        return Markup(render_markdown(source or ""))  # render_markdown's output is sanitised

    @app.context_processor
    async def template_globals() -> dict:
        return {
            "csrf_token": security.csrf_token,
            "current_account": security.current_account(),
            "site": site(),
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
