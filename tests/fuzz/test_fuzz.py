"""Hostile input against the three parsers every stranger can reach: the
inbox's JSON reading, the HTTP signature verifier, and the one HTML
sanitiser. Whatever comes in, each either accepts it or refuses it with its
own error (a 4xx at the edge), never another exception (a 500), never a
RecursionError, and the sanitiser never lets through markup outside its list."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from html.parser import HTMLParser

from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

from federation import inbox, parse, signatures
from models.errors import DomainError
from models.text import ALLOWED_ATTRIBUTES, ALLOWED_PROTOCOLS, ALLOWED_TAGS, clean_html, render_markdown
from tests.fuzz.conftest import BATCH

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
URL = "https://circles.test/inbox"

# JSON as hostile peers send it: any nesting, with the fields our readers look for.
KEYS = st.sampled_from(["id", "type", "actor", "object", "to", "cc", "content", "name", "attributedTo",
                        "inReplyTo", "tag", "attachment", "url", "href", "summary", "published",
                        "audience", "source", "mediaType", "contentMap", "icon", "@context"])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40) | \
    st.sampled_from(["https://remote.example/users/a", "http://remote.example/a", "https://x/", "Note",
                     "Create", "Page", "https://www.w3.org/ns/activitystreams#Public", "javascript:alert(1)"])
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8),
                                                                                       inner, max_size=6),
                    max_leaves=40)


def test_the_inbox_reads_any_body_or_refuses_it(fuzz_for):
    @BATCH
    @given(content_type=st.sampled_from(["application/activity+json", "application/ld+json", "text/html", ""]),
           body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
    def check(content_type, body):
        try:
            activity = inbox.parse_activity(content_type, body)
        except inbox.Refused as refused:
            assert 400 <= refused.status < 500 and refused.reason
            return
        assert isinstance(activity, dict) and isinstance(activity["type"], str)

    fuzz_for(check)


def test_the_inbox_refuses_nesting_of_any_depth_without_recursion(fuzz_for):
    @BATCH
    @given(depth=st.integers(min_value=0, max_value=200_000), as_list=st.booleans())
    def check(depth, as_list):
        inner = "[" * depth + "]" * depth if as_list else '{"a":' * depth + "1" + "}" * depth
        body = ('{"id":"https://r.example/1","type":"Create","actor":"https://r.example/u","object":%s}' % inner)
        try:
            inbox.parse_activity("application/activity+json", body.encode())
        except inbox.Refused as refused:
            assert refused.status in (400, 413)

    fuzz_for(check)


def test_the_readers_of_remote_documents_refuse_with_their_own_error(fuzz_for):
    @BATCH
    @given(doc=st.dictionaries(KEYS, JSON, max_size=10))
    def check(doc):
        for read in (
            lambda: parse.as_to_post_input(doc, local_circle_uris={"https://circles.test/c/readers"}),
            lambda: parse.as_to_actor_input(doc, fetched_from="https://remote.example/users/a"),
            lambda: parse.as_to_meeting_input(doc),
        ):
            try:
                read()
            except (parse.InvalidDocument, DomainError):
                pass
        parse.id_of(doc.get("id"))
        parse.type_of(doc)

    fuzz_for(check)


KEY = ed25519.Ed25519PrivateKey.generate()
KEY_ID = "https://remote.example/users/a#ed25519-key"
HEADER_NAMES = st.sampled_from(["signature", "signature-input", "date", "digest", "content-digest", "host",
                                "content-type", "(request-target)", "created"])


async def _lookup(key_id: str, **_):
    if key_id != KEY_ID:
        raise signatures.KeyNotFound("no such key")
    return KEY.public_key()


def _verify(headers: dict, body: bytes) -> None:
    asyncio.run(signatures.verify_request("POST", URL, headers, body, _lookup, now=NOW))


def _signed(body: bytes, scheme: str) -> dict:
    base = {"Host": "circles.test", "Content-Type": "application/activity+json"}
    if scheme == "cavage":
        return base | signatures.sign_cavage("POST", URL, base, body, KEY_ID, KEY, now=NOW)
    return base | signatures.sign_rfc9421("POST", URL, base, body, KEY_ID, KEY, created=NOW)


def test_the_verifier_refuses_any_forged_headers_with_a_signature_error(fuzz_for):
    @BATCH
    @given(headers=st.dictionaries(HEADER_NAMES, st.text(max_size=120), max_size=6), body=st.binary(max_size=64))
    def check(headers, body):
        try:
            _verify({"host": "circles.test", **headers}, body)
        except signatures.SignatureError as error:
            assert error.reason
        else:
            raise AssertionError("forged headers were accepted")

    fuzz_for(check)


def _flip_signature_bit(headers: dict, scheme: str, bit: int) -> dict:
    """The same headers with one bit of the signature's bytes flipped."""
    name = "Signature"
    value = headers[name]
    if scheme == "cavage":
        prefix, encoded = value.rsplit('signature="', 1)
        encoded, suffix = encoded[:-1], '"'
        prefix += 'signature="'
    else:
        prefix, encoded, suffix = value.split(":", 2)[0] + ":", value.split(":", 2)[1], ":"
    raw = bytearray(base64.b64decode(encoded))
    raw[(bit // 8) % len(raw)] ^= 1 << (bit % 8)
    return headers | {name: prefix + base64.b64encode(bytes(raw)).decode() + suffix}


def test_a_signed_request_verifies_and_any_change_to_it_does_not(fuzz_for):
    @BATCH
    @given(body=st.binary(min_size=1, max_size=200), scheme=st.sampled_from(["cavage", "rfc9421"]),
           data=st.data())
    def check(body, scheme, data):
        headers = _signed(body, scheme)
        _verify(headers, body)  # the genuine request passes
        position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        flipped = body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1:]
        # A covered header's value (RFC 9421 signs our own URL, not the Host header).
        covered = {"Date", "Digest", "Content-Digest", "Host"} & set(headers) - ({"Host"} if scheme == "rfc9421" else set())
        name = data.draw(st.sampled_from(sorted(covered)))
        value = headers[name]
        cut = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
        tampered = headers | {name: value[:cut] + ("X" if value[cut] != "X" else "Y") + value[cut + 1:]}
        forged = _flip_signature_bit(headers, scheme, data.draw(st.integers(min_value=0, max_value=511)))
        for changed_headers, changed_body in ((headers, flipped), (tampered, body), (forged, body)):
            try:
                _verify(changed_headers, changed_body)
            except signatures.SignatureError:
                continue
            raise AssertionError(f"a changed request verified: {changed_headers} {changed_body!r}")

    fuzz_for(check)


class _Markup(HTMLParser):
    """Every tag and attribute in sanitised HTML, as a browser's tokeniser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def _assert_safe(output: str) -> None:
    markup = _Markup()
    markup.feed(output)
    markup.close()
    for tag, attrs in markup.tags:
        assert tag in ALLOWED_TAGS, (tag, output)
        allowed = ALLOWED_ATTRIBUTES.get(tag, [])
        for name, value in attrs:
            if tag == "a" and name == "href":
                scheme, sep, _ = (value or "").strip().partition(":")
                assert sep and scheme.lower() in ALLOWED_PROTOCOLS, (value, output)
            elif tag == "a":
                assert name in {"title", "rel", "class"}, (name, output)
            else:
                assert name in allowed, (tag, name, output)


HTMLISH = st.lists(
    st.sampled_from(["<", ">", "/", "script", "a", "img", "svg", "style", "iframe", " href=", " onclick=", " src=",
                     "javascript:", "JaVaScRiPt&colon;", "data:text/html,", "\"", "'", "=", "&lt;", "&#x3C;",
                     "<!--", "-->", "<![CDATA[", "]]>", "\x00", "\u202e", "[x](", ")", "**", "`", "\n"])
    | st.text(max_size=8),
    max_size=40,
).map("".join)


def test_the_sanitiser_lets_only_its_allowed_markup_through(fuzz_for):
    @BATCH
    @given(source=HTMLISH | st.text(max_size=300))
    def check(source):
        cleaned = clean_html(source)
        _assert_safe(cleaned)
        assert clean_html(cleaned) == cleaned  # cleaning twice changes nothing more
        _assert_safe(render_markdown(source))

    fuzz_for(check)
