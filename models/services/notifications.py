"""Notifications of local accounts: listing and marking them read."""

from __future__ import annotations

from models import clock, live
from models.accounts import Account, AccountState, EmailDigest
from models.actors import Actor
from models.circles import Circle, Membership, MembershipState, Role
from models.notifications import Channel, Notification, NotificationPreference
from models.person_blocks import PersonBlock
from models.services import mail

PAGE_SIZE = 30

# Every kind of notification, and how a person hears it until they choose
# otherwise in their settings. The web layer writes each kind's text in the
# reader's language (web/html/notifications.py).
KINDS: dict[str, Channel] = {
    "meeting.reminder": Channel.EMAIL,
    "meeting.reflection": Channel.WEB,
    "circle.join_request": Channel.EMAIL,
    "circle.request_approved": Channel.EMAIL,
    "circle.request_declined": Channel.EMAIL,
    "circle.invited": Channel.EMAIL,
    "circle.needs_facilitator": Channel.EMAIL,
}


async def list_for(account: Account, *, page: int = 1, per_page: int = PAGE_SIZE) -> list[Notification]:
    """Newest first; one more than a page tells whether another follows."""
    return (
        await Notification.filter(recipient=account).order_by("-id").offset((page - 1) * per_page).limit(per_page + 1)
    )


async def unread_count(account: Account) -> int:
    return await Notification.filter(recipient=account, read_at=None).count()


async def mark_all_read(account: Account) -> int:
    return await Notification.filter(recipient=account, read_at=None).update(read_at=clock.now())


async def notify(
    actor_ids: list[int], kind: str, text: str, url: str, *, subject_id: int | None = None,
    actor_id: int | None = None, circle_id: int | None = None, params: dict | None = None, group_key: str = "",
) -> int:
    """One notification to each local account among `actor_ids` (remote ones
    hear through federation), unless it chose not to hear of `kind`, or mutes
    or blocks `actor_id` (who caused it, never told of their own act). Queues
    the emails of those who want them one by one, and tells open pages. Call
    in the transaction of what it reports; returns how many were made."""
    ids = {i for i in actor_ids if i != actor_id}
    accounts = await Account.filter(actor_id__in=ids, state=AccountState.ACTIVE) if ids else []
    if actor_id is not None and accounts:
        hiders = set(await PersonBlock.filter(owner_id__in=[a.actor_id for a in accounts], target_id=actor_id)
                     .values_list("owner_id", flat=True))
        accounts = [a for a in accounts if a.actor_id not in hiders]
    channels = await channels_for(accounts, kind)
    rows = [
        (account, Notification(recipient=account, kind=kind, subject_id=subject_id, actor_id=actor_id,
                               circle_id=circle_id, text=text[:500], params=params or {}, url=url,
                               group_key=group_key))
        for account in accounts if channels[account.id] != Channel.NONE
    ]
    await Notification.bulk_create([n for _, n in rows])
    await mail.queue_notifications([
        (account, n) for account, n in rows
        if channels[account.id] == Channel.EMAIL and account.email_digest == EmailDigest.IMMEDIATELY
    ])
    await live.announce(*(f"account:{account.id}" for account, _ in rows))
    return len(rows)


async def channels_for(accounts: list[Account], kind: str) -> dict[int, Channel]:
    """How each account hears of `kind`: its own choice, else the kind's default."""
    chosen = dict(await NotificationPreference.filter(account_id__in=[a.id for a in accounts], kind=kind)
                  .values_list("account_id", "channel")) if accounts else {}
    default = KINDS.get(kind, Channel.WEB)
    return {a.id: Channel(chosen.get(a.id, default)) for a in accounts}


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
