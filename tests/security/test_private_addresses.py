"""The private-address guard with exact exceptions: this suite's own peers
(PEER_PORTS) are reachable, and no other loopback, private or link-local
address is, however a hostile peer points at it (actor ids, key ids,
inboxes, redirects, names that resolve to loopback, IPv4-mapped IPv6). The
canary (conftest) proves nothing was even connected to."""

from __future__ import annotations

import asyncio

import pytest

from federation import fetch, keys
from federation.addresses import AddressPolicy
from federation.fetch import BlockedAddress
from tests.integration.test_inbox import post_signed, remote_key
from tests.security.conftest import PEER_PORTS


async def test_an_allowed_peer_is_reachable(fed, stub):
    server = await stub(lambda request: (200, {"id": "x", "type": "Note"}))
    assert server.port in PEER_PORTS
    result = await fetch.fetch_json(fed.client, server.url("/notes/1"), accept="application/json",
                                    content_types={"application/json"})
    assert result.json["type"] == "Note"


def _hostile_urls(canary, canary6) -> list[str]:
    port = canary.port
    return [canary.url("/users/mallory"), canary6.url("/users/mallory"), f"http://localhost:{port}/users/mallory",
            f"http://[::ffff:127.0.0.1]:{port}/users/mallory", f"http://127.0.0.2:{PEER_PORTS[0]}/users/mallory",
            "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/inbox", "http://[fe80::1]/inbox"]


async def test_no_other_private_address_is_fetched_or_posted_to(fed, canary, canary6):
    for url in _hostile_urls(canary, canary6):
        with pytest.raises(BlockedAddress):
            await fetch.fetch_json(fed.client, url)
        with pytest.raises(BlockedAddress):
            await fetch.post_json(fed.client, url, b"{}", sign=None)


async def test_an_allowed_peer_cannot_redirect_to_a_private_address(fed, stub, canary):
    server = await stub(lambda request: (302, {}, {"Location": canary.url("/users/mallory")}))
    with pytest.raises(BlockedAddress):
        await fetch.fetch_json(fed.client, server.url("/users/mallory"))


async def test_an_actor_whose_id_is_private_is_never_resolved(fed, canary):
    with pytest.raises(BlockedAddress):
        await keys.resolve_actor(fed, canary.url("/users/mallory"))


async def test_a_signature_whose_key_is_at_a_private_address_is_refused_without_fetching(client, canary):
    key, _pem = remote_key()
    actor = canary.url("/users/mallory")
    activity = {"id": f"{actor}#follow", "type": "Follow", "actor": actor, "object": "http://circles.test/users/alice"}
    response = await post_signed(client, "/inbox", activity, key, f"{actor}#main-key")
    assert response.status_code in (400, 401, 403), response.status_code


async def test_an_ipv6_loopback_exception_opens_that_port_only(canary6):
    """As an admin writes it: CIRCLES_ALLOW_PRIVATE_ADDRESSES=[::1]:PORT."""
    served = []

    async def answer(reader, writer):
        served.append(await reader.readline())
        body = b'{"id": "x", "type": "Note"}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "::1", 0)
    port = server.sockets[0].getsockname()[1]
    client = fetch.make_client(allow_private_addresses=AddressPolicy.parse(f"[::1]:{port}"), user_agent="test")
    try:
        result = await fetch.fetch_json(client, f"http://[::1]:{port}/notes/1", accept="application/json",
                                        content_types={"application/json"})
        assert result.json["type"] == "Note" and len(served) == 1
        with pytest.raises(BlockedAddress):
            await fetch.fetch_json(client, canary6.url("/notes/1"))
    finally:
        await client.aclose()
        server.close()
