"""Notifications of local accounts: listing and marking them read."""

from __future__ import annotations

from models import clock
from models.accounts import Account
from models.notifications import Notification

PAGE_SIZE = 30


async def list_for(account: Account, *, page: int = 1, per_page: int = PAGE_SIZE) -> list[Notification]:
    """Newest first; one more than a page tells whether another follows."""
    return (
        await Notification.filter(recipient=account).order_by("-id").offset((page - 1) * per_page).limit(per_page + 1)
    )


async def unread_count(account: Account) -> int:
    return await Notification.filter(recipient=account, read_at=None).count()


async def mark_all_read(account: Account) -> int:
    return await Notification.filter(recipient=account, read_at=None).update(read_at=clock.now())
