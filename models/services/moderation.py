"""Keeping circles safe: reports, a circle's stewards removing posts and
banning members (logged for every member to see), and the instance admins'
report queue and domain blocks.

Who may do what: anyone signed in reports; a circle's facilitators and
moderators (its stewards) handle the reports about their circle and moderate
it; the instance's admins see every report and block domains."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account
from models.actors import Actor, ActorKind, Follow
from models.circles import Circle, Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import (
    Delivery,
    DeliveryState,
    InboxItem,
    InboxState,
    OutboxEvent,
    RemoteHost,
)
from models.instance import Instance
from models.moderation import (
    REPORT_TRANSITIONS,
    ModerationAction,
    ModerationKind,
    Report,
    ReportCategory,
    ReportState,
)
from models.posts import Post
from models.services import circles as circle_service
from models.services import media as media_service
from models.services import posts as post_service
from models.services import governance_decisions, notification_events, validation
from models.services.memberships import end_membership

COMMENT_MAX = 2000
REASON_MAX = 1000
LOG_PAGE = 100
QUEUE_PAGE = 200


def _category(value: str) -> ReportCategory:
    return validation.choice(value, ReportCategory, "category", label="Reason")


def _comment(value: str) -> str:
    return validation.text(value, "comment", label="What happened", max_length=COMMENT_MAX)


def _reason(value: str, field: str = "reason") -> str:
    return validation.text(value, field, label="Reason", max_length=REASON_MAX, required=True)


def host_of(uri: str) -> str:
    """host[:port] of an actor's id, lower-case ("" when malformed)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return ""
    return (parts.hostname or "").lower() + (f":{port}" if port else "")


# --- reporting --------------------------------------------------------------------


async def _refuse_repeat(reporter: Actor, **about) -> None:
    if await Report.filter(reporter=reporter, state=ReportState.OPEN, **about).exists():
        raise Conflict("You have reported this already; it is waiting to be looked at.")


async def report_post(
    reporter: Actor, post: Post, *, category: str, comment: str = "", forward: bool = False
) -> Report:
    """Report a post to its circle's stewards and the instance's admins;
    `forward` also sends it (as a Flag) to the author's server when they live
    elsewhere."""
    category_value, comment = _category(category), _comment(comment)
    if post.deleted_at is not None:
        raise NotFound("That post does not exist or was deleted.")
    if post.author_id == reporter.id or post.asked_by_id == reporter.id:
        raise InvalidInput("You cannot report your own post.")
    author = await Actor.get(id=post.author_id)
    circle = await Circle.get_or_none(id=post.circle_id).select_related("actor") if post.circle_id else None
    await _refuse_repeat(reporter, post=post)
    forward = forward and not author.local
    async with in_transaction():
        report = await Report.create(
            reporter=reporter, target_actor=author, post=post, object_uris=[post.uri],
            circle=circle if circle is not None and circle.actor.local else None,
            category=category_value, comment=comment, forwarded=forward,
        )
        if forward:
            await OutboxEvent.create(kind="report.forwarded", subject_id=report.id)
        await notification_events.report_made(report, circle)  # stewards only of a circle here
    return report


async def report_actor(
    reporter: Actor, target: Actor, *, category: str, comment: str = "", forward: bool = False,
    circle: Circle | None = None,
) -> Report:
    """Report a person to the instance's admins and, when given a circle here
    they belong to (or asked to join), to that circle's stewards."""
    category_value, comment = _category(category), _comment(comment)
    if target.id == reporter.id:
        raise InvalidInput("You cannot report yourself.")
    if circle is not None and (not circle.actor.local or not await Membership.filter(circle=circle, actor=target).exists()):
        circle = None
    await _refuse_repeat(reporter, target_actor=target, post=None)
    forward = forward and not target.local
    async with in_transaction():
        report = await Report.create(
            reporter=reporter, target_actor=target, object_uris=[target.uri], circle=circle,
            category=category_value, comment=comment, forwarded=forward,
        )
        if forward:
            await OutboxEvent.create(kind="report.forwarded", subject_id=report.id)
        await notification_events.report_made(report, circle)
    return report


def _with_details(reports):
    return reports.select_related("reporter", "target_actor", "post__author", "circle__actor", "resolved_by")


async def circle_reports(circle: Circle, by: Actor, *, state: ReportState = ReportState.OPEN) -> list[Report]:
    """The reports a circle's stewards handle, oldest first; a report about a
    steward goes to the other stewards (and the admins), not to them."""
    await circle_service.require_steward(circle, by)
    reports = Report.filter(circle=circle, state=state).exclude(target_actor=by)
    return await _with_details(reports).order_by("id").limit(QUEUE_PAGE)


