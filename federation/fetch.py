"""The one outgoing HTTP client of Circles, and its SSRF guard.

Everything that talks to another server (fetching actors and objects,
WebFinger, NodeInfo, deliveries) goes through `make_client` and then
`fetch_json` or `post_json`. Remote servers are hostile: a URL we are handed
may point at our own network (a metadata service, a database, the admin
port), a redirect may bounce there, DNS may answer differently on the second
lookup, and a body may be endless. The guard therefore works at two levels:

* per URL (`check_url`): only http(s), a host, no credentials, and a literal
  IP must be public. Applied to the first URL and to every redirect hop,
  before anything is sent.
* per connection (`GuardedNetworkBackend`): the transport resolves the host
  itself, refuses if ANY resolved address is non-public, and connects to the
  very address it checked. The hostname is kept for the Host header and for
  TLS (SNI and certificate check), so nothing else changes for the remote.

This module knows nothing about keys: callers pass a `sign` callable that
adds signature headers to the fully built request.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import ipaddress
import json
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from federation.addresses import AddressPolicy

AP_ACCEPT = (
    "application/activity+json, "
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
)
AP_CONTENT_TYPES = frozenset(
    {"application/activity+json", "application/ld+json", "application/json"}
)
# WebFinger answers with JRD; pass this as `content_types` for those lookups.
JRD_CONTENT_TYPES = AP_CONTENT_TYPES | {"application/jrd+json"}

# Tried in order after ALL resolved addresses passed the check; a cap so a
# hostile DNS answer with hundreds of dead addresses cannot stall a worker.
MAX_ADDRESSES_TRIED = 4

Signer = Callable[[httpx.Request], Awaitable[None]]


# --- errors ---------------------------------------------------------------


class FetchError(Exception):
    """A remote fetch or delivery failed. `reason` is short, safe to log and
    show: it names the host, never includes a body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsafeURL(FetchError):
    """Not an http(s) URL with a host and without credentials."""


class BlockedAddress(FetchError):
    """The host is, or resolves to, a loopback/private/reserved address."""


class ResponseTooLarge(FetchError):
    pass


class BadContentType(FetchError):
    pass


class TooManyRedirects(FetchError):
    pass


class InvalidJSON(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, status: int, host: str) -> None:
        super().__init__(f"{host} answered HTTP {status}")
        self.status = status


def is_transient(error: Exception) -> bool:
    """A timeout, a refused connection or a 5xx/429 from another server:
    worth asking again later, unlike an answer that will not change."""
    if not isinstance(error, FetchError) or isinstance(
        error, (UnsafeURL, BlockedAddress, BadContentType, InvalidJSON, ResponseTooLarge)
    ):
        return False
    status = getattr(error, "status", None)
    return status is None or status >= 500 or status == 429


class Gone(HTTPStatusError):
    """HTTP 410: the remote object was deleted (unlike a 404, that is final)."""


# --- the per-URL check ----------------------------------------------------


