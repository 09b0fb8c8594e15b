"""Requests signed by independent HTTP Signature libraries, POSTed to a real
`circles serve` inbox: accepted when intact, refused (401) when tampered.

- draft-cavage-http-signatures, as Mastodon signs (rsa-sha256 over
  `(request-target) host date digest`): requests-http-signature 0.2.0, the
  last release of that library that speaks draft-cavage.
- RFC 9421 HTTP Message Signatures (rsa-v1_5-sha256 and ed25519, with an
  RFC 9530 Content-Digest): http-message-signatures.

(bovine would have covered both, but it pins cryptography<46, which would
downgrade the cryptography the server under test runs on.)

The signing actor lives on loopback: a few lines of asyncio serve its actor
document (RSA `publicKey` and an Ed25519 FEP-521a Multikey), so Circles can
fetch its keys, and its inbox, where Circles delivers the Accept of the
Follow. That Accept's RFC 9421 signature is checked with
http-message-signatures too, so both directions meet an independent verifier.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Self

import httpx
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from requests_http_signature import HTTPSignatureHeaderAuth

from tests.servers import csrf, redirected_to, sign_up

WAIT = 20.0
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


# --- the remote actor, on loopback ------------------------------------------------------


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_pem(private_key) -> str:
    public = private_key.public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _multikey(key: ed25519.Ed25519PrivateKey) -> str:
    """FEP-521a publicKeyMultibase: "z" + base58btc(0xed 0x01 + raw key)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    raw = b"\xed\x01" + key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    number, text = int.from_bytes(raw, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = alphabet[digit] + text
    return "z" + "1" * (len(raw) - len(raw.lstrip(b"\0"))) + text


@dataclass
class Delivery:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackActor:
    """A Person at http://127.0.0.1:PORT/actor served by asyncio streams: GET
    /actor answers its document, POST /inbox records and answers 202."""

    rsa_key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ed_key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)
    base_url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/actor"

    def document(self) -> dict:
        return {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1", "https://www.w3.org/ns/cid/v1"],
            "id": self.actor_id,
            "type": "Person",
            "preferredUsername": "signer",
            "name": "An independent signer",
            "inbox": f"{self.base_url}/inbox",
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "publicKey": {
                "id": f"{self.actor_id}#main-key", "owner": self.actor_id, "publicKeyPem": _public_pem(self.rsa_key),
            },
            "assertionMethod": [{
                "id": f"{self.actor_id}#ed25519-key", "type": "Multikey", "controller": self.actor_id,
                "publicKeyMultibase": _multikey(self.ed_key),
            }],
        }

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in filter(None, lines):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 10)
            self.served.append(f"{method} {target}")
            if method == "GET" and target == "/actor":
                status, payload = "200 OK", json.dumps(self.document()).encode()
            elif method == "POST" and target == "/inbox":
                self.deliveries.append(Delivery(method, target, headers, body))
                status, payload = "202 Accepted", b"{}"
            else:
                status, payload = "404 Not Found", b"{}"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/activity+json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


# --- signing with the independent libraries ------------------------------------------


class _Message:
    """The request interface http-message-signatures reads and writes."""

    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = method, url, headers


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, private=None, public=None) -> None:
        self.private, self.public = private, public

    def resolve_private_key(self, key_id: str):
        return self.private

    def resolve_public_key(self, key_id: str):
        return self.public


def sign_cavage(actor: LoopbackActor, url: str, body: bytes, *, key=None) -> dict[str, str]:
    """As Mastodon signs: rsa-sha256 over (request-target) host date digest."""
    prepared = requests.Request("POST", url, data=body, headers={"Content-Type": "application/activity+json"}).prepare()
    auth = HTTPSignatureHeaderAuth(
        key=_pem(key or actor.rsa_key), key_id=f"{actor.actor_id}#main-key", algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
    )
    auth(prepared)
    return dict(prepared.headers)


def _sign_rfc9421(algorithm, key, key_id: str, url: str, body: bytes, **options) -> dict[str, str]:
    message = _Message("POST", url, {"Content-Type": "application/activity+json"})
    HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=_Keys(private=key)).sign(
        message, key_id=key_id, body=body,  # body: adds Content-Digest and covers it
        **{"covered_component_ids": ("@method", "@target-uri", "@authority", "content-type"), **options},
    )
    return message.headers


def sign_rfc9421_rsa(actor: LoopbackActor, url: str, body: bytes, *, key=None) -> dict[str, str]:
    return _sign_rfc9421(algorithms.RSA_V1_5_SHA256, key or actor.rsa_key, f"{actor.actor_id}#main-key", url, body)


def sign_rfc9421_rsa_bare(actor: LoopbackActor, url: str, body: bytes, *, key=None) -> dict[str, str]:
    """No `alg` parameter (optional in RFC 9421: the key says it), and the
    fewest components a verifier can accept."""
    return _sign_rfc9421(algorithms.RSA_V1_5_SHA256, key or actor.rsa_key, f"{actor.actor_id}#main-key", url, body,
                         include_alg=False, covered_component_ids=("@method", "@target-uri"))