async def _decide(report: Report, by: Actor, outcome: str, note: str) -> Report:
    state = {"resolve": ReportState.RESOLVED, "dismiss": ReportState.DISMISSED}.get(outcome)
    if state is None:
        raise InvalidInput("Choose to resolve or to dismiss the report.", field="outcome")
    if state not in REPORT_TRANSITIONS[report.state]:
        raise Conflict("This report has been handled already.")
    now = clock.now()
    changed = await Report.filter(id=report.id, state=ReportState.OPEN).update(
        state=state, resolved_at=now, resolved_by=by, resolution_note=note
    )
    if not changed:
        raise Conflict("This report has been handled already; reload the page.")
    report.state, report.resolved_at, report.resolved_by, report.resolution_note = state, now, by, note
    return report


async def decide_circle_report(circle: Circle, by: Actor, report_id: int, *, outcome: str, note: str) -> Report:
    """A steward resolves or dismisses a report about their circle, with a
    note; the circle's log records what was decided (never who reported)."""
    await circle_service.require_steward(circle, by)
    note = _reason(note, "note")
    report = await _report_in(Report.filter(circle=circle), report_id)
    if report.target_actor_id == by.id:
        raise PermissionDenied("A report about you is for the circle's other stewards and the admins to decide.")
    async with in_transaction():
        report = await _decide(report, by, outcome, note)
        await ModerationAction.create(
            circle=circle, moderator=by, target_actor_id=report.target_actor_id, post_id=report.post_id,
            kind=ModerationKind.RESOLVE_REPORT if report.state is ReportState.RESOLVED else ModerationKind.DISMISS_REPORT,
            reason=note,
        )
    return report


async def _report_in(reports, report_id: int) -> Report:
    report = await reports.get_or_none(id=report_id) if validation.is_row_id(report_id) else None
    if report is None:
        raise NotFound("There is no such report.")
    return report


# --- a circle's stewards moderating -------------------------------------------------


async def _steward_of_local(circle: Circle, by: Actor) -> None:
    if not circle.actor.local:
        raise PermissionDenied("This circle lives on another server: its own stewards moderate it.")
    await circle_service.require_steward(circle, by)


async def remove_post(
    circle: Circle, by: Actor, post_id: int, *, reason: str, media_store: media_service.MediaStore | None = None
) -> Post:
    """A steward removes a post from the circle. Their Delete, with the reason
    as its summary, goes out through the circle (to its followers and, for a
    post from elsewhere, to its author's server): Lemmy takes a removal only
    from a person (federation/post_fanout.py). With `media_store`, its uploaded images go
    too (rows in the transaction, files once it has committed)."""
    await _steward_of_local(circle, by)
    reason = _reason(reason)
    post = await Post.get_or_none(id=post_id, circle=circle, deleted_at=None) if validation.is_row_id(post_id) else None
    if post is None:
        raise NotFound("That post is not in this circle, or was removed already.")
    async with in_transaction():
        if not await post_service.mark_deleted(post, by=by, summary=reason):
            raise Conflict("That post was removed meanwhile.")
        await ModerationAction.create(
            circle=circle, moderator=by, kind=ModerationKind.REMOVE_POST, target_actor_id=post.author_id,
            post=post, reason=reason,
        )
        await Report.filter(post=post, state=ReportState.OPEN).update(
            state=ReportState.RESOLVED, resolved_at=clock.now(), resolved_by=by, resolution_note=reason
        )
        file_names = await media_service.detach_all(post) if media_store is not None else []
    if media_store is not None:
        media_store.remove(file_names)
    return post


async def _member_by_id(circle: Circle, actor_id: int) -> Actor:
    actor = await Actor.get_or_none(id=actor_id) if validation.is_row_id(actor_id) else None
    if actor is None or actor.kind is not ActorKind.PERSON:  # not the instance, nor another circle
        raise NotFound("There is no such person.")
    return actor


def ban_block_id(circle: Circle, action: ModerationAction) -> str:
    """The id of the Block activity a ban sends (and its Undo names)."""
    return f"{circle.actor.uri}/moderation/{action.id}"


