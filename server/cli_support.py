"""What the `circles` commands share (server/cli.py, server/status.py): one-line
errors, the settings, and reaching the configured instance's database
(reachable, its SQLite file present, migrated, on the configured domain)
before a command reads or writes it."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from models import db
from models.actors import Actor
from models.errors import DomainError
from models.instance import Instance
from server.config import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    Settings,
    config_file_in_use,
    load_settings,
    settings_from_environment,
    with_secret,
)


def this_command() -> str:
    """How this shell ran us (e.g. .venv/bin/circles), for hints that can be pasted."""
    invoked = Path(sys.argv[0])
    if invoked.name != "circles" or not invoked.is_file():
        return "circles"
    try:
        return str(invoked.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(invoked)


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def settings_or_exit(*, create_secret: bool = True) -> Settings:
    try:
        return load_settings(create_secret=create_secret)
    except ConfigError as error:
        fail(f"configuration: {error}", 2)
        raise AssertionError("unreachable")


def secret_or_exit(settings: Settings) -> Settings:
    """The settings with their secret key (generated on first use)."""
    try:
        return with_secret(settings)
    except ConfigError as error:
        fail(f"configuration: {error}", 2)
        raise AssertionError("unreachable") from None


def settings_origin() -> str:
    """Where the settings come from, for messages: the file and any CIRCLES_* variables."""
    path = config_file_in_use()
    origin = str(path) if path else f"built-in defaults, no {DEFAULT_CONFIG_FILE} in {Path.cwd()}"
    env = settings_from_environment()
    return origin + (f"; {', '.join(env)} from the environment" if env else "")


def instance_of(settings: Settings) -> Instance:
    return Instance(domain=settings.domain, scheme=settings.scheme)


def with_database(func: Callable[..., Awaitable[Any]]):
    """Run an async command body on the configured instance's database (see require_instance)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        settings = settings_or_exit(create_secret=False)  # these commands sign no cookies

        async def run():
            await require_instance(settings)
            await db.connect(settings.database_url)
            try:
                return await func(settings, *args, **kwargs)
            finally:
                await db.disconnect()

        try:
            return asyncio.run(run())
        except DomainError as error:
            fail(error.message)

    return wrapper


async def require_reachable(settings: Settings) -> None:
    """Stop with a clear message when the database does not answer. (Asked
    about an unreachable database, tortoise reports every migration as pending,
    and a refused login raises asyncpg's own error, not OSError.)"""
    try:
        await db.connect(settings.database_url)
        reachable = await db.ping()
    except OSError:
        reachable = False
    finally:
        await db.disconnect()
    if not reachable:
        where = settings.public_view()["database_url"]
        fail(f"cannot reach the database {where}. Check CIRCLES_DATABASE_URL "
             "(host, port, user, password, database name).", 2)


ELSEWHERE = "run this where the server's circles.toml is (or set CIRCLES_CONFIG to it)"


def require_database_file(settings: Settings) -> None:
    """Stop, creating nothing, when the configured SQLite file does not exist
    (opening it would create an empty one)."""
    sqlite_file = settings.sqlite_file
    if sqlite_file is not None and not sqlite_file.is_file():
        fail(f"there is no database at {sqlite_file} (settings: {settings_origin()}). "
             f"If a server is running, {ELSEWHERE}; to start a new instance here, run `circles migrate` first.", 2)


async def require_instance(settings: Settings) -> None:
    """Stop, creating nothing, unless the configured database exists, is
    migrated, and holds ids on the configured domain and scheme: a command run
    with other settings than the server's must not make a second database or
    mint ids that point elsewhere."""
    sqlite_file = settings.sqlite_file
    require_database_file(settings)
    await require_reachable(settings)
    try:
        pending = await db.pending_migrations(settings.database_url)
    except OSError as error:
        fail(f"cannot reach the database ({error}). Check CIRCLES_DATABASE_URL.", 2)
    where = sqlite_file or settings.public_view()["database_url"]
    if pending and len(pending) >= len(db.migration_names()):
        fail(f"the database {where} is empty (settings: {settings_origin()}). "
             f"If a server is running, {ELSEWHERE}; to start a new instance here, run `circles migrate` first.", 2)
    if pending:
        fail(f"the database needs {len(pending)} migration(s) first: run `circles migrate`.", 2)
    await db.connect(settings.database_url)
    try:
        other = await Actor.filter(local=True).exclude(uri__startswith=settings.base_url + "/").order_by("id").first()
    finally:
        await db.disconnect()
    if other is not None:
        parts = urlsplit(other.uri)
        fail(f"the database {where} belongs to {parts.scheme}://{parts.netloc} (ids such as {other.uri}), "
             f"but the settings ({settings_origin()}) say {settings.base_url}: ids made now would point elsewhere. "
             f"Use the settings it was made with: {ELSEWHERE}, or set CIRCLES_DOMAIN and CIRCLES_SCHEME to match.", 2)


def on_database(settings: Settings, body: Callable[[], Awaitable[Any]]) -> Any:
    """body() on the configured database, which must be reachable (a read: no migration needed)."""
    async def run() -> Any:
        await require_reachable(settings)
        await db.connect(settings.database_url)
        try:
            return await body()
        finally:
            await db.disconnect()

    try:
        return asyncio.run(run())
    except OSError as error:
        fail(f"cannot reach the database ({error}). Check CIRCLES_DATABASE_URL.", 2)
