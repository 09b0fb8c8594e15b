"""The app factory: one Quart app per Settings, no module-level app."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from quart import Quart

import web
import web.errors
import web.html
from models import db
from models.instance import Instance
from server.config import Settings
from web.site import Site

WEB_ROOT = Path(web.__file__).parent


def create_app(settings: Settings, *, manage_database: bool = True) -> Quart:
    """A Quart app for these settings. With manage_database, the app opens the
    database when it starts serving and closes it when it stops; tests that
    prepare the database themselves pass False."""
    app = Quart(
        "circles",
        root_path=str(WEB_ROOT),
        template_folder="templates",
        static_folder="static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="circles_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.scheme == "https",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=30),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=256 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["circles.settings"] = settings
    app.extensions["circles.site"] = Site(
        instance=Instance(domain=settings.domain, scheme=settings.scheme),
        registration=settings.registration_mode,
    )
    web.errors.register(app)
    web.html.register(app)

    if manage_database:

        @app.before_serving
        async def open_database() -> None:
            await db.connect(settings.database_url)

        @app.after_serving
        async def close_database() -> None:
            await db.disconnect()

    return app
