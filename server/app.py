"""The app factory: one Quart app per Settings, no module-level app."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from pathlib import Path

from quart import Quart

import federation.inbox
import federation.routes
import web
import web.errors
import web.html
import web.html.media
import web.mastodon
import web.observe
import web.security
from federation.routes import software_version
from federation.runtime import Federation
from models import db
from models.instance import Instance
from models.services.actors import ensure_instance_actor
from models.services.media import MediaStore
from server import worker
from server.config import Settings, prometheus_multiprocess_dir
from server.mail import Postman
from web.mail import Renderer
from web.live import Hub
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
    app.session_interface = web.security.PageSessionInterface()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="circles_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.scheme == "https",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=30),
        MAX_CONTENT_LENGTH=web.html.media.UPLOAD_BODY_MAX,  # pages with an image; 2 MB elsewhere (web/html/media.py)
        MAX_FORM_MEMORY_SIZE=256 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["circles.settings"] = settings
    app.extensions["circles.media"] = MediaStore(Path(settings.media_dir))
    app.extensions["circles.rate_limits"] = settings.rate_limits
    instance = Instance(domain=settings.domain, scheme=settings.scheme)
    app.extensions["circles.site"] = Site(instance=instance, registration=settings.registration_mode)
    # First: every request gets its id before the other hooks run (and may log).
    web.observe.register(app, token=settings.metrics_token, multiprocess_dir=prometheus_multiprocess_dir())
    web.errors.register(app)
    web.html.register(app)
    web.mastodon.register(app)
    federation.routes.register(app, instance)
    app.register_blueprint(federation.inbox.bp)

    fed = Federation.start(
        instance, allow_private_addresses=settings.allow_private_addresses, version=software_version(),
        lease=settings.worker_lease, meeting_reminders=settings.meeting_reminder_leads,
    )
    app.extensions["circles.federation"] = fed
    wake = asyncio.Event()
    postman = app.extensions["circles.postman"] = Postman(
        settings.smtp_url, settings.domain, Renderer(app, settings.email_from)
    )
    live = app.extensions["circles.live"] = Hub()

    @app.before_serving
    async def start() -> None:
        if manage_database:
            await db.connect(settings.database_url)
        await ensure_instance_actor(instance)
        await live.start()
        if settings.run_worker:
            app.extensions["circles.worker_tasks"] = [
                asyncio.create_task(worker.run_forever(fed, wake, postman)),
                asyncio.create_task(worker.wake_on_work(live, wake)),
            ]

    @app.after_serving
    async def stop() -> None:
        if app.extensions.get("circles.stopped"):
            return
        app.extensions["circles.stopped"] = True
        await live.stop()
        for task in app.extensions.pop("circles.worker_tasks", []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await fed.close()
        if manage_database:
            await db.disconnect()

    return app


async def until_signalled(app: Quart) -> None:
    """hypercorn's shutdown trigger for `circles serve`: wait for SIGINT or
    SIGTERM, then end the open live streams at once (they would otherwise hold
    the graceful shutdown until its timeout) and let hypercorn stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await stop.wait()
    app.extensions["circles.live"].close()
