"""Running real `circles serve` processes for tests, and speaking to them as a
browser would (forms with CSRF tokens) over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

CIRCLES = Path(sys.executable).parent / "circles"
if not CIRCLES.exists():
    CIRCLES = Path(shutil.which("circles") or "circles")

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def stop_process(process: subprocess.Popen) -> int | None:
    """SIGTERM (servers shut down gracefully), then SIGKILL if it hangs.
    Returns the exit code, or None when it had to be killed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
            return None
    return process.returncode


def two_peer_addresses() -> tuple[int, int, str]:
    """Ports for two instances on 127.0.0.1 and 127.0.0.2, and the setting
    that lets each reach exactly those two (and no other private address)."""
    port_a, port_b = free_port("127.0.0.1"), free_port("127.0.0.2")
    return port_a, port_b, f"127.0.0.1:{port_a},127.0.0.2:{port_b}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, log: Path, base_url: str) -> None:
        self.process, self.log, self.base_url = process, log, base_url

    def output(self, tail: int = 6000) -> str:
        text = self.log.read_text(errors="replace")
        return text if len(text) <= tail else "…" + text[-tail:]

    async def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no answer"
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"`circles serve` exited with {self.process.returncode}:\n{self.output()}")
                try:
                    response = await client.get("/healthz")
                    if response.status_code == 200 and response.json() == {"status": "ok", "database": True}:
                        return
                    last_error = f"{response.status_code} {response.text}"
                except httpx.TransportError as error:
                    last_error = repr(error)
                await asyncio.sleep(0.1)
        pytest.fail(f"/healthz did not answer within {START_TIMEOUT} s ({last_error}):\n{self.output()}")

    def stop(self) -> int | None:
        return stop_process(self.process)


def csrf(response: httpx.Response) -> str:
    assert response.status_code == 200, f"{response.request.url}: {response.status_code}\n{response.text[:2000]}"
    match = CSRF_RE.search(response.text)
    assert match, f"{response.request.url} has no CSRF field"
    return match.group(1)


def redirected_to(response: httpx.Response, expected: str | re.Pattern) -> str:
    assert response.status_code in (302, 303), (
        f"{response.request.method} {response.request.url}: {response.status_code}\n{response.text[:2000]}"
    )
    location = response.headers["location"]
    url = httpx.URL(location)
    path = url.path + (f"#{url.fragment}" if url.fragment else "")
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(path), f"redirected to {location}"
    else:
        assert path == expected, f"redirected to {location}"
    return path


async def sign_up(client: httpx.AsyncClient, username: str) -> None:
    token = csrf(await client.get("/signup"))
    response = await client.post(
        "/signup",
        data={"csrf_token": token, "username": username, "email": f"{username}@example.org", "password": PASSWORD},
    )
    redirected_to(response, "/circles")
    page = await client.get("/circles")
    assert page.status_code == 200
    assert f"Welcome, @{username}!" in page.text


def _start(command: list[str], database_url: str, folder: Path, domain: str,
           **settings: str) -> tuple[subprocess.Popen, Path]:
    """`circles <command>` in `folder` over plain http for `domain`, with only
    the CIRCLES_* settings given here; its output goes to <command>.log there."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    env.update(CIRCLES_DATABASE_URL=database_url, CIRCLES_DOMAIN=domain, CIRCLES_SCHEME="http",
               CIRCLES_DATA_DIR=str(folder / "data"), **settings)
    log = folder / f"{command[0]}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(CIRCLES), *command], cwd=folder, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
    return process, log


def start_worker(database_url: str, folder: Path, **env_overrides: str) -> tuple[subprocess.Popen, Path]:
    """`circles worker` for the instance circles.test (the domain of the
    in-process tests' `instance`), logging to the returned file."""
    return _start(["worker"], database_url, folder, "circles.test", CIRCLES_ALLOW_PRIVATE_ADDRESSES="true",
                  CIRCLES_LOG_LEVEL="INFO", **env_overrides)


def start_server(database_url: str, folder: Path, *, host: str = "127.0.0.1", port: int | None = None,
                 **env_overrides: str) -> Server:
    """`circles serve` on `port` (default: a free one) of `host`, whose domain is host:port."""
    port = port or free_port(host)
    process, log = _start(["serve", "--bind", f"{host}:{port}"], database_url, folder, f"{host}:{port}",
                          CIRCLES_REGISTRATION="open", **env_overrides)
    return Server(process, log, f"http://{host}:{port}")


OOB = "urn:ietf:wg:oauth:2.0:oob"
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
OOB_CODE_RE = re.compile(r'id="oauth-code" type="text" value="([^"]+)"')


async def press_authorize(browser: httpx.AsyncClient, authorize_url: str) -> httpx.Response:
    """The person logged in on `browser` opens the consent page and presses
    Authorize; the answer (a redirect to the app, or the out-of-band code page)."""
    page = await browser.get(authorize_url)
    assert page.status_code == 200 and "Authorize" in page.text, page.text[:2000]
    fields = {name: unescape(value) for name, value in HIDDEN_RE.findall(page.text)}
    return await browser.post("/oauth/authorize", data={**fields, "decision": "authorize"})


def oob_code(shown: httpx.Response) -> str:
    """The code the out-of-band page shows, to copy into the app."""
    assert shown.status_code == 200, shown.text[:2000]
    code = OOB_CODE_RE.search(shown.text)
    assert code, shown.text[:2000]
    return code.group(1)


async def oauth_token(client: httpx.AsyncClient, scopes: str = "read write follow push") -> str:
    """An access token for the person logged in on `client`, the way an app
    gets one: register, consent on the web page, exchange the code (out of band)."""
    app = (await client.post("/api/v1/apps", data={"client_name": "Tests", "redirect_uris": OOB,
                                                    "scopes": scopes})).json()
    query = urlencode({"client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code", "scope": scopes})
    code = oob_code(await press_authorize(client, f"/oauth/authorize?{query}"))
    token = await client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": OOB,
        "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert token.status_code == 200, token.text
    return token.json()["access_token"]


@contextlib.asynccontextmanager
async def two_served_instances(make_database, folder: Path):
    """Two `circles serve`, A on 127.0.0.1 and B on 127.0.0.2, each allowed to
    reach only the other; `make_database` is the fixture of that name."""
    port_a, port_b, peers = two_peer_addresses()
    a = start_server(await make_database("a"), folder / "a", host="127.0.0.1", port=port_a,
                     CIRCLES_ALLOW_PRIVATE_ADDRESSES=peers)
    b = start_server(await make_database("b"), folder / "b", host="127.0.0.2", port=port_b,
                     CIRCLES_ALLOW_PRIVATE_ADDRESSES=peers)
    try:
        await a.wait_until_healthy()
        await b.wait_until_healthy()
        yield a, b
    finally:
        a.stop()
        b.stop()
