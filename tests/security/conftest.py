"""The integration fixtures (the real app, stub servers, a signing peer), and
their guard that no request ends in a 500, for the hostile-peer suite.

Here the private-address guard is not switched off: the app and `fed` may
reach only the loopback ports of this suite's own stub peers (PEER_PORTS),
as an admin's `CIRCLES_ALLOW_PRIVATE_ADDRESSES=127.0.0.1:PORT,...` would
allow. Canaries listen on another loopback port, one on 127.0.0.1 and one
on [::1]; hostile documents point there, and after every test they must
have seen no connection at all."""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import replace

import pytest

from federation.addresses import AddressPolicy
from tests.integration.conftest import alice, bob, fed, no_server_errors, stub  # noqa: F401 (fixtures)
from tests.integration.test_inbox import peer  # noqa: F401 (a fixture)
from tests.servers import free_port

LOOPBACK = ipaddress.ip_address("127.0.0.1")
PEER_PORTS = tuple(free_port() for _ in range(4))
GUARD = AddressPolicy(exceptions=frozenset((LOOPBACK, port) for port in PEER_PORTS))


class Canary:
    """A loopback listener (IPv4 or IPv6) that records every connection made to it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, 0), family=family)
        self.port = self._socket.getsockname()[1]
        self.host = f"[{host}]" if family == socket.AF_INET6 else host
        self.connections: list[tuple[str, int]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                connection, address = self._socket.accept()
            except OSError:
                return  # closed
            self.connections.append(address)
            connection.close()

    def close(self) -> None:
        self._socket.close()


@pytest.fixture(scope="session")
def canary():
    listener = Canary()
    assert listener.port not in PEER_PORTS
    yield listener
    listener.close()


@pytest.fixture(scope="session")
def canary6():
    listener = Canary("::1")
    yield listener
    listener.close()


@pytest.fixture(autouse=True)
def canary_sees_nothing(canary, canary6):
    """Every test of the suite, whatever it sends, leaves the canaries untouched."""
    before, before6 = len(canary.connections), len(canary6.connections)
    yield
    assert canary.connections[before:] == [], "a request reached an address the guard does not allow"
    assert canary6.connections[before6:] == [], "a request reached an IPv6 address the guard does not allow"


@pytest.fixture
def settings(settings):
    return replace(settings, allow_private_addresses=GUARD)


@pytest.fixture
def stub_port():
    """Each stub server on the next of the allowed PEER_PORTS."""
    return lambda n: PEER_PORTS[n]
