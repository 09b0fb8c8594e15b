"""Shared fixtures: a fresh, migrated database per test, on SQLite by default
or on PostgreSQL when CIRCLES_TEST_DATABASE_URL is set.

The schema always comes from the real migrations (models/migrations), never
from generate_schemas, so a migration that drifts from the models fails here.
SQLite: migrate once into a template file, copy it for each test.
PostgreSQL: migrate once into a database made for this run, truncate every
table before each test, drop the database at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from models import db
from server.config import Settings
from tests.mail_server import smtp_server  # noqa: F401 (a fixture: a real SMTP server on loopback)

TEST_DOMAIN = "circles.test"
POSTGRES_URL = os.environ.get("CIRCLES_TEST_DATABASE_URL", "")


def _postgres_admin_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _create_postgres_database(base_url: str) -> str:
    name = f"circles_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_postgres_admin_url(base_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(base_url, name)


async def _drop_postgres_database(base_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(_postgres_admin_url(base_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """A database with every migration applied: a template file (SQLite) or
    a database created for this test run (PostgreSQL)."""
    if POSTGRES_URL:
        url = asyncio.run(_create_postgres_database(POSTGRES_URL))
        asyncio.run(db.migrate(url))
        yield url
        asyncio.run(_drop_postgres_database(POSTGRES_URL, url))
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        asyncio.run(db.migrate(f"sqlite://{path}"))
        yield str(path)


async def _truncate_all(url: str) -> None:
    conn = await asyncpg.connect(_postgres_admin_url(url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def database_url(migrated_database, tmp_path) -> str:
    """The URL of an empty, migrated database for this test alone."""
    if POSTGRES_URL:
        await _truncate_all(migrated_database)
        return migrated_database
    path = tmp_path / "circles.sqlite3"
    shutil.copyfile(migrated_database, path)
    return f"sqlite://{path}"


@pytest.fixture
async def make_database(migrated_database, tmp_path):
    """A factory of further empty, migrated databases (for tests that run more
    than one instance). PostgreSQL copies them from the migrated database."""
    made: list[str] = []

    async def make(name: str) -> str:
        if not POSTGRES_URL:
            path = tmp_path / f"{name}.sqlite3"
            shutil.copyfile(migrated_database, path)
            return f"sqlite://{path}"
        await _truncate_all(migrated_database)
        db_name = f"circles_test_{name}_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(_postgres_admin_url(POSTGRES_URL))
        try:
            template = urlsplit(migrated_database).path.lstrip("/")
            await conn.execute(f'CREATE DATABASE "{db_name}" TEMPLATE "{template}"')
        finally:
            await conn.close()
        url = _with_database(POSTGRES_URL, db_name)
        made.append(url)
        return url

    yield make
    for url in made:
        await _drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(autouse=True)
def forget_cached_keys():
    """Each test has a fresh database; keys cached in this process must go too."""
    from federation import keys

    keys._key_cache.clear()
    keys._last_refresh.clear()


@pytest.fixture
async def database(database_url):
    """The ORM connected to this test's database."""
    await db.connect(database_url)
    yield database_url
    await db.disconnect()


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        domain=TEST_DOMAIN,
        scheme="http",
        bind="127.0.0.1:0",
        data_dir=str(tmp_path / "data"),
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        registration="open",
        media_dir=str(tmp_path / "data" / "media"),
        allow_private_addresses=True,
        run_worker=False,
    )


@pytest.fixture
def instance(settings):
    from models.instance import Instance

    return Instance(domain=settings.domain, scheme=settings.scheme)


@pytest.fixture
def make_app(database, settings):
    """Build an app over this test's database; keyword arguments override settings."""
    from dataclasses import replace

    from server.app import create_app

    def build(**overrides):
        return create_app(replace(settings, **overrides), manage_database=False)

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# Payload fixtures live in the repository; tests/fixtures/SOURCES.md says where each came from.
FIXTURES = repo_root() / "tests" / "fixtures"
CORPUS = FIXTURES / "corpus"  # real-world ActivityPub documents, one folder per software


def corpus_json(name: str):
    """The parsed corpus document `name` (e.g. "lemmy/objects_page.json"); a missing file fails the test."""
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


@pytest.fixture
def count_queries():
    """`with count_queries() as queries:` lists the SQL statements sent inside
    the block (tests/querycount.py), on SQLite and PostgreSQL alike."""
    from tests.querycount import count_queries as counter

    return counter
