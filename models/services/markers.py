"""Markers: where a person stopped reading their home timeline and their
notifications in their apps (Mastodon's markers). The notifications marker is
also the web's read state: moving it marks those notifications read."""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account
from models.markers import Marker
from models.services import notifications

TIMELINES = ("home", "notifications")


async def save(account: Account, positions: dict[str, int], *, notification_kinds: Iterable[str]) -> None:
    """Move these timelines' markers (one transaction; a racing first save
    raises IntegrityError, which callers answer as a conflict).
    `notification_kinds`: the kinds the app shows, marked read up to its marker."""
    now = clock.now()
    async with in_transaction():
        for timeline, last_id in positions.items():
            if not await Marker.filter(account=account, timeline=timeline).update(
                    last_read_id=last_id, version=F("version") + 1, updated_at=now):
                await Marker.create(account=account, timeline=timeline, last_read_id=last_id, version=1,
                                    updated_at=now)
            if timeline == "notifications":
                await notifications.mark_read_up_to(account, last_id, notification_kinds)
