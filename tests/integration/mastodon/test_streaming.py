"""The streaming API: server-sent events and WebSocket fed by the live hub
(on PostgreSQL through LISTEN/NOTIFY, as between processes), each event
checked against what the person may read when it is sent."""

from __future__ import annotations

import asyncio
import json

import pytest
from quart.testing.connections import WebsocketResponseError

from models.services import circles as circle_service
from models.services import posts as post_service
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.integration.test_live import client_of, join, new_post, served, start_circle  # noqa: F401 (a fixture)
from tests.servers import sign_up
from web.mastodon import streaming

TIMEOUT = 10.0


@pytest.fixture
async def hub(app):
    """The app's live hub, started as `circles serve` starts it."""
    live = app.extensions["circles.live"]
    await live.start()
    await asyncio.wait_for(live.listening.wait(), TIMEOUT)
    yield live
    await live.stop()


@pytest.fixture
async def world(instance, alice):
    bob = await factories.account(instance, "bob")
    open_circle = await factories.circle(instance, bob, "open")
    club = await factories.circle(instance, bob, "club", visibility="members")
    for circle in (open_circle, club):
        await factories.member(circle, alice)
    return {"bob": bob, "open": open_circle, "club": club}


class Events:
    """An open server-sent event stream, read as an EventSource reads it."""

    def __init__(self, connection) -> None:
        self.connection, self.buffer = connection, ""

    async def next(self) -> tuple[str, str]:
        return await asyncio.wait_for(self._next(), TIMEOUT)

    async def _next(self) -> tuple[str, str]:
        while True:
            block, sep, rest = self.buffer.partition("\n\n")
            if sep:
                self.buffer = rest
                fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
                if "event" in fields:
                    return fields["event"], fields["data"]
                continue
            self.buffer += (await self.connection.receive()).decode()

    async def nothing_within(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self._next(), seconds)


class Opened:
    def __init__(self, client, path: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.connection = client.request(path, headers=headers)

    async def __aenter__(self):
        await self.connection.__aenter__()
        await self.connection.send_complete()
        first = await asyncio.wait_for(self.connection.receive(), TIMEOUT)
        assert self.connection.status_code == 200, first
        assert self.connection.headers["Content-Type"].startswith("text/event-stream")
        assert first.startswith(b":)")
        return Events(self.connection)

    async def __aexit__(self, *exc):
        await self.connection.disconnect()
        await self.connection.__aexit__(None, None, None)


async def test_health(client):
    response = await client.get("/api/v1/streaming/health")
    assert response.status_code == 200 and await response.get_data(as_text=True) == "OK"


async def test_refusals_in_the_streaming_servers_words(make_api, alice, hub):
    anonymous = await make_api(None)
    response = await anonymous.get("/api/v1/streaming/public")
    assert response.status_code == 401 and (await response.get_json())["error"] == "Missing access token"
    api = await make_api(alice)
    assert (await api.get("/api/v1/streaming?stream=nonsense")).status_code == 400
    assert (await api.get("/api/v1/streaming/elsewhere")).status_code == 400
    missing_tag = await api.get("/api/v1/streaming/hashtag")
    assert missing_tag.status_code == 400 and (await missing_tag.get_json())["error"] == "Missing tag name parameter"
    writer = await make_api(alice, scopes="write")
    assert (await writer.get("/api/v1/streaming/user")).status_code == 401
    bad = await anonymous.get("/api/v1/streaming/user", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


async def test_a_members_post_arrives_as_an_update_and_its_deletion_as_delete(client, make_api, alice, instance,
                                                                              world, hub):
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/user", api.token) as events:
        post = await factories.post(instance, world["bob"], world["club"], "Members only news")
        event, data = await events.next()
        assert event == "update"
        status = json.loads(data)
        assert status["id"] == str(post.id) and status["account"]["username"] == "bob"
        await post_service.delete_post(world["bob"].actor, post)
        assert await events.next() == ("delete", str(post.id))


async def test_the_user_stream_carries_notifications(client, make_api, alice, instance, world, hub):
    mine = await factories.post(instance, alice, world["open"], "My question")
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming?stream=user:notification", api.token) as events:
        reply = await post_service.reply(instance, world["bob"].actor, mine, body="An answer")
        event, data = await events.next()
        assert event == "notification"
        notification = json.loads(data)
        assert notification["type"] == "mention" and notification["status"]["id"] == str(reply.id)


async def test_public_streams_show_public_circles_only(client, make_api, alice, instance, world, hub):
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/public/local", api.token) as events:
        await factories.post(instance, world["bob"], world["club"], "Members only")
        public = await factories.post(instance, world["bob"], world["open"], "For everyone")
        event, data = await events.next()
        assert event == "update" and json.loads(data)["id"] == str(public.id)  # the members-only one never came


async def test_who_left_a_circle_stops_hearing_of_it(client, make_api, alice, instance, world, hub):
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/user", api.token) as events:
        first = await factories.post(instance, world["bob"], world["club"], "Before")
        assert json.loads((await events.next())[1])["id"] == str(first.id)
        await circle_service.leave(world["club"], alice.actor, instance=instance)
        await factories.post(instance, world["bob"], world["club"], "After she left")
        await events.nothing_within(0.5)
        later = await factories.post(instance, world["bob"], world["open"], "In the open")
        assert json.loads((await events.next())[1])["id"] == str(later.id)


async def test_a_quiet_stream_says_thump(client, make_api, alice, hub, monkeypatch):
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.2)
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/public", api.token) as events:
        text = ""
        while ":thump" not in text:
            text += (await asyncio.wait_for(events.connection.receive(), TIMEOUT)).decode()


async def test_a_revoked_token_ends_the_stream(client, make_api, alice, hub, monkeypatch):
    from models.services import oauth

    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.2)
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/public", api.token) as events:
        await oauth.revoke_all(alice)
        await asyncio.wait_for(events.connection._task, TIMEOUT)  # the response ended by itself


