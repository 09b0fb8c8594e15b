"""An account's email address: a password link by email for who forgot it,
confirming the address, and changing it.

Each link is a single-use token that expires; only its SHA-256 is stored
(PasswordReset, EmailToken). The emails are queued in the transaction that
makes the token (models/services/mail.py). Whether email is on is the web
layer's to know: it calls these only when it is.
"""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account, AccountState, EmailToken, EmailTokenPurpose, PasswordReset
from models.errors import Conflict, InvalidInput, NotFound
from models.instance import Instance
from models.services import accounts, mail, validation
from models.translation import N_

LINK_VALID = dt.timedelta(hours=24)  # a link to confirm an address
# One emailed password link per account in this time: asking again sends
# nothing (the first link still works), and says so no differently.
RESET_EMAIL_GAP = dt.timedelta(minutes=5)
LINK_GONE = N_(
    "This link is not valid: it was used already, has expired, or was mistyped. "
    "Log in and ask for a new one in your settings, under “Email address”."
)
ADDRESS_TAKEN = N_("Another account uses this email address now.")


def _hours(valid: dt.timedelta) -> int:
    return int(valid.total_seconds() // 3600)


def normalised_login(login: str | None) -> str:
    """What was typed in “Forgot your password?”, as accounts are looked up (and rate limited) by."""
    login = (login or "").strip().lower()[:254]
    if not login:
        raise InvalidInput("Enter your email address or account name.", field="login")
    return login


async def request_password_reset(instance: Instance, login: str) -> None:
    """Email a password link to the account `login` names (its address or
    name), if there is one that may log in. Whatever the outcome, the caller
    answers the same: who asks must not learn whether an address has an account."""
    account = await accounts.account_for_login(normalised_login(login))
    if account is None or account.state is AccountState.DISABLED:
        return
    recent = clock.now() - RESET_EMAIL_GAP
    if await PasswordReset.filter(account=account, used_at=None, emailed=True, created_at__gt=recent).exists():
        return  # asked a moment ago: that email is on its way
    async with in_transaction():
        token = await accounts.new_password_reset(account, by=None, emailed=True)
        await mail.queue(account.email, "password_reset", {
            "username": account.actor.username, "link": instance.password_reset_url(token),
            "hours": _hours(accounts.RESET_VALID),
        }, account=account)


async def _new_token(account: Account, purpose: EmailTokenPurpose, address: str) -> str:
    """A new link of this purpose; the account's earlier unused ones stop working."""
    token = clock.token(32)
    await EmailToken.filter(account=account, purpose=purpose, used_at=None).delete()
    await EmailToken.create(account=account, purpose=purpose, address=address,
                            token_hash=clock.token_digest(token), expires_at=clock.now() + LINK_VALID)
    return token


async def send_verification(instance: Instance, account: Account) -> None:
    """Email a link that confirms the account's address (at sign-up, or asked again)."""
    if account.email_verified_at is not None:
        raise Conflict("Your email address is confirmed already.")
    await account.fetch_related("actor")
    async with in_transaction():
        token = await _new_token(account, EmailTokenPurpose.VERIFY, account.email)
        await mail.queue(account.email, "verify_email", {
            "username": account.actor.username, "link": instance.email_link_url(token), "hours": _hours(LINK_VALID),
        }, account=account)


async def _new_address(account: Account, email: str, password: str) -> str:
    """The checked new address of a change the person confirmed with their password."""
    await accounts.confirm_password(account, password, field="current_password")
    email = validation.email(email)
    if email == account.email:
        raise InvalidInput("That is your email address already.", field="email")
    if await Account.filter(email=email).exclude(id=account.id).exists():
        raise Conflict("An account with this email address exists already.", field="email")
    return email


async def request_email_change(instance: Instance, account: Account, *, email: str, password: str) -> str:
    """With email on: send a link to the new address; following it makes the
    change. Returns the new address."""
    email = await _new_address(account, email, password)
    await account.fetch_related("actor")
    async with in_transaction():
        token = await _new_token(account, EmailTokenPurpose.CHANGE, email)
        await mail.queue(email, "change_email", {
            "username": account.actor.username, "link": instance.email_link_url(token), "hours": _hours(LINK_VALID),
        }, account=account)
    return email


async def change_email_now(account: Account, *, email: str, password: str) -> None:
    """With email off: the new address replaces the old at once, unconfirmed."""
    email = await _new_address(account, email, password)
    async with in_transaction():
        await _replace_address(account, email, verified_at=None)


async def _replace_address(account: Account, email: str, *, verified_at: dt.datetime | None) -> None:
    account.email, account.email_verified_at = email, verified_at
    try:
        async with in_transaction():  # a savepoint, so PostgreSQL can go on after the refusal
            await account.save(update_fields=["email", "email_verified_at"])
    except IntegrityError:  # taken a moment ago
        raise Conflict(ADDRESS_TAKEN, field="email") from None
    # Links sent to an earlier address confirm nothing now.
    await EmailToken.filter(account=account, used_at=None).delete()


async def link_for(token: str) -> EmailToken:
    """The unused, unexpired link of this token (with its account); NotFound otherwise."""
    link = await EmailToken.filter(
        token_hash=clock.token_digest(token or ""), used_at=None, expires_at__gt=clock.now()
    ).select_related("account__actor").first()
    # A confirmation of an address the account no longer has confirms nothing.
    if link is None or (link.purpose is EmailTokenPurpose.VERIFY and link.address != link.account.email):
        raise NotFound(LINK_GONE)
    return link


async def follow_link(token: str) -> EmailToken:
    """Confirm the address a link was sent to: the account's own (verify), or
    a new one, which then replaces it (change; the old address is told).
    The link is spent."""
    link = await link_for(token)
    account, now = link.account, clock.now()
    async with in_transaction():
        if not await EmailToken.filter(id=link.id, used_at=None).update(used_at=now):
            raise NotFound(LINK_GONE)  # the same link followed twice at once: the other won
        if link.purpose is EmailTokenPurpose.VERIFY:
            account.email_verified_at = now
            await account.save(update_fields=["email_verified_at"])
            return link
        if await Account.filter(email=link.address).exclude(id=account.id).exists():
            raise Conflict(ADDRESS_TAKEN, field="email")
        old = account.email
        await _replace_address(account, link.address, verified_at=now)
        await mail.queue(old, "email_changed", {
            "username": account.actor.username, "new_address": masked(link.address),
        }, account=account)
    return link


def masked(address: str) -> str:
    """An address shown to its old owner, half hidden: a***@example.org."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
