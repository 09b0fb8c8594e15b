"""models/services/account_email.py: password links by email, confirming an
address, changing it; single-use, expiring links stored only as hashes."""

from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.accounts import Account, AccountState, EmailToken, EmailTokenPurpose, PasswordReset
from models.emails import OutgoingEmail
from models.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from models.services import account_email as svc
from models.services import accounts
from tests import factories
from tests.factories import PASSWORD


def token_of(email: OutgoingEmail) -> str:
    return email.params["link"].rsplit("/", 1)[1]


async def only_email(**filters) -> OutgoingEmail:
    emails = await OutgoingEmail.filter(**filters)
    assert len(emails) == 1, [(e.to_address, e.template) for e in emails]
    return emails[0]


async def test_a_reset_by_address_or_name_emails_a_link_that_works_once(database, instance):
    ada = await factories.account(instance, "ada")
    await svc.request_password_reset(instance, "  ADA@example.org ")
    email = await only_email(template="password_reset")
    assert (email.to_address, email.account_id, email.params["username"], email.params["hours"]) == (
        "ada@example.org", ada.id, "ada", 24)
    assert email.params["link"].startswith("http://circles.test/password-reset/")
    token = token_of(email)
    assert await PasswordReset.filter(token_hash=clock.token_digest(token)).exists()
    assert not await PasswordReset.filter(token_hash=token).exists()  # only the hash is kept
    await accounts.reset_password(token, "a brand new passphrase")
    with pytest.raises(NotFound):
        await accounts.reset_password(token, "another new passphrase")

    clock.freeze(clock.now() + svc.RESET_EMAIL_GAP + dt.timedelta(seconds=1))
    try:
        await svc.request_password_reset(instance, "ada")  # by name
    finally:
        clock.freeze(None)
    assert await OutgoingEmail.filter(template="password_reset", to_address="ada@example.org").count() == 2


async def test_a_reset_for_no_account_or_a_disabled_one_sends_nothing_and_says_nothing(database, instance):
    gone = await factories.account(instance, "gone")
    await accounts.set_state(gone, AccountState.DISABLED)
    await svc.request_password_reset(instance, "nobody@example.org")  # no error either way
    await svc.request_password_reset(instance, "nobody")
    await svc.request_password_reset(instance, "gone@example.org")
    assert await OutgoingEmail.all().count() == 0 and await PasswordReset.all().count() == 0
    with pytest.raises(InvalidInput):
        await svc.request_password_reset(instance, "   ")


async def test_asking_again_at_once_sends_no_second_email_and_the_first_link_still_works(database, instance):
    await factories.account(instance, "ada")
    await svc.request_password_reset(instance, "ada@example.org")
    await svc.request_password_reset(instance, "ada")
    email = await only_email(template="password_reset")
    assert (await accounts.account_for_reset(token_of(email))).actor.username == "ada"


async def test_asking_by_email_neither_voids_nor_waits_for_a_link_an_admin_gave(database, instance):
    ada = await factories.account(instance, "ada")
    given = await accounts.create_password_reset(ada, by=None)  # as `circles user reset-password` makes it
    await svc.request_password_reset(instance, "ada")
    await only_email(template="password_reset")  # sent, though a link was made a moment ago
    assert (await accounts.account_for_reset(given)).id == ada.id  # and the given link still works


async def test_an_emailed_reset_link_expires(database, instance):
    await factories.account(instance, "ada")
    await svc.request_password_reset(instance, "ada")
    token = token_of(await only_email(template="password_reset"))
    clock.freeze(clock.now() + accounts.RESET_VALID + dt.timedelta(seconds=1))
    try:
        with pytest.raises(NotFound):
            await accounts.account_for_reset(token)
    finally:
        clock.freeze(None)


