"""Local accounts: sign-in credentials and standing of a local Person actor."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class AccountState(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # waiting for an admin's approval (registration mode "approval")
    DISABLED = "disabled"


# Which state changes are allowed; only models/services/accounts.py changes state.
ACCOUNT_TRANSITIONS: dict[AccountState, set[AccountState]] = {
    AccountState.PENDING: {AccountState.ACTIVE, AccountState.DISABLED},
    AccountState.ACTIVE: {AccountState.DISABLED},
    AccountState.DISABLED: {AccountState.ACTIVE},
}


class EmailDigest(StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"
    WEEKLY = "weekly"


class Account(Entity):
    actor = fields.OneToOneField("circles.Actor", related_name="account", on_delete=fields.CASCADE)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    is_admin = fields.BooleanField(default=False)
    state = fields.CharEnumField(AccountState, max_length=16, default=AccountState.ACTIVE)
    application_text = fields.TextField(default="")  # why they want to join, in approval mode
    # Bumped on password change: sessions carrying an older epoch are void.
    session_epoch = fields.IntField(default=0)
    last_login_at = fields.DatetimeField(null=True)
    # The invite code used to sign up, if any (a code, not a foreign key: tortoise's
    # migration writer cannot order the Account <-> Invite cycle).
    invite_code = fields.CharField(max_length=64, null=True)
    # The profile as typed: Markdown of the bio (its HTML is the actor's summary).
    bio = fields.TextField(default="")
    # The language the web UI speaks to them in ("" = as the browser asks).
    language = fields.CharField(max_length=16, default="")
    # Consent, so off until the person turns them on (settings, "Privacy"):
    # `discoverable` lets servers suggest and list them, `indexable` lets
    # search engines and full-text search index their profile and public posts.
    discoverable = fields.BooleanField(default=False)
    indexable = fields.BooleanField(default=False)
    # What their profile page shows besides their name and bio.
    profile_shows_circles = fields.BooleanField(default=True)
    profile_shows_posts = fields.BooleanField(default=True)
    # Email: when the address was confirmed (null: never), and how notification
    # emails go out: one by one, or gathered in a daily or weekly digest.
    email_verified_at = fields.DatetimeField(null=True)
    email_digest = fields.CharEnumField(EmailDigest, max_length=16, default=EmailDigest.IMMEDIATELY)
    digest_sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "accounts"
        # The worker looks for digests due on every pass: the few who chose one, by when it was last sent.
        indexes = (("email_digest", "digest_sent_at"),)


class Invite(Entity):
    code = fields.CharField(max_length=64, unique=True)
    created_by = fields.ForeignKeyField(
        "circles.Account", related_name="invites_made", null=True, on_delete=fields.SET_NULL
    )
    max_uses = fields.IntField(default=1)
    uses = fields.IntField(default=0)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invites"


class PasswordReset(Entity):
    # A single-use link to set a new password. Only the SHA-256 of its token is
    # kept, so a copy of the database opens no account.
    account = fields.ForeignKeyField("circles.Account", related_name="password_resets", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField(
        "circles.Account", related_name="password_resets_made", null=True, on_delete=fields.SET_NULL
    )
    # Sent by email to who forgot it ("Forgot your password?"), rather than
    # given by an admin or the CLI: asking by email never voids an admin's link.
    emailed = fields.BooleanField(default=False)

    class Meta:
        table = "password_resets"


class EmailTokenPurpose(StrEnum):
    VERIFY = "verify"  # confirm the address given at sign-up
    CHANGE = "change"  # confirm a new address before it replaces the old one


class EmailToken(Entity):
    # A single-use link sent to an address to prove the person reads it. Only
    # the SHA-256 of its token is kept, like PasswordReset.
    account = fields.ForeignKeyField("circles.Account", related_name="email_tokens", on_delete=fields.CASCADE)
    purpose = fields.CharEnumField(EmailTokenPurpose, max_length=16)
    address = fields.CharField(max_length=254)  # the address the link was sent to
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "email_tokens"


class LoginFailure(Entity):
    # One failed login, keyed by account name or client address, for rate
    # limiting. Kept in the database so every web process sees the same count.

    key = fields.CharField(max_length=300, db_index=True)

    class Meta:
        table = "login_failures"


class RegistrationMode(StrEnum):
    OPEN = "open"  # anyone signs up and can log in at once
    APPROVAL = "approval"  # sign-ups wait for an admin
    INVITE = "invite"  # only with an invite code
    CLOSED = "closed"  # no sign-ups; admins create accounts with the CLI
