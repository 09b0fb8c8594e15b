"""HTTP request signatures: sign what we send, verify what we receive.

Pure functions: no network, no database, no Quart. Keys come in as
`cryptography` objects; fetching a remote actor's key is the caller's job
(`verify_request` takes the lookups as arguments).

Two schemes are spoken, because the fediverse speaks both:

- draft-cavage-http-signatures-12 ("cavage"): one `Signature` header with
  keyId/algorithm/headers/signature. What Mastodon and nearly everyone send
  today, with a legacy `Digest` header for the body.
- RFC 9421 HTTP Message Signatures: `Signature-Input` + `Signature`
  structured-field dictionaries, with an RFC 9530 `Content-Digest`.

Outgoing: `sign_cavage` / `sign_rfc9421` return the headers to add.
Incoming: `verify_request` is the one entry point for servers. It applies a
policy on top of the cryptography (see its docstring); `parse_signature` is
the layer under it (parse + rebuild the signed string, no policy), which
tests use to check the published vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from models import clock

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
Scheme = Literal["rfc9421", "cavage"]

# How far in the future a Date or `created` may be: clocks drift, but a
# future-dated signature would otherwise stay replayable for longer. Mastodon
# uses the same 5 minutes. The past bound is verify_request's `max_skew`.
FUTURE_TOLERANCE = timedelta(minutes=5)

# What verify_request insists a signature covers, in scheme-neutral words
# (the mapping to each scheme's names is in _check_coverage):
#   request-target  the method, path and query (stops replay to another URL)
#   host            the authority (stops replay to another server)
#   date            a signed time (Date header or `created`), so age can be judged
#   digest          the body digest; always added when the request has a body
REQUIREMENTS = frozenset({"request-target", "host", "date", "digest"})
DEFAULT_REQUIREMENTS = frozenset({"request-target", "host", "date"})


class SignatureError(Exception):
    """A request's signature is missing, malformed, stale or wrong.

    `reason` is a short human-readable sentence, safe to log and to return
    to the remote server (it never contains key material)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyNotFound(SignatureError):
    """The key lookup knows no key for this keyId."""


@dataclass(frozen=True)
class VerifiedSignature:
    key_id: str
    scheme: Scheme


# --- keys ------------------------------------------------------------------


def load_private_key(pem: str) -> PrivateKey:
    """An RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8) private key from PEM."""
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ValueError(f"not a usable PEM private key: {error}") from None
    _key_kind(key, error=ValueError)
    return key


