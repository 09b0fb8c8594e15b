"""Accounts through the web UI: sign-up in each registration mode, login and
logout, rate limits, password change, session cookies and CSRF."""

from __future__ import annotations

import re

import pytest

from models.accounts import Account, AccountState, Invite, LoginFailure
from tests import factories
from tests.factories import PASSWORD
from tests.integration.webforms import submit, text

NEW_PASSWORD = "a brand new passphrase"


async def signup(client, username: str, **fields):
    fields.setdefault("email", f"{username}@example.org")
    fields.setdefault("password", PASSWORD)
    return await submit(client, "/signup", username=username, **fields)


async def login(client, username: str, password: str = PASSWORD, **kwargs):
    return await submit(client, "/login", login=username, password=password, **kwargs)


async def logged_in_as(client) -> str | None:
    """The username the site's header shows as signed in, or None."""
    match = re.search(r'<a href="/users/(\w+)">@\1</a>', await text(await client.get("/")))
    return match.group(1) if match else None


async def state_of(username: str) -> AccountState:
    return (await Account.get(actor__username=username)).state


# Sign-up, by registration mode


async def test_open_signup_creates_an_active_account_and_logs_in(client):
    response = await signup(client, "newbie")
    assert response.status_code == 302
    assert response.location == "/circles"
    assert await state_of("newbie") is AccountState.ACTIVE
    assert await logged_in_as(client) == "newbie"


async def test_signup_error_is_shown_beside_the_field_and_keeps_what_was_typed(client, instance):
    await factories.account(instance, "taken")
    response = await signup(client, "taken", email="someone@example.org")
    html = await text(response)
    assert response.status_code == 409
    assert 'id="f-username-error">The handle “taken” is already taken.' in html
    assert 'value="someone@example.org"' in html
    assert PASSWORD not in html  # passwords are never echoed back
    assert await Account.all().count() == 1


async def test_approval_signup_waits_until_an_admin_approves(make_app, instance):
    app = make_app(registration="approval")
    newbie, admin = app.test_client(), app.test_client()
    await factories.account(instance, "boss", is_admin=True)

    response = await signup(newbie, "newbie")  # no reason given
    assert response.status_code == 400
    assert "Tell the admins briefly why you want to join." in await text(response)
    assert await Account.all().count() == 1

    response = await signup(newbie, "newbie", application_text="I teach chemistry")
    assert response.status_code == 302
    assert await state_of("newbie") is AccountState.PENDING
    assert await logged_in_as(newbie) is None

    response = await login(newbie, "newbie")
    assert response.status_code == 403
    assert "waiting for an admin" in await text(response)
    assert await logged_in_as(newbie) is None

    await login(admin, "boss")
    admin_page = await text(await admin.get("/admin/"))
    assert "@newbie" in admin_page and "I teach chemistry" in admin_page
    response = await submit(admin, "/admin/accounts/newbie/approve")
    assert response.status_code == 302
    assert await state_of("newbie") is AccountState.ACTIVE

    assert (await login(newbie, "newbie")).status_code == 302
    assert await logged_in_as(newbie) == "newbie"


async def test_invite_signup_needs_a_valid_code_and_uses_it_up(make_app, instance):
    app = make_app(registration="invite")
    client, admin = app.test_client(), app.test_client()
    await factories.account(instance, "boss", is_admin=True)

    response = await signup(client, "newbie")
    assert response.status_code == 400
    assert "Sign-up here needs an invite code." in await text(response)
    response = await signup(client, "newbie", invite="not-a-code")
    assert response.status_code == 400
    assert "This invite code is not valid." in await text(response)
    assert await Account.all().count() == 1

    await login(admin, "boss")
    response = await submit(admin, "/admin/invites")
    code = re.search(r"invite=([\w-]+)", response.location).group(1)
    assert code in await text(await admin.get(response.location))

    response = await signup(client, "newbie", invite=code)
    assert response.status_code == 302
    account = await Account.get(actor__username="newbie")
    assert account.state is AccountState.ACTIVE and account.invite_code == code
    assert (await Invite.get(code=code)).uses == 1

    other = app.test_client()
    response = await signup(other, "second", invite=code)
    assert response.status_code == 400
    assert "This invite has been used up." in await text(response)
    assert not await Account.filter(actor__username="second").exists()


async def test_closed_instance_takes_no_signups(make_app):
    client = make_app(registration="closed").test_client()
    page = await text(await client.get("/signup"))
    assert "not taking new sign-ups" in page
    assert 'name="username"' not in page

    response = await signup(client, "newbie")
    assert response.status_code == 403
    assert await Account.all().count() == 0


# Login and logout


async def test_login_and_logout(client, instance):
    await factories.account(instance, "alice")
    response = await login(client, "alice", next="/circles")
    assert response.status_code == 302 and response.location == "/circles"
    assert await logged_in_as(client) == "alice"
    assert (await Account.get(actor__username="alice")).last_login_at is not None

    response = await submit(client, "/logout")
    assert response.status_code == 302
    assert await logged_in_as(client) is None


@pytest.mark.parametrize(
    "next_url",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example/", "/\n/evil.example"],
)
async def test_login_by_email_and_never_redirects_off_site(client, instance, next_url):
    await factories.account(instance, "alice")
    response = await login(client, "alice@example.org", next=next_url)
    assert response.status_code == 302 and response.location == "/"
    assert await logged_in_as(client) == "alice"


