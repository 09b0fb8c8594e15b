"""server/proxy.py: forwarded headers believed only from the proxies' addresses."""

from __future__ import annotations

import pytest

from server.proxy import TrustedProxies, behind_proxies, networks


async def seen(app, client: tuple[str, int] | None, headers: dict[str, str]) -> dict:
    """The scope the app behind `app` sees for one request."""
    got: dict = {}

    async def inner(scope, receive, send):
        got.update(client=scope["client"], scheme=scope["scheme"],
                   host=dict(scope["headers"]).get(b"host", b"").decode())

    wrapped = app(inner)
    scope = {"type": "http", "client": client, "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "127.0.0.1:8000", **headers}.items()]}
    await wrapped(scope, None, None)
    return got


FORWARDED = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https", "x-forwarded-host": "circles.example.org"}


def behind(addresses: str, hops: int = 1):
    return lambda inner: TrustedProxies(inner, hops, networks(addresses))


async def test_a_trusted_proxy_sets_the_client_scheme_and_host():
    got = await seen(behind("127.0.0.1,::1"), ("127.0.0.1", 50000), FORWARDED)
    assert got == {"client": ("203.0.113.9", 0), "scheme": "https", "host": "circles.example.org"}


@pytest.mark.parametrize("client", [("10.0.0.7", 50000), ("::ffff:10.0.0.9", 1), ("::2", 1), None])
async def test_anyone_else_cannot_claim_another_address_scheme_or_host(client):
    got = await seen(behind("127.0.0.1,::1,10.0.0.8/32"), client, FORWARDED)
    assert got == {"client": client, "scheme": "http", "host": "127.0.0.1:8000"}


async def test_a_proxy_in_a_trusted_network_and_an_ipv4_mapped_address_are_trusted():
    for client in [("10.1.2.3", 1), ("::ffff:10.1.2.3", 1)]:
        got = await seen(behind("10.1.0.0/16"), client, FORWARDED)
        assert got["scheme"] == "https" and got["client"] == ("203.0.113.9", 0)


async def test_only_the_last_hop_counts_so_a_client_cannot_prepend_an_address():
    headers = {**FORWARDED, "x-forwarded-for": "198.51.100.1, 203.0.113.9"}
    got = await seen(behind("127.0.0.1"), ("127.0.0.1", 1), headers)
    assert got["client"] == ("203.0.113.9", 0)


def test_no_trusted_proxy_serves_the_app_itself():
    app = object()
    assert behind_proxies(app, 0, "127.0.0.1") is app
    assert isinstance(behind_proxies(app, 1, "127.0.0.1"), TrustedProxies)
