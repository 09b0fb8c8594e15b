"""Queueing email in the outbox (models/emails.py). The worker sends it
(server/mail.py); this module never touches the network."""

from __future__ import annotations

from models import clock
from models.accounts import Account
from models.emails import OutgoingEmail
from models.notifications import Notification


async def queue(to_address: str, template: str, params: dict, *, account: Account | None = None,
                language: str = "") -> OutgoingEmail:
    """One message in the outbox, sent by the worker. Call in the transaction
    of what it reports, so it exists exactly when that change does."""
    return await OutgoingEmail.create(
        account=account, to_address=to_address, template=template, params=params,
        language=language or (account.language if account else ""), next_attempt_at=clock.now(),
    )


async def queue_notifications(pairs: list[tuple[Account, Notification]]) -> None:
    """Emails for notifications their recipients want one by one."""
    if not pairs:
        return
    now = clock.now()
    await OutgoingEmail.bulk_create([
        OutgoingEmail(account=account, to_address=account.email, template="notification",
                      params={"notification_id": n.id}, language=account.language, next_attempt_at=now)
        for account, n in pairs
    ])
    await Notification.filter(id__in=[n.id for _, n in pairs]).update(emailed_at=now)
