"""The reverse proxies in front of `circles serve` (deploy/nginx.conf).

Behind nginx, the client's address, the scheme and the host arrive in
X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host. They are believed
(hypercorn's ProxyFixMiddleware, the last `trusted_proxies` hops) only on a
connection from one of `trusted_proxy_addresses` (loopback by default): a
web process listening on a network address must not let anyone who reaches
it directly claim another client address (and escape the per-address rate
limits) or another scheme or host (which HTTP signatures cover).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from hypercorn.middleware import ProxyFixMiddleware

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(text: str) -> tuple[Network, ...]:
    """"127.0.0.1,::1,10.0.0.0/8" as networks; ValueError names a bad entry."""
    found = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"“{entry}” is not an IP address or network") from None
    return tuple(found)


class TrustedProxies:
    """An ASGI app that reads forwarded headers only from the proxies' addresses."""

    def __init__(self, app: Callable, hops: int, trusted: tuple[Network, ...]) -> None:
        self.app, self.trusted = app, trusted
        self.fixed = ProxyFixMiddleware(app, mode="legacy", trusted_hops=hops)

    def is_trusted(self, client: tuple[str, int] | list | None) -> bool:
        if not client:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:  # a Unix socket has no address
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] in ("http", "websocket") and self.is_trusted(scope.get("client")):
            await self.fixed(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def behind_proxies(app: Callable, hops: int, trusted_addresses: str) -> Callable:
    """What `circles serve` serves: the app itself when no proxy is trusted."""
    if not hops:
        return app
    return TrustedProxies(app, hops, networks(trusted_addresses))
