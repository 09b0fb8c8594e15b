"""Which network addresses the server may reach: public ones always;
loopback, private and link-local ones only as the admin's setting
`CIRCLES_ALLOW_PRIVATE_ADDRESSES` allows (`AddressPolicy`): none by default,
an exact list of host:port exceptions (what tests use for their own peers),
or all of them (development only)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Spelled out rather than relying only on `ipaddress.is_global`, whose
# answers changed between Python patch releases, and which calls multicast
# "global".
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network", 0.0.0.0 reaches localhost on Linux
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
    )
)
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible
        "100::/64",  # discard
        "fc00::/7",  # unique-local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if any: the kernel or a
    gateway would deliver ::ffff:127.0.0.1 to 127.0.0.1."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: str | IPAddress) -> bool:
    """True if `ip` is a globally routable unicast address we may connect to.
    Unparseable input is not public."""
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return is_public_address(embedded)
        blocked = _BLOCKED_V6
    else:
        blocked = _BLOCKED_V4
    if any(addr in net for net in blocked):
        return False
    # Belt and braces: also refuses documentation and other special ranges.
    return addr.is_global


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public addresses may be reached: `all_private`, or only the
    exact (address, port) pairs in `exceptions`. Public addresses always."""

    all_private: bool = False
    exceptions: frozenset[tuple[IPAddress, int]] = frozenset()

    @classmethod
    def of(cls, value: AddressPolicy | bool) -> AddressPolicy:
        """A policy, or True (every address) / False (public ones only)."""
        return value if isinstance(value, AddressPolicy) else cls(all_private=bool(value))

    @classmethod
    def parse(cls, text: str) -> AddressPolicy:
        """`false` (or empty), `true`, or a comma-separated list of
        address:port, an IPv6 address in brackets: `127.0.0.1:18301,[::1]:9000`.
        ValueError says what is wrong."""
        word = text.strip().lower()
        if word in ("", "0", "false", "no", "off"):
            return cls()
        if word in ("1", "true", "yes", "on"):
            return cls(all_private=True)
        return cls(exceptions=frozenset(_address_and_port(item.strip()) for item in word.split(",") if item.strip()))

    @property
    def any_private(self) -> bool:
        """Some non-public address may be reached (then plain http may be tried too)."""
        return self.all_private or bool(self.exceptions)

    def allows(self, address: str | IPAddress, port: int) -> bool:
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return False
        if is_public_address(ip) or self.all_private:
            return True
        return (_unmapped(ip), port) in self.exceptions

    def __str__(self) -> str:
        if self.all_private:
            return "true"
        return ",".join(
            f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}" for ip, port in sorted(self.exceptions, key=str)
        ) or "false"


def _unmapped(ip: IPAddress) -> IPAddress:
    """::ffff:127.0.0.1 is 127.0.0.1: an exception for one covers the other."""
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


def _address_and_port(item: str) -> tuple[IPAddress, int]:
    host, sep, port = item.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"“{item}” is not address:port (a port from 1 to 65535)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"“{host}” in “{item}” is not an IP address (names are not allowed: DNS could change)") from None
    if is_public_address(ip):
        raise ValueError(f"“{host}” is a public address: it needs no exception")
    return _unmapped(ip), int(port)