async def test_wrong_password_is_refused_and_changes_nothing(client, instance):
    before = await factories.account(instance, "alice")
    response = await login(client, "alice", "not the password")
    html = await text(response)
    assert response.status_code == 401
    assert 'id="f-password-error">Wrong username or password.' in html
    assert 'value="alice"' in html
    assert await logged_in_as(client) is None
    after = await Account.get(id=before.id)
    assert after.last_login_at is None
    assert (after.password_hash, after.session_epoch) == (before.password_hash, before.session_epoch)


async def test_five_failures_lock_the_account_for_a_while(client, instance):
    await factories.account(instance, "alice")
    await factories.account(instance, "bob")
    for _ in range(5):
        assert (await login(client, "alice", "guess")).status_code == 401

    response = await login(client, "alice")  # even the right password
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert "Too many failed logins for this account" in await text(response)
    assert await logged_in_as(client) is None
    assert (await Account.get(actor__username="alice")).last_login_at is None

    assert (await login(client, "bob")).status_code == 302  # other accounts are unaffected


async def test_twenty_failures_from_one_address_block_that_address(app, instance):
    await factories.account(instance, "alice")
    attacker, neighbour = app.test_client(), app.test_client()
    # 19 earlier failures from this address (as from the web), then the 20th through the web.
    await LoginFailure.bulk_create([LoginFailure(key="address:203.0.113.9") for _ in range(19)])
    response = await login(attacker, "victim", "guess", address="203.0.113.9")
    assert response.status_code == 401
    assert await LoginFailure.filter(key="address:203.0.113.9").count() == 20

    response = await login(attacker, "alice", address="203.0.113.9")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert "from your network" in await text(response)

    assert (await login(neighbour, "alice", address="198.51.100.4")).status_code == 302
    assert await logged_in_as(neighbour) == "alice"


# Password change


async def test_password_change_needs_the_current_password(client, instance):
    alice = await factories.account(instance, "alice")
    await login(client, "alice")
    response = await submit(
        client, "/settings/password",
        current_password="wrong one", new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD,
    )
    assert response.status_code == 401
    assert 'id="f-current_password-error">Your current password is not right.' in await text(response)
    assert (await Account.get(id=alice.id)).password_hash == alice.password_hash


async def test_password_change_needs_the_same_new_password_twice(client, instance):
    alice = await factories.account(instance, "alice")
    await login(client, "alice")
    response = await submit(
        client, "/settings/password",
        current_password=PASSWORD, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD + "!",
    )
    assert response.status_code == 400
    assert 'id="f-confirm_password-error">The two new passwords are not the same.' in await text(response)
    assert (await Account.get(id=alice.id)).password_hash == alice.password_hash


async def test_password_change_ends_other_sessions(app, instance):
    await factories.account(instance, "alice")
    laptop, phone = app.test_client(), app.test_client()
    await login(laptop, "alice")
    await login(phone, "alice")
    assert await logged_in_as(phone) == "alice"

    response = await submit(
        laptop, "/settings/password",
        current_password=PASSWORD, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD,
    )
    assert response.status_code == 302
    assert "Your password has been changed." in await text(await laptop.get(response.location))
    assert await logged_in_as(laptop) == "alice"
    assert await logged_in_as(phone) is None
    assert (await phone.get("/settings/password")).status_code == 302
    assert (await Account.get(actor__username="alice")).session_epoch == 1

    assert (await login(phone, "alice", PASSWORD)).status_code == 401
    assert (await login(phone, "alice", NEW_PASSWORD)).status_code == 302


# Session cookie and CSRF


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("circles_session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1]


async def test_session_cookie_is_httponly_and_samesite_lax(client, instance):
    await factories.account(instance, "alice")
    cookie = session_cookie(await login(client, "alice"))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http, as in local development


async def test_session_cookie_is_secure_over_https(make_app):
    client = make_app(scheme="https").test_client()
    cookie = session_cookie(await client.get("/login"))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


async def test_only_pages_refresh_the_session_cookie(client, instance):
    """A late stylesheet or /favicon.ico answer must not bring back a cookie the
    person has just cleared (tests/browser/test_flows.py's ended session)."""
    await factories.account(instance, "alice")
    await login(client, "alice")
    assert session_cookie(await client.get("/"))  # a page keeps a 30-day session alive
    for url in ("/static/style.css", "/favicon.ico"):
        response = await client.get(url)
        assert response.status_code in (200, 404), url
        assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("circles_session=")], url


async def test_post_without_csrf_token_is_refused(client, instance):
    await factories.account(instance, "alice")
    response = await client.post(
        "/signup", form={"username": "newbie", "email": "n@example.org", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "This form has expired" in await text(response)
    assert not await Account.filter(actor__username="newbie").exists()

    await login(client, "alice")
    response = await client.post("/settings/password", form={
        "csrf_token": "forged", "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD,
    })
    assert response.status_code == 403
    assert (await Account.get(actor__username="alice")).session_epoch == 0


async def test_disabling_an_account_ends_its_sessions(app, instance):
    await factories.account(instance, "boss", is_admin=True)
    await factories.account(instance, "alice")
    admin, alice = app.test_client(), app.test_client()
    await login(admin, "boss")
    await login(alice, "alice")
    assert await logged_in_as(alice) == "alice"

    response = await submit(admin, "/admin/accounts/alice/disable")
    assert response.status_code == 302
    assert await state_of("alice") is AccountState.DISABLED

    assert await logged_in_as(alice) is None
    assert (await alice.get("/settings/password")).status_code == 302
    response = await login(alice, "alice")
    assert response.status_code == 403
    assert "This account is disabled." in await text(response)
