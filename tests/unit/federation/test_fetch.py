"""federation/fetch.py: the outgoing HTTP client and its SSRF guard.

Two kinds of tests:
* real HTTP on 127.0.0.1 (a tiny asyncio server) for everything the guard
  and the wire decide: blocked loopback (the server must see no
  connection), size caps, timeouts, TLS to a checked address;
* httpx.MockTransport for redirect / content-type / JSON logic, where the
  "remote" hosts never exist on the network.
Nothing here connects anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import json
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest

from federation import fetch
from federation.addresses import is_public_address
from federation.fetch import (
    AP_ACCEPT,
    JRD_CONTENT_TYPES,
    BadContentType,
    BlockedAddress,
    FetchError,
    Gone,
    HTTPStatusError,
    InvalidJSON,
    ResponseTooLarge,
    TooManyRedirects,
    UnsafeURL,
    fetch_json,
    make_client,
    post_json,
)

AP_TYPE = "application/activity+json"
OBJECT = {"id": "https://remote.example/actor", "type": "Person"}


# --- a tiny loopback HTTP/1.1 server ---------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Callable[[asyncio.StreamWriter], Awaitable[None]]


async def respond(writer, status: int, headers: dict[str, str], body: bytes = b"") -> None:
    lines = [f"HTTP/1.1 {status} X"]
    headers = {"Content-Length": str(len(body)), **headers, "Connection": "close"}
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


def json_route(obj, content_type: str = AP_TYPE, status: int = 200) -> Route:
    return lambda w: respond(w, status, {"Content-Type": content_type}, json.dumps(obj).encode())


def redirect_route(location: str, status: int = 302) -> Route:
    return lambda w: respond(w, status, {"Location": location})


async def big_body(writer) -> None:
    """2 MB of valid-looking JSON with no Content-Length: only counting
    the streamed bytes can catch it."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n")
    writer.write(b"Connection: close\r\n\r\n")
    writer.write(b'{"padding": "')
    for _ in range(32):
        writer.write(b"x" * 65536)
        await writer.drain()
    writer.write(b'"}')


async def huge_content_length(writer) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n")
    writer.write(b"Content-Length: 50000000\r\nConnection: close\r\n\r\n{")
    await writer.drain()
    await asyncio.sleep(30)  # would hang the client if it tried to read


async def slow(writer) -> None:
    await asyncio.sleep(30)