def check_url(url: str | httpx.URL, *, allow_private_addresses: AddressPolicy | bool = False) -> httpx.URL:
    """Parse and vet a URL before anything is sent to it. Hostnames are
    vetted later, at connect time, by the transport."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURL("malformed URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURL(f"unsupported URL scheme {parsed.scheme!r}")
    if not parsed.host:
        raise UnsafeURL("URL has no host")
    if parsed.userinfo:
        # Credentials in a remote-supplied URL would be sent as Basic auth.
        raise UnsafeURL(f"URL for {parsed.host} contains credentials")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if _is_ip_literal(parsed.host) and not AddressPolicy.of(allow_private_addresses).allows(parsed.host, port):
        raise BlockedAddress(f"{parsed.host} is not a public address")
    return parsed


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False  # a hostname: resolved and checked by the transport
    return True


# --- the per-connection check ---------------------------------------------


async def resolve_host(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to, in resolver order, deduplicated.
    Module-level so tests can stand in for DNS."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves the host itself, refuses
    non-public addresses, then connects to the exact address it checked.

    Checking a name and letting the socket layer resolve it again would leave
    a window for DNS rebinding (public answer for the check, 127.0.0.1 for
    the connect). httpcore passes only (host, port) here; TLS is started on
    the returned stream afterwards with the original hostname as SNI."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, *, allow_private_addresses: AddressPolicy | bool):
        self._inner = inner
        self._policy = AddressPolicy.of(allow_private_addresses)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:
            if not self._policy.allows(address, port):
                raise BlockedAddress(f"{host} resolves to a non-public address")
        last_error: Exception | None = None
        for address in addresses[:MAX_ADDRESSES_TRIED]:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc  # e.g. ::1 refused, 127.0.0.1 listening
        assert last_error is not None
        raise last_error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        # httpcore errors, so httpx maps them to ConnectError/ConnectTimeout.
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_host(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        return addresses

    async def connect_unix_socket(self, path: str, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not used for remote fetches")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _install_network_backend(
    transport: httpx.AsyncHTTPTransport,
    backend: httpcore.AsyncNetworkBackend,
    ssl_context: ssl.SSLContext,
    limits: httpx.Limits,
) -> None:
    """Give an httpx transport our network backend.

    httpx (0.28) has no public way to pass an httpcore network backend, but
    its AsyncHTTPTransport only forwards requests to `self._pool`, an
    httpcore.AsyncConnectionPool, which does take one. So we swap in an
    equivalent pool built with our backend. This is the only private
    attribute we touch; the check makes an httpx upgrade that changes it
    fail loudly at startup instead of silently dropping the guard (the
    loopback tests would fail too). Not an `assert`: python -O strips those."""
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("this httpx version has no _pool to guard; update fetch.py")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=backend,
    )


class GuardedClient(httpx.AsyncClient):
    """An httpx.AsyncClient that remembers its address policy, so the
    per-hop URL check in fetch_json/post_json applies the same one. Any
    other client (say, one on a MockTransport) gets the strict policy."""

    def __init__(self, *, allow_private_addresses: AddressPolicy | bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_private_addresses = AddressPolicy.of(allow_private_addresses)


def make_client(
    *,
    allow_private_addresses: AddressPolicy | bool,
    user_agent: str,
    timeout: float = 10.0,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """The shared client (one per app). `allow_private_addresses` is for
    tests and private deployments only. `verify` takes an SSLContext for a
    private CA (or tests); leave it True otherwise."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    ssl_context = (
        verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
    )
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    backend = GuardedNetworkBackend(
        httpcore.AnyIOBackend(), allow_private_addresses=allow_private_addresses
    )
    _install_network_backend(transport, backend, ssl_context, limits)
    return GuardedClient(
        allow_private_addresses=allow_private_addresses,
        transport=transport,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent},
        follow_redirects=False,  # fetch_json follows them itself, vetting each hop
        # No env proxies (a proxy would connect on our behalf, past the guard)
        # and no ~/.netrc credentials sent to remote servers.
        trust_env=False,
        # Remote servers do not get to store state in our shared client.
        cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
    )


# --- fetching and posting -------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    url_final: str  # after redirects: what the caller checks ids against
    json: dict[str, Any]
    status: int


@dataclass(frozen=True)
class PostResult:
    status: int
    headers: httpx.Headers
    text: str  # at most max_response_bytes, for logs


def _allows_private(client: httpx.AsyncClient) -> AddressPolicy:
    policy = getattr(client, "allow_private_addresses", None)
    return policy if isinstance(policy, AddressPolicy) else AddressPolicy()


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    sign: Signer | None = None,
    accept: str = AP_ACCEPT,
    content_types: Collection[str] = AP_CONTENT_TYPES,
    max_bytes: int = 1_000_000,
    max_redirects: int = 3,
    deadline: float | None = 30.0,
) -> FetchResult:
    """GET a JSON object, following up to `max_redirects` redirects, each hop
    vetted and signed anew. `deadline` bounds the whole call, so a server
    dripping one byte per read timeout cannot hold a worker for long."""
    host = _host_for_messages(url)
    with _translate_errors(host, deadline):
        async with asyncio.timeout(deadline):
            return await _fetch_json(
                client, url, sign, accept, content_types, max_bytes, max_redirects
            )


