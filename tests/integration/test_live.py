"""Live updates over real HTTP: `circles serve` processes, their /live
server-sent events read as a browser's EventSource reads them, and the
changes made through the web forms (another person's reply, a join request)."""

from __future__ import annotations

import asyncio
import html
import json
import re
import signal
import time
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.servers import Server, _start, csrf, free_port, redirected_to, sign_up, start_server

LIVE_URL_RE = re.compile(r'data-live-url="([^"]+)"')
EVENT_TIMEOUT = 10.0


class Events:
    """The events of one open stream, in order: (name, data)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = EVENT_TIMEOUT) -> tuple[str, dict]:
        return await asyncio.wait_for(self._next(), timeout)

    async def _next(self) -> tuple[str, dict]:
        name, data = "message", []
        async for line in self._lines:
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                return name, json.loads("\n".join(data))
        raise EOFError("the stream ended")

    async def until(self, name: str, **expected) -> dict:
        """The next `name` event whose data has `expected` (earlier ones pass)."""
        while True:
            event, data = await self.next()
            if event == name and all(data.get(k) == v for k, v in expected.items()):
                return data


@asynccontextmanager
async def stream(client: httpx.AsyncClient, url: str):
    async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Events(response)


def live_url(page: httpx.Response) -> str:
    match = LIVE_URL_RE.search(page.text)
    assert match, "the page has no live address"
    return html.unescape(match.group(1))


async def start_circle(client, handle: str, **fields) -> None:
    token = csrf(await client.get("/circles/new"))
    data = {"csrf_token": token, "handle": handle, "name": handle.title(), "purpose": "We read.",
            "join_mode": "open", "language": "en", "timezone": "UTC", **fields}
    redirected_to(await client.post("/circles/new", data=data), f"/c/{handle}")


async def new_post(client, handle: str, title: str) -> str:
    token = csrf(await client.get(f"/c/{handle}/posts/new"))
    response = await client.post(f"/c/{handle}/posts/new", data={"csrf_token": token, "title": title, "body": "Hi"})
    return redirected_to(response, re.compile(r"/posts/\d+"))


async def join(client, handle: str) -> None:
    token = csrf(await client.get(f"/c/{handle}"))
    await client.post(f"/c/{handle}/join", data={"csrf_token": token, "request_text": "May I?"})


async def reply(client, thread: str, body: str) -> None:
    token = csrf(await client.get(thread))
    redirected_to(await client.post(f"{thread}/reply", data={"csrf_token": token, "body": body}),
                  re.compile(r"/posts/\d+#post-\d+"))


SECRET = "live-test-secret-" + "x" * 32  # one for every process: a session works on each


@pytest.fixture
async def served(database_url, tmp_path):
    """Start `circles serve` processes on this test's database; after the first,
    each serves the same instance (its domain and secret) on a port of its own."""
    servers: list[Server] = []

    async def start(name: str = "a") -> Server:
        if not servers:
            server = start_server(database_url, tmp_path / name, CIRCLES_SECRET_KEY=SECRET)
        else:
            port = free_port()
            domain = servers[0].base_url.removeprefix("http://")
            process, log = _start(["serve", "--bind", f"127.0.0.1:{port}"], database_url, tmp_path / name, domain,
                                  CIRCLES_REGISTRATION="open", CIRCLES_SECRET_KEY=SECRET)
            server = Server(process, log, f"http://127.0.0.1:{port}")
        servers.append(server)
        await server.wait_until_healthy()
        return server

    yield start
    for server in servers:
        server.stop()
        assert "Traceback" not in server.output(tail=10**7), server.output()


def client_of(server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, timeout=httpx.Timeout(10.0, read=30.0))


async def test_the_header_count_and_an_open_thread_update_live(served):
    server = await served()
    async with client_of(server) as alice, client_of(server) as bob:
        await sign_up(alice, "alice")
        await start_circle(alice, "readers")
        await start_circle(alice, "quiet", join_mode="approval")
        thread = await new_post(alice, "readers", "First meeting")
        page = await alice.get(thread)
        assert "data-unread-count hidden" in page.text and "Notifications, " not in page.text  # nothing unread
        url = live_url(page)
        assert "topic=account" in url and "topic=thread" in url

        await sign_up(bob, "bob")
        await join(bob, "readers")
        async with stream(alice, url) as events:
            assert (await events.until("unread")) == {"count": 0, "label": "Notifications"}
            assert (await events.until("thread")) == {"replies": 0}

            await reply(bob, thread, "Count me in!")  # a reply to Alice's post: she hears of it too (count 1)
            assert await events.until("thread", replies=1)

            await join(bob, "quiet")  # asks to join: Alice, its facilitator, hears of it
            assert await events.until("unread", count=2, label="Notifications, 2 unread")

        page = await alice.get("/")
        assert "Notifications, 2 unread" in page.text  # and without JavaScript, in the page itself


async def test_only_ones_own_notifications_and_readable_threads(served):
    server = await served()
    async with client_of(server) as alice, client_of(server) as bob, client_of(server) as visitor:
        await sign_up(alice, "alice")
        await start_circle(alice, "secret", visibility="members")
        thread = await new_post(alice, "secret", "Members only")
        alice_url = live_url(await alice.get(thread))
        account_topic = re.search(r"topic=(account%3A\d+|account:\d+)", alice_url).group(1)
        thread_topic = re.search(r"topic=(thread%3A\d+|thread:\d+)", alice_url).group(1)
        await sign_up(bob, "bob")

        assert (await visitor.get(f"/live?topic={account_topic}")).status_code == 403
        assert (await bob.get(f"/live?topic={account_topic}")).status_code == 403
        assert (await bob.get(f"/live?topic={thread_topic}")).status_code == 403  # not a member
        assert (await visitor.get(f"/live?topic={thread_topic}")).status_code == 403
        assert (await bob.get("/live?topic=thread:999999")).status_code == 404
        for bad in ("", "?topic=nonsense", "?topic=account:x", "?topic=thread:-1", "?" + "topic=thread:1&" * 5):
            assert (await bob.get(f"/live{bad}")).status_code == 400, bad
        assert (await alice.head(alice_url)).status_code == 200  # headers only: no stream to hold open
        async with stream(alice, alice_url) as events:
            assert await events.until("thread", replies=0)


async def test_serve_stops_promptly_with_an_open_stream(served):
    server = await served()
    async with client_of(server) as alice:
        await sign_up(alice, "alice")
        url = live_url(await alice.get("/"))
        async with stream(alice, url) as events:
            await events.until("unread")
            began = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            with pytest.raises(EOFError):  # the server ends the stream cleanly
                await events.next()
            code = await asyncio.to_thread(server.process.wait, 10)
    # Under hypercorn's graceful timeout (3 s): the stream did not hold the shutdown.
    assert code == 0 and time.monotonic() - began < 2.5, server.output()


async def test_a_change_in_one_web_process_reaches_a_stream_of_another(served):
    if not POSTGRES_URL:
        reason = "several web processes share a PostgreSQL database only: set CIRCLES_TEST_DATABASE_URL"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    first, second = await served("a"), await served("b")
    async with client_of(first) as alice, client_of(first) as bob, client_of(second) as alice_on_b:
        await sign_up(alice, "alice")
        await start_circle(alice, "readers")
        await start_circle(alice, "quiet", join_mode="approval")
        thread = await new_post(alice, "readers", "First meeting")
        alice_on_b.cookies = alice.cookies  # the same session, on the other process
        page = await alice_on_b.get(thread)
        assert "@alice" in page.text
        await sign_up(bob, "bob")
        await join(bob, "readers")
        async with stream(alice_on_b, live_url(page)) as events:
            await events.until("thread", replies=0)
            await reply(bob, thread, "From the other process")
            assert await events.until("thread", replies=1)
            await join(bob, "quiet")  # after the reply: Alice has two notifications
            assert await events.until("unread", count=2)


# --- in process: the heartbeat, the slow second look, and a closed stream ------------------


async def _read_until(connection, needle: str, timeout: float = EVENT_TIMEOUT) -> str:
    text = ""
    while needle not in text:
        text += (await asyncio.wait_for(connection.receive(), timeout)).decode()
    return text


@pytest.mark.skipif(bool(POSTGRES_URL), reason="the second look is for SQLite, where a worker cannot announce")
async def test_a_quiet_stream_keeps_alive_and_looks_again_by_itself(app, instance, monkeypatch):
    from models.notifications import Notification
    from tests import factories
    from tests.integration.webforms import logged_in
    from web.html import live as live_page

    monkeypatch.setattr(live_page, "HEARTBEAT_SECONDS", 0.3)
    alice = await factories.account(instance, "alice")
    async with app.test_app():
        client = await logged_in(app, alice)
        async with client.request(f"/live?topic=account:{alice.id}") as connection:
            await connection.send_complete()
            assert '"count": 0' in await _read_until(connection, "event: unread")
            # Made with no announcement, as a separate `circles worker` on SQLite would make it.
            await Notification.create(recipient=alice, kind="circle.invited", text="Hi", url="/")
            text = await _read_until(connection, '"count": 1')
            assert ": still here" in text
            await connection.disconnect()
        assert app.extensions["circles.live"]._subscriptions == {}  # the closed stream let go of its topics


async def test_the_header_count_costs_one_query_and_none_for_visitors(app, client, instance, count_queries):
    from tests import factories
    from tests.integration.webforms import logged_in

    alice = await factories.account(instance, "alice")
    alice_client = await logged_in(app, alice)
    for who, expected in ((client, 0), (alice_client, 1)):
        await who.get("/circles")
        with count_queries() as queries:
            page = await who.get("/circles")
        assert page.status_code == 200
        counted = [q for q in queries if "notifications" in q.lower()]
        assert len(counted) == expected, queries.report()
    assert "Notifications" in (await (await alice_client.get("/circles")).get_data(as_text=True))
