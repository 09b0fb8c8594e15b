"""Mastodon.py (https://github.com/halcy/Mastodon.py), a real client library,
signs in to a served Circles: it registers an app, a person consents on the
web page over real HTTP (logged in through the login form, with CSRF), the
library exchanges the code, and then reads the instance and the person's
own account with its version checks on."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonUnauthorizedError

from tests.servers import press_authorize, sign_up

CALLBACK = "http://127.0.0.1:9/callback"  # never reached: the code is read from the redirect
SCOPES = ["read", "write", "follow"]


async def consent(base_url: str, authorize_url: str, username: str) -> str:
    """Sign up and log in as a browser would, open the consent page, press
    Authorize; the code from the redirect to the app."""
    async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=10) as browser:
        await sign_up(browser, username)
        answer = await press_authorize(browser, authorize_url)
    assert answer.status_code == 302, answer.text[:2000]
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["opaque-state"]
    return query["code"][0]


async def signed_in(circles, username: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "Circles interop", scopes=SCOPES, redirect_uris=CALLBACK, website="https://example.org",
        api_base_url=circles.base_url,
    )
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=circles.base_url,
                 version_check_mode="created")
    url = m.auth_request_url(redirect_uris=CALLBACK, scopes=SCOPES, state="opaque-state", allow_http=True)
    assert url.startswith(f"{circles.base_url}/oauth/authorize?")  # from our oauth-authorization-server metadata
    code = await consent(circles.base_url, url, username)
    m.log_in(code=code, redirect_uri=CALLBACK, scopes=SCOPES, allow_http=True)
    return m


async def test_mastodon_py_signs_in_and_reads_the_instance(circles):
    m = await signed_in(circles, "ada")
    token = m.access_token
    assert token
    assert m.app_verify_credentials()["name"] == "Circles interop"
    instance = m.instance()  # v2 where the server is 4.x
    assert instance["domain"] == urlsplit(circles.base_url).netloc
    assert instance["version"].startswith("4.3.0 (compatible; Circles ")
    assert (m.mastodon_major, m.mastodon_minor) == (4, 3)
    assert m.mastodon_api_version == 2
    assert m.verify_minimum_version("4.0.0", cached=True)
    assert m.instance_v1()["uri"] == instance["domain"]
    m.revoke_access_token(allow_http=True)  # POST /oauth/revoke with the app's credentials
    m.access_token = token
    with pytest.raises(MastodonUnauthorizedError):
        m.app_verify_credentials()


async def test_mastodon_py_reads_the_signed_in_account(circles):
    m = await signed_in(circles, "grace")
    assert m.account_verify_credentials()["username"] == "grace"


async def test_mastodon_py_reads_the_rate_limit_headers(circles):
    """Mastodon.py paces itself by X-RateLimit-* (mastodon/internals.py: an
    unparseable Reset raises MastodonRatelimitError on every call)."""
    m = await signed_in(circles, "hedy")
    m.account_verify_credentials()
    first = m.ratelimit_remaining
    m.timeline_home()
    assert m.ratelimit_limit == 300
    assert m.ratelimit_remaining == first - 1 < 300
    assert time.time() < m.ratelimit_reset <= time.time() + 300 + 5  # this 5-minute window's end, read from the date
