"""OAuth for apps over HTTP: registering (POST /api/v1/apps), the consent
page (a logged-in browser with CSRF), the token and revoke endpoints with
Doorkeeper's errors, the server metadata, CORS, and tokens revoked when a
person's password or standing changes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from models import clock
from models.accounts import AccountState
from models.oauth import OAuthGrant
from models.services import accounts as account_service
from models.services import oauth
from tests.factories import PASSWORD
from tests.integration.mastodon.conftest import REDIRECT
from tests.conftest import csrf_from
from tests.integration.webforms import logged_in, submit, text

VERIFIER = "v" * 50


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def register(client, **fields) -> dict:
    fields = {"client_name": "Pocket", "redirect_uris": REDIRECT, "scopes": "read write", **fields}
    response = await client.post("/api/v1/apps", form=fields)
    assert response.status_code == 200, await text(response)
    return await response.get_json()


async def consent_form(browser, app: dict, **params) -> tuple[str, dict]:
    """The consent page for `app` and the fields its form posts."""
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", **params}
    page = await browser.get("/oauth/authorize", query_string=query)
    html = await text(page)
    assert page.status_code == 200, html
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    fields = {name: unescape(value) for name, value in found}  # as a browser reads them
    return html, fields


async def authorize(browser, app: dict, decision: str = "authorize", **params):
    _, fields = await consent_form(browser, app, **params)
    return await browser.post("/oauth/authorize", form={**fields, "decision": decision})


def query_of(location: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
async def browser(app, alice):
    return await logged_in(app, alice)


async def code_for(browser, app: dict, **params) -> str:
    response = await authorize(browser, app, state="xyz", **params)
    assert response.status_code == 302
    assert response.location.startswith(REDIRECT + "?")
    query = query_of(response.location)
    assert query["state"] == "xyz"
    return query["code"]


async def exchange(client, app: dict, code: str, **fields):
    form = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app["client_id"], "client_secret": app["client_secret"], **fields,
    }
    return await client.post("/oauth/token", form={k: v for k, v in form.items() if v is not None})


# Registering an app


async def test_registering_an_app_returns_mastodons_credential_application(client):
    app = await register(client, website="https://pocket.example")
    assert app["name"] == "Pocket"
    assert app["website"] == "https://pocket.example"
    assert app["redirect_uri"] == REDIRECT
    assert app["redirect_uris"] == [REDIRECT]
    assert app["scopes"] == ["read", "write"]
    assert len(app["client_id"]) >= 32 and len(app["client_secret"]) >= 32
    assert app["id"].isdigit() and "vapid_key" in app


async def test_registering_takes_json_with_an_array_of_redirect_uris(client):
    response = await client.post("/api/v1/apps", json={
        "client_name": "Elk", "redirect_uris": [REDIRECT, "elk://callback"], "scopes": "read",
    })
    assert response.status_code == 200
    body = await response.get_json()
    assert body["redirect_uris"] == [REDIRECT, "elk://callback"]
    assert body["redirect_uri"] == f"{REDIRECT}\nelk://callback"
    assert body["website"] is None


async def test_registering_without_scopes_gives_read(client):
    app = await register(client, scopes="")
    assert app["scopes"] == ["read"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"client_name": ""}, "client_name"),
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"redirect_uris": "javascript:alert(1)"}, "redirect_uris"),
        ({"scopes": "read admin:everything"}, "scopes"),
        ({"website": "ftp://pocket.example"}, "website"),
    ],
)
async def test_registering_refuses_bad_input_with_422(client, fields, field):
    form = {"client_name": "Pocket", "redirect_uris": REDIRECT, **fields}
    response = await client.post("/api/v1/apps", form=form)
    assert response.status_code == 422
    body = await response.get_json()
    assert body["error"].startswith("Validation failed")
    assert field in body["details"]


async def test_registering_with_a_json_list_where_a_string_goes_is_422(client):
    response = await client.post("/api/v1/apps", json={"client_name": "X", "redirect_uris": [1, 2]})
    assert response.status_code == 422


async def test_verify_app_credentials_with_an_app_token(client):
    app = await register(client)
    token = await client.post("/oauth/token", form={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
    })
    assert token.status_code == 200
    access = (await token.get_json())["access_token"]
    response = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["name"] == "Pocket" and "client_secret" not in body and "client_id" not in body
    assert (await client.get("/api/v1/apps/verify_credentials")).status_code == 401
    bad = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


# The consent page


async def test_consent_page_sends_a_stranger_to_log_in_and_back(client):
    app = await register(client)
    response = await client.get("/oauth/authorize", query_string={
        "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
    })
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert location.path == "/login"
    back = query_of(response.location)["next"]
    assert back.startswith("/oauth/authorize?") and app["client_id"] in back


async def test_login_form_returns_to_the_consent_page(app, client, alice):
    registered = await register(client)
    target = f"/oauth/authorize?client_id={registered['client_id']}&response_type=code&redirect_uri={REDIRECT}"
    response = await submit(client, "/login", login="alice", password=PASSWORD, next=target)
    assert response.status_code == 302 and response.location == target
    assert (await client.get(target)).status_code == 200


async def test_consent_page_shows_the_app_and_its_scopes_in_plain_words(client, browser):
    app = await register(client, website="https://pocket.example/about", scopes="read write:statuses")
    html, fields = await consent_form(browser, app, scope="read write:statuses")
    assert "Pocket" in html and 'href="https://pocket.example/about"' in html
    assert "See everything in your account" in html
    assert "Post, reply and delete your posts" in html
    assert 'name="decision" value="authorize"' in html and 'name="decision" value="deny"' in html
    assert fields["client_id"] == app["client_id"] and fields["csrf_token"]
    assert fields["scope"] == "read write:statuses"


async def test_consent_page_lets_the_form_redirect_to_the_app(client, browser):
    app = await register(client)
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code"}
    page = await browser.get("/oauth/authorize", query_string=query)
    assert "form-action 'self' https://app.example;" in page.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in page.headers  # a page for people, no CORS


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "unknown"},
        {"redirect_uri": "https://evil.example/steal"},
        {"scope": "read write follow"},  # more than the app registered
        {"scope": "bogus"},
        {"response_type": "token"},
        {"code_challenge": "short", "code_challenge_method": "S256"},
        {"code_challenge": "x" * 43, "code_challenge_method": "MD5"},
        {"code_challenge": VERIFIER, "code_challenge_method": "plain"},  # S256 alone, as Mastodon
        {"code_challenge": s256(VERIFIER)},  # a challenge names its method (Doorkeeper assumes none)
    ],
)
async def test_a_bad_authorization_request_gets_an_error_page_never_a_redirect(client, browser, params):
    app = await register(client)
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", **params}
    response = await browser.get("/oauth/authorize", query_string=query)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "<html" in (await text(response)).lower()


async def test_a_tampered_form_is_checked_again(client, browser):
    app = await register(client)
    _, fields = await consent_form(browser, app)
    response = await browser.post("/oauth/authorize", form={
        **fields, "redirect_uri": "https://evil.example/", "decision": "authorize",
    })
    assert response.status_code == 400 and "Location" not in response.headers
    assert await OAuthGrant.all().count() == 0


async def test_consent_without_csrf_is_refused(client, browser):
    app = await register(client)
    _, fields = await consent_form(browser, app)
    fields.pop("csrf_token")
    response = await browser.post("/oauth/authorize", form={**fields, "decision": "authorize"})
    assert response.status_code == 403
    assert await OAuthGrant.all().count() == 0


async def test_deny_redirects_with_access_denied(client, browser):
    app = await register(client)
    response = await authorize(browser, app, decision="deny", state="s1")
    assert response.status_code == 302
    query = query_of(response.location)
    assert query["error"] == "access_denied" and query["state"] == "s1" and "code" not in query
    assert await OAuthGrant.all().count() == 0


async def test_out_of_band_shows_the_code_on_a_page(client, browser):
    app = await register(client, redirect_uris=oauth.OOB)
    response = await authorize(browser, app, redirect_uri=oauth.OOB)
    assert response.status_code == 200
    code = re.search(r'id="oauth-code" type="text" value="([^"]+)"', await text(response)).group(1)
    token = await exchange(client, app, code, redirect_uri=oauth.OOB)
    assert token.status_code == 200


async def test_a_redirect_uri_with_a_query_keeps_it(client, browser):
    uri = "https://app.example/cb?tenant=7"
    app = await register(client, redirect_uris=uri)
    response = await authorize(browser, app, redirect_uri=uri)
    assert response.location.startswith(uri + "&code=")


# The token endpoint


async def test_the_whole_flow_gives_a_token_that_acts_for_the_person(client, browser, alice):
    app = await register(client)
    code = await code_for(browser, app, scope="read")
    response = await exchange(client, app, code)
    assert response.status_code == 200
    body = await response.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read"
    assert isinstance(body["created_at"], int) and abs(body["created_at"] - clock.now().timestamp()) < 60
    token = await oauth.token_for(body["access_token"])
    assert token.account_id == alice.id and token.app.client_id == app["client_id"]


async def test_the_token_endpoint_takes_json_and_http_basic(client, browser):
    app = await register(client)
    code = await code_for(browser, app)
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = await client.post("/oauth/token", json={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
    }, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, await text(response)


async def test_pkce_lets_a_client_without_its_secret_exchange(client, browser):
    app = await register(client)
    code = await code_for(browser, app, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    response = await exchange(client, app, code, client_secret=None, code_verifier=VERIFIER)
    assert response.status_code == 200, await text(response)


async def test_a_plain_challenge_is_refused_with_doorkeepers_words_and_grants_nothing(client, browser):
    """Mastodon takes PKCE with S256 only (config/initializers/doorkeeper.rb,
    `pkce_code_challenge_methods ['S256']`); Doorkeeper refuses another method
    with errors.messages.invalid_code_challenge_method. The consent form is
    checked again on its POST, so a form edited to say plain grants nothing."""
    app = await register(client)
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code",
             "code_challenge": VERIFIER, "code_challenge_method": "plain"}
    page = await browser.get("/oauth/authorize", query_string=query)
    assert page.status_code == 400 and "Location" not in page.headers
    assert "The code_challenge_method must be S256." in await text(page)
    _, fields = await consent_form(browser, app, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    response = await browser.post("/oauth/authorize", form={
        **fields, "code_challenge": VERIFIER, "code_challenge_method": "plain", "decision": "authorize",
    })
    assert response.status_code == 400 and "Location" not in response.headers
    assert await OAuthGrant.all().count() == 0


async def test_a_wrong_verifier_is_invalid_grant(client, browser):
    app = await register(client)
    code = await code_for(browser, app, code_challenge=s256(VERIFIER), code_challenge_method="S256")
    response = await exchange(client, app, code, code_verifier="w" * 50)
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"
    missing = await exchange(client, app, code, client_secret=None)
    assert missing.status_code == 400


async def test_a_code_works_once(client, browser):
    app = await register(client)
    code = await code_for(browser, app)
    assert (await exchange(client, app, code)).status_code == 200
    again = await exchange(client, app, code)
    assert again.status_code == 400
    body = await again.get_json()
    assert body["error"] == "invalid_grant" and body["error_description"]


async def test_an_expired_code_is_invalid_grant(client, browser):
    app = await register(client)
    code = await code_for(browser, app)
    await OAuthGrant.all().update(expires_at=clock.now() - dt.timedelta(seconds=1))
    response = await exchange(client, app, code)
    assert response.status_code == 400 and (await response.get_json())["error"] == "invalid_grant"


async def test_a_code_for_another_redirect_uri_or_app_is_invalid_grant(client, browser):
    app = await register(client)
    other = await register(client, client_name="Other")
    code = await code_for(browser, app)
    wrong_uri = await exchange(client, app, code, redirect_uri="https://app.example/other")
    assert wrong_uri.status_code == 400 and (await wrong_uri.get_json())["error"] == "invalid_grant"
    wrong_app = await exchange(client, other, code)
    assert wrong_app.status_code == 400 and (await wrong_app.get_json())["error"] == "invalid_grant"
    assert (await exchange(client, app, code)).status_code == 200  # still unused after those


@pytest.mark.parametrize("client_id", ["unknown", "", "x" * 300])
async def test_an_unknown_client_is_invalid_client_401(client, browser, client_id):
    app = await register(client)
    code = await code_for(browser, app)
    response = await exchange(client, {**app, "client_id": client_id}, code)
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_client"


async def test_a_wrong_secret_is_invalid_client_401(client, browser):
    app = await register(client)
    code = await code_for(browser, app)
    response = await exchange(client, app, code, client_secret="wrong")
    assert response.status_code == 401 and (await response.get_json())["error"] == "invalid_client"
    no_secret = await exchange(client, app, code, client_secret=None)  # and no PKCE either
    assert no_secret.status_code == 401 and (await no_secret.get_json())["error"] == "invalid_client"
    bad_basic = await client.post("/oauth/token", form={"grant_type": "authorization_code", "code": code},
                                  headers={"Authorization": "Basic %%%"})
    assert bad_basic.status_code == 401


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "write follow"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "bogus"}, 400, "invalid_scope"),
    ],
)
async def test_token_endpoint_errors_as_doorkeeper(client, form, status, error):
    app = await register(client)
    response = await client.post("/oauth/token", form={
        "client_id": app["client_id"], "client_secret": app["client_secret"], **form,
    })
    assert response.status_code == status
    body = await response.get_json()
    assert body["error"] == error and body["error_description"]


async def test_a_disabled_persons_code_gives_no_token(client, browser, alice):
    app = await register(client)
    code = await code_for(browser, app)
    await account_service.set_state(alice, AccountState.DISABLED)
    response = await exchange(client, app, code)
    assert response.status_code == 400 and (await response.get_json())["error"] == "invalid_grant"


# Revoking


async def test_revoke_ends_a_token(client, browser):
    app = await register(client)
    access = (await (await exchange(client, app, await code_for(browser, app))).get_json())["access_token"]
    auth = {"Authorization": f"Bearer {access}"}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=auth)).status_code == 200
    wrong = await client.post("/oauth/revoke", form={
        "client_id": app["client_id"], "client_secret": "wrong", "token": access,
    })
    assert wrong.status_code == 403 and (await wrong.get_json())["error"] == "unauthorized_client"
    response = await client.post("/oauth/revoke", form={
        "client_id": app["client_id"], "client_secret": app["client_secret"], "token": access,
    })
    assert response.status_code == 200 and await response.get_json() == {}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=auth)).status_code == 401
    unknown = await client.post("/oauth/revoke", json={
        "client_id": app["client_id"], "client_secret": app["client_secret"], "token": "never-issued",
    })
    assert unknown.status_code == 200


# Every token of a person ends with a new password or a disabled account


async def person_token(alice) -> str:
    app, _ = await oauth.register_app(name="T", redirect_uris=REDIRECT, scopes="read", website=None)
    return (await oauth.issue_token(app, alice, ("read",)))[1]


async def test_changing_the_password_revokes_every_token(alice):
    secret = await person_token(alice)
    await account_service.change_password(alice, current=PASSWORD, new="an entirely new passphrase")
    assert await oauth.token_for(secret) is None


async def test_a_password_reset_revokes_every_token(alice):
    secret = await person_token(alice)
    link = await account_service.create_password_reset(alice, by=None)
    await account_service.reset_password(link, "an entirely new passphrase")
    assert await oauth.token_for(secret) is None


async def test_disabling_revokes_and_enabling_again_does_not_restore(alice):
    secret = await person_token(alice)
    await account_service.set_state(alice, AccountState.DISABLED)
    await account_service.set_state(alice, AccountState.ACTIVE)
    assert await oauth.token_for(secret) is None


async def test_changing_the_password_on_the_web_ends_app_access(app, client, alice):
    secret = await person_token(alice)
    browser = await logged_in(app, alice)
    token = csrf_from(await text(await browser.get("/settings/password")))
    response = await browser.post("/settings/password", form={
        "csrf_token": token, "current_password": PASSWORD, "new_password": "an entirely new passphrase",
        "confirm_password": "an entirely new passphrase",
    })
    assert response.status_code == 302
    answer = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401


# Metadata and CORS


async def test_authorization_server_metadata(client):
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["issuer"] == "http://circles.test/"
    assert body["authorization_endpoint"] == "http://circles.test/oauth/authorize"
    assert body["token_endpoint"] == "http://circles.test/oauth/token"
    assert body["revocation_endpoint"] == "http://circles.test/oauth/revoke"
    assert body["app_registration_endpoint"] == "http://circles.test/api/v1/apps"
    assert {"read", "write", "read:statuses", "follow", "push", "profile"} <= set(body["scopes_supported"])
    assert body["grant_types_supported"] == ["authorization_code", "client_credentials"]
    # Mastodon's config/initializers/doorkeeper.rb: pkce_code_challenge_methods ['S256']
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/api/v1/apps", "/oauth/token", "/oauth/revoke", "/api/v1/instance"])
async def test_cors_preflight_is_answered(client, path):
    response = await client.options(path, headers={
        "Origin": "https://elk.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"


async def test_cors_headers_on_api_answers_and_errors(client):
    ok = await client.get("/api/v1/instance", headers={"Origin": "https://elk.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in ok.headers["Access-Control-Expose-Headers"]
    refused = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == "*"


async def test_no_cors_on_the_consent_page_or_other_pages(client):
    for path in ("/oauth/authorize", "/login"):
        response = await client.options(path, headers={"Origin": "https://elk.example"})
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_the_consent_page_takes_a_trailing_slash(client, browser):
    # toot opens /oauth/authorize/?...; Rails routes ignore the slash.
    app = await register(client)
    query = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code"}
    assert (await browser.get("/oauth/authorize/", query_string=query)).status_code == 200


# NUL characters: PostgreSQL fails on them in any query, so they are refused before one


async def test_nul_characters_are_refused_not_a_server_error(client, browser):
    app = await register(client)
    created = await client.post("/api/v1/apps", form={"client_name": "a\x00b", "redirect_uris": REDIRECT})
    assert created.status_code == 422
    created = await client.post("/api/v1/apps", json={"client_name": "a", "redirect_uris": REDIRECT,
                                                      "website": "https://x.example/\x00"})
    assert created.status_code == 422
    token = await client.post("/oauth/token", form={"grant_type": "client_credentials", "client_id": "a\x00"})
    assert token.status_code == 400 and (await token.get_json())["error"] == "invalid_request"
    basic = base64.b64encode(b"a\x00:b").decode()
    token = await client.post("/oauth/token", form={"grant_type": "client_credentials"},
                              headers={"Authorization": f"Basic {basic}"})
    assert token.status_code == 401
    revoked = await client.post("/oauth/revoke", form={"client_id": "\x00", "token": "x"})
    assert revoked.status_code == 400
    page = await browser.get("/oauth/authorize", query_string={"client_id": "\x00", "response_type": "code"})
    assert page.status_code == 400


async def test_overlong_values_are_422_not_a_server_error(client):
    for fields in ({"website": "https://x.example/" + "a" * 5000}, {"client_name": "a" * 201},
                   {"redirect_uris": "https://x.example/" + "a" * 3000}, {"scopes": "read " + "x" * 5000}):
        form = {"client_name": "Pocket", "redirect_uris": REDIRECT, **fields}
        response = await client.post("/api/v1/apps", form=form)
        assert response.status_code == 422, fields


async def test_the_apps_name_and_website_are_escaped_on_the_consent_page(client, browser):
    app = await register(client, client_name='<script>alert(1)</script>', website='https://x.example/"><b>')
    html, _ = await consent_form(browser, app)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert '"><b>' not in html


async def test_an_apps_own_scheme_is_redirected_to(client, browser):
    app = await register(client, redirect_uris="tusky://oauth")
    response = await authorize(browser, app, redirect_uri="tusky://oauth", state="a b&c")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("tusky://oauth?code=")
    assert query_of(response.headers["Location"])["state"] == "a b&c"
