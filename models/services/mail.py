"""Queueing email in the outbox (models/emails.py), gathering digests, and
the one-click unsubscribe. The worker sends the email (server/mail.py); this
module never touches the network."""

from __future__ import annotations

import datetime as dt

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account, AccountState, EmailDigest
from models.emails import OutgoingEmail
from models.errors import NotFound
from models.notifications import Channel, Notification, NotificationPreference
from models.services.accounts import can_email, emailable


async def queue(to_address: str, template: str, params: dict, *, account: Account | None = None,
                language: str = "") -> OutgoingEmail:
    """One message in the outbox, sent by the worker. Call in the transaction
    of what it reports, so it exists exactly when that change does."""
    return await OutgoingEmail.create(
        account=account, to_address=to_address, template=template, params=params,
        language=language or (account.language if account else ""), next_attempt_at=clock.now(),
    )


async def queue_notifications(pairs: list[tuple[Account, Notification]]) -> None:
    """Emails for notifications their recipients want one by one, to addresses
    they confirmed."""
    pairs = [(account, n) for account, n in pairs if can_email(account)]
    if not pairs:
        return
    now = clock.now()
    await OutgoingEmail.bulk_create([
        OutgoingEmail(account=account, to_address=account.email, template="notification",
                      params={"notification_id": n.id}, language=account.language, next_attempt_at=now)
        for account, n in pairs
    ])
    await Notification.filter(id__in=[n.id for _, n in pairs]).update(emailed_at=now)


# --- digests -------------------------------------------------------------------------

DIGEST = "digest"  # the unsubscribe "kind" of a digest email: it stops every kind's email
DIGEST_PERIODS = {EmailDigest.DAILY: dt.timedelta(days=1), EmailDigest.WEEKLY: dt.timedelta(days=7)}
DIGEST_BATCH = 50  # accounts per pass; the rest wait for the next pass
DIGEST_MOST = 100  # notifications in one digest: the newest ones
# A notification made in a transaction that committed just after the last
# digest read the table may be older than digest_sent_at: look this far back
# (emailed_at keeps anything from going out twice).
DIGEST_OVERLAP = dt.timedelta(hours=1)


async def queue_digests(now: dt.datetime) -> int:
    """One digest email to each account whose daily or weekly digest is due and
    has notifications it wants by email and has not had (nor read on the web).
    An account is looked at once per period, whether or not it had any: two
    workers race on a conditional update of digest_sent_at, and one wins.
    Returns how many digests were queued."""
    queued = 0
    for choice, period in DIGEST_PERIODS.items():
        due = await (
            Account.filter(emailable(), email_digest=choice)
            .filter(Q(digest_sent_at=None) | Q(digest_sent_at__lte=now - period))
            .order_by("id").limit(DIGEST_BATCH)
        )
        for account in due:
            queued += await _digest_for(account, now, period)
    return queued


async def _digest_for(account: Account, now: dt.datetime, period: dt.timedelta) -> int:
    since = (account.digest_sent_at or now - period) - DIGEST_OVERLAP
    async with in_transaction():
        if not await Account.filter(id=account.id, digest_sent_at=account.digest_sent_at).update(digest_sent_at=now):
            return 0  # another worker took this account's digest
        rows = await (Notification.filter(recipient_id=account.id, emailed_at=None, read_at=None,
                                          created_at__gt=since, created_at__lte=now)
                      .order_by("-id").limit(DIGEST_MOST).values_list("id", "kind"))
        wanted = await _kinds_by_email(account, {kind for _, kind in rows})
        ids = [i for i, kind in rows if kind in wanted]
        if not ids:
            return 0
        await Notification.filter(id__in=ids).update(emailed_at=now)
        await queue(account.email, DIGEST, {"notification_ids": ids[::-1]}, account=account)
    return 1


async def _kinds_by_email(account: Account, kinds: set[str]) -> set[str]:
    return {kind for kind, channel in (await _channels(account)).items() if kind in kinds and channel == Channel.EMAIL}


async def _channels(account: Account) -> dict[str, Channel]:
    """How the account hears of each kind: one query."""
    from models.services.notifications import preferences_of  # that module imports this one

    return await preferences_of(account)


# --- unsubscribing -----------------------------------------------------------------------


async def unsubscribe(account_id: int, kind: str) -> list[str]:
    """The one-click unsubscribe of an email's link: the kind goes to the web
    only. A digest's link (`DIGEST`) does that for every kind the person hears
    of by email, so no email of notifications follows at all (account emails
    such as password resets still do). Returns the kinds changed."""
    account = await Account.get_or_none(id=account_id, state=AccountState.ACTIVE)
    channels = await _channels(account) if account is not None else {}
    if kind != DIGEST and kind not in channels:
        raise NotFound("This unsubscribe link is not valid.")
    kinds = list(channels) if kind == DIGEST else [kind]
    changed = [k for k in kinds if channels[k] == Channel.EMAIL]
    for k in changed:
        await NotificationPreference.update_or_create(account=account, kind=k, defaults={"channel": Channel.WEB})
    return changed