async def _fetch_json(client, url, sign, accept, content_types, max_bytes, max_redirects):
    current = url
    for _hop in range(max_redirects + 1):
        target = check_url(current, allow_private_addresses=_allows_private(client))
        with _translate_errors(target.host):
            request = client.build_request(
                "GET", target, headers={"Accept": accept, "Accept-Encoding": "identity"}
            )
            if sign is not None:
                await sign(request)
            response = await client.send(request, stream=True)
            try:
                if response.has_redirect_location:
                    current = _redirect_target(response)
                    continue
                _check_status(response, target.host)
                _check_content_type(response, target.host, content_types)
                body = await _read_capped(response, max_bytes, target.host, truncate=False)
            finally:
                await response.aclose()
        return FetchResult(str(target), _parse_object(body, target.host), response.status_code)
    raise TooManyRedirects(f"{_host_for_messages(url)}: more than {max_redirects} redirects")


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    *,
    sign: Signer | None,
    content_type: str = "application/activity+json",
    max_response_bytes: int = 64_000,
    deadline: float | None = 30.0,
) -> PostResult:
    """POST a delivery. Redirects are not followed (a 3xx comes back as is);
    the status is the caller's to judge. Only network-level failures and
    refused URLs raise."""
    target = check_url(url, allow_private_addresses=_allows_private(client))
    with _translate_errors(target.host, deadline):
        async with asyncio.timeout(deadline):
            request = client.build_request(
                "POST",
                target,
                content=body,
                headers={"Content-Type": content_type, "Accept-Encoding": "identity"},
            )
            if sign is not None:
                await sign(request)
            response = await client.send(request, stream=True)
            try:
                raw = b""
                if not _is_compressed(response):
                    raw = await _read_capped(
                        response, max_response_bytes, target.host, truncate=True
                    )
            finally:
                await response.aclose()
    return PostResult(response.status_code, response.headers, raw.decode("utf-8", "replace"))


def _host_for_messages(url: str) -> str:
    try:
        return httpx.URL(url).host or "?"
    except (httpx.InvalidURL, TypeError):
        return "?"


def _redirect_target(response: httpx.Response) -> str:
    try:
        return str(response.url.join(response.headers["location"]))
    except httpx.InvalidURL as exc:
        raise UnsafeURL(f"{response.url.host} redirected to a malformed URL") from exc


def _check_status(response: httpx.Response, host: str) -> None:
    if response.status_code == 410:
        raise Gone(410, host)
    if not 200 <= response.status_code < 300:
        raise HTTPStatusError(response.status_code, host)


def _check_content_type(response: httpx.Response, host: str, allowed: Collection[str]) -> None:
    # Parameters (charset, the ld+json profile) are accepted as they come.
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in allowed:
        raise BadContentType(f"{host} answered with content type {media_type or 'none'!r}")
    if _is_compressed(response):
        raise BadContentType(f"{host} sent a compressed body although we asked for none")


def _is_compressed(response: httpx.Response) -> bool:
    """We ask for identity encoding because a compressed body could expand
    far past our limit inside a single decoded chunk, before we can count it.
    A server that compresses anyway is not read."""
    return response.headers.get("content-encoding", "identity").strip().lower() != "identity"


async def _read_capped(response: httpx.Response, limit: int, host: str, *, truncate: bool) -> bytes:
    """Read at most `limit` bytes of an identity-encoded body: beyond it,
    raise (or, with `truncate`, stop reading). A too-large Content-Length is
    refused before reading anything."""
    assert not _is_compressed(response)
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(f"{host} announced {declared} bytes, limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    # aiter_bytes, not aiter_raw: it also serves already-loaded content (as
    # httpx.MockTransport returns); with identity encoding both are the same.
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            raise ResponseTooLarge(f"{host} sent more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_object(body: bytes, host: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
        raise InvalidJSON(f"{host} sent invalid JSON") from exc
    if not isinstance(value, dict):
        raise InvalidJSON(f"{host} sent JSON that is not an object")
    return value


@contextlib.contextmanager
def _translate_errors(host: str, deadline: float | None = None) -> Iterator[None]:
    """Turn httpx's exceptions (and our overall deadline) into FetchError
    with a short reason. Our own FetchErrors pass through untouched."""
    try:
        yield
    except TimeoutError as exc:  # the overall deadline (asyncio.timeout)
        raise FetchError(f"{host}: gave up after {deadline} seconds") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"{host}: timed out ({type(exc).__name__})") from exc
    except httpx.UnsupportedProtocol as exc:
        raise UnsafeURL(f"{host}: unsupported protocol") from exc
    except httpx.ConnectError as exc:
        raise FetchError(f"{host}: could not connect") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{host}: network error ({type(exc).__name__})") from exc