async def test_websocket_subscribe_and_unsubscribe(client, make_api, alice, instance, world, hub):
    api = await make_api(alice)
    async with client.websocket(f"/api/v1/streaming?access_token={api.token}") as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag"}))
        assert json.loads(await asyncio.wait_for(ws.receive(), TIMEOUT)) == {
            "error": "Missing tag name parameter", "status": 400}
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Rust"}))
        await asyncio.sleep(0.2)  # the subscription is in place
        await factories.post(instance, world["bob"], world["open"], "Nothing tagged")
        tagged = await factories.post(instance, world["bob"], world["open"], "Learning #rust")
        message = json.loads(await asyncio.wait_for(ws.receive(), TIMEOUT))
        assert message["stream"] == ["hashtag", "rust"] and message["event"] == "update"
        assert json.loads(message["payload"])["id"] == str(tagged.id)
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "rust"}))
        await asyncio.sleep(0.2)
        await factories.post(instance, world["bob"], world["open"], "More #rust")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.receive(), 0.5)


async def test_websocket_token_from_the_protocol_header_and_a_stream_in_the_address(client, make_api, alice,
                                                                                    instance, world, hub):
    api = await make_api(alice)
    async with client.websocket("/api/v1/streaming?stream=user",
                                headers={"Sec-WebSocket-Protocol": api.token}) as ws:
        await asyncio.sleep(0.2)
        post = await factories.post(instance, world["bob"], world["club"], "Hello members")
        message = json.loads(await asyncio.wait_for(ws.receive(), TIMEOUT))
        assert message["stream"] == ["user"] and json.loads(message["payload"])["id"] == str(post.id)


async def test_an_edit_arrives_as_status_update_and_its_deletion_as_delete(client, make_api, alice, instance,
                                                                             world, hub):
    """A post written before the stream opened, then edited: `status.update`
    with the whole status as it now reads (Mastodon's app/services/fan_out_on_write_service.rb
    and app/workers/push_update_worker.rb send the edited status so)."""
    from models.services import post_edits

    post = await factories.post(instance, world["bob"], world["club"], "Members only news")
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/user", api.token) as events:
        await post_edits.edit_post(world["bob"].actor, post, body="Members only news, corrected")
        event, data = await events.next()
        assert event == "status.update"
        status = json.loads(data)
        assert status["id"] == str(post.id) and "corrected" in status["content"] and status["edited_at"]
        await post_service.delete_post(world["bob"].actor, post)
        assert await events.next() == ("delete", str(post.id))