async def drip(writer) -> None:
    """Headers, then a byte now and then: each read is within the read
    timeout, only an overall deadline stops it."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n")
    writer.write(b"Connection: close\r\n\r\n")
    for _ in range(300):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.05)


GZIP_BOMB = gzip.compress(b'{"a": "' + b" " * 10_000_000 + b'"}')

ROUTES: dict[str, Route] = {
    "/gzip": lambda w: respond(
        w, 200, {"Content-Type": AP_TYPE, "Content-Encoding": "gzip"}, GZIP_BOMB
    ),
    "/actor": json_route(OBJECT),
    "/r1": redirect_route("/r2"),
    "/r2": redirect_route("/actor", status=301),
    "/big": big_body,
    "/huge-length": huge_content_length,
    "/slow": slow,
    "/drip": drip,
    "/inbox": lambda w: respond(w, 202, {"Content-Type": "text/plain"}, b"a" * 100_000),
    "/moved-inbox": redirect_route("/inbox", status=307),
}


@dataclass
class LoopbackServer:
    ssl_context: ssl.SSLContext | None = None
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    sni_names: list[str | None] = field(default_factory=list)
    _tasks: set[asyncio.Task] = field(default_factory=set)

    async def __aenter__(self) -> LoopbackServer:
        if self.ssl_context is not None:
            self.ssl_context.sni_callback = lambda sock, name, ctx: self.sni_names.append(name)
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        self._tasks.add(asyncio.current_task())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
            method, path, _ = request_line.split(" ")
            headers = dict(line.split(": ", 1) for line in header_lines)
            headers = {name.lower(): value for name, value in headers.items()}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Seen(method, path, headers, body))
            route = ROUTES.get(path, lambda w: respond(w, 404, {}))
            await route(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up, as it should on a too-large body
        finally:
            writer.close()


@pytest.fixture
async def server():
    async with LoopbackServer() as running:
        yield running


@pytest.fixture
async def open_client():
    clients = []

    def build(allow_private: bool, **kwargs) -> httpx.AsyncClient:
        client = make_client(
            allow_private_addresses=allow_private, user_agent="circles-test/1", **kwargs
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def fake_dns(monkeypatch):
    """Stand in for DNS only; the guard itself runs for real."""
    answers: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError(f"no such host {host}")
        return answers[host]

    monkeypatch.setattr(fetch, "resolve_host", resolve)
    return answers


# --- the address table ------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
        "2001:db8::1",
        "not an address",
        "",
    ],
)
def test_non_public_addresses_are_refused(ip):
    assert is_public_address(ip) is False


@pytest.mark.parametrize(
    "ip",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8"],
)
def test_public_addresses_are_allowed(ip):
    assert is_public_address(ip) is True


# --- the guard for real, on loopback ---------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "2130706433"])
async def test_loopback_is_blocked_before_any_connection(server, open_client, host):
    client = open_client(allow_private=False)
    with pytest.raises(BlockedAddress) as caught:
        await fetch_json(client, f"http://{host}:{server.port}/actor")
    assert host in caught.value.reason
    assert server.connections == 0


async def test_ipv6_loopback_literal_is_blocked(open_client):
    # Nothing listens on ::1; a ConnectError would mean the guard let it through.
    with pytest.raises(BlockedAddress):
        await fetch_json(open_client(allow_private=False), "http://[::1]:9/actor")


async def test_post_to_loopback_is_blocked(server, open_client):
    client = open_client(allow_private=False)
    with pytest.raises(BlockedAddress):
        await post_json(client, f"http://localhost:{server.port}/inbox", b"{}", sign=None)
    assert server.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_is_reachable_when_private_addresses_are_allowed(
    server, open_client, host
):
    result = await fetch_json(open_client(allow_private=True), f"http://{host}:{server.port}/actor")
    assert result.json == OBJECT
    assert result.status == 200
    seen = server.requests[0]
    assert seen.headers["accept"] == AP_ACCEPT
    assert seen.headers["user-agent"] == "circles-test/1"


async def test_every_resolved_address_is_checked(server, open_client, fake_dns):
    # One public and one private answer: refused, and without trying the
    # public one either (no internet here: that would be a ConnectError).
    fake_dns["mixed.example"] = ["8.8.8.8", "127.0.0.1"]
    with pytest.raises(BlockedAddress):
        await fetch_json(open_client(allow_private=False), f"http://mixed.example:{server.port}/")
    assert server.connections == 0


async def test_connects_to_the_checked_address_and_keeps_the_host(server, open_client, fake_dns):
    fake_dns["rebind.example"] = ["127.0.0.1"]
    client = open_client(allow_private=True)
    result = await fetch_json(client, f"http://rebind.example:{server.port}/actor")
    assert result.json == OBJECT
    assert server.requests[0].headers["host"] == f"rebind.example:{server.port}"


async def test_unresolvable_host_is_a_fetch_error(open_client, fake_dns):
    with pytest.raises(FetchError) as caught:
        await fetch_json(open_client(allow_private=False), "http://nowhere.example/")
    assert type(caught.value) is FetchError
    assert "nowhere.example" in caught.value.reason


def _self_signed(tmp_path, hostname: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    return server_ctx, ssl.create_default_context(cafile=str(cert_file))


async def test_tls_uses_the_hostname_while_connecting_to_the_checked_address(
    tmp_path, open_client, fake_dns
):
    server_ctx, client_ctx = _self_signed(tmp_path, "secure.example")
    fake_dns["secure.example"] = ["127.0.0.1"]
    fake_dns["other.example"] = ["127.0.0.1"]
    async with LoopbackServer(ssl_context=server_ctx) as tls_server:
        client = open_client(allow_private=True, verify=client_ctx)
        result = await fetch_json(client, f"https://secure.example:{tls_server.port}/actor")
        assert result.json == OBJECT
        assert tls_server.sni_names == ["secure.example"]
        # The certificate is checked against the hostname, not the IP.
        with pytest.raises(FetchError):
            await fetch_json(client, f"https://other.example:{tls_server.port}/actor")


# --- sizes and time, on loopback -------------------------------------------


async def test_streamed_body_past_the_cap_is_refused(server, open_client):
    with pytest.raises(ResponseTooLarge) as caught:
        await fetch_json(open_client(allow_private=True), f"http://127.0.0.1:{server.port}/big")
    assert "127.0.0.1" in caught.value.reason
    assert len(caught.value.reason) < 200


async def test_body_under_a_larger_cap_is_read(server, open_client):
    client = open_client(allow_private=True)
    result = await fetch_json(client, f"http://127.0.0.1:{server.port}/big", max_bytes=3_000_000)
    assert len(result.json["padding"]) == 32 * 65536


async def test_too_large_content_length_is_refused_before_reading(server, open_client):
    client = open_client(allow_private=True)
    url = f"http://127.0.0.1:{server.port}/huge-length"
    async with asyncio.timeout(5):  # the server never sends the body
        with pytest.raises(ResponseTooLarge, match="announced"):
            await fetch_json(client, url)


async def test_read_timeout_is_a_fetch_error(server, open_client):
    client = open_client(allow_private=True, timeout=0.2)
    with pytest.raises(FetchError, match="timed out"):
        await fetch_json(client, f"http://127.0.0.1:{server.port}/slow")


async def test_slow_drip_is_stopped_by_the_deadline(server, open_client):
    client = open_client(allow_private=True, timeout=1.0)
    with pytest.raises(FetchError, match="gave up"):
        await fetch_json(client, f"http://127.0.0.1:{server.port}/drip", deadline=0.5)


async def test_connection_refused_is_a_fetch_error(open_client):
    # Port 9 (discard) on loopback: nothing listens there in the test box.
    with pytest.raises(FetchError, match="could not connect"):
        await fetch_json(open_client(allow_private=True), "http://127.0.0.1:9/")


# --- signing, on loopback ---------------------------------------------------


async def test_each_hop_is_signed_and_the_signature_reaches_the_server(server, open_client):
    signed: list[str] = []

    async def sign(request: httpx.Request) -> None:
        signed.append(str(request.url))
        request.headers["Signature"] = f"sig-for {request.method} {request.url.path}"

    client = open_client(allow_private=True)
    result = await fetch_json(client, f"http://127.0.0.1:{server.port}/r1", sign=sign)
    base = f"http://127.0.0.1:{server.port}"
    assert signed == [f"{base}/r1", f"{base}/r2", f"{base}/actor"]
    assert [seen.headers["signature"] for seen in server.requests] == [
        "sig-for GET /r1",
        "sig-for GET /r2",
        "sig-for GET /actor",
    ]
    assert result.url_final == f"{base}/actor"


async def test_post_is_signed_sent_and_its_response_truncated(server, open_client):
    async def sign(request: httpx.Request) -> None:
        assert request.content == b'{"type": "Create"}'
        request.headers["Signature"] = "sig"

    client = open_client(allow_private=True)
    result = await post_json(
        client, f"http://127.0.0.1:{server.port}/inbox", b'{"type": "Create"}', sign=sign
    )
    assert result.status == 202
    assert result.text == "a" * 64_000
    seen = server.requests[0]
    assert (seen.method, seen.body) == ("POST", b'{"type": "Create"}')
    assert seen.headers["signature"] == "sig"
    assert seen.headers["content-type"] == AP_TYPE


async def test_post_does_not_follow_redirects(server, open_client):
    client = open_client(allow_private=True)
    url = f"http://127.0.0.1:{server.port}/moved-inbox"
    result = await post_json(client, url, b"{}", sign=None)
    assert result.status == 307
    assert result.headers["location"] == "/inbox"
    assert [seen.path for seen in server.requests] == ["/moved-inbox"]


# --- URL checks and redirect logic, on a MockTransport -----------------------


class Remote:
    """A fake internet behind httpx.MockTransport: path -> response."""

    def __init__(self, routes: dict[str, httpx.Response]):
        self.routes = routes
        self.requests: list[httpx.Request] = []
        # A plain AsyncClient: fetch_json applies the strict address policy.
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.routes.get(str(request.url), httpx.Response(404))


def ap_response(content=OBJECT, content_type=AP_TYPE, status=200, **kw) -> httpx.Response:
    body = content if isinstance(content, bytes) else json.dumps(content).encode()
    return httpx.Response(status, headers={"Content-Type": content_type, **kw}, content=body)


def redirect(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://remote.example/actor",
        "gopher://remote.example:70/",
        "data:application/json,{}",
        "javascript:alert(1)",
        "http:///no-host",
        "http://user:secret@remote.example/actor",
        "https://user@remote.example/actor",
        "",
        "not a url",
        "http://[::1",
    ],
)
async def test_unsafe_urls_are_refused_before_any_request(url):
    remote = Remote({})
    with pytest.raises(UnsafeURL):
        await fetch_json(remote.client, url)
    with pytest.raises(UnsafeURL):
        await post_json(remote.client, url, b"{}", sign=None)
    assert remote.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/",
        "https://169.254.169.254/latest",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
async def test_private_literal_ips_are_refused_before_any_request(url):
    remote = Remote({})
    with pytest.raises(BlockedAddress):
        await fetch_json(remote.client, url)
    with pytest.raises(BlockedAddress):
        await post_json(remote.client, url, b"{}", sign=None)
    assert remote.requests == []


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("http://10.0.0.1/", BlockedAddress),
        ("http://[::ffff:10.0.0.1]/admin", BlockedAddress),
        ("http://169.254.169.254/latest/meta-data/", BlockedAddress),
        ("file:///etc/passwd", UnsafeURL),
        ("gopher://remote.example/", UnsafeURL),
        ("http://admin:pw@remote.example/", UnsafeURL),
    ],
)
async def test_redirect_targets_are_revalidated(location, error):
    remote = Remote({"https://remote.example/actor": redirect(location)})
    with pytest.raises(error):
        await fetch_json(remote.client, "https://remote.example/actor")
    assert [str(r.url) for r in remote.requests] == ["https://remote.example/actor"]


async def test_relative_redirect_is_followed_and_reported():
    remote = Remote(
        {
            "https://remote.example/actor": redirect("/users/alice", status=308),
            "https://remote.example/users/alice": ap_response(),
        }
    )
    result = await fetch_json(remote.client, "https://remote.example/actor")
    assert result.url_final == "https://remote.example/users/alice"
    assert result.json == OBJECT


async def test_redirect_loop_stops_after_max_redirects():
    remote = Remote({"https://remote.example/a": redirect("https://remote.example/a")})
    with pytest.raises(TooManyRedirects, match="remote.example"):
        await fetch_json(remote.client, "https://remote.example/a", max_redirects=3)
    assert len(remote.requests) == 4  # the request and three redirects


async def test_zero_redirects_allowed_refuses_the_first():
    remote = Remote(
        {
            "https://remote.example/a": redirect("https://remote.example/b"),
            "https://remote.example/b": ap_response(),
        }
    )
    with pytest.raises(TooManyRedirects):
        await fetch_json(remote.client, "https://remote.example/a", max_redirects=0)


async def test_cross_host_redirect_is_signed_again_with_the_new_url():
    remote = Remote(
        {
            "https://old.example/actor": redirect("https://new.example/actor"),
            "https://new.example/actor": ap_response(),
        }
    )
    hosts: list[str] = []

    async def sign(request: httpx.Request) -> None:
        hosts.append(request.headers["host"])
        request.headers["Signature"] = request.url.host

    await fetch_json(remote.client, "https://old.example/actor", sign=sign)
    assert hosts == ["old.example", "new.example"]
    assert [r.headers["signature"] for r in remote.requests] == ["old.example", "new.example"]
    assert all(r.headers["accept"] == AP_ACCEPT for r in remote.requests)


# --- status, content type, JSON ------------------------------------------------

URL = "https://remote.example/actor"


async def fetch_one(response: httpx.Response, **kwargs):
    return await fetch_json(Remote({URL: response}).client, URL, **kwargs)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "application/json; charset=utf-8",
        "Application/Activity+JSON",
    ],
)
async def test_accepted_content_types(content_type):
    result = await fetch_one(ap_response(content_type=content_type))
    assert result.json == OBJECT


@pytest.mark.parametrize(
    "content_type", ["text/html", "text/plain", "application/jrd+json", "", "application/xml"]
)
async def test_other_content_types_are_refused(content_type):
    with pytest.raises(BadContentType):
        await fetch_one(ap_response(content_type=content_type))


async def test_jrd_is_accepted_when_asked_for():
    result = await fetch_one(
        ap_response({"subject": "acct:a@remote.example"}, content_type="application/jrd+json"),
        accept="application/jrd+json",
        content_types=JRD_CONTENT_TYPES,
    )
    assert result.json == {"subject": "acct:a@remote.example"}


async def test_compressed_body_is_refused(server, open_client):
    # 10 MB of JSON in ~10 kB of gzip: counting only the wire bytes would
    # let it through, decoding it would blow past max_bytes in one chunk.
    with pytest.raises(BadContentType, match="compressed"):
        await fetch_json(open_client(allow_private=True), f"http://127.0.0.1:{server.port}/gzip")


async def test_compressed_delivery_answer_is_not_read(server, open_client):
    client = open_client(allow_private=True)
    result = await post_json(client, f"http://127.0.0.1:{server.port}/gzip", b"{}", sign=None)
    assert (result.status, result.text) == (200, "")


@pytest.mark.parametrize(
    "body", [b"SECRET-BODY not json", b"[1, 2, 3]", b'"a string"', b"null", b"", b"[" * 100_000]
)
async def test_invalid_json_or_not_an_object(body):
    with pytest.raises(InvalidJSON) as caught:
        await fetch_one(ap_response(body))
    assert "SECRET" not in caught.value.reason
    assert "remote.example" in caught.value.reason


async def test_404_is_a_status_error_not_gone():
    with pytest.raises(HTTPStatusError) as caught:
        await fetch_one(ap_response(status=404))
    assert caught.value.status == 404
    assert not isinstance(caught.value, Gone)


async def test_410_is_gone():
    with pytest.raises(Gone) as caught:
        await fetch_one(httpx.Response(410, text="<html>deleted</html>"))
    assert caught.value.status == 410
    assert "<html>" not in caught.value.reason


@pytest.mark.parametrize("status", [500, 401, 304, 302])
async def test_other_statuses_are_errors(status):
    # 302 without a Location is not a redirect we can follow.
    with pytest.raises(HTTPStatusError) as caught:
        await fetch_one(httpx.Response(status))
    assert caught.value.status == status


async def test_transport_errors_become_fetch_errors():
    def broken(request):
        raise httpx.ReadError("connection reset", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(broken))
    with pytest.raises(FetchError, match="remote.example: network error"):
        await fetch_json(client, URL)
