"""A real `circles serve` driven by Debian's chromium through Playwright.

Playwright's sync API: these tests are plain functions, so no asyncio loop
runs while they drive the browser. No browser is downloaded: chromium is
launched from /usr/bin/chromium (`.ci/run` installs it with apt-get). Without
chromium or the playwright package the tests are skipped, with the reason
printed. One server and one browser serve each test module.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import (
    POSTGRES_URL,
    _drop_postgres_database,
    _postgres_admin_url,
    _with_database,
)
from tests.servers import START_TIMEOUT, start_server

CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}

_screenshot_folder: list[Path] = []


def _skip(reason: str) -> None:
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter) -> None:
    if _screenshot_folder:
        terminalreporter.write_line(f"Browser screenshots: {_screenshot_folder[0]}")


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where screenshots go: $CIRCLES_SCREENSHOTS, else a folder of this run's tmp."""
    folder = Path(os.environ.get("CIRCLES_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    if not _screenshot_folder:
        _screenshot_folder.append(folder)
    print(f"Browser screenshots: {folder}")
    return folder


async def _copy_postgres_database(template_url: str) -> str:
    name = f"circles_test_browser_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(_postgres_admin_url(POSTGRES_URL))
    try:
        template = template_url.rsplit("/", 1)[1]
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return _with_database(POSTGRES_URL, name)


@pytest.fixture(scope="module")
def module_database(migrated_database, tmp_path_factory):
    """An empty, migrated database for this module's server."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("browser-db") / "circles.sqlite3"
        shutil.copyfile(migrated_database, path)
        yield f"sqlite://{path}"
        return
    url = asyncio.run(_copy_postgres_database(migrated_database))
    yield url
    asyncio.run(_drop_postgres_database(POSTGRES_URL, url))


def _wait_until_healthy(server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last_error = "no answer"
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(f"`circles serve` exited with {server.process.returncode}:\n{server.output()}")
            try:
                response = client.get("/healthz")
                if response.status_code == 200:
                    return
                last_error = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last_error = repr(error)
            time.sleep(0.1)
    pytest.fail(f"/healthz did not answer within {START_TIMEOUT} s ({last_error}):\n{server.output()}")


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    """Extra CIRCLES_* settings of the module's server; a module overrides
    this fixture to serve with, say, an SMTP server."""
    return {}


@pytest.fixture(scope="module")
def server(module_database, tmp_path_factory, server_settings):
    running = start_server(module_database, tmp_path_factory.mktemp("browser-serve"), **server_settings)
    try:
        _wait_until_healthy(running)
        yield running
        assert running.process.poll() is None, running.output()
        assert "Traceback" not in running.output(tail=10**7), running.output()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser(server):
    """Chromium, launched after the server (the sync API must start when no
    asyncio loop runs, so the database fixtures come first)."""
    if not CHROMIUM.exists():
        _skip(f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("the browser tests need the playwright package (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def new_context(browser, server):
    """Make browser contexts (separate cookie jars: separate people) on the server."""
    made = []

    def make(**options):
        context = browser.new_context(base_url=server.base_url, viewport=DESKTOP, **options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
