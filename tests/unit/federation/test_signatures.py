"""federation/signatures.py: published test vectors, round trips, every refusal.

Published material (keys in tests/fixtures/signatures/, see its README):
- RFC 9421 Appendix B.2 (B.2.1, B.2.2, B.2.3, B.2.6) and the B.4 transformation
  example, over the B.2 test request;
- draft-cavage-http-signatures-12 Appendix C (C.1, C.2, C.3);
- base58btc examples (Bitcoin wiki / draft-msporny-base58) and the
  vc-di-eddsa Multikey key pair.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from werkzeug.datastructures import Headers

from federation import signatures as sig
from federation.signatures import (
    KeyNotFound,
    SignatureError,
    VerifiedSignature,
    check_body_digest,
    content_digest_header,
    digest_header,
    http_date,
    load_private_key,
    load_public_key,
    parse_signature,
    public_key_from_multibase,
    public_key_to_multibase,
    public_key_to_pem,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "signatures"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- keys --------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_a() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_b() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ed_a() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def lookup(key):
    async def key_lookup(key_id: str):
        return key

    return key_lookup


class Fetcher:
    """A key lookup that records its calls; raises `result` if it is an exception."""

    def __init__(self, result) -> None:
        self.result = result
        self.calls: list[str] = []

    async def __call__(self, key_id: str):
        self.calls.append(key_id)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def verify(method, url, headers, body, public_key, **options) -> VerifiedSignature:
    options.setdefault("now", NOW)
    return await verify_request(method, url, headers, body, lookup(public_key), **options)


async def refused(method, url, headers, body, public_key, **options) -> str:
    with pytest.raises(SignatureError) as caught:
        await verify(method, url, headers, body, public_key, **options)
    return caught.value.reason


INBOX = "https://example.org/inbox"
ACTIVITY = b'{"type": "Follow", "actor": "https://remote.example/users/alice"}'
KEY_ID = "https://remote.example/users/alice#main-key"


def signed_post(private_key, scheme="cavage", body=ACTIVITY, now=NOW, **options) -> dict:
    """Headers of a POST to INBOX signed with `scheme` at `now`."""
    headers = {"Content-Type": "application/activity+json"}
    if scheme == "cavage":
        added = sign_cavage("POST", INBOX, headers, body, KEY_ID, private_key, now=now, **options)
    else:
        added = sign_rfc9421(
            "POST", INBOX, headers, body, KEY_ID, private_key, created=now, **options
        )
        added.setdefault("Host", "example.org")
    return headers | added


# --- the published keys load, and each private half matches its public half --

PUBLISHED_KEYS = [
    "rfc9421-test-key-rsa",
    "rfc9421-test-key-rsa-pss",
    "rfc9421-test-key-ed25519",
    "cavage-12-test-key",
]


@pytest.mark.parametrize("name", PUBLISHED_KEYS)
def test_published_key_pairs_load_and_match(name):
    private = load_private_key(fixture(f"{name}.pem"))
    public = load_public_key(fixture(f"{name}.pub.pem"))
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert private.public_key().public_bytes(*spki) == public.public_bytes(*spki)


def test_public_keys_load_from_pkcs1_and_spki():
    pkcs1 = fixture("rfc9421-test-key-rsa.pub.pem")
    assert "BEGIN RSA PUBLIC KEY" in pkcs1
    key = load_public_key(pkcs1)
    spki = public_key_to_pem(key)
    assert spki.startswith("-----BEGIN PUBLIC KEY-----")
    assert load_public_key(spki).public_numbers() == key.public_numbers()
    ed = fixture("rfc9421-test-key-ed25519.pub.pem")
    assert public_key_to_pem(load_public_key(ed)).strip() == ed.strip()


def test_key_loaders_refuse_garbage_and_unsupported_types():
    with pytest.raises(ValueError):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")
    with pytest.raises(ValueError):
        load_private_key("hello")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="unsupported key type"):
        load_public_key(ec_pem.decode())


# --- RFC 9421 Appendix B ------------------------------------------------------

B2_URL = "https://example.com/foo?param=Value&Pet=dog"
B2_BODY = b'{"hello": "world"}'
B2_CONTENT_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
    "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
B2_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": B2_CONTENT_DIGEST,
    "Content-Length": "18",
}
B2_CREATED = datetime.fromtimestamp(1618884473, timezone.utc)

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it"
    "++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR"
    "72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb"
    "/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B21_BASE = (
    '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
    ';nonce="b3k2pp5k7z-50gnwp.yemd"'
)

B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet")'
    ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDf"
    "KtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLE"
    "uEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99P"
    "ZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:"
)
B22_BASE = (
    '"@authority": example.com\n'
    f'"content-digest": {B2_CONTENT_DIGEST}\n'
    '"@query-param";name="Pet": dog\n'
    '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
    ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
)

B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest"'
    ' "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeG"
    "t683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLN"
    "mvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Ei"
    "m5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B23_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@query": ?param=Value&Pet=dog\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    f'"content-digest": {B2_CONTENT_DIGEST}\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type"'
    ' "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)

B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPp"
    "BKRCw==:"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type"'
    ' "content-length");created=1618884473;keyid="test-key-ed25519"'
)


@pytest.mark.parametrize(
    ("signature_input", "signature", "base"),
    [
        (B21_INPUT, B21_SIGNATURE, B21_BASE),
        (B22_INPUT, B22_SIGNATURE, B22_BASE),
        (B23_INPUT, B23_SIGNATURE, B23_BASE),
    ],
    ids=["B.2.1-minimal", "B.2.2-selective", "B.2.3-full"],
)
def test_rfc9421_rsa_pss_examples_verify(signature_input, signature, base):
    # RSA-PSS is randomised, so these published signatures can only be verified.
    headers = B2_HEADERS | {"Signature-Input": signature_input, "Signature": signature}
    parsed = parse_signature("POST", B2_URL, headers)
    assert parsed.base.decode() == base
    assert parsed.key_id == "test-key-rsa-pss"
    assert parsed.algorithm is None  # no alg: inferred from the key
    parsed.verify(load_public_key(fixture("rfc9421-test-key-rsa-pss.pub.pem")))


def test_rfc9421_b21_fails_with_another_nonce():
    tampered = B21_INPUT.replace("b3k2pp5k7z", "b3k2pp5k7y")
    headers = B2_HEADERS | {"Signature-Input": tampered, "Signature": B21_SIGNATURE}
    parsed = parse_signature("POST", B2_URL, headers)
    with pytest.raises(SignatureError, match="does not verify"):
        parsed.verify(load_public_key(fixture("rfc9421-test-key-rsa-pss.pub.pem")))


def test_rfc9421_b26_ed25519_signing_reproduces_the_published_signature():
    added = sign_rfc9421(
        "POST",
        B2_URL,
        B2_HEADERS,
        B2_BODY,
        "test-key-ed25519",
        load_private_key(fixture("rfc9421-test-key-ed25519.pem")),
        label="sig-b26",
        created=B2_CREATED,
        components=("date", "@method", "@path", "@authority", "content-type", "content-length"),
        include_alg=False,
    )
    assert added["Signature-Input"] == B26_INPUT
    assert added["Signature"] == B26_SIGNATURE


def test_rfc9421_b26_ed25519_published_signature_verifies():
    headers = B2_HEADERS | {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    parsed = parse_signature("POST", B2_URL, headers)
    assert parsed.base.decode() == B26_BASE
    parsed.verify(load_public_key(fixture("rfc9421-test-key-ed25519.pub.pem")))
    with pytest.raises(SignatureError, match="does not verify"):
        parsed.verify(ed25519.Ed25519PrivateKey.generate().public_key())


def test_rfc9421_b4_transformation_example_combines_repeated_fields():
    # B.4: a GET with two Accept field lines, which the base joins with ", ".
    headers = Headers(
        [
            ("Host", "example.org"),
            ("Date", "Fri, 15 Jul 2022 14:24:55 GMT"),
            ("Accept", "application/json"),
            ("Accept", "*/*"),
            (
                "Signature-Input",
                'transform=("@method" "@path" "@authority" "accept")'
                ';created=1618884473;keyid="test-key-ed25519"',
            ),
            (
                "Signature",
                "transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMF"
                "FQ6cpLt2m0pmj3NDA==:",
            ),
        ]
    )
    parsed = parse_signature("GET", "https://example.org/demo?name1=Value1&Name2=value2", headers)
    assert parsed.base.decode().splitlines()[3] == '"accept": application/json, */*'
    parsed.verify(load_public_key(fixture("rfc9421-test-key-ed25519.pub.pem")))


async def test_rfc9421_b21_is_refused_by_policy():
    # Valid, but covers nothing of the request: a server must not accept it.
    headers = B2_HEADERS | {"Signature-Input": B21_INPUT, "Signature": B21_SIGNATURE}
    key = load_public_key(fixture("rfc9421-test-key-rsa-pss.pub.pem"))
    reason = await refused("POST", B2_URL, headers, B2_BODY, key, now=B2_CREATED)
    assert reason == "signature does not cover the body digest (content-digest)"
    reason = await refused(
        "GET", B2_URL, headers, b"", key, now=B2_CREATED, required_components={"host"}
    )
    assert reason == "signature does not cover @authority"


def test_rfc9421_b2_content_digest_matches_the_body():
    check_body_digest({"Content-Digest": B2_CONTENT_DIGEST}, B2_BODY)


# --- draft-cavage-http-signatures-12 Appendix C -------------------------------

C_URL = "https://example.com/foo?param=value&pet=dog"
C_BODY = b'{"hello": "world"}'
C_DIGEST = "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
C_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": C_DIGEST,
    "Content-Length": "18",
}
C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5"
    "lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3H"
    "Mbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52L"
    "aEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)
C3_HEADERS_LIST = "(request-target) host date content-type digest content-length"
C3_SIGNING_STRING = (
    "(request-target): post /foo?param=value&pet=dog\n"
    "host: example.com\n"
    "date: Sun, 05 Jan 2014 21:31:40 GMT\n"
    "content-type: application/json\n"
    f"digest: {C_DIGEST}\n"
    "content-length: 18"
)


def cavage_test_key():
    return load_private_key(fixture("cavage-12-test-key.pem"))


def cavage_public_key():
    return load_public_key(fixture("cavage-12-test-key.pub.pem"))


def signature_param(header: str) -> str:
    return re.search(r'signature="([^"]*)"', header).group(1)


def test_cavage_c_example_digest_header():
    assert digest_header(C_BODY) == C_DIGEST


def test_cavage_c1_default_test():
    added = sign_cavage(
        "POST", C_URL, C_HEADERS, C_BODY, "Test", cavage_test_key(), covered=("date",)
    )
    assert signature_param(added["Signature"]) == C1_SIGNATURE
    # The published header has no headers= parameter: "date" is the default.
    published = f'Signature keyId="Test",algorithm="rsa-sha256",signature="{C1_SIGNATURE}"'
    parsed = parse_signature("POST", C_URL, C_HEADERS | {"Authorization": published})
    assert parsed.base == b"date: Sun, 05 Jan 2014 21:31:40 GMT"
    parsed.verify(cavage_public_key())


def test_cavage_c2_basic_test():
    added = sign_cavage(
        "POST", C_URL, C_HEADERS, C_BODY, "Test", cavage_test_key(),
        covered=("(request-target)", "host", "date"),
    )
    published = (
        'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
        f'signature="{C2_SIGNATURE}"'
    )
    assert added["Signature"] == published
    parsed = parse_signature("POST", C_URL, C_HEADERS | {"Authorization": f"Signature {published}"})
    assert parsed.base.decode() == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT"
    )
    parsed.verify(cavage_public_key())


def test_cavage_c3_all_headers_test():
    added = sign_cavage(
        "POST", C_URL, C_HEADERS, C_BODY, "Test", cavage_test_key(),
        covered=tuple(C3_HEADERS_LIST.split()),
    )
    assert added["Digest"] == C_DIGEST
    assert signature_param(added["Signature"]) == C3_SIGNATURE
    header = (
        f'keyId="Test",algorithm="rsa-sha256",headers="{C3_HEADERS_LIST}",'
        f'signature="{C3_SIGNATURE}"'
    )
    parsed = parse_signature("POST", C_URL, C_HEADERS | {"Signature": header})
    assert parsed.base.decode() == C3_SIGNING_STRING
    parsed.verify(cavage_public_key())


def test_cavage_c3_as_printed_is_refused():
    # The draft prints C.3 with (created) (expires) in the list and rsa-sha256,
    # which its own section 2.3 says MUST be an error; its signature is over
    # the list without them (the draft warns its vectors are "old and possibly
    # wrong"). We follow section 2.3.
    printed = (
        'keyId="Test",algorithm="rsa-sha256",created=1402170695, expires=1402170699,'
        'headers="(request-target) (created) (expires) host date content-type digest'
        f' content-length",signature="{C3_SIGNATURE}"'
    )
    with pytest.raises(SignatureError, match=r"\(created\) cannot be signed with .* rsa-sha256"):
        parse_signature("POST", C_URL, C_HEADERS | {"Signature": printed})


# --- base58btc and FEP-521a Multikey ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (bytes.fromhex("00000000287fb4cd"), "1111233QC4"),
        (b"", ""),
    ],
)
def test_base58btc_published_examples(raw, encoded):
    assert sig._b58encode(raw) == encoded
    assert sig._b58decode(encoded) == raw


def test_multikey_published_vc_di_eddsa_key_pair():
    # vc-di-eddsa test vectors: the public Multikey of this secret key.
    secret = sig._b58decode("3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    public = ed25519.Ed25519PrivateKey.from_private_bytes(secret[2:]).public_key()
    published = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    assert public_key_to_multibase(public) == published
    assert public_key_from_multibase(published).public_bytes_raw() == public.public_bytes_raw()


def test_multikey_round_trip_with_the_rfc9421_ed25519_key():
    key = load_public_key(fixture("rfc9421-test-key-ed25519.pub.pem"))
    encoded = public_key_to_multibase(key)
    assert encoded.startswith("z6Mk")  # every Ed25519 Multikey does
    assert public_key_from_multibase(encoded).public_bytes_raw() == key.public_bytes_raw()


@pytest.mark.parametrize(
    "value",
    [
        "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",  # no multibase prefix
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbT0",  # "0" is not base58
        "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",  # a secret key, not ed25519-pub
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4sw",  # too short
    ],
)
def test_multikey_refuses_malformed_values(value):
    with pytest.raises(ValueError):
        public_key_from_multibase(value)


def test_multikey_refuses_hostile_lengths_before_decoding():
    # base58 decoding is quadratic; remote JSON must not get to make us do it.
    with pytest.raises(ValueError, match="too long"):
        public_key_from_multibase("z" + "2" * 100_000)


def test_multikey_refuses_rsa_keys(rsa_a):
    with pytest.raises(ValueError):
        public_key_to_multibase(rsa_a.public_key())


# --- digests -------------------------------------------------------------------


def test_digest_header_shapes():
    assert digest_header(b"") == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert content_digest_header(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"


@pytest.mark.parametrize(
    "headers",
    [
        {"Digest": digest_header(ACTIVITY)},
        {"digest": digest_header(ACTIVITY).replace("SHA-256", "sha-256")},
        {"Content-Digest": content_digest_header(ACTIVITY)},
        {"Digest": "MD5=AAAA, " + digest_header(ACTIVITY)},  # unknown ones are skipped
        {"Digest": digest_header(ACTIVITY), "Content-Digest": content_digest_header(ACTIVITY)},
    ],
)
def test_check_body_digest_accepts(headers):
    check_body_digest(headers, ACTIVITY)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Digest": digest_header(b"other")}, "Digest (sha-256) does not match the body"),
        ({"Content-Digest": content_digest_header(b"x")}, "Content-Digest (sha-256) does not"),
        (
            {"Content-Digest": B2_CONTENT_DIGEST},  # sha-512 of another body
            "Content-Digest (sha-512) does not match the body",
        ),
        (
            {"Digest": digest_header(ACTIVITY), "Content-Digest": content_digest_header(b"x")},
            "Content-Digest (sha-256) does not match",
        ),
        ({"Digest": "MD5=HUXZLQLMuI/KZ5KDcJPcOA=="}, "unsupported digest algorithm in Digest: md5"),
        ({"Content-Digest": "md5=:HUXZLQLMuI/KZ5KDcJPcOA==:"}, "unsupported digest algorithm"),
        ({"Digest": "SHA-256"}, "malformed Digest header"),
        ({"Digest": "SHA-256=not*base64"}, "Digest header is not valid base64"),
        ({"Content-Digest": 'sha-256="abc"'}, "values must be byte sequences"),
        ({"Content-Digest": "sha-256=:abc"}, "malformed Content-Digest header"),
        ({}, "no Digest or Content-Digest header"),
    ],
)
def test_check_body_digest_refuses(headers, reason):
    with pytest.raises(SignatureError) as caught:
        check_body_digest(headers, ACTIVITY)
    assert reason in caught.value.reason


# --- round trips -----------------------------------------------------------------


def test_http_date_format():
    assert http_date(datetime(2021, 4, 20, 2, 7, 55, tzinfo=timezone.utc)) == (
        "Tue, 20 Apr 2021 02:07:55 GMT"
    )


@pytest.mark.parametrize("key_name", ["rsa_a", "ed_a"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_cavage_round_trip(request, key_name, method):
    key = request.getfixturevalue(key_name)
    body = ACTIVITY if method == "POST" else b""
    headers = {"Accept": "application/activity+json"}
    added = sign_cavage(method, INBOX, headers, body, KEY_ID, key, now=NOW)
    assert ("Digest" in added) == (method == "POST")
    result = await verify(method, INBOX, headers | added, body, key.public_key())
    assert result == VerifiedSignature(KEY_ID, "cavage")


async def test_cavage_ed25519_uses_hs2019(ed_a):
    added = sign_cavage("POST", INBOX, {}, ACTIVITY, KEY_ID, ed_a, now=NOW)
    assert 'algorithm="hs2019"' in added["Signature"]


async def test_cavage_authorization_header_form(rsa_a):
    added = sign_cavage("POST", INBOX, {}, ACTIVITY, KEY_ID, rsa_a, now=NOW)
    headers = {name: value for name, value in added.items() if name != "Signature"}
    headers["Authorization"] = "Signature " + added["Signature"]
    result = await verify("POST", INBOX, headers, ACTIVITY, rsa_a.public_key())
    assert result.scheme == "cavage"


@pytest.mark.parametrize(
    ("key_name", "alg"),
    [("rsa_a", "rsa-v1_5-sha256"), ("rsa_a", "rsa-pss-sha512"), ("ed_a", "ed25519")],
)
@pytest.mark.parametrize("include_alg", [True, False])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_rfc9421_round_trip(request, key_name, alg, include_alg, method):
    key = request.getfixturevalue(key_name)
    body = ACTIVITY if method == "POST" else b""
    added = sign_rfc9421(
        method, INBOX, {}, body, KEY_ID, key, created=NOW, alg=alg, include_alg=include_alg
    )
    assert ("Content-Digest" in added) == (method == "POST")
    assert (f';alg="{alg}"' in added["Signature-Input"]) == include_alg
    result = await verify(method, INBOX, added, body, key.public_key())
    assert result == VerifiedSignature(KEY_ID, "rfc9421")


def test_rfc9421_default_signature_input_shape(rsa_a):
    added = sign_rfc9421("POST", INBOX, {}, ACTIVITY, KEY_ID, rsa_a, created=NOW)
    assert set(added) == {"Signature-Input", "Signature", "Content-Digest"}
    assert added["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest");created={int(NOW.timestamp())}'
        f';keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert re.fullmatch(r"sig1=:[A-Za-z0-9+/]+=*:", added["Signature"])


async def test_rfc9421_verifies_after_harmless_reformatting(ed_a):
    # The base re-serialises Signature-Input, so extra spaces do not matter.
    added = sign_rfc9421("POST", INBOX, {}, ACTIVITY, KEY_ID, ed_a, created=NOW)
    added["Signature-Input"] = added["Signature-Input"].replace("(", "(  ").replace(" ", "   ")
    await verify("POST", INBOX, added, ACTIVITY, ed_a.public_key())


async def test_rfc9421_checks_the_first_of_several_signatures(ed_a):
    added = sign_rfc9421("POST", INBOX, {}, ACTIVITY, KEY_ID, ed_a, created=NOW)
    added["Signature-Input"] += ', proxy=("@method");keyid="proxy"'
    added["Signature"] += ", proxy=:AAAA:"
    result = await verify("POST", INBOX, added, ACTIVITY, ed_a.public_key())
    assert result.key_id == KEY_ID


async def test_rfc9421_optional_parameters_are_signed(ed_a):
    added = sign_rfc9421(
        "POST", INBOX, {}, ACTIVITY, KEY_ID, ed_a, created=NOW,
        expires=NOW + timedelta(minutes=5), nonce="n-1", tag="fediverse",
    )
    assert added["Signature-Input"].endswith(
        f';expires={int(NOW.timestamp()) + 300};keyid="{KEY_ID}";alg="ed25519"'
        ';nonce="n-1";tag="fediverse"'
    )
    await verify("POST", INBOX, added, ACTIVITY, ed_a.public_key())
    added["Signature-Input"] = added["Signature-Input"].replace('"n-1"', '"n-2"')
    assert "does not verify" in await refused("POST", INBOX, added, ACTIVITY, ed_a.public_key())


def test_signers_refuse_bad_arguments(rsa_a, ed_a):
    with pytest.raises(ValueError):
        sign_rfc9421("GET", INBOX, {}, b"", KEY_ID, ed_a, alg="rsa-v1_5-sha256")
    with pytest.raises(ValueError):
        sign_rfc9421("GET", INBOX, {}, b"", KEY_ID, rsa_a, label="Sig 1")
    with pytest.raises(ValueError):
        sign_cavage("GET", INBOX, {}, b"", 'bad"key', rsa_a)


# --- a Mastodon-style request --------------------------------------------------------


async def test_mastodon_style_post(rsa_a):
    key_id = "https://example.org/users/alice#main-key"
    added = sign_cavage("POST", "https://example.org/inbox", {}, ACTIVITY, key_id, rsa_a, now=NOW)
    assert set(added) == {"Host", "Date", "Digest", "Signature"}
    assert added["Host"] == "example.org"
    assert added["Date"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert added["Digest"] == digest_header(ACTIVITY)
    match = re.fullmatch(
        r'keyId="https://example\.org/users/alice#main-key",algorithm="rsa-sha256",'
        r'headers="\(request-target\) host date digest",signature="([A-Za-z0-9+/]+=*)"',
        added["Signature"],
    )
    assert match
    signature = base64.b64decode(match.group(1))
    assert len(signature) == 256  # RSA-2048
    # Independently rebuilt signing string, checked with cryptography directly.
    signing_string = (
        "(request-target): post /inbox\nhost: example.org\n"
        f"date: {added['Date']}\ndigest: {added['Digest']}"
    )
    rsa_a.public_key().verify(
        signature, signing_string.encode(), padding.PKCS1v15(), sig.hashes.SHA256()
    )


# --- refusals ----------------------------------------------------------------------


async def test_unsigned_request_is_refused(rsa_a):
    reason = await refused("POST", INBOX, {"Digest": digest_header(ACTIVITY)}, ACTIVITY, rsa_a)
    assert reason == "request is not signed (no Signature or Signature-Input header)"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_stale_and_future_times_are_refused(rsa_a, scheme):
    old = signed_post(rsa_a, scheme, now=NOW - timedelta(hours=3))
    future = signed_post(rsa_a, scheme, now=NOW + timedelta(minutes=10))
    what = "Date header" if scheme == "cavage" else "signature (created)"
    public = rsa_a.public_key()
    assert await refused("POST", INBOX, old, ACTIVITY, public) == f"{what} is 3 hours old"
    assert await refused("POST", INBOX, future, ACTIVITY, public) == (
        f"{what} is 10 minutes in the future"
    )
    # Inside the window: 59 minutes old, 4 minutes ahead.
    await verify("POST", INBOX, signed_post(rsa_a, scheme, now=NOW - timedelta(minutes=59)),
                 ACTIVITY, public)
    await verify("POST", INBOX, signed_post(rsa_a, scheme, now=NOW + timedelta(minutes=4)),
                 ACTIVITY, public)
    # The window is the caller's to widen.
    await verify("POST", INBOX, old, ACTIVITY, public, max_skew=timedelta(hours=12))


async def test_rfc9421_covered_date_is_checked_too(ed_a):
    headers = {"Date": http_date(NOW - timedelta(hours=2))}
    added = sign_rfc9421(
        "POST", INBOX, headers, ACTIVITY, KEY_ID, ed_a, created=NOW,
        components=("@method", "@target-uri", "content-digest", "date"),
    )
    reason = await refused("POST", INBOX, headers | added, ACTIVITY, ed_a.public_key())
    assert reason == "Date header is 2 hours old"


async def test_covered_date_missing_is_refused(rsa_a):
    headers = signed_post(rsa_a)
    del headers["Date"]
    reason = await refused("POST", INBOX, headers, ACTIVITY, rsa_a.public_key())
    assert reason == "header date is covered by the signature but missing from the request"


async def test_unparseable_date_is_refused(rsa_a):
    headers = {"Date": "yesterday, around noon"}
    headers |= sign_cavage("POST", INBOX, headers, ACTIVITY, KEY_ID, rsa_a)
    reason = await refused("POST", INBOX, headers, ACTIVITY, rsa_a.public_key())
    assert reason.startswith("Date header is not an HTTP date")


async def test_rfc9421_expired_signature_is_refused(ed_a):
    added = sign_rfc9421(
        "POST", INBOX, {}, ACTIVITY, KEY_ID, ed_a,
        created=NOW - timedelta(minutes=10), expires=NOW - timedelta(minutes=2),
    )
    reason = await refused("POST", INBOX, added, ACTIVITY, ed_a.public_key())
    assert reason == "signature expired 2 minutes ago"


def cavage_hs2019_headers(private_key, created: int, expires: int) -> dict:
    """A cavage hs2019 signature with (created)/(expires), built by hand so the
    test does not lean on sign_cavage (which never emits them)."""
    signing_string = (
        f"(request-target): post /inbox\n(created): {created}\n(expires): {expires}\n"
        f"host: example.org\ndigest: {digest_header(ACTIVITY)}"
    )
    signature = base64.b64encode(private_key.sign(signing_string.encode())).decode()
    return {
        "Host": "example.org",
        "Digest": digest_header(ACTIVITY),
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="hs2019",created={created},expires={expires},'
            f'headers="(request-target) (created) (expires) host digest",signature="{signature}"'
        ),
    }


async def test_cavage_created_and_expires(ed_a):
    now = int(NOW.timestamp())
    good = cavage_hs2019_headers(ed_a, now - 30, now + 300)
    assert (await verify("POST", INBOX, good, ACTIVITY, ed_a.public_key())).scheme == "cavage"
    expired = cavage_hs2019_headers(ed_a, now - 600, now - 60)
    reason = await refused("POST", INBOX, expired, ACTIVITY, ed_a.public_key())
    assert reason == "signature expired 1 minute ago"
    stale = cavage_hs2019_headers(ed_a, now - 7200, now + 60)
    reason = await refused("POST", INBOX, stale, ACTIVITY, ed_a.public_key())
    assert reason == "signature (created) is 2 hours old"


@pytest.mark.parametrize(
    ("scheme", "options", "reason"),
    [
        ("cavage", {"covered": ("(request-target)", "host", "date")}, "the body digest (digest)"),
        ("cavage", {"covered": ("host", "date", "digest")}, "(request-target)"),
        ("cavage", {"covered": ("(request-target)", "date", "digest")}, "host"),
        ("cavage", {"covered": ("(request-target)", "host", "digest")}, "date or (created)"),
        ("rfc9421", {"components": ("@method", "@target-uri")}, "the body digest (content-digest)"),
        ("rfc9421", {"components": ("@target-uri", "content-digest")}, "@method and @target-uri"),
        (
            "rfc9421",
            {"components": ("@method", "@path", "content-digest")},
            "@authority",
        ),
    ],
)
async def test_missing_coverage_is_refused(ed_a, scheme, options, reason):
    headers = signed_post(ed_a, scheme, **options)
    assert await refused("POST", INBOX, headers, ACTIVITY, ed_a.public_key()) == (
        f"signature does not cover {reason}"
    )


async def test_rfc9421_path_without_query_does_not_cover_the_target(ed_a):
    url = "https://example.org/users/alice?page=2"
    added = sign_rfc9421(
        "GET", url, {}, b"", KEY_ID, ed_a, created=NOW,
        components=("@method", "@path", "@authority"),
    )
    reason = await refused("GET", url, added, b"", ed_a.public_key())
    assert reason == "signature does not cover @method and @target-uri"
    added = sign_rfc9421(
        "GET", url, {}, b"", KEY_ID, ed_a, created=NOW,
        components=("@method", "@path", "@query", "@authority"),
    )
    await verify("GET", url, added, b"", ed_a.public_key())


async def test_digest_cannot_be_switched_off_for_posts(ed_a):
    headers = signed_post(ed_a, covered=("(request-target)", "host", "date"))
    reason = await refused(
        "POST", INBOX, headers, ACTIVITY, ed_a.public_key(), required_components=()
    )
    assert reason == "signature does not cover the body digest (digest)"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_body_tampered_after_signing_is_refused(rsa_a, scheme):
    headers = signed_post(rsa_a, scheme)
    tampered = ACTIVITY.replace(b"Follow", b"Block")
    reason = await refused("POST", INBOX, headers, tampered, rsa_a.public_key())
    assert "does not match the body" in reason
    # Recomputing the digest does not help: the digest header is signed.
    name, make = ("Digest", digest_header) if scheme == "cavage" else (
        "Content-Digest", content_digest_header
    )
    forged = headers | {name: make(tampered)}
    reason = await refused("POST", INBOX, forged, tampered, rsa_a.public_key())
    assert reason == f"signature does not verify with key {KEY_ID}"


@pytest.mark.parametrize(
    ("scheme", "header", "value"),
    [
        ("cavage", "Date", http_date(NOW - timedelta(minutes=1))),
        ("cavage", "Host", "evil.example"),
        ("rfc9421", "Content-Type", "text/plain"),
    ],
)
async def test_header_changed_after_signing_is_refused(ed_a, scheme, header, value):
    options = {} if scheme == "cavage" else {
        "components": ("@method", "@target-uri", "content-digest", "content-type")
    }
    headers = signed_post(ed_a, scheme, **options) | {header: value}
    reason = await refused("POST", INBOX, headers, ACTIVITY, ed_a.public_key())
    assert reason == f"signature does not verify with key {KEY_ID}"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_url_changed_after_signing_is_refused(rsa_a, scheme):
    headers = signed_post(rsa_a, scheme)
    other_inbox = "https://example.org/users/bob/inbox"
    reason = await refused("POST", other_inbox, headers, ACTIVITY, rsa_a.public_key())
    assert reason == f"signature does not verify with key {KEY_ID}"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_signature_from_another_key_is_refused(rsa_a, rsa_b, ed_a, scheme):
    headers = signed_post(rsa_a, scheme)
    reason = await refused("POST", INBOX, headers, ACTIVITY, rsa_b.public_key())
    assert reason == f"signature does not verify with key {KEY_ID}"
    reason = await refused("POST", INBOX, headers, ACTIVITY, ed_a.public_key())
    assert reason == (
        "algorithm rsa-sha256 does not fit the key, which is Ed25519"
        if scheme == "cavage"
        else "algorithm rsa-v1_5-sha256 does not fit the key, which is Ed25519"
    )


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ('keyId="k",algorithm="rsa-sha256",headers="date",signature="not base64!"',
         "signature is not valid base64"),
        ('keyId="k",signature="AAAA",keyId="j"', "Signature header repeats keyId"),
        ('keyId=k,signature="AAAA"', "malformed Signature header"),
        ('keyId="k",signature="AAAA",', "malformed Signature header"),
        ('keyId="k" signature="AAAA"', "malformed Signature header"),
        ('signature="AAAA"', "Signature header has no keyId"),
        ('keyId="k"', "Signature header has no signature"),
        ('keyId="k",algorithm="hmac-sha256",signature="AAAA"', "unsupported algorithm hmac-sha256"),
        ('keyId="k",headers="",signature="AAAA"', "empty headers list"),
        ('keyId="k",headers="date date",signature="AAAA"', "names a header twice"),
        ('keyId="k",headers="(foo)",signature="AAAA"', "unsupported pseudo-header (foo)"),
        ('keyId="k",headers="x-missing",signature="AAAA"', "header x-missing is covered"),
        ('keyId="k",headers="(created)",signature="AAAA"', "the created parameter is missing"),
        ('keyId="k",created=1.5,signature="AAAA"', "created is not a Unix timestamp"),
    ],
)
async def test_malformed_cavage_signatures_are_refused(rsa_a, signature, reason):
    headers = {"Date": http_date(NOW), "Host": "example.org", "Signature": signature}
    assert reason in await refused("GET", INBOX, headers, b"", rsa_a.public_key())


GOOD_INPUT = 'sig1=("@method" "@target-uri");created=1714564800;keyid="k"'


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ('sig1=("@method" "@target-uri"', "sig1=:AAAA:", "malformed Signature-Input header"),
        ("sig1=(@method);keyid=\"k\"", "sig1=:AAAA:", "malformed Signature-Input header"),
        (GOOD_INPUT + ",", "sig1=:AAAA:", "trailing comma"),
        ("SIG1=();keyid=\"k\"", "SIG1=:AAAA:", "expected a key"),
        ("", "sig1=:AAAA:", "malformed Signature-Input header: empty"),
        ('sig1=();created="now";keyid="k"', "sig1=:AAAA:", "parameter created has the wrong type"),
        ('sig1=();keyid=k', "sig1=:AAAA:", "parameter keyid has the wrong type"),
        ('sig1=("\\x");keyid="k"', "sig1=:AAAA:", "bad escape"),
        ('sig1=();created=1234567890123456;keyid="k"', "sig1=:AAAA:", "number too long"),
        ('sig1="@method";keyid="k"', "sig1=:AAAA:", "is not an inner list"),
        ('sig1=();created=1714564800', "sig1=:AAAA:", "has no keyid"),
        (GOOD_INPUT, "sig2=:AAAA:", "no byte-sequence value for label sig1"),
        (GOOD_INPUT, 'sig1="AAAA"', "no byte-sequence value for label sig1"),
        (GOOD_INPUT, "sig1=:!!!!:", "malformed Signature header"),
        (GOOD_INPUT, "sig1=:AAA*:", "malformed Signature header"),
        (GOOD_INPUT, "sig1=:A:", "not valid base64"),
        (GOOD_INPUT.replace(';keyid', ';alg="hmac-sha256";keyid'), "sig1=:AAAA:",
         "unsupported algorithm hmac-sha256"),
        ('sig1=("@method" "@method");keyid="k"', "sig1=:AAAA:", '"@method" is covered twice'),
        ('sig1=(@status);keyid="k"', "sig1=:AAAA:", "malformed"),
        ('sig1=("@status");keyid="k"', "sig1=:AAAA:", "unsupported derived component @status"),
        ('sig1=("@authority";req);keyid="k"', "sig1=:AAAA:", "unsupported parameter on component"),
        ('sig1=("Host");keyid="k"', "sig1=:AAAA:", "is not lower-case"),
        ('sig1=("x-missing");keyid="k"', "sig1=:AAAA:", "header x-missing is covered"),
        ('sig1=("@query-param";name="nope");keyid="k"', "sig1=:AAAA:", "parameter nope is not"),
        ('sig1=("@query-param");keyid="k"', "sig1=:AAAA:", "needs a string name"),
    ],
)
async def test_malformed_rfc9421_signatures_are_refused(ed_a, signature_input, signature, reason):
    headers = {"Signature-Input": signature_input, "Signature": signature}
    assert reason in await refused("GET", INBOX, headers, b"", ed_a.public_key())


@pytest.mark.parametrize(
    "signature_input",
    [
        'sig1=("@method" "@target-uri");created=99999999999999;keyid="k"',
        'sig1=("@method" "@target-uri");created=1714564800;expires=-99999999999999;keyid="k"',
    ],
)
async def test_absurd_rfc9421_times_are_refused_cleanly(ed_a, signature_input):
    headers = {"Signature-Input": signature_input, "Signature": "sig1=:AAAA:"}
    reason = await refused("GET", INBOX, headers, b"", ed_a.public_key())
    assert reason.endswith("is not a usable Unix timestamp")


async def test_absurd_cavage_times_are_refused_cleanly(ed_a):
    signature = f'keyId="k",created={"9" * 40},headers="(created)",signature="AAAA"'
    reason = await refused(
        "GET", INBOX, {"Signature": signature}, b"", ed_a.public_key(), required_components={"date"}
    )
    assert reason.endswith("is not a usable Unix timestamp")


async def test_unknown_decimal_parameter_is_signed_not_fatal(ed_a):
    # Unknown parameters are part of the signed base; a decimal must re-serialise.
    added = sign_rfc9421("GET", INBOX, {}, b"", KEY_ID, ed_a, created=NOW)
    tampered = added | {"Signature-Input": added["Signature-Input"] + ";weight=1.50"}
    parsed = parse_signature("GET", INBOX, tampered)
    assert parsed.base.decode().endswith(';weight=1.5')
    assert "does not verify" in await refused("GET", INBOX, tampered, b"", ed_a.public_key())


async def test_rfc9421_signature_header_missing(ed_a):
    reason = await refused("GET", INBOX, {"Signature-Input": GOOD_INPUT}, b"", ed_a.public_key())
    assert reason == "request has Signature-Input but no Signature header"


async def test_rfc9421_repeated_query_parameter_is_ambiguous(ed_a):
    url = "https://example.org/search?q=a&q=b"
    headers = {
        "Signature-Input": 'sig1=("@query-param";name="q");keyid="k"',
        "Signature": "sig1=:AAAA:",
    }
    reason = await refused("GET", url, headers, b"", ed_a.public_key())
    assert reason == "query parameter q appears more than once"


async def test_cavage_rsa_sha256_with_created_is_refused(rsa_a):
    signature = 'keyId="k",algorithm="rsa-sha256",created=1,headers="(created)",signature="AAAA"'
    reason = await refused("GET", INBOX, {"Signature": signature}, b"", rsa_a.public_key())
    assert reason == "(created) cannot be signed with algorithm rsa-sha256"


async def test_programming_errors_are_not_signature_errors(rsa_a):
    headers = signed_post(rsa_a)
    with pytest.raises(ValueError, match="timezone-aware"):
        await verify("POST", INBOX, headers, ACTIVITY, rsa_a.public_key(), now=datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="unknown requirements"):
        await verify(
            "POST", INBOX, headers, ACTIVITY, rsa_a.public_key(), required_components={"body"}
        )


async def test_bad_url_is_refused(rsa_a):
    reason = await refused("GET", "/inbox", {"Signature": 'keyId="k",signature="AAAA"'}, b"", rsa_a)
    assert reason == "not an absolute http(s) URL: '/inbox'"


# --- key lookup and refetch ------------------------------------------------------------


async def test_unknown_key_without_refetch_raises_key_not_found(rsa_a):
    headers = signed_post(rsa_a)
    with pytest.raises(KeyNotFound):
        await verify_request(
            "POST", INBOX, headers, ACTIVITY, Fetcher(KeyNotFound(f"no key {KEY_ID}")), now=NOW
        )


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_refetch_once_after_key_rotation(rsa_a, rsa_b, scheme):
    headers = signed_post(rsa_b, scheme)  # the actor now signs with B
    cached, fresh = Fetcher(rsa_a.public_key()), Fetcher(rsa_b.public_key())
    result = await verify_request(
        "POST", INBOX, headers, ACTIVITY, cached, now=NOW, refetch=fresh
    )
    assert result == VerifiedSignature(KEY_ID, scheme)
    assert cached.calls == [KEY_ID]
    assert fresh.calls == [KEY_ID]


async def test_refetched_key_also_wrong_is_refused_after_one_refetch(rsa_a, rsa_b, ed_a):
    headers = signed_post(ed_a, "rfc9421")  # alg="ed25519", but the actor's keys are RSA
    fresh = Fetcher(rsa_b.public_key())
    with pytest.raises(SignatureError) as caught:
        await verify_request(
            "POST", INBOX, headers, ACTIVITY, Fetcher(rsa_a.public_key()), now=NOW, refetch=fresh
        )
    assert caught.value.reason == "algorithm ed25519 does not fit the key, which is RSA"
    assert fresh.calls == [KEY_ID]
    headers = signed_post(rsa_a)
    fresh = Fetcher(rsa_b.public_key())
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request(
            "POST", INBOX, headers, ACTIVITY, Fetcher(rsa_b.public_key()), now=NOW, refetch=fresh
        )
    assert fresh.calls == [KEY_ID]


async def test_refetch_after_key_not_found(rsa_a):
    headers = signed_post(rsa_a, "rfc9421")
    fresh = Fetcher(rsa_a.public_key())
    result = await verify_request(
        "POST", INBOX, headers, ACTIVITY, Fetcher(KeyNotFound("unknown")), now=NOW, refetch=fresh
    )
    assert result.key_id == KEY_ID
    assert fresh.calls == [KEY_ID]
    gone = Fetcher(KeyNotFound("the actor is gone"))
    with pytest.raises(KeyNotFound):
        await verify_request(
            "POST", INBOX, headers, ACTIVITY, Fetcher(KeyNotFound("unknown")), now=NOW, refetch=gone
        )
    assert gone.calls == [KEY_ID]


async def test_no_refetch_when_the_cached_key_works(rsa_a):
    fresh = Fetcher(rsa_a.public_key())
    await verify_request(
        "POST", INBOX, signed_post(rsa_a), ACTIVITY, Fetcher(rsa_a.public_key()), now=NOW,
        refetch=fresh,
    )
    assert fresh.calls == []


async def test_no_key_lookup_for_requests_refused_before_the_key_matters(rsa_a):
    # Stale, uncovered or digest-mismatched requests never cause key fetches.
    cached, fresh = Fetcher(rsa_a.public_key()), Fetcher(rsa_a.public_key())
    for headers, body in [
        (signed_post(rsa_a, now=NOW - timedelta(hours=5)), ACTIVITY),
        (signed_post(rsa_a, covered=("(request-target)", "host", "date")), ACTIVITY),
        (signed_post(rsa_a), b"{}"),
    ]:
        with pytest.raises(SignatureError):
            await verify_request("POST", INBOX, headers, body, cached, now=NOW, refetch=fresh)
    assert cached.calls == [] and fresh.calls == []
