"""Notifications of local accounts: making them (`notify`), listing them
with unread ones of one subject gathered into one line, marking them read,
and each person's choice of channel per kind. What each event tells whom is
in models/services/notification_events.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from models import clock, live
from models.accounts import Account, AccountState, EmailDigest
from models.errors import InvalidInput, NotFound
from models.notifications import Channel, Notification, NotificationPreference
from models.person_blocks import PersonBlock
from models.services import mail, validation

PAGE_SIZE = 30

# Every kind of notification, and how a person hears it until they choose
# otherwise in their settings (in this order on the settings page). The web
# layer writes each kind's text in the reader's language (web/html/notifications.py).
# Email by default: someone answered, named or asked something of me and
# waits for me (replies, mentions, answers, feedback I asked for, tutoring,
# joining, reports). On the web only: what is pleasant or for everyone but
# never urgent, and would flood an inbox (likes, followers, proposals and
# decisions, meeting changes; the reminder still comes by email).
KINDS: dict[str, Channel] = {
    "post.reply": Channel.EMAIL,
    "post.mention": Channel.EMAIL,
    "question.answer": Channel.EMAIL,
    "answer.accepted": Channel.EMAIL,
    "review.received": Channel.EMAIL,  # feedback the person asked for and waits on
    "post.liked": Channel.WEB,
    "person.followed": Channel.WEB,
    "question.revealed": Channel.EMAIL,  # about their own privacy: they should hear at once
    "tutoring.paired": Channel.EMAIL,
    "tutoring.message": Channel.EMAIL,
    "proposal.new": Channel.WEB,  # to every member: email would flood; the decisions page shows them too
    "proposal.decided": Channel.WEB,
    "meeting.created": Channel.WEB,
    "meeting.changed": Channel.EMAIL,  # people who said they are coming need the new time or place
    "meeting.cancelled": Channel.EMAIL,
    "meeting.reminder": Channel.EMAIL,
    "meeting.reflection": Channel.WEB,
    "circle.join_request": Channel.EMAIL,
    "circle.request_approved": Channel.EMAIL,
    "circle.request_declined": Channel.EMAIL,
    "circle.invited": Channel.EMAIL,
    "circle.needs_facilitator": Channel.EMAIL,
    "report.new": Channel.EMAIL,  # stewards and admins: someone may be in trouble
}


@dataclass(frozen=True)
class Line:
    """One line of the notifications page: a notification, standing for
    `count` unread ones of the same group (1 when alone)."""

    notification: Notification
    count: int = 1


async def list_for(account: Account, *, page: int = 1, per_page: int = PAGE_SIZE) -> list[Line]:
    """Newest first; unread notifications that share a group key show as one
    line (the newest, with their number). One more than a page tells whether
    another follows. Two queries, however many rows."""
    groups = await (
        Notification.filter(recipient=account, read_at=None).exclude(group_key="")
        .annotate(newest=Max("id"), number=Count("id")).group_by("group_key").values("newest", "number")
    )
    counts = {row["newest"]: row["number"] for row in groups}
    shown = Q(read_at__isnull=False) | Q(group_key="")
    if counts:
        shown |= Q(id__in=list(counts))
    rows = await (
        Notification.filter(shown, recipient=account).order_by("-id").offset((page - 1) * per_page).limit(per_page + 1)
    )
    return [Line(n, counts.get(n.id, 1) if n.read_at is None else 1) for n in rows]


async def unread_count(account: Account) -> int:
    return await Notification.filter(recipient=account, read_at=None).count()


async def mark_all_read(account: Account) -> int:
    marked = await Notification.filter(recipient=account, read_at=None).update(read_at=clock.now())
    if marked:
        await live.announce(f"account:{account.id}")
    return marked


async def mark_read(account: Account, notification_id: int) -> Notification:
    """Mark one notification read, with the unread ones it stands for on the
    page (its group); only one's own. Returns it (its `url` is where it leads)."""
    if not validation.is_row_id(notification_id):
        raise NotFound("That notification does not exist.")
    notification = await Notification.get_or_none(id=notification_id, recipient=account)
    if notification is None:
        raise NotFound("That notification does not exist.")
    if notification.read_at is None:
        now = clock.now()
        same = Q(group_key=notification.group_key) if notification.group_key else Q(id=notification.id)
        await Notification.filter(same, recipient=account, read_at=None).update(read_at=now)
        notification.read_at = now
        await live.announce(f"account:{account.id}")
    return notification


async def dismiss(account: Account, notification_id: int) -> None:
    """Remove one of one's notifications (apps dismiss them, as Mastodon does; the web marks them read)."""
    if await Notification.filter(id=notification_id, recipient=account).delete():
        await live.announce(f"account:{account.id}")


async def clear(account: Account, kinds: Iterable[str]) -> int:
    """Remove one's notifications of these kinds."""
    removed = await Notification.filter(recipient=account, kind__in=list(kinds)).delete()
    if removed:
        await live.announce(f"account:{account.id}")
    return removed


async def mark_read_up_to(account: Account, last_id: int, kinds: Iterable[str]) -> int:
    """Mark read one's unread notifications of these kinds up to `last_id` (an app's marker)."""
    marked = await Notification.filter(
        recipient=account, kind__in=list(kinds), read_at=None, id__lte=last_id).update(read_at=clock.now())
    if marked:
        await live.announce(f"account:{account.id}")
    return marked


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


# --- preferences ----------------------------------------------------------------------


async def preferences_of(account: Account) -> dict[str, Channel]:
    """How the person hears of each kind, in the order of KINDS."""
    chosen = dict(await NotificationPreference.filter(account=account).values_list("kind", "channel"))
    return {kind: Channel(chosen.get(kind, default)) for kind, default in KINDS.items()}


async def save_preferences(account: Account, choices: Mapping[str, str], *, digest: str | None = None) -> None:
    """Set the channel of each kind in `choices` (kind -> "web", "email" or
    "none"), and how emails go out (`digest`: an EmailDigest value) when
    given. A kind set back to its default keeps no row, so it follows the
    default if that changes. Nothing is saved unless every choice is valid."""
    channels = {}
    for kind, value in choices.items():
        if kind not in KINDS:
            raise InvalidInput("There is no kind of notification called “%(kind)s”.", kind=kind[:40])
        channels[kind] = validation.choice(value, Channel, kind, label="How to hear of it")
    email_digest = validation.choice(digest, EmailDigest, "email_digest", label="Email") if digest is not None else None
    async with in_transaction():
        same = [kind for kind, channel in channels.items() if channel == KINDS[kind]]
        if same:
            await NotificationPreference.filter(account=account, kind__in=same).delete()
        for kind, channel in channels.items():
            if channel != KINDS[kind]:
                await NotificationPreference.update_or_create(account=account, kind=kind, defaults={"channel": channel})
        if email_digest is not None and email_digest != account.email_digest:
            await Account.filter(id=account.id).update(email_digest=email_digest)
            account.email_digest = email_digest