async def test_edits_go_to_the_streams_that_show_the_post(client, make_api, alice, instance, world, hub):
    from models.services import post_edits

    tagged = await factories.post(instance, world["bob"], world["open"], "Learning #rust")
    members = await factories.post(instance, world["bob"], world["club"], "Members #rust")
    untagged = await factories.post(instance, world["bob"], world["open"], "Nothing tagged")
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/hashtag?tag=rust", api.token) as events:
        await post_edits.edit_post(world["bob"].actor, members, body="Members only, still #rust")
        await post_edits.edit_post(world["bob"].actor, untagged, body="Still nothing tagged")
        await events.nothing_within(0.5)  # neither is on the public hashtag stream
        await post_edits.edit_post(world["bob"].actor, tagged, body="Learning more #rust")
        event, data = await events.next()
        assert event == "status.update" and json.loads(data)["id"] == str(tagged.id)
        await post_edits.edit_post(world["bob"].actor, tagged, body="Learning Go now")
        await events.nothing_within(0.5)  # no longer tagged: the stream does not show it


async def test_websocket_status_update(client, make_api, alice, instance, world, hub):
    from models.services import post_edits

    post = await factories.post(instance, world["bob"], world["open"], "In the open")
    api = await make_api(alice)
    async with client.websocket(f"/api/v1/streaming?access_token={api.token}&stream=public:local") as ws:
        await asyncio.sleep(0.2)
        await post_edits.edit_post(world["bob"].actor, post, body="In the open, edited")
        message = json.loads(await asyncio.wait_for(ws.receive(), TIMEOUT))
        assert message["stream"] == ["public:local"] and message["event"] == "status.update"
        assert json.loads(message["payload"])["id"] == str(post.id)


async def test_deleting_an_older_post_says_delete_where_it_was_shown(client, make_api, alice, instance, world, hub):
    """A post from before the stream opened (the client read it from a timeline)
    is said deleted too, once, on the streams that show it
    (Mastodon: app/services/remove_status_service.rb)."""
    public = await factories.post(instance, world["bob"], world["open"], "For everyone")
    later = await factories.post(instance, world["bob"], world["open"], "For everyone, later")
    members = await factories.post(instance, world["bob"], world["club"], "Members only")
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/public", api.token) as events:
        await post_service.delete_post(world["bob"].actor, members)
        await events.nothing_within(0.5)  # the public stream never showed it
        await post_service.delete_post(world["bob"].actor, public)
        assert await events.next() == ("delete", str(public.id))
        await post_service.delete_post(world["bob"].actor, later)
        assert await events.next() == ("delete", str(later.id))  # the first is said once


async def test_a_hashtag_named_notifications_is_heard(client, make_api, alice, instance, world, hub):
    """The stream keeps a notifications cursor apart from its channels: `#notifications` is a tag like any."""
    api = await make_api(alice)
    async with Opened(client, "/api/v1/streaming/hashtag?tag=notifications", api.token) as events:
        post = await factories.post(instance, world["bob"], world["open"], "About #notifications")
        event, data = await events.next()
        assert event == "update" and json.loads(data)["id"] == str(post.id)


async def test_websocket_without_a_token_is_refused(client, hub):
    with pytest.raises(WebsocketResponseError) as refused:
        async with client.websocket("/api/v1/streaming?stream=public") as ws:
            await asyncio.wait_for(ws.receive(), TIMEOUT)
    assert refused.value.response.status_code == 401


# --- between processes: `circles serve` twice on one PostgreSQL database ---------------------

async def _next_update(response) -> dict:
    event = None
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "update":
            return json.loads(line[5:].strip())
    raise EOFError("the stream ended")


async def test_a_post_made_through_another_process_arrives(served, database):
    if not POSTGRES_URL:
        reason = "several web processes share a PostgreSQL database only: set CIRCLES_TEST_DATABASE_URL"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    from models.accounts import Account
    from models.services import oauth

    first, second = await served("a"), await served("b")
    async with client_of(first) as alice, client_of(second) as bob:
        await sign_up(bob, "bob")
        await start_circle(bob, "readers")
        await sign_up(alice, "alice")
        await join(alice, "readers")
        account = await Account.filter(actor__username="alice").select_related("actor").first()
        app, _ = await oauth.register_app(name="App", redirect_uris="https://app.example/cb", scopes="read",
                                          website=None)
        _, token = await oauth.issue_token(app, account, oauth.parse_scopes("read"))
        headers = {"Authorization": f"Bearer {token}"}
        async with alice.stream("GET", "/api/v1/streaming/user", headers=headers) as response:
            assert response.status_code == 200
            thread = await new_post(bob, "readers", "From the other process")
            status = await asyncio.wait_for(_next_update(response), TIMEOUT)
            assert thread.endswith(f"/posts/{status['id']}") and status["account"]["username"] == "bob"