def load_public_key(pem: str) -> PublicKey:
    """An RSA or Ed25519 public key from PEM: SPKI ("BEGIN PUBLIC KEY", what
    Mastodon publishes) or, for RSA, PKCS#1 ("BEGIN RSA PUBLIC KEY")."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ValueError(f"not a usable PEM public key: {error}") from None
    _key_kind(key, error=ValueError)
    return key


def public_key_to_pem(key: PublicKey) -> str:
    """SPKI PEM ("BEGIN PUBLIC KEY"), the form Mastodon publishes."""
    _key_kind(key, error=ValueError)
    spki = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.public_bytes(*spki).decode()


# FEP-521a Multikey: "z" (multibase base58btc) + multicodec ed25519-pub
# (varint 0xed -> bytes ed 01) + the 32 raw key bytes.
_ED25519_PUB_PREFIX = b"\xed\x01"


def public_key_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    """The Ed25519 key of a FEP-521a `publicKeyMultibase` value."""
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must be base58btc (start with 'z')")
    if len(value) > 64:  # an Ed25519 Multikey is 48 characters; base58 decoding is quadratic
        raise ValueError("publicKeyMultibase is too long for an Ed25519 key")
    raw = _b58decode(value[1:])
    if not raw.startswith(_ED25519_PUB_PREFIX) or len(raw) != 2 + 32:
        raise ValueError("publicKeyMultibase is not an Ed25519 public key")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


def public_key_to_multibase(key: ed25519.Ed25519PublicKey) -> str:
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("only Ed25519 keys have a Multikey encoding here")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _b58encode(_ED25519_PUB_PREFIX + raw)


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58encode(data: bytes) -> str:
    # A big-endian number in base 58; each leading zero byte becomes a "1".
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = _B58[remainder] + digits
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + digits


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


# --- signature primitives ----------------------------------------------------


def _key_kind(key: object, error: type[Exception] = SignatureError) -> str:
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA"
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519"
    raise error(f"unsupported key type {type(key).__name__}")


@dataclass(frozen=True)
class _Primitive:
    kind: str  # the key kind it needs
    sign: Callable[[PrivateKey, bytes], bytes]
    verify: Callable[[PublicKey, bytes, bytes], None]  # raises InvalidSignature


_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)  # RFC 9421 3.3.1

# Keyed by RFC 9421 algorithm name; cavage names map onto these.
_PRIMITIVES = {
    "rsa-v1_5-sha256": _Primitive(
        "RSA",
        lambda key, data: key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
        lambda key, sig, data: key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256()),
    ),
    "rsa-pss-sha512": _Primitive(
        "RSA",
        lambda key, data: key.sign(data, _PSS_SHA512, hashes.SHA512()),
        lambda key, sig, data: key.verify(sig, data, _PSS_SHA512, hashes.SHA512()),
    ),
    "ed25519": _Primitive(
        "Ed25519",
        lambda key, data: key.sign(data),
        lambda key, sig, data: key.verify(sig, data),
    ),
}

_CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})


def _primitives_for(scheme: Scheme, algorithm: str | None, key: PublicKey) -> list[str]:
    """The primitives a signature may have used, given what it claims and the key.

    The key decides when the claim is loose (cavage hs2019 or no algorithm;
    RFC 9421 without `alg`), as both specs say. RSA without `alg` in RFC 9421
    could be either RSA scheme; trying both is safe because each is a sound
    signature over the same key: neither lets anyone without it forge."""
    # Parsing already refused algorithms the scheme does not know.
    kind = _key_kind(key)
    if algorithm in _PRIMITIVES:  # RFC 9421 with alg
        names = [algorithm]
    elif algorithm == "rsa-sha256":  # cavage, explicit
        names = ["rsa-v1_5-sha256"]
    elif kind == "Ed25519":  # cavage hs2019 or none, RFC 9421 without alg
        names = ["ed25519"]
    elif scheme == "cavage":  # hs2019 or none with RSA: the fediverse's PKCS#1 v1.5
        names = ["rsa-v1_5-sha256"]
    else:
        names = ["rsa-v1_5-sha256", "rsa-pss-sha512"]
    if _PRIMITIVES[names[0]].kind != kind:
        raise SignatureError(f"algorithm {algorithm} does not fit the key, which is {kind}")
    return names


def _default_primitive(private_key: PrivateKey) -> str:
    return "ed25519" if _key_kind(private_key, error=ValueError) == "Ed25519" else "rsa-v1_5-sha256"


# --- time --------------------------------------------------------------------


def http_date(moment: datetime) -> str:
    """An HTTP Date value (IMF-fixdate), e.g. "Tue, 20 Apr 2021 02:07:55 GMT"."""
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def _parse_http_date(value: str) -> datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise SignatureError(f"Date header is not an HTTP date: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _describe(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def _check_fresh(what: str, moment: datetime, now: datetime, max_skew: timedelta) -> None:
    age = now - moment
    if age > max_skew:
        raise SignatureError(f"{what} is {_describe(age)} old")
    if -age > FUTURE_TOLERANCE:
        raise SignatureError(f"{what} is {_describe(-age)} in the future")


def _from_timestamp(value: float) -> datetime:
    try:
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):  # absurd values from the wire
        raise SignatureError(f"{value} is not a usable Unix timestamp") from None


# --- the request as both schemes see it -------------------------------------


def _clean_value(value: str) -> str:
    # Both specs: trim, and replace obsolete line folding by one space.
    return re.sub(r"\r?\n[ \t]+", " ", value).strip()


def _header_map(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased names; repeated field lines (a multi-dict such as Quart's
    headers yields each) are joined with ", ", as both specs require."""
    lines: dict[str, list[str]] = {}
    for name, value in headers.items():
        lines.setdefault(name.lower(), []).append(_clean_value(value))
    return {name: ", ".join(values) for name, values in lines.items()}


