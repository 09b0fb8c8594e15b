"""A loopback stand-in for every server the activity corpus came from.

Each origin host of the corpus (enterprise.lemmy.ml, mastodon.madrid, ...) gets
its own loopback address (127.0.1.N, all on one port), and its URLs are
rewritten to ``http://127.0.1.N:PORT/<original-host>/<path>``: ids stay
distinct per origin (the path keeps the original host) AND hosts stay
distinct, so the receiver's "is this object on the sender's host" checks
still mean what they mean on the real network. Nothing here ever leaves
127.0.0.0/8.

The peer serves:
- an actor document for every actor id it was told about, with a freshly
  generated RSA key (the corpus' own actor document when there is one,
  its publicKey replaced by ours);
- every registered corpus document (objects, and objects embedded in
  activities) at its rewritten id, so Announces of remote objects can be
  dereferenced;
- POSTs to any path with 202 (deliveries from the server under test),
  recorded in ``received``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urldefrag, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from federation import signatures

AS_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
# Hosts whose URLs are vocabulary, not servers (the Public collection): never rewritten.
KEPT_HOSTS = frozenset({"www.w3.org", "w3id.org"})
URL_RE = re.compile(r"https?://[^\s\"'<>]+")
ACTOR_TYPES = frozenset({"Person", "Group", "Service", "Application", "Organization"})
GROUP_PATH_RE = re.compile(r"^/(c|m)/[^/]+/?$|^/communities/\d+/?$|^/video-channels/[^/]+/?$")


def origin_of(url: str) -> str | None:
    """'host[:port]' of an http(s) URL, lower-cased; None when it has no host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host.lower() + (f":{port}" if port else "")