async def test_verification_confirms_the_address_once(database, instance):
    ada = await factories.account(instance, "ada")
    assert not accounts.can_email(ada)
    await svc.send_verification(instance, ada)
    email = await only_email(template="verify_email")
    assert email.to_address == "ada@example.org" and email.params["link"].startswith("http://circles.test/email/confirm/")
    token = token_of(email)
    stored = await EmailToken.get(account=ada)
    assert stored.token_hash == clock.token_digest(token) and stored.purpose is EmailTokenPurpose.VERIFY
    await svc.follow_link(token)
    ada = await Account.get(id=ada.id)
    assert ada.email_verified_at is not None and accounts.can_email(ada)
    assert await Account.filter(accounts.emailable()).values_list("id", flat=True) == [ada.id]
    with pytest.raises(NotFound):
        await svc.follow_link(token)
    with pytest.raises(Conflict):
        await svc.send_verification(instance, ada)


async def test_a_new_verification_link_voids_the_old_one_and_links_expire(database, instance):
    ada = await factories.account(instance, "ada")
    await svc.send_verification(instance, ada)
    await svc.send_verification(instance, ada)
    first, second = [token_of(e) for e in await OutgoingEmail.filter(template="verify_email").order_by("id")]
    with pytest.raises(NotFound):
        await svc.link_for(first)
    clock.freeze(clock.now() + svc.LINK_VALID + dt.timedelta(seconds=1))
    try:
        with pytest.raises(NotFound):
            await svc.follow_link(second)
    finally:
        clock.freeze(None)
    assert (await Account.get(id=ada.id)).email_verified_at is None


async def test_a_disabled_account_gets_no_notification_email_even_if_confirmed(database, instance):
    ada = await factories.account(instance, "ada")
    await svc.send_verification(instance, ada)
    await svc.follow_link(token_of(await only_email(template="verify_email")))
    ada = await accounts.set_state(await Account.get(id=ada.id), AccountState.DISABLED)
    assert not accounts.can_email(ada)
    assert not await Account.filter(accounts.emailable()).exists()


async def test_an_email_change_needs_the_password_and_the_new_address_confirms_it(database, instance):
    ada = await factories.account(instance, "ada")
    with pytest.raises(AuthenticationFailed):
        await svc.request_email_change(instance, ada, email="new@example.org", password="wrong password")
    with pytest.raises(InvalidInput):
        await svc.request_email_change(instance, ada, email="ada@example.org", password=PASSWORD)
    await factories.account(instance, "bea")
    with pytest.raises(Conflict):
        await svc.request_email_change(instance, ada, email="bea@example.org", password=PASSWORD)
    assert await OutgoingEmail.all().count() == 0

    await svc.request_email_change(instance, ada, email=" New@Example.org", password=PASSWORD)
    email = await only_email(template="change_email")
    assert email.to_address == "new@example.org"
    assert (await Account.get(id=ada.id)).email == "ada@example.org"  # not before it is confirmed
    await svc.follow_link(token_of(email))
    ada = await Account.get(id=ada.id)
    assert ada.email == "new@example.org" and ada.email_verified_at is not None
    notice = await only_email(template="email_changed")
    assert notice.to_address == "ada@example.org" and notice.params["new_address"] == "n***@example.org"
    with pytest.raises(NotFound):
        await svc.follow_link(token_of(email))


async def test_a_change_whose_address_was_taken_meanwhile_is_refused(database, instance):
    ada = await factories.account(instance, "ada")
    await svc.request_email_change(instance, ada, email="new@example.org", password=PASSWORD)
    token = token_of(await only_email(template="change_email"))
    await accounts.create_account(instance, username="cy", email="new@example.org", password=PASSWORD)
    with pytest.raises(Conflict) as caught:
        await svc.follow_link(token)
    assert caught.value.template == svc.ADDRESS_TAKEN
    assert (await Account.get(id=ada.id)).email == "ada@example.org"
    assert not await OutgoingEmail.filter(template="email_changed").exists()


async def test_a_verification_link_for_an_old_address_confirms_nothing(database, instance):
    ada = await factories.account(instance, "ada")
    await svc.send_verification(instance, ada)
    token = token_of(await only_email(template="verify_email"))
    await svc.change_email_now(ada, email="other@example.org", password=PASSWORD)
    ada = await Account.get(id=ada.id)
    assert ada.email == "other@example.org" and ada.email_verified_at is None
    with pytest.raises(NotFound):
        await svc.follow_link(token)
    assert (await Account.get(id=ada.id)).email_verified_at is None