@dataclass(frozen=True)
class _Request:
    method: str
    scheme: str
    authority: str  # lower-cased host, port only when not the default
    path: str
    query: str  # without "?"; "" when absent
    headers: dict[str, str]  # from _header_map

    @property
    def request_target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def target_uri(self) -> str:
        return f"{self.scheme}://{self.authority}{self.request_target}"


def _request(method: str, url: str, headers: dict[str, str]) -> _Request:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SignatureError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname  # already lower-cased
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    try:
        port = parts.port
    except ValueError:
        raise SignatureError(f"URL has a bad port: {url!r}") from None
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return _Request(method, parts.scheme, host, parts.path or "/", parts.query, headers)


def _field_value(request: _Request, name: str) -> str:
    if name not in request.headers:
        raise SignatureError(
            f"header {name} is covered by the signature but missing from the request"
        )
    return request.headers[name]


def _has_body(method: str, body: bytes | None) -> bool:
    """Whether a request carries a body whose digest must be signed: any
    non-empty body, and always for the methods that send one."""
    return bool(body) or method.upper() in ("POST", "PUT", "PATCH")


# --- digests -----------------------------------------------------------------

_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def digest_header(body: bytes) -> str:
    """The legacy RFC 3230 `Digest` value Mastodon sends and checks."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` value."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def check_body_digest(headers: Mapping[str, str], body: bytes) -> None:
    """Check `Digest` and/or `Content-Digest` against the body.

    Every entry with a known algorithm (sha-256, sha-512) must match; a header
    whose algorithms are all unknown is refused, since it proves nothing."""
    header_map = _header_map(headers)
    present = [name for name in _DIGEST_HEADERS if name.lower() in header_map]
    if not present:
        raise SignatureError("the request has no Digest or Content-Digest header")
    for name in present:
        _match_digests(name, _DIGEST_HEADERS[name](header_map[name.lower()]), body)


def _parse_legacy_digest(value: str) -> list[tuple[str, bytes]]:
    entries = []
    for part in value.split(","):
        algorithm, equals, encoded = part.strip().partition("=")
        if not equals or not algorithm:
            raise SignatureError(f"malformed Digest header: {value!r}")
        entries.append((algorithm.lower(), _b64decode(encoded, "Digest header")))
    return entries


def _parse_content_digest(value: str) -> list[tuple[str, bytes]]:
    entries = []
    for algorithm, member in _parse_dictionary(value, "Content-Digest").items():
        if not isinstance(member, _Item) or not isinstance(member.value, bytes):
            raise SignatureError("malformed Content-Digest header: values must be byte sequences")
        entries.append((algorithm, member.value))
    return entries


_DIGEST_HEADERS = {"Digest": _parse_legacy_digest, "Content-Digest": _parse_content_digest}


def _match_digests(header: str, entries: list[tuple[str, bytes]], body: bytes) -> None:
    known = [(name, expected) for name, expected in entries if name in _DIGESTS]
    if not known:
        names = ", ".join(name for name, _ in entries)
        raise SignatureError(f"unsupported digest algorithm in {header}: {names}")
    for name, expected in known:
        if not hmac.compare_digest(_DIGESTS[name](body).digest(), expected):
            raise SignatureError(f"{header} ({name}) does not match the body")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SignatureError(f"{what} is not valid base64") from None


# --- RFC 8941 structured fields: just what these headers contain ------------
# Values: int, float (decimal), str (sf-string), Token, bytes, bool.


class _Token(str):
    """An sf-token, kept apart from an sf-string so it serialises unquoted."""


@dataclass(frozen=True)
class _Item:
    value: object
    params: dict[str, object]


@dataclass(frozen=True)
class _InnerList:
    items: list[_Item]
    params: dict[str, object]


_SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_SF_NUMBER = re.compile(r"-?(\d{1,15})(\.\d{1,3})?")
_SF_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_SF_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class _Parser:
    """RFC 8941 section 4.2, strict: anything unexpected is a SignatureError."""

    def __init__(self, text: str, what: str) -> None:
        self.text, self.pos, self.what = text, 0, what

    def fail(self, problem: str) -> SignatureError:
        return SignatureError(f"malformed {self.what} header: {problem} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def dictionary(self) -> dict[str, _Item | _InnerList]:
        members: dict[str, _Item | _InnerList] = {}
        self.skip(" ")
        while self.pos < len(self.text):
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[key] = self.inner_list() if self.peek() == "(" else self.item()
            else:
                members[key] = _Item(True, self.parameters())
            self.skip(" \t")
            if self.pos == len(self.text):
                break
            self.expect(",")
            self.skip(" \t")
            if self.pos == len(self.text):
                raise self.fail("trailing comma")
        if not members:
            raise self.fail("empty")
        return members

    def inner_list(self) -> _InnerList:
        self.expect("(")
        items = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return _InnerList(items, self.parameters())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected a space or ')' in an inner list")

    def item(self) -> _Item:
        return _Item(self.bare_item(), self.parameters())

    def parameters(self) -> dict[str, object]:
        params: dict[str, object] = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.key()
            value: object = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:
        match = _SF_KEY.match(self.text, self.pos)
        if not match:
            raise self.fail("expected a key")
        self.pos = match.end()
        return match.group()

    def bare_item(self) -> object:
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char == "*" or ("a" <= char.lower() <= "z" and char.isascii()):
            return self.token()
        raise self.fail("expected a value")

    def number(self) -> int | float:
        match = _SF_NUMBER.match(self.text, self.pos)
        if not match or (match.group(2) and len(match.group(1)) > 12):
            raise self.fail("bad number")
        self.pos = match.end()
        if self.peek().isdigit() or self.peek() == ".":
            raise self.fail("number too long")
        return float(match.group()) if match.group(2) else int(match.group())

    def string(self) -> str:
        self.expect('"')
        chars = []
        while True:
            char = self.peek()
            self.pos += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                chars.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(chars)
            elif char == "" or not (" " <= char <= "~"):
                raise self.fail("bad character in string")
            else:
                chars.append(char)

    def token(self) -> _Token:
        match = _SF_TOKEN.match(self.text, self.pos)
        assert match  # bare_item checked the first character
        self.pos = match.end()
        return _Token(match.group())

    def byte_sequence(self) -> bytes:
        match = _SF_BYTES.match(self.text, self.pos)
        if not match:
            raise self.fail("bad byte sequence")
        self.pos = match.end()
        encoded = match.group(1)
        if "=" not in encoded:  # RFC 8941 4.2.7: tolerate missing padding
            encoded += "=" * (-len(encoded) % 4)
        return _b64decode(encoded, f"{self.what} header")

    def boolean(self) -> bool:
        if self.text[self.pos : self.pos + 2] not in ("?0", "?1"):
            raise self.fail("bad boolean")
        self.pos += 2
        return self.text[self.pos - 1] == "1"


def _parse_dictionary(text: str, what: str) -> dict[str, _Item | _InnerList]:
    """An RFC 8941 dictionary; `what` names the header in error reasons."""
    return _Parser(text, what).dictionary()


def _serialize_bare(value: object) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # sf-decimal: at most 3 fraction digits, at least 1
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, _Token):
        return str(value)
    if isinstance(value, str):
        if not all(" " <= char <= "~" for char in value):
            raise ValueError(f"cannot serialise {value!r} as an sf-string")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode() + ":"
    raise ValueError(f"cannot serialise {value!r}")


def _serialize_params(params: Mapping[str, object]) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare(value)}"
        for key, value in params.items()
    )


def _serialize_item(item: _Item) -> str:
    return _serialize_bare(item.value) + _serialize_params(item.params)


def _serialize_inner_list(inner: _InnerList) -> str:
    items = " ".join(_serialize_item(item) for item in inner.items)
    return f"({items}){_serialize_params(inner.params)}"


# --- parsed signatures (both schemes) ---------------------------------------


@dataclass(frozen=True)
class ParsedSignature:
    """A signature taken apart, with the exact bytes it signs rebuilt.

    No policy and no clock here: `verify_request` decides whether what is
    covered is enough and whether the times are acceptable."""

    scheme: Scheme
    key_id: str
    algorithm: str | None  # as claimed: cavage `algorithm`, RFC 9421 `alg`
    covered: tuple[str, ...]  # header names / component names, lower-case
    created: int | None
    expires: float | None
    base: bytes  # the cavage signing string / RFC 9421 signature base
    signature: bytes

    def verify(self, key: PublicKey) -> None:
        """Raise SignatureError unless the signature is valid for `key`."""
        for name in _primitives_for(self.scheme, self.algorithm, key):
            try:
                _PRIMITIVES[name].verify(key, self.signature, self.base)
                return
            except InvalidSignature:
                continue
        raise SignatureError(f"signature does not verify with key {self.key_id}")


def parse_signature(method: str, url: str, headers: Mapping[str, str]) -> ParsedSignature:
    """Parse the request's signature: RFC 9421 when `Signature-Input` is
    present, else cavage (`Signature`, or `Authorization: Signature ...`)."""
    return _parse(_request(method, url, _header_map(headers)))


def _parse(request: _Request) -> ParsedSignature:
    if "signature-input" in request.headers:
        return _parse_rfc9421(request)
    return _parse_cavage(request)


# --- draft-cavage-http-signatures-12 ----------------------------------------

# One auth-param: name="quoted value" or name=number (created/expires), then
# a comma or the end. Whitespace around commas is tolerated (Appendix C has it).
_CAVAGE_PARAM = re.compile(r'[ \t]*([A-Za-z]+)=(?:"([^"\\]*)"|(\d+(?:\.\d+)?))[ \t]*(,|\Z)')


def _cavage_header_value(request: _Request) -> str:
    if "signature" in request.headers:
        return request.headers["signature"]
    scheme, _, rest = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "signature" and rest.strip():
        return rest.strip()
    raise SignatureError("request is not signed (no Signature or Signature-Input header)")


def _parse_cavage_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    while pos < len(value):
        match = _CAVAGE_PARAM.match(value, pos)
        if not match or (match.group(4) == "," and match.end() == len(value)):
            raise SignatureError("malformed Signature header")
        name = match.group(1)
        if name in params:  # draft-12 2.2: duplicated parameters MUST NOT be processed
            raise SignatureError(f"Signature header repeats {name}")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        pos = match.end()
    return params


def _parse_cavage(request: _Request) -> ParsedSignature:
    params = _parse_cavage_params(_cavage_header_value(request))
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureError(f"Signature header has no {required}")
    algorithm = params["algorithm"].lower() if "algorithm" in params else None
    if algorithm is not None and algorithm not in _CAVAGE_ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {algorithm}")
    # No `headers`: draft-12 Appendix C.1 and Mastodon sign `date` alone.
    names = params.get("headers", "date").lower().split()
    if not names:
        raise SignatureError("Signature header has an empty headers list")
    if len(set(names)) != len(names):
        raise SignatureError("Signature headers list names a header twice")
    created = _cavage_time(params, "created", integer=True)
    expires = _cavage_time(params, "expires", integer=False)
    lines = [f"{name}: {_cavage_value(name, request, params, algorithm)}" for name in names]
    return ParsedSignature(
        scheme="cavage",
        key_id=params["keyId"],
        algorithm=algorithm,
        covered=tuple(names),
        created=created if "(created)" in names else None,  # unsigned times mean nothing
        expires=expires if "(expires)" in names else None,
        base="\n".join(lines).encode(),
        signature=_b64decode(params["signature"], "signature"),
    )


def _cavage_time(params: dict[str, str], name: str, *, integer: bool) -> float | None:
    if name not in params:
        return None
    text = params[name]
    if not re.fullmatch(r"\d+" if integer else r"\d+(\.\d+)?", text):
        raise SignatureError(f"Signature {name} is not a Unix timestamp")
    return int(text) if integer else float(text)


def _cavage_value(
    name: str, request: _Request, params: dict[str, str], algorithm: str | None
) -> str:
    if name == "(request-target)":
        return f"{request.method.lower()} {request.request_target}"
    if name in ("(created)", "(expires)"):
        # draft-12 2.3: these pseudo-headers are an error with rsa-sha256,
        # whose signers could not have meant them.
        if algorithm == "rsa-sha256":
            raise SignatureError(f"{name} cannot be signed with algorithm rsa-sha256")
        param = name[1:-1]
        if param not in params:
            raise SignatureError(f"{name} is covered but the {param} parameter is missing")
        return params[param]
    if name.startswith("("):
        raise SignatureError(f"unsupported pseudo-header {name}")
    return _field_value(request, name)


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    covered: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign a request the way Mastodon does; return the headers to add.

    Adds Host (from the URL), Date (when `headers` has none; `now` or the
    clock), Digest (when the request has a body) and Signature covering
    `(request-target) host date`, plus `digest` with a body. `covered`
    overrides that list (tests use it for the draft's examples)."""
    if '"' in key_id:
        raise ValueError("keyId cannot contain a double quote")
    added = {"Host": _request(method, url, {}).authority}
    existing = _header_map(headers)
    if "date" not in existing:
        added["Date"] = http_date(now or clock.now())
    has_body = _has_body(method, body)
    if has_body:
        added["Digest"] = digest_header(body or b"")
    if covered is None:
        covered = ("(request-target)", "host", "date") + (("digest",) if has_body else ())
    request = _request(method, url, existing | {name.lower(): v for name, v in added.items()})
    algorithm = "hs2019" if _key_kind(private_key, error=ValueError) == "Ed25519" else "rsa-sha256"
    signing_string = "\n".join(
        f"{name}: {_cavage_value(name, request, {}, algorithm)}" for name in covered
    )
    primitive = _PRIMITIVES[_default_primitive(private_key)]
    signature = primitive.sign(private_key, signing_string.encode())
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return added