async def ban(circle: Circle, by: Actor, actor_id: int, *, reason: str, instance: Instance) -> ModerationAction:
    """A steward bans someone from the circle: they are no member any more,
    cannot join again, and the circle refuses what they send it. Their server
    hears of it as a Block from the circle (as Lemmy does). A proposal only
    they had still to vote on is decided."""
    await _steward_of_local(circle, by)
    reason = _reason(reason)
    target = await _member_by_id(circle, actor_id)
    if target.id == by.id:
        raise InvalidInput("You cannot ban yourself.", field="actor_id")
    async with in_transaction():
        member = await Membership.get_or_none(circle=circle, actor=target)
        if member is not None and member.state is MembershipState.BANNED:
            raise Conflict("They are banned from this circle already.")
        if member is not None and member.state is MembershipState.ACTIVE and member.role is not Role.MEMBER:
            raise PermissionDenied("Facilitators and moderators cannot be banned: the circle decides about them.")
        if member is None:
            await Membership.create(
                circle=circle, actor=target, role=Role.MEMBER, state=MembershipState.BANNED, updated_at=clock.now()
            )
        else:
            await circle_service.change_membership_state(member, MembershipState.BANNED)
        await Follow.filter(follower=target, target_id=circle.actor_id).delete()
        action = await ModerationAction.create(
            circle=circle, moderator=by, kind=ModerationKind.BAN, target_actor=target, reason=reason
        )
        await OutboxEvent.create(kind="member.banned", subject_id=action.id)
    await governance_decisions.decide_after_leaving(instance, [circle.id])
    return action


async def ban_target(circle: Circle, by: Actor, actor_id: int) -> Actor:
    """Whom a steward is about to ban, for asking them to confirm."""
    await _steward_of_local(circle, by)
    return await _member_by_id(circle, actor_id)


async def unban(circle: Circle, by: Actor, actor_id: int, *, reason: str) -> ModerationAction:
    """Lift a ban: the person may ask to join again (they are not made a
    member). Their server hears an Undo of the Block."""
    await _steward_of_local(circle, by)
    reason = _reason(reason)
    target = await _member_by_id(circle, actor_id)
    member = await Membership.get_or_none(circle=circle, actor=target, state=MembershipState.BANNED)
    if member is None:
        raise NotFound("That person is not banned from this circle.")
    banned = await ModerationAction.filter(circle=circle, target_actor=target, kind=ModerationKind.BAN).order_by("-id").first()
    async with in_transaction():
        await end_membership(member)
        action = await ModerationAction.create(
            circle=circle, moderator=by, kind=ModerationKind.UNBAN, target_actor=target, reason=reason
        )
        await OutboxEvent.create(
            kind="member.unbanned", subject_id=action.id,
            data={"block": ban_block_id(circle, banned) if banned else None},
        )
    return action


async def banned_members(circle: Circle, by: Actor) -> list[Membership]:
    await circle_service.require_steward(circle, by)
    return await circle_service.list_members(circle, state=MembershipState.BANNED, limit=500)


async def moderation_log(circle: Circle, viewer: Actor | None, *, is_admin: bool = False) -> list[ModerationAction]:
    """What the stewards did in the circle, newest first: for its members."""
    if not is_admin:
        if viewer is None:
            raise PermissionDenied("Only the circle's members can read its moderation log.")
        await circle_service.require_member(circle, viewer)
    return (
        await ModerationAction.filter(circle=circle)
        .select_related("moderator", "target_actor", "post")
        .order_by("-id")
        .limit(LOG_PAGE)
    )


# --- the instance's admins -------------------------------------------------------------


def require_admin(account: Account | None) -> None:
    if account is None or not account.is_admin:
        raise PermissionDenied("Only the instance's admins can do this.")


async def all_reports(account: Account, *, state: ReportState = ReportState.OPEN) -> list[Report]:
    """Every report on this instance (from the form and from other servers)."""
    require_admin(account)
    return await _with_details(Report.filter(state=state)).order_by("id").limit(QUEUE_PAGE)


async def decide_report_as_admin(account: Account, report_id: int, *, outcome: str, note: str) -> Report:
    require_admin(account)
    note = _reason(note, "note")
    report = await _report_in(Report.all(), report_id)
    await account.fetch_related("actor")
    async with in_transaction():
        report = await _decide(report, account.actor, outcome, note)
        if report.circle_id is not None:  # the circle's members see what happened to reports about it
            await ModerationAction.create(
                circle_id=report.circle_id, moderator=account.actor, target_actor_id=report.target_actor_id,
                post_id=report.post_id, reason=note,
                kind=ModerationKind.RESOLVE_REPORT if report.state is ReportState.RESOLVED else ModerationKind.DISMISS_REPORT,
            )
    return report


HOST_RE = re.compile(r"(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?")


def _host(value: str) -> str:
    value = (value or "").strip().lower()
    if "://" in value:
        value = host_of(value)
    value = value.rstrip("/")
    if not value:
        raise InvalidInput("Write the domain to block, such as spam.example.", field="host")
    value = _ascii_host(value)
    if not HOST_RE.fullmatch(value):
        raise InvalidInput("That is not a domain name (write it as spam.example).", field="host")
    return value


async def blocked_hosts() -> list[RemoteHost]:
    return await RemoteHost.filter(blocked_at__isnull=False).order_by("host")


