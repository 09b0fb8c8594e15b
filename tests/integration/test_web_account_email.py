"""One's email address through the web: “Forgot your password?” (no telling
who has an account, rate limited), confirming the address at sign-up and
later, changing it with the password and a link to the new address; and
what the pages say when this server sends no email."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import clock
from models.accounts import Account
from models.emails import OutgoingEmail
from models.services import account_email, ratelimits
from tests import factories
from tests.factories import PASSWORD
from tests.integration.webforms import logged_in, submit, text

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def email_app(make_app):
    # A server that sends email: an SMTP server is set (nothing is sent here, the worker does not run).
    return make_app(smtp_url="smtp://127.0.0.1:2525", email_from="circles@example.org")


def path_of(email: OutgoingEmail) -> str:
    return re.sub(r"^http://[^/]+", "", email.params["link"])


async def only_email(**filters) -> OutgoingEmail:
    emails = await OutgoingEmail.filter(**filters)
    assert len(emails) == 1, [(e.to_address, e.template) for e in emails]
    return emails[0]


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


# --- Forgot your password? -------------------------------------------------------------------

async def test_without_email_the_page_says_to_ask_an_admin_and_sends_nothing(app, alice):
    login_page = await text(await app.test_client().get("/login"))
    assert 'href="/password-reset">Forgot your password?' in login_page
    page = await text(await app.test_client().get("/password-reset"))
    assert "does not send email" in page and "Ask an admin" in page
    assert 'name="login"' not in page  # no form
    response = await submit(app.test_client(), "/password-reset", login="alice@example.org")
    assert response.status_code == 200 and "does not send email" in await text(response)
    assert await OutgoingEmail.all().count() == 0


async def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(email_app, alice):
    client = email_app.test_client()
    known = await submit(client, "/password-reset", login="alice@example.org")
    unknown = await submit(client, "/password-reset", login="nobody@example.org")
    by_name = await submit(client, "/password-reset", login="nobody")
    assert known.status_code == unknown.status_code == by_name.status_code == 200
    assert without_csrf(await text(known)) == without_csrf(await text(unknown)) == without_csrf(await text(by_name))
    assert "If an account uses that address or name, we have sent a link" in await text(known)
    email = await only_email()
    assert (email.to_address, email.template) == ("alice@example.org", "password_reset")


async def test_the_emailed_link_sets_a_new_password_once(email_app, alice):
    await submit(email_app.test_client(), "/password-reset", login="alice")
    path = path_of(await only_email(template="password_reset"))
    person = email_app.test_client()
    assert "Set a new password for @alice" in await text(await person.get(path))
    done = await submit(person, path, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    assert done.status_code == 302
    assert (await submit(email_app.test_client(), "/login", login="alice", password=NEW_PASSWORD)).status_code == 302
    again = await email_app.test_client().get(path)
    assert again.status_code == 404 and "Forgot your password?" in await text(again)


async def test_asking_is_rate_limited_per_client_and_per_address_typed(email_app, alice):
    clock.freeze(ratelimits.window_start(ratelimits.PASSWORD_HELP, clock.now()) + dt.timedelta(seconds=5))
    try:
        client = email_app.test_client()
        # Per address typed, from many clients, known or not: the same refusal.
        for login in ("alice@example.org", "nobody@example.org"):
            for n in range(ratelimits.PASSWORD_HELP_FOR.hits):
                response = await submit(client, "/password-reset", address=f"10.0.{n}.1", login=login)
                assert response.status_code == 200, (login, n)
            refused = await submit(client, "/password-reset", address="10.1.0.1", login=login)
            assert refused.status_code == 429 and "Retry-After" in refused.headers
        # Per client, whatever is typed.
        for n in range(ratelimits.PASSWORD_HELP.hits):
            response = await submit(client, "/password-reset", address="10.2.0.1", login=f"someone{n}@example.org")
            assert response.status_code == 200, n
        refused = await submit(client, "/password-reset", address="10.2.0.1", login="fresh@example.org")
        assert refused.status_code == 429
    finally:
        clock.freeze(None)
    # Asking again and again sent alice one email: the first link still works.
    assert await OutgoingEmail.filter(to_address="alice@example.org").count() == 1


# --- confirming the address ------------------------------------------------------------------

async def test_sign_up_with_email_on_sends_a_link_that_confirms_the_address(email_app):
    client = email_app.test_client()
    response = await submit(client, "/signup", username="newbie", email="newbie@example.org", password=PASSWORD)
    assert response.status_code == 302
    email = await only_email()
    assert (email.to_address, email.template, email.params["username"]) == ("newbie@example.org", "verify_email", "newbie")
    settings_page = await text(await client.get("/settings"))
    assert "not confirmed yet" in settings_page and "Send the link again" in settings_page

    path = path_of(email)
    confirm_page = await client.get(path)  # shows a button; opening the link changes nothing
    assert confirm_page.status_code == 200 and "Confirm this address" in await text(confirm_page)
    assert (await Account.get(email="newbie@example.org")).email_verified_at is None
    assert (await submit(client, path)).status_code == 302
    assert (await Account.get(email="newbie@example.org")).email_verified_at is not None
    settings_page = await text(await client.get("/settings"))
    assert "It is confirmed." in settings_page and "Send the link again" not in settings_page
    used = await submit(email_app.test_client(), path)
    assert used.status_code == 404 and "ask for a new one in your settings" in await text(used)


async def test_sign_up_without_email_sends_nothing_and_offers_no_link(app):
    client = app.test_client()
    await submit(client, "/signup", username="newbie", email="newbie@example.org", password=PASSWORD)
    assert await OutgoingEmail.all().count() == 0
    assert "Send the link again" not in await text(await client.get("/settings"))


async def test_the_link_can_be_sent_again_and_only_the_newest_works(email_app, alice):
    client = await logged_in(email_app, alice)
    assert (await submit(client, "/settings/email/verify")).status_code == 302
    assert (await submit(client, "/settings/email/verify")).status_code == 302
    first, second = [path_of(e) for e in await OutgoingEmail.filter(template="verify_email").order_by("id")]
    assert (await email_app.test_client().get(first)).status_code == 404
    clock.freeze(clock.now() + account_email.LINK_VALID + dt.timedelta(seconds=1))
    try:
        assert (await email_app.test_client().get(second)).status_code == 404
    finally:
        clock.freeze(None)
    assert (await email_app.test_client().get("/email/confirm/not-a-token")).status_code == 404


async def test_sending_links_is_rate_limited_per_account(email_app, alice, bob):
    clock.freeze(ratelimits.window_start(ratelimits.EMAIL_LINKS, clock.now()) + dt.timedelta(seconds=5))
    try:
        client = await logged_in(email_app, alice)
        for n in range(ratelimits.EMAIL_LINKS.hits):
            assert (await submit(client, "/settings/email/verify")).status_code == 302, n
        refused = await submit(client, "/settings/email", email="new@example.org", current_password=PASSWORD)
        assert refused.status_code == 429 and "Please wait 60 minutes" in await text(refused)
        assert (await submit(await logged_in(email_app, bob), "/settings/email/verify")).status_code == 302
    finally:
        clock.freeze(None)
    assert await OutgoingEmail.filter(to_address="alice@example.org").count() == ratelimits.EMAIL_LINKS.hits
    assert not await OutgoingEmail.filter(to_address="new@example.org").exists()


# --- changing the address --------------------------------------------------------------------

async def test_a_change_needs_the_password_then_the_new_address_confirms_it(email_app, alice):
    client = await logged_in(email_app, alice)
    wrong = await submit(client, "/settings/email", email="new@example.org", current_password="not my password")
    assert wrong.status_code == 401 and "current password is not right" in await text(wrong)
    assert await OutgoingEmail.all().count() == 0

    asked = await submit(client, "/settings/email", email="new@example.org", current_password=PASSWORD)
    assert asked.status_code == 302
    email = await only_email()
    assert (email.to_address, email.template) == ("new@example.org", "change_email")
    assert (await Account.get(id=alice.id)).email == "alice@example.org"
    assert "replaces alice@example.org" in await text(await email_app.test_client().get(path_of(email)))

    assert (await submit(email_app.test_client(), path_of(email))).status_code == 302
    alice = await Account.get(id=alice.id)
    assert alice.email == "new@example.org" and alice.email_verified_at is not None
    notice = await only_email(template="email_changed")
    assert notice.to_address == "alice@example.org"
    assert (await submit(email_app.test_client(), "/login", login="new@example.org", password=PASSWORD)).status_code == 302
    assert (await submit(email_app.test_client(), path_of(email))).status_code == 404


async def test_a_change_to_an_address_taken_meanwhile_is_a_clear_conflict(email_app, instance, alice):
    client = await logged_in(email_app, alice)
    await submit(client, "/settings/email", email="new@example.org", current_password=PASSWORD)
    path = path_of(await only_email())
    await factories.account(instance, "new")  # new@example.org
    response = await submit(email_app.test_client(), path)
    assert response.status_code == 409 and "Another account uses this email address now" in await text(response)
    assert (await Account.get(id=alice.id)).email == "alice@example.org"


async def test_without_email_a_change_applies_at_once_with_the_password(app, alice):
    client = await logged_in(app, alice)
    page = await text(await client.get("/settings/email"))
    assert "replaces the old one at once" in page
    wrong = await submit(client, "/settings/email", email="new@example.org", current_password="not my password")
    assert wrong.status_code == 401
    assert (await submit(client, "/settings/email", email="new@example.org", current_password=PASSWORD)).status_code == 302
    alice = await Account.get(id=alice.id)
    assert alice.email == "new@example.org" and alice.email_verified_at is None
    assert await OutgoingEmail.all().count() == 0


# --- admins, when email is off ---------------------------------------------------------------

async def test_the_admin_pages_say_email_is_off_and_give_the_link(app, instance, alice):
    boss = await factories.account(instance, "boss", is_admin=True)
    admin = await logged_in(app, boss)
    assert "Email is off on this server" in await text(await admin.get("/admin/"))
    page = await text(await submit(admin, "/admin/accounts/alice/password-reset"))
    assert "no email was sent" in page and 'value="http://circles.test/password-reset/' in page