# --- RFC 9421 HTTP Message Signatures ----------------------------------------

_SIGNATURE_PARAM_TYPES: dict[str, type] = {
    "created": int,
    "expires": int,
    "keyid": str,
    "alg": str,
    "nonce": str,
    "tag": str,
}


def _parse_rfc9421(request: _Request) -> ParsedSignature:
    inputs = _parse_dictionary(request.headers["signature-input"], "Signature-Input")
    if "signature" not in request.headers:
        raise SignatureError("request has Signature-Input but no Signature header")
    signatures = _parse_dictionary(request.headers["signature"], "Signature")
    # Several signatures may be present (proxies add theirs); the first one,
    # the originator's, is the one we check.
    label, inner = next(iter(inputs.items()))
    if not isinstance(inner, _InnerList):
        raise SignatureError(f"Signature-Input {label} is not an inner list")
    value = signatures.get(label)
    if not isinstance(value, _Item) or not isinstance(value.value, bytes):
        raise SignatureError(f"Signature has no byte-sequence value for label {label}")
    params = _check_signature_params(inner.params)
    if "keyid" not in params:
        raise SignatureError("Signature-Input has no keyid")
    alg = params.get("alg")
    if alg is not None and alg not in _PRIMITIVES:
        raise SignatureError(f"unsupported algorithm {alg}")
    return ParsedSignature(
        scheme="rfc9421",
        key_id=str(params["keyid"]),
        algorithm=alg,
        covered=tuple(str(item.value) for item in inner.items),
        created=params.get("created"),
        expires=params.get("expires"),
        base=_signature_base(inner, request).encode(),
        signature=value.value,
    )