def sign_rfc9421_ed25519(actor: LoopbackActor, url: str, body: bytes, *, key=None) -> dict[str, str]:
    return _sign_rfc9421(algorithms.ED25519, key or actor.ed_key, f"{actor.actor_id}#ed25519-key", url, body)


SIGNERS = {
    "cavage-rsa-sha256": (sign_cavage, "digest", lambda: rsa.generate_private_key(65537, 2048)),
    "rfc9421-rsa-v1_5-sha256": (sign_rfc9421_rsa, "content-digest", lambda: rsa.generate_private_key(65537, 2048)),
    "rfc9421-rsa-without-alg": (sign_rfc9421_rsa_bare, "content-digest", lambda: rsa.generate_private_key(65537, 2048)),
    "rfc9421-ed25519": (sign_rfc9421_ed25519, "content-digest", ed25519.Ed25519PrivateKey.generate),
}


def with_header(headers: dict[str, str], name: str, value: str) -> dict[str, str]:
    """`headers` with one header replaced, whatever its case."""
    return {**{k: v for k, v in headers.items() if k.lower() != name}, name: value}


def digest_value(header: str, body: bytes) -> str:
    raw = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return f"SHA-256={raw}" if header == "digest" else f"sha-256=:{raw}:"


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", list(SIGNERS))
async def test_independently_signed_requests_are_accepted_and_tampered_ones_refused(circles, scheme):
    sign, digest_header, other_key = SIGNERS[scheme]
    async with (
        LoopbackActor() as actor,
        httpx.AsyncClient(base_url=circles.base_url, timeout=10.0) as ada,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        await sign_up(ada, "ada")
        token = csrf(await ada.get("/circles/new"))
        response = await ada.post("/circles/new", data={"csrf_token": token, "handle": "signers", "name": "Signers",
                                                        "join_mode": "open", "language": "en", "timezone": "UTC"})
        redirected_to(response, "/c/signers")
        group_id = f"{circles.base_url}/c/signers"
        inbox = f"{group_id}/inbox"

        def follow() -> bytes:
            activity = {"@context": AS_CONTEXT, "id": f"{actor.actor_id}/follows/{uuid.uuid4()}",
                        "type": "Follow", "actor": actor.actor_id, "object": group_id}
            return json.dumps(activity).encode()

        async def post(headers: dict[str, str], body: bytes) -> httpx.Response:
            return await http.post(inbox, content=body, headers=headers)

        def report(response: httpx.Response) -> str:
            return f"{response.status_code} {response.text}\nserved: {actor.served}\n{circles.output()}"

        # Intact: accepted, and processed (Circles fetched the key, the
        # circle accepted the Follow and delivered an Accept).
        body = follow()
        response = await post(sign(actor, inbox, body), body)
        assert response.status_code == 202, report(response)
        deadline = time.monotonic() + WAIT
        while not actor.deliveries and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert actor.deliveries, f"no Accept reached the signer within {WAIT} s\n{report(response)}"
        assert "GET /actor" in actor.served
        accept = json.loads(actor.deliveries[0].body)
        assert accept["type"] == "Accept" and accept["actor"] == group_id, accept
        assert accept["object"]["id"] == json.loads(body)["id"], accept

        # Tampered body, digest left as signed: refused.
        body, other = follow(), follow()
        response = await post(sign(actor, inbox, body), other)
        assert response.status_code == 401 and "digest" in response.json()["error"].lower(), report(response)

        # Tampered body with a matching digest: the signature no longer fits.
        body, other = follow(), follow()
        headers = with_header(sign(actor, inbox, body), digest_header, digest_value(digest_header, other))
        response = await post(headers, other)
        assert response.status_code == 401 and "signature" in response.json()["error"].lower(), report(response)

        # Signed by a key the actor does not publish, under its keyId: refused.
        body = follow()
        response = await post(sign(actor, inbox, body, key=other_key()), body)
        assert response.status_code == 401 and "signature" in response.json()["error"].lower(), report(response)

        # Signed for another inbox (the target is covered): refused.
        body = follow()
        response = await post(sign(actor, f"{circles.base_url}/inbox", body), body)
        assert response.status_code == 401, report(response)

        # And the Accept Circles delivered verifies with the independent library.
        group = (await ada.get("/c/signers", headers={"Accept": "application/activity+json"})).json()
        circles_key = serialization.load_pem_public_key(group["publicKey"]["publicKeyPem"].encode())
        delivered = actor.deliveries[0]
        assert "signature-input" in delivered.headers, delivered.headers  # Circles knocks with RFC 9421 first
        message = _Message("POST", f"{actor.base_url}{delivered.target}", delivered.headers)
        verified = HTTPMessageVerifier(
            signature_algorithm=algorithms.RSA_V1_5_SHA256, key_resolver=_Keys(public=circles_key)
        ).verify(message, body=delivered.body, require_components=("@method", "@target-uri", "content-digest"))
        assert [v.parameters["keyid"] for v in verified] == [group["publicKey"]["id"]]

    log = circles.output(tail=10**7)
    assert "Traceback" not in log, log