def canonical(url: str) -> str | None:
    """A scheme-less, fragment-less key for a URL: Lemmy's corpus mixes http://
    and https:// for the same ids, and a trailing slash is not a new object."""
    origin = origin_of(url)
    if origin is None:
        return None
    parts = urlsplit(url)
    return origin + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class CorpusPeer:
    def __init__(self, first_address: tuple[int, int, int] = (127, 0, 1)) -> None:
        self._prefix = first_address
        self._next = 1
        self.port: int | None = None
        self._addresses: dict[str, str] = {}  # origin host -> loopback address
        self._servers: list[tuple[_Server, threading.Thread]] = []
        self.documents: dict[str, dict] = {}  # rewritten URL (no fragment) -> document
        self.actors: dict[str, dict] = {}  # rewritten actor id -> document
        self.keys: dict[str, tuple[str, rsa.RSAPrivateKey]] = {}  # actor id -> (keyId, key)
        self.aliases: dict[str, str] = {}  # another URL the actor document is served at -> actor id
        self.received: list[tuple[str, bytes]] = []  # (path, body) of POSTs
        self.requests: list[tuple[str, str, int]] = []  # (method, url, status)
        self._lock = threading.Lock()

    # --- addresses and servers ------------------------------------------------

    def _allocate(self) -> str:
        a, b, c = self._prefix
        n = self._next
        self._next += 1
        return f"{a}.{b}.{c + n // 250}.{n % 250 + 1}"

    def start(self) -> None:
        """Bind the first address on a free port; later origins bind the same port."""
        address = self._allocate()
        server = _Server((address, 0), self._handler())
        self.port = server.server_address[1]
        self._run(server)
        self._spare = address

    def _run(self, server: _Server) -> None:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        self._servers.append((server, thread))

    def stop(self) -> None:
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(5)
        self._servers.clear()

    def address_of(self, origin: str) -> str:
        assert self.port is not None, "start() the peer first"
        with self._lock:
            if origin not in self._addresses:
                if getattr(self, "_spare", None):
                    address, self._spare = self._spare, None
                else:
                    address = self._allocate()
                    self._run(_Server((address, self.port), self._handler()))
                self._addresses[origin] = address
            return self._addresses[origin]

    def base_of(self, origin: str) -> str:
        return f"http://{self.address_of(origin)}:{self.port}/{origin}"

    @property
    def origins(self) -> dict[str, str]:
        return dict(self._addresses)

    # --- rewriting ---------------------------------------------------------------

    def rewrite_url(self, url: str, local: dict[str, str] | None = None) -> str:
        """`url` on the peer (or, when its canonical form is in `local`, the
        local id it stands for). Vocabulary URLs are kept."""
        key = canonical(url)
        if key is None:
            return url
        if local and key in local:
            fragment = urlsplit(url).fragment
            return local[key] + (f"#{fragment}" if fragment and "#" not in local[key] else "")
        origin = origin_of(url)
        if origin in KEPT_HOSTS:
            return url
        parts = urlsplit(url)
        rewritten = self.base_of(origin) + (parts.path or "/")
        if parts.query:
            rewritten += f"?{parts.query}"
        if parts.fragment:
            rewritten += f"#{parts.fragment}"
        return rewritten

    def rewrite(self, value, local: dict[str, str] | None = None):
        """A deep copy of `value` with every URL in every string rewritten
        (``@context`` is left alone: it is vocabulary)."""
        if isinstance(value, dict):
            return {k: (v if k == "@context" else self.rewrite(v, local)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.rewrite(v, local) for v in value]
        if isinstance(value, str) and "://" in value:
            return URL_RE.sub(lambda m: self.rewrite_url(m.group(0), local), value)
        return value

    def is_peer_url(self, url: str) -> bool:
        return urlsplit(url).hostname in set(self._addresses.values())

    # --- documents -----------------------------------------------------------------

    def add_document(self, doc: dict, *, replace: bool = False) -> None:
        """Serve `doc` (already rewritten) and every object embedded in it at their ids."""
        for found in _documents_in(doc):
            url, fragment = urldefrag(found["id"])
            if fragment or not self.is_peer_url(url) or found.get("type") in ACTOR_TYPES:
                continue
            if replace or url not in self.documents:
                self.documents[url] = found

    def add_actor(self, uri: str, template: dict | None = None, *, kind: str | None = None) -> dict:
        """Serve an actor document for `uri` (rewritten) with a key of our own.
        `template` is the corpus' document for it, when there is one."""
        if uri in self.actors:
            if template is not None and self.actors[uri].get("_synthesised"):
                del self.actors[uri]
            else:
                return self.actors[uri]
        origin_base = uri.split("/", 3)
        origin_base = "/".join(origin_base[:4]) if len(origin_base) >= 4 else uri
        shared_inbox = f"{origin_base}/inbox"
        if template is not None:
            doc = copy.deepcopy(template)
        else:
            name = urlsplit(uri).path.rstrip("/").rsplit("/", 1)[-1].lstrip("@") or "actor"
            doc = {
                "@context": AS_CONTEXT,
                "id": uri,
                "type": kind or self.guess_kind(uri),
                "preferredUsername": re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] or "actor",
                "name": name,
                "outbox": f"{uri}/outbox",
                "followers": f"{uri}/followers",
                "following": f"{uri}/following",
                "_synthesised": True,
            }
        doc.setdefault("inbox", shared_inbox)
        endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
        doc["endpoints"] = {**endpoints, "sharedInbox": endpoints.get("sharedInbox") or shared_inbox}
        published_key = doc.get("publicKey")
        key_id = published_key.get("id") if isinstance(published_key, dict) else None
        if not isinstance(key_id, str) or origin_of(key_id) != origin_of(uri):
            key_id = f"{uri}#main-key"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        doc["publicKey"] = {
            "id": key_id, "owner": uri, "publicKeyPem": signatures.public_key_to_pem(key.public_key()),
        }
        doc.pop("assertionMethod", None)  # the real server's keys: not ours to sign with
        self.keys[uri] = (key_id, key)
        self.actors[uri] = doc
        key_document = urldefrag(key_id).url
        if key_document != uri:
            # Lotide publishes keyIds like https://narwhal.city//users/3#main-key and
            # answers at that URL too: serve the actor where its keyId points.
            self.aliases[key_document] = uri
        return doc

    @staticmethod
    def original_path(uri: str) -> str:
        """The path on the original server of a rewritten URL ('/<host>/c/main' -> '/c/main')."""
        segments = urlsplit(uri).path.split("/", 2)
        return "/" + (segments[2] if len(segments) > 2 else "")

    def guess_kind(self, uri: str) -> str:
        return "Group" if GROUP_PATH_RE.match(self.original_path(uri)) else "Person"

    def signed_post_headers(self, actor_uri: str, url: str, body: bytes) -> dict[str, str]:
        """draft-cavage headers for POSTing `body` to `url` as `actor_uri`."""
        key_id, key = self.keys[actor_uri]
        headers = {"Content-Type": "application/activity+json"}
        headers |= signatures.sign_cavage("POST", url, headers, body, key_id, key)
        return headers

    # --- HTTP ----------------------------------------------------------------------

    def _lookup(self, url: str) -> dict | None:
        for candidate in (url, url.rstrip("/"), url + "/"):
            candidate = self.aliases.get(candidate, candidate)
            if candidate in self.actors:
                return {k: v for k, v in self.actors[candidate].items() if k != "_synthesised"}
            if candidate in self.documents:
                return self.documents[candidate]
        return None

    def _handler(self):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One buffered write per response, sent at once: head and body written
            # separately stall on Nagle + delayed ACK (40 ms a request).
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _url(self) -> str:
                return f"http://{self.headers.get('Host') or self.server.server_address[0]}{self.path}"

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with peer._lock:
                    peer.requests.append((self.command, self._url(), status))

            def do_GET(self) -> None:
                doc = peer._lookup(self._url())
                if doc is None:
                    self._answer(404, {"error": "not found"})
                else:
                    self._answer(200, doc)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with peer._lock:
                    peer.received.append((self.path, body))
                self._answer(202, {})

            def log_message(self, format, *args) -> None:
                pass

        return Handler


def _documents_in(value):
    """Every dict with an http(s) id and a type inside `value`, outermost first."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and value["id"].startswith(("http://", "https://")) and "type" in value:
            yield value
        for key, item in value.items():
            if key != "@context":
                yield from _documents_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _documents_in(item)