def _check_signature_params(params: dict[str, object]) -> dict[str, object]:
    for name, value in params.items():
        wanted = _SIGNATURE_PARAM_TYPES.get(name)
        if wanted is None:
            continue  # unknown parameters are signed too, so harmless
        if isinstance(value, bool) or not isinstance(value, wanted) or isinstance(value, _Token):
            raise SignatureError(f"Signature-Input parameter {name} has the wrong type")
    return params


def _signature_base(inner: _InnerList, request: _Request) -> str:
    """RFC 9421 section 2.5: one line per covered component, then the
    `@signature-params` line, which re-serialises the Signature-Input member."""
    lines = []
    seen = set()
    for item in inner.items:
        if type(item.value) is not str:
            raise SignatureError("covered components must be quoted strings")
        identifier = _serialize_item(item)
        if identifier in seen:
            raise SignatureError(f"component {identifier} is covered twice")
        seen.add(identifier)
        value = _component_value(item.value, item.params, request)
        if "\n" in value:
            raise SignatureError(f"component {identifier} has a newline in its value")
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {_serialize_inner_list(inner)}')
    return "\n".join(lines)


def _component_value(name: str, params: dict[str, object], request: _Request) -> str:
    if name != name.lower():
        raise SignatureError(f"component name {name!r} is not lower-case")
    allowed = {"name"} if name == "@query-param" else set()
    if set(params) - allowed:
        raise SignatureError(f"unsupported parameter on component {name}: {', '.join(params)}")
    if not name.startswith("@"):
        return _field_value(request, name)
    derived = {
        "@method": lambda: request.method,
        "@target-uri": lambda: request.target_uri,
        "@authority": lambda: request.authority,
        "@scheme": lambda: request.scheme,
        "@request-target": lambda: request.request_target,
        "@path": lambda: request.path,
        "@query": lambda: f"?{request.query}",  # "?" alone when there is none (2.2.7)
        "@query-param": lambda: _query_param(request.query, params.get("name")),
    }
    if name not in derived:
        raise SignatureError(f"unsupported derived component {name}")
    return derived[name]()


