"""The private-address guard with exact exceptions: this suite's own peers
(PEER_PORTS) are reachable, and no other loopback, private or link-local
address is, however a hostile peer points at it (actor ids, key ids,
inboxes, redirects, names that resolve to loopback, IPv4-mapped IPv6). The
canary (conftest) proves nothing was even connected to."""

from __future__ import annotations

import pytest

from federation import fetch, keys
from federation.fetch import BlockedAddress
from tests.integration.test_inbox import post_signed, remote_key
from tests.security.conftest import PEER_PORTS


async def test_an_allowed_peer_is_reachable(fed, stub):
    server = await stub(lambda request: (200, {"id": "x", "type": "Note"}))
    assert server.port in PEER_PORTS
    result = await fetch.fetch_json(fed.client, server.url("/notes/1"), accept="application/json",
                                    content_types={"application/json"})
    assert result.json["type"] == "Note"


def _hostile_urls(canary) -> list[str]:
    port = canary.port
    return [canary.url("/users/mallory"), f"http://localhost:{port}/users/mallory",
            f"http://[::ffff:127.0.0.1]:{port}/users/mallory", f"http://127.0.0.2:{PEER_PORTS[0]}/users/mallory",
            "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/inbox", "http://[fe80::1]/inbox"]


async def test_no_other_private_address_is_fetched_or_posted_to(fed, canary):
    for url in _hostile_urls(canary):
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