def _ascii_host(host: str) -> str:
    """One spelling of a host for blocks: lower case, no trailing dot, IDN labels
    in their ASCII (punycode) form, as DNS and TLS see them."""
    name, port = (host.rsplit(":", 1) + [""])[:2] if re.search(r":\d+$", host) else (host, "")
    name = name.lower().rstrip(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not a name IDNA can encode: compared as written
    return name + (f":{port}" if port else "")


def _covering(host: str) -> set[str]:
    """The blocks that would cover a host: itself, without its port, and each
    parent domain (a block of spam.example covers a.spam.example, as on Mastodon)."""
    host = _ascii_host(host)
    name = host.rsplit(":", 1)[0] if re.search(r":\d+$", host) else host
    if re.fullmatch(r"[\d.]+", name):
        return {host, name}  # an IP address has no parent domains
    labels = name.split(".")
    return {host} | {".".join(labels[i:]) for i in range(len(labels) - 1)}


async def is_blocked(host: str) -> bool:
    return bool(host) and await RemoteHost.filter(host__in=sorted(_covering(host)), blocked_at__isnull=False).exists()


async def blocked_among(hosts: set[str]) -> set[str]:
    """Which of these hosts a block covers (one query)."""
    covering = {host: _covering(host) for host in hosts if host}
    if not covering:
        return set()
    candidates = sorted(set().union(*covering.values()))
    blocked = set(await RemoteHost.filter(host__in=candidates, blocked_at__isnull=False).values_list("host", flat=True))
    return {host for host, covers in covering.items() if covers & blocked}


def _actors_of(host: str):
    return Actor.filter(
        Q(domain=host) | Q(domain__endswith=f".{host}")
        | Q(uri__startswith=f"https://{host}/") | Q(uri__startswith=f"http://{host}/"),
        local=False,
    )


async def block_domain(account: Account, instance: Instance, host: str, *, reason: str) -> RemoteHost:
    """Block a domain, as Mastodon's suspension does: its activities are
    refused, nothing is delivered there, its actors leave our circles and
    their posts are hidden (unblocking later does not bring those back)."""
    require_admin(account)
    host = _host(host)
    reason = validation.text(reason, "reason", label="Reason", max_length=REASON_MAX)
    if host == instance.domain.lower():
        raise InvalidInput("That is this server's own domain.", field="host")
    remote_host, _ = await RemoteHost.get_or_create(host=host)
    if remote_host.blocked_at is not None:
        raise Conflict(f"{host} is blocked already.", field="host")
    actors = await _actors_of(host)
    async with in_transaction():
        remote_host.blocked_at, remote_host.block_reason = clock.now(), reason
        await remote_host.save(update_fields=["blocked_at", "block_reason"])
        for post in await Post.filter(author_id__in=[a.id for a in actors], deleted_at=None):
            await post_service.mark_deleted(post, by=None)
        members = await Membership.filter(actor_id__in=[a.id for a in actors])
        for member in members:
            await end_membership(member)
        await Follow.filter(Q(follower_id__in=[a.id for a in actors]) | Q(target_id__in=[a.id for a in actors])).delete()
        await Delivery.filter(Q(host=host) | Q(host__endswith=f".{host}"), state=DeliveryState.PENDING).update(
            state=DeliveryState.FAILED, last_error="The domain is blocked by an admin."
        )
    await governance_decisions.decide_after_leaving(instance, [m.circle_id for m in members])
    return remote_host


async def unblock_domain(account: Account, host: str) -> None:
    require_admin(account)
    host = _host(host)
    if not await RemoteHost.filter(host=host, blocked_at__isnull=False).update(blocked_at=None, block_reason=""):
        raise NotFound(f"{host} is not blocked.")


@dataclass(frozen=True)
class Overview:
    accounts: int
    circles: int
    posts: int
    open_reports: int
    queued_deliveries: int
    queued_inbox: int
    failed_by_host: list[tuple[str, int]]


async def overview(account: Account) -> Overview:
    """A few counts for the admins, a constant number of queries."""
    require_admin(account)
    failed = (
        await Delivery.filter(state=DeliveryState.FAILED)
        .annotate(n=Count("id")).group_by("host").order_by("-n", "host").limit(20).values_list("host", "n")
    )
    return Overview(
        accounts=await Account.all().count(),
        circles=await Circle.filter(actor__local=True).count(),
        posts=await Post.filter(deleted_at=None).count(),
        open_reports=await Report.filter(state=ReportState.OPEN).count(),
        queued_deliveries=await Delivery.filter(state=DeliveryState.PENDING).count(),
        queued_inbox=await InboxItem.filter(state=InboxState.QUEUED).count(),
        failed_by_host=[(host, n) for host, n in failed],
    )