def _form_encode(text: str) -> str:
    # RFC 9421 2.2.8: re-encode with the application/x-www-form-urlencoded
    # percent-encode set (space as %20, not "+").
    return "".join(
        chr(byte) if (chr(byte).isalnum() and byte < 128) or chr(byte) in "*-._" else f"%{byte:02X}"
        for byte in text.encode()
    )


def _query_param(query: str, name: object) -> str:
    if type(name) is not str:
        raise SignatureError("@query-param needs a string name parameter")
    pairs = parse_qsl(query, keep_blank_values=True)
    values = [value for key, value in pairs if _form_encode(key) == name]
    if len(values) != 1:
        problem = "is not in the request" if not values else "appears more than once"
        raise SignatureError(f"query parameter {name} {problem}")
    return _form_encode(values[0])


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    label: str = "sig1",
    created: datetime | None = None,
    expires: datetime | None = None,
    nonce: str | None = None,
    tag: str | None = None,
    components: tuple[str, ...] | None = None,
    alg: str | None = None,
    include_alg: bool = True,
) -> dict[str, str]:
    """Sign a request with RFC 9421; return Signature-Input, Signature and,
    when the request has a body, Content-Digest (sha-256).

    Covers `@method @target-uri` (+ `content-digest` with a body) unless
    `components` says otherwise. `alg` defaults from the key: rsa-v1_5-sha256
    for RSA (what the fediverse uses), ed25519 for Ed25519."""
    if not _SF_KEY.fullmatch(label):
        raise ValueError(f"{label!r} is not a valid signature label")
    added = {}
    has_body = _has_body(method, body)
    if has_body:
        added["Content-Digest"] = content_digest_header(body or b"")
    if components is None:
        components = ("@method", "@target-uri") + (("content-digest",) if has_body else ())
    alg = alg or _default_primitive(private_key)
    if alg not in _PRIMITIVES or _PRIMITIVES[alg].kind != _key_kind(private_key, error=ValueError):
        raise ValueError(f"algorithm {alg} cannot be used with this key")
    params: dict[str, object] = {"created": int((created or clock.now()).timestamp())}
    if expires is not None:
        params["expires"] = int(expires.timestamp())
    params["keyid"] = key_id
    if include_alg:
        params["alg"] = alg
    if nonce is not None:
        params["nonce"] = nonce
    if tag is not None:
        params["tag"] = tag
    inner = _InnerList([_Item(name, {}) for name in components], params)
    existing = _header_map(headers) | {name.lower(): value for name, value in added.items()}
    base = _signature_base(inner, _request(method, url, existing))
    signature = _PRIMITIVES[alg].sign(private_key, base.encode())
    added["Signature-Input"] = f"{label}={_serialize_inner_list(inner)}"
    added["Signature"] = f"{label}={_serialize_bare(signature)}"
    return added


