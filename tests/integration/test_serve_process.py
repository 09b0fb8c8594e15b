"""`circles serve` for real: hypercorn in its own process, spoken to over loopback.

The in-process test client runs every request in the task that opened the
database; hypercorn does not (tortoise 1.1 fails queries made outside the task
that called init unless told otherwise), so only this test shows that the
served app can use its database.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CIRCLES = Path(sys.executable).parent / "circles"
if not CIRCLES.exists():
    CIRCLES = Path(shutil.which("circles") or "circles")

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
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
        """SIGTERM (hypercorn shuts down gracefully), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
                return None
        return self.process.returncode


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


async def test_the_served_app_works_end_to_end(database_url, tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    env.update(
        CIRCLES_DATABASE_URL=database_url,
        CIRCLES_DOMAIN=f"127.0.0.1:{port}",
        CIRCLES_SCHEME="http",
        CIRCLES_DATA_DIR=str(tmp_path / "data"),
        CIRCLES_REGISTRATION="open",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(CIRCLES), "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, log, base_url)
    try:
        await server.wait_until_healthy()

        async with (
            httpx.AsyncClient(base_url=base_url, timeout=10.0) as alice,
            httpx.AsyncClient(base_url=base_url, timeout=10.0) as bob,
        ):
            # Alice signs up, logs out and logs in again.
            await sign_up(alice, "alice")
            token = csrf(await alice.get("/circles"))
            redirected_to(await alice.post("/logout", data={"csrf_token": token}), "/")
            home = await alice.get("/")
            assert "You have logged out." in home.text
            redirected_to(await alice.get("/circles/new"), "/login")  # logged out: the form needs a login

            token = csrf(await alice.get("/login"))
            wrong = await alice.post("/login", data={"csrf_token": token, "login": "alice", "password": "wrong password"})
            assert wrong.status_code == 401
            response = await alice.post("/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD})
            redirected_to(response, "/")
            assert "@alice" in (await alice.get("/")).text

            # She starts a circle and posts in it.
            token = csrf(await alice.get("/circles/new"))
            response = await alice.post(
                "/circles/new",
                data={
                    "csrf_token": token, "handle": "readers", "name": "Readers Club",
                    "purpose": "We read one book a month.", "join_mode": "open",
                    "language": "en", "timezone": "UTC",
                },
            )
            redirected_to(response, "/c/readers")
            circle_page = await alice.get("/c/readers")
            assert circle_page.status_code == 200
            assert "Readers Club" in circle_page.text
            assert "Your circle “Readers Club” is ready." in circle_page.text

            token = csrf(await alice.get("/c/readers/posts/new"))
            response = await alice.post(
                "/c/readers/posts/new",
                data={"csrf_token": token, "title": "First meeting", "body": "We start with **chapter one** on Monday."},
            )
            post_path = redirected_to(response, re.compile(r"/posts/\d+"))

            circle_page = await alice.get("/c/readers")
            assert "First meeting" in circle_page.text
            post_page = await alice.get(post_path)
            assert post_page.status_code == 200
            assert "First meeting" in post_page.text
            assert "<strong>chapter one</strong>" in post_page.text

            # Bob signs up, joins and replies.
            await sign_up(bob, "bob")
            before_joining = await bob.get("/c/readers")
            assert "First meeting" in before_joining.text
            token = csrf(before_joining)
            redirected_to(await bob.post("/c/readers/join", data={"csrf_token": token}), "/c/readers")
            joined = await bob.get("/c/readers")
            assert "You have joined Readers Club." in joined.text
            assert "2 members" in joined.text

            token = csrf(await bob.get(post_path))
            response = await bob.post(f"{post_path}/reply", data={"csrf_token": token, "body": "Count me *in*!"})
            redirected_to(response, re.compile(re.escape(post_path) + r"#post-\d+"))

            # Alice, in her own session, sees the reply.
            thread = await alice.get(post_path)
            assert thread.status_code == 200
            assert "Count me <em>in</em>!" in thread.text
            assert "bob" in thread.text

            # A request without the form's token is refused, not served.
            refused = await bob.post(f"{post_path}/reply", data={"body": "no token"})
            assert refused.status_code == 403

        assert server.process.poll() is None, server.output()
        code = server.stop()
        assert code == 0, f"`circles serve` did not stop cleanly on SIGTERM ({code}):\n{server.output()}"
        output = server.output(tail=10**7)
        assert "Traceback" not in output, server.output()
        assert "Running on" in output
    finally:
        server.stop()
