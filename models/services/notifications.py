"""Notifications of local accounts: listing and marking them read."""

from __future__ import annotations

from models import clock
from models.accounts import Account
from models.actors import Actor
from models.circles import Circle, Membership, MembershipState, Role
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


async def notify(actor_ids: list[int], kind: str, text: str, url: str) -> int:
    """One notification to each local account among `actor_ids` (remote ones
    hear through federation). Call in the transaction of what it reports."""
    accounts = await Account.filter(actor_id__in=actor_ids) if actor_ids else []
    await Notification.bulk_create([Notification(recipient=a, kind=kind, text=text[:500], url=url) for a in accounts])
    return len(accounts)


async def notify_facilitators(circle: Circle, kind: str, text: str, url: str) -> int:
    facilitators = await Membership.filter(
        circle_id=circle.id, role=Role.FACILITATOR, state=MembershipState.ACTIVE
    ).values_list("actor_id", flat=True)
    return await notify(list(facilitators), kind, text, url)


async def tell_join_request(circle: Circle, requester: Actor) -> int:
    """Someone asks to join: each facilitator hears it, with a link to the requests."""
    circle_name = await Actor.filter(id=circle.actor_id).values_list("username", flat=True)
    return await notify_facilitators(
        circle, "circle.join_request", f"@{requester.handle} asks to join {circle.name}.",
        f"/c/{circle_name[0]}#requests",
    )