# --- the server entry point --------------------------------------------------

KeyLookup = Callable[[str], Awaitable[PublicKey]]


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key_lookup: KeyLookup,
    *,
    now: datetime,
    max_skew: timedelta = timedelta(hours=1),
    required_components: Collection[str] | None = None,
    refetch: KeyLookup | None = None,
) -> VerifiedSignature:
    """Verify an incoming request's signature, or raise SignatureError.

    Policy, on top of the cryptography:
    - RFC 9421 when Signature-Input is present, else cavage.
    - The signature must cover `required_components` (see REQUIREMENTS;
      default request-target, host, date); a request with a body must also
      cover its digest, whatever the caller asks.
    - Date (when covered) and `created` must lie within
      [now - max_skew, now + FUTURE_TOLERANCE]; a past `expires` is refused.
      Mastodon accepts 12 hours in the past; we accept one hour by default:
      deliveries are signed when sent, and retries sign afresh.
    - Any Digest / Content-Digest present must match the body.
    - The key comes from `key_lookup(keyId)` (which may raise KeyNotFound).
      If that key fails (unknown, wrong type or wrong signature) and
      `refetch` is given, it is called once for a fresh key (the actor may
      have rotated it) and the signature is checked against that.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    request = _request(method, url, _header_map(headers))
    parsed = _parse(request)
    requirements = set(DEFAULT_REQUIREMENTS if required_components is None else required_components)
    if requirements - REQUIREMENTS:
        raise ValueError(f"unknown requirements: {sorted(requirements - REQUIREMENTS)}")
    if _has_body(method, body):
        requirements.add("digest")
    _check_coverage(parsed, request, requirements)
    _check_times(parsed, request, now, max_skew)
    if "digest" in requirements or {"digest", "content-digest"} & request.headers.keys():
        check_body_digest(request.headers, body)
    await _check_with_key(parsed, key_lookup, refetch)
    return VerifiedSignature(parsed.key_id, parsed.scheme)


def _check_coverage(parsed: ParsedSignature, request: _Request, requirements: set[str]) -> None:
    """Each requirement (see REQUIREMENTS) in the scheme's own names."""
    covered = set(parsed.covered)
    digest = bool(covered & {"digest", "content-digest"})
    if parsed.scheme == "cavage":
        met = {
            "request-target": ("(request-target)" in covered, "(request-target)"),
            "host": ("host" in covered, "host"),
            "date": (bool(covered & {"date", "(created)"}), "date or (created)"),
            "digest": (digest, "the body digest (digest)"),
        }
    else:
        # @path leaves the query unsigned unless @query is covered too.
        path = "@path" in covered and ("@query" in covered or not request.query)
        target = path or bool(covered & {"@target-uri", "@request-target"})
        met = {
            "request-target": ("@method" in covered and target, "@method and @target-uri"),
            "host": (bool(covered & {"@authority", "@target-uri", "host"}), "@authority"),
            # `created` sits in @signature-params, which is always signed.
            "date": ("date" in covered or parsed.created is not None, "date or created"),
            "digest": (digest, "the body digest (content-digest)"),
        }
    for requirement in sorted(requirements):
        ok, description = met[requirement]
        if not ok:
            raise SignatureError(f"signature does not cover {description}")


def _check_times(
    parsed: ParsedSignature, request: _Request, now: datetime, max_skew: timedelta
) -> None:
    if "date" in parsed.covered:
        _check_fresh("Date header", _parse_http_date(request.headers["date"]), now, max_skew)
    if parsed.created is not None:
        _check_fresh("signature (created)", _from_timestamp(parsed.created), now, max_skew)
    if parsed.expires is not None and _from_timestamp(parsed.expires) < now:
        expired_for = now - _from_timestamp(parsed.expires)
        raise SignatureError(f"signature expired {_describe(expired_for)} ago")


async def _check_with_key(
    parsed: ParsedSignature, key_lookup: KeyLookup, refetch: KeyLookup | None
) -> None:
    try:
        parsed.verify(await key_lookup(parsed.key_id))
        return
    except SignatureError:  # includes KeyNotFound
        if refetch is None:
            raise
    parsed.verify(await refetch(parsed.key_id))
