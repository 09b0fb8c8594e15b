"""Accounts: sign-up by registration mode, invites, login with rate limits,
password changes, and account standing."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import (
    ACCOUNT_TRANSITIONS,
    Account,
    AccountState,
    Invite,
    LoginFailure,
    PasswordReset,
    RegistrationMode,
)
from models.actors import Actor, ActorKind
from models.errors import (
    AuthenticationFailed,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from models.instance import Instance
from models.services import actors, oauth, validation
from models.translation import N_

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20

_hasher = PasswordHasher()  # argon2id with the library's current defaults


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not tell.
    Made on first use: hashing at import would slow every CLI command."""
    return _hasher.hash("not a real password")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password(password: str, *, username: str, field: str = "password") -> str:
    if len(password or "") < PASSWORD_MIN:
        raise InvalidInput("Use a password of at least %(min)d characters.", field=field, min=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise InvalidInput("A password has at most %(max)d characters.", field=field, max=PASSWORD_MAX)
    if password.strip().lower() == username.lower():
        raise InvalidInput("Your password must not be your username.", field=field)
    return password


async def create_account(
    instance: Instance,
    *,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    is_admin: bool = False,
    state: AccountState = AccountState.ACTIVE,
    invite: Invite | None = None,
    application_text: str = "",
) -> Account:
    """Create a local Person and its account. Validates everything first."""
    username = validation.handle(username, "username")
    email = validation.email(email)
    _check_password(password, username=username)
    display_name = validation.single_line(
        display_name, "display_name", label="Display name", max_length=100
    )
    application_text = validation.text(
        application_text, "application_text", label="Your reason for joining", max_length=1000
    )
    if await Account.filter(email=email).exists():
        raise Conflict("An account with this email address exists already.", field="email")
    if await actors.handle_taken(instance, username):
        raise Conflict("The handle “%(handle)s” is already taken.", field="username", handle=username)
    password_hash = await hash_password(password)
    keys = await actors.generate_keys()
    try:
        async with in_transaction():
            actor = await actors.create_local_actor(
                instance,
                ActorKind.PERSON,
                username,
                instance.person_uri(username),
                display_name=display_name,
                keys=keys,
            )
            account = await Account.create(
                actor=actor,
                email=email,
                password_hash=password_hash,
                is_admin=is_admin,
                state=state,
                invite_code=invite.code if invite else None,
                application_text=application_text,
            )
            if invite is not None:
                # Count the use inside the same transaction, guarded against a race.
                used = await Invite.filter(id=invite.id, uses__lt=invite.max_uses).update(
                    uses=F("uses") + 1
                )
                if not used:
                    raise InvalidInput("This invite has been used up.", field="invite")
    except IntegrityError:
        # Lost a race with a simultaneous sign-up for the same handle or email.
        raise Conflict("That username or email address was just taken.", field="username") from None
    account.actor = actor
    return account


async def sign_up(
    instance: Instance,
    mode: RegistrationMode,
    *,
    username: str,
    email: str,
    password: str,
    invite_code: str = "",
    application_text: str = "",
) -> Account:
    """Sign-up from the web, honouring the instance's registration mode."""
    if mode is RegistrationMode.CLOSED:
        raise PermissionDenied("This instance does not take new sign-ups.")
    invite = await _usable_invite(invite_code) if invite_code.strip() else None
    if mode is RegistrationMode.INVITE and invite is None:
        raise InvalidInput("Sign-up here needs an invite code.", field="invite")
    state = AccountState.ACTIVE
    if mode is RegistrationMode.APPROVAL and invite is None:
        if not application_text.strip():
            raise InvalidInput("Tell the admins briefly why you want to join.", field="application_text")
        state = AccountState.PENDING
    return await create_account(
        instance,
        username=username,
        email=email,
        password=password,
        state=state,
        invite=invite,
        application_text=application_text,
    )


async def _usable_invite(code: str) -> Invite:
    invite = await Invite.get_or_none(code=code.strip()[:64])
    if invite is None:
        raise InvalidInput("This invite code is not valid.", field="invite")
    if invite.uses >= invite.max_uses:
        raise InvalidInput("This invite has been used up.", field="invite")
    if invite.expires_at is not None and invite.expires_at <= clock.now():
        raise InvalidInput("This invite has expired.", field="invite")
    return invite


async def create_invite(by: Account | None, *, max_uses: int = 1, valid_days: int = 7) -> Invite:
    if not 1 <= max_uses <= 1000:
        raise InvalidInput("An invite can be used from 1 to 1000 times.", field="max_uses")
    if not 1 <= valid_days <= 365:
        raise InvalidInput("An invite lasts from 1 to 365 days.", field="valid_days")
    return await Invite.create(
        code=clock.token(12),
        created_by=by,
        max_uses=max_uses,
        expires_at=clock.now() + dt.timedelta(days=valid_days),
    )


async def _recent_failures(key: str) -> int:
    return await LoginFailure.filter(key=key, created_at__gt=clock.now() - LOGIN_WINDOW).count()


async def authenticate(login: str, password: str, *, client_address: str) -> Account:
    """The account for these credentials, or AuthenticationFailed. Failed
    attempts are limited per account name and per client address."""
    login = (login or "").strip().lower()[:254]
    account_key, address_key = f"account:{login}", f"address:{client_address}"
    retry_after = int(LOGIN_WINDOW.total_seconds())
    if await _recent_failures(account_key) >= MAX_FAILURES_PER_ACCOUNT:
        raise RateLimited(
            "Too many failed logins for this account. Wait 15 minutes and try again.",
            retry_after=retry_after,
        )
    if await _recent_failures(address_key) >= MAX_FAILURES_PER_ADDRESS:
        raise RateLimited(
            "Too many failed logins from your network. Wait 15 minutes and try again.",
            retry_after=retry_after,
        )
    account = await account_for_login(login)
    matches = await _password_matches(account.password_hash if account else _dummy_hash(), password or "")
    if account is None or not matches:
        await LoginFailure.bulk_create([LoginFailure(key=account_key), LoginFailure(key=address_key)])
        await LoginFailure.filter(created_at__lt=clock.now() - LOGIN_WINDOW).delete()
        raise AuthenticationFailed("Wrong username or password.", field="password")
    if account.state is AccountState.PENDING:
        raise PermissionDenied("Your sign-up is waiting for an admin's approval.")
    if account.state is AccountState.DISABLED:
        raise PermissionDenied("This account is disabled. Contact the instance's admins.")
    await LoginFailure.filter(key=account_key).delete()
    account.last_login_at = clock.now()
    await account.save(update_fields=["last_login_at"])
    return account


async def account_for_login(login: str) -> Account | None:
    """The account a login names: an email address, or a local account name (lower case)."""
    lookup = {"email": login} if "@" in login else {"actor__username": login, "actor__local": True}
    return await Account.filter(**lookup).select_related("actor").first()


def can_email(account: Account) -> bool:
    """Whether notification emails may go to this account: only to an address
    its person confirmed (by following a link sent there), and only while the
    account is active. Accounts made before confirmation existed have none
    yet; their settings page asks them to confirm."""
    return account.email_verified_at is not None and account.state is AccountState.ACTIVE


def emailable() -> Q:
    """`can_email` as a filter on Account, for lists of recipients."""
    return Q(email_verified_at__not_isnull=True, state=AccountState.ACTIVE)


async def confirm_password(account: Account, password: str, *, field: str) -> None:
    """The signed-in person proves it is them before something that cannot be undone."""
    if not await _password_matches(account.password_hash, password or ""):
        raise AuthenticationFailed("Your current password is not right.", field=field)


async def change_password(account: Account, *, current: str, new: str) -> None:
    await confirm_password(account, current, field="current_password")
    await account.fetch_related("actor")
    _check_password(new, username=account.actor.username, field="new_password")
    account.password_hash = await hash_password(new)
    account.session_epoch += 1  # log out every other session
    async with in_transaction():
        await account.save(update_fields=["password_hash", "session_epoch"])
        await oauth.revoke_all(account)  # and every app's token


async def account_for_session(account_id: int, epoch: int) -> Account | None:
    """The signed-in account for a session, or None if the session is void."""
    account = await Account.filter(id=account_id).select_related("actor").first()
    if account is None or account.session_epoch != epoch or account.state is not AccountState.ACTIVE:
        return None
    return account


async def get_by_username(username: str) -> Account:
    account = (
        await Account.filter(actor__username=username, actor__local=True)
        .select_related("actor")
        .first()
    )
    if account is None:
        if await Actor.filter(username=username, local=True, deleted_at__not_isnull=True).exists():
            raise Gone(actors.ACCOUNT_DELETED, username=username[:40])
        raise NotFound("No local account named “%(username)s”.", username=username[:40])
    return account


async def set_state(account: Account, state: AccountState) -> Account:
    if state is account.state:
        return account
    if state not in ACCOUNT_TRANSITIONS[account.state]:
        raise Conflict("An account cannot go from %(old)s to %(new)s.", old=account.state, new=state)
    account.state = state
    async with in_transaction():
        await account.save(update_fields=["state"])
        if state is AccountState.DISABLED:
            await oauth.revoke_all(account)  # a token would outlive the ban otherwise, were it enabled again
    return account


async def list_accounts(*, state: AccountState | None = None, offset: int = 0, limit: int = 100) -> list[Account]:
    """Accounts, oldest first (only those in `state`, when given)."""
    rows = Account.filter(state=state) if state is not None else Account.all()
    return await rows.select_related("actor").order_by("id").offset(offset).limit(limit)


# --- what admins do to accounts -------------------------------------------------------------

RESET_VALID = dt.timedelta(hours=24)
RESET_GONE = N_(
    "This password link is not valid: it was used already, has expired, or was mistyped. Ask for a new one: "
    "“Forgot your password?” on the login page, or an admin of this server."
)


async def decline_sign_up(account: Account) -> None:
    """An admin declines a sign-up waiting for approval: the account and its
    handle are deleted (nothing was ever published from it), so the handle
    and email are free again."""
    if account.state is not AccountState.PENDING:
        raise Conflict("Only a sign-up waiting for approval can be declined.")
    await account.fetch_related("actor")
    await account.actor.delete()  # the account goes with it (on_delete CASCADE)


async def set_admin(account: Account, *, by: Account, is_admin: bool) -> Account:
    """Make `account` an admin or no longer one. An admin cannot change
    themselves here, so the instance always keeps the admin doing it."""
    if account.id == by.id:
        raise Conflict("You cannot change your own account here.")
    if is_admin and account.state is not AccountState.ACTIVE:
        raise Conflict("Only an active account can be made an admin.")
    account.is_admin = is_admin
    await account.save(update_fields=["is_admin"])
    return account


async def create_password_reset(account: Account, *, by: Account | None) -> str:
    """A single-use link token to set a new password, valid RESET_VALID.
    Returns the token; only its hash is kept. Earlier unused links of the
    account stop working."""
    async with in_transaction():
        return await new_password_reset(account, by=by)


async def new_password_reset(account: Account, *, by: Account | None, emailed: bool = False) -> str:
    """create_password_reset within the caller's transaction (which may queue
    the email of it). An emailed link voids only earlier emailed ones, so
    anyone typing a name in "Forgot your password?" cannot void the link an
    admin gave."""
    token = clock.token(32)
    earlier = PasswordReset.filter(account=account, used_at=None)
    await (earlier.filter(emailed=True) if emailed else earlier).delete()
    await PasswordReset.create(
        account=account, token_hash=clock.token_digest(token), expires_at=clock.now() + RESET_VALID, created_by=by,
        emailed=emailed,
    )
    return token


async def account_for_reset(token: str) -> Account:
    """The account a reset token opens; NotFound when it is unknown, used or expired."""
    reset = await PasswordReset.filter(
        token_hash=clock.token_digest(token or ""), used_at=None, expires_at__gt=clock.now()
    ).select_related("account__actor").first()
    if reset is None:
        raise NotFound(RESET_GONE)
    return reset.account


async def reset_password(token: str, new: str) -> Account:
    """Set a new password through a reset link: the link is spent and every
    session of the account ends."""
    account = await account_for_reset(token)
    _check_password(new, username=account.actor.username, field="new_password")
    password_hash = await hash_password(new)
    async with in_transaction():
        spent = await PasswordReset.filter(
            token_hash=clock.token_digest(token), used_at=None
        ).update(used_at=clock.now())
        if not spent:  # the same link used twice at once: the other request won
            raise NotFound(RESET_GONE)
        account.password_hash, account.session_epoch = password_hash, account.session_epoch + 1
        await account.save(update_fields=["password_hash", "session_epoch"])
        await oauth.revoke_all(account)
    return account
