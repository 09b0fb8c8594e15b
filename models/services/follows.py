"""Follows arriving from other servers, and what they mean for circles:
following a circle (a Group) is asking to join it, as on Lemmy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor, ActorKind, Follow, FollowState
from models.circle_invites import CircleInvite, usable
from models.circles import Circle, JoinMode, Membership, MembershipState, Role
from models.errors import InvalidInput, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.services import governance_decisions, moderation, notification_events, person_blocks, visibility
from models.services.memberships import count_new_member, end_membership
from models.text import isolated
from models.translation import N_


# Why a follow is refused, for whoever asks (a page, an app): each is a
# PermissionDenied, which web/errors.py answers 403 everywhere, as Mastodon's
# API answers Mastodon::NotPermittedError (app/controllers/concerns/api/error_handling.rb).
BLOCKED_YOU = N_("%(name)s has blocked you, so you cannot follow them.")
YOU_BLOCKED = N_("You blocked %(name)s: unblock them first to follow them.")
SERVER_BLOCKED = N_("This server does not talk to %(domain)s: its admins blocked it.")


async def refuse_if_not_allowed(follower: Actor, target: Actor) -> None:
    """The one rule on who may not follow whom, for every way of following
    (a page, the client API, a sister circle): not someone on a server this
    server's admins blocked, nor across a person's block either way. Mastodon's
    `following_not_allowed?` (app/services/follow_service.rb) checks the same
    and raises Mastodon::NotPermittedError."""
    if not target.local and await moderation.is_blocked(target.domain or ""):
        raise PermissionDenied(SERVER_BLOCKED, domain=target.domain)
    await person_blocks.refuse_if_blocked(follower, target, BLOCKED_YOU)
    if await person_blocks.is_blocked_by(target, follower):
        raise PermissionDenied(YOU_BLOCKED, name=target.name)


@dataclass(frozen=True)
class FollowOutcome:
    follow: Follow
    state: FollowState


async def receive_follow(follower: Actor, target: Actor, follow_uri: str) -> FollowOutcome:
    """A remote actor follows a local one. People accept at once; circles
    accept, hold for approval, or refuse, by their join mode. Idempotent: a
    repeated Follow gets the same answer again."""
    if not target.local or follower.local:
        raise InvalidInput("Only remote actors follow local ones through the inbox.")
    if target.kind is ActorKind.GROUP and follower.kind is ActorKind.GROUP:
        state = await _sister_follow(target)
    elif target.kind is ActorKind.GROUP:
        state = await _join_by_follow(follower, target)
    elif target.kind is ActorKind.PERSON:
        blocked = await person_blocks.is_blocked_by(follower, target)
        state = FollowState.REJECTED if blocked else FollowState.ACCEPTED
    else:
        state = FollowState.REJECTED
    async with in_transaction():
        follow = await Follow.get_or_none(follower=follower, target=target)
        was = follow.state if follow is not None else None
        if follow is None:
            follow = await Follow.create(follower=follower, target=target, state=state, uri=follow_uri)
        else:
            follow.state, follow.uri = state, follow_uri
            await follow.save(update_fields=["state", "uri"])
        if state is not FollowState.PENDING:
            await OutboxEvent.create(kind=f"follow.{state.value}", subject_id=follow.id)
        if target.kind is ActorKind.PERSON and state is FollowState.ACCEPTED and was is not FollowState.ACCEPTED:
            await notification_events.followed(follower, target)  # a repeated Follow tells nobody again
    return FollowOutcome(follow=follow, state=state)


async def _sister_follow(group: Actor) -> FollowState:
    """A circle elsewhere follows one of ours as a sister (models/sisters.py):
    it hears our Announces but is no member, so no Membership row."""
    circle = await Circle.get(actor=group)
    return FollowState.REJECTED if circle.join_mode is JoinMode.INVITE else FollowState.ACCEPTED


class _NoRoom(Exception):
    """Rolls back a join that lost a race (see _join_by_follow)."""


async def _join_by_follow(follower: Actor, group: Actor) -> FollowState:
    circle = await Circle.get(actor=group)
    member = await Membership.get_or_none(circle=circle, actor=follower)
    if member is not None:
        return {
            MembershipState.ACTIVE: FollowState.ACCEPTED,
            MembershipState.PENDING: FollowState.PENDING,
            MembershipState.BANNED: FollowState.REJECTED,
        }[member.state]
    invitations = usable(CircleInvite.filter(circle=circle, invitee=follower))
    invited = await invitations.exists()  # a personal invitation (circle_invites.invite_person)
    if not invited and (circle.join_mode is JoinMode.INVITE or (circle.is_full and circle.join_mode is JoinMode.OPEN)):
        return FollowState.REJECTED
    state = MembershipState.ACTIVE if invited or circle.join_mode is JoinMode.OPEN else MembershipState.PENDING
    try:
        async with in_transaction():
            # The Follow that takes up an invitation uses it up; both checks are
            # conditional updates, so a withdrawn invitation or a circle that
            # filled up meanwhile refuses the Follow and changes nothing.
            if invited and not await invitations.update(uses=F("uses") + 1):
                raise _NoRoom
            if state is MembershipState.ACTIVE and not await count_new_member(circle.id):
                raise _NoRoom
            await Membership.create(circle=circle, actor=follower, role=Role.MEMBER, state=state,
                                    updated_at=clock.now())
            if state is MembershipState.PENDING:
                await notification_events.join_requested(circle, follower)
    except _NoRoom:
        return FollowState.REJECTED
    return FollowState.ACCEPTED if state is MembershipState.ACTIVE else FollowState.PENDING


async def take_up_invitation(person: Actor, group: Actor, accept_uri: str) -> bool:
    """A person elsewhere accepts their invitation into one of our circles
    with an Accept rather than a Follow (Mobilizon): it counts as the Follow
    would, so they join and hear the circle's posts as its followers do."""
    circle = await Circle.get(actor=group)
    if not await CircleInvite.filter(circle=circle, invitee=person).exists():
        return False  # not invited: an Accept is no way to join
    if await _join_by_follow(person, group) is not FollowState.ACCEPTED:
        return False
    await Follow.update_or_create(follower=person, target=group,
                                  defaults={"state": FollowState.ACCEPTED, "uri": accept_uri})
    return True


async def undo_follow(follower: Actor, target: Actor, *, instance: Instance) -> bool:
    """Stop following (and, for a circle, leave it unless banned, deciding a
    proposal only the leaver had still to vote on). False if there was no follow."""
    follow = await Follow.get_or_none(follower=follower, target=target)
    if follow is None:
        return False
    circle = None
    async with in_transaction():
        await follow.delete()
        if target.kind is ActorKind.GROUP and target.local:
            circle = await Circle.get(actor=target)
            member = await Membership.get_or_none(circle=circle, actor=follower)
            if member is not None and member.state is not MembershipState.BANNED:
                await end_membership(member)
    if circle is not None:
        await governance_decisions.decide_after_leaving(instance, [circle.id])
    return True


async def settle_pending_follow(circle: Circle, follower: Actor, *, accepted: bool) -> None:
    """When a steward decides on a remote member's request, answer their Follow.
    Call inside the deciding transaction."""
    follow = await Follow.get_or_none(follower=follower, target_id=circle.actor_id, state=FollowState.PENDING)
    if follow is None:
        return
    follow.state = FollowState.ACCEPTED if accepted else FollowState.REJECTED
    await follow.save(update_fields=["state"])
    await OutboxEvent.create(kind=f"follow.{follow.state.value}", subject_id=follow.id)


class Recipient(NamedTuple):
    """A follower elsewhere as a fan-out needs them: who, and where to deliver
    (read like an Actor's fields, so plans mix the two)."""

    id: int
    inbox_url: str | None
    shared_inbox_url: str | None


async def remote_followers(target: Actor) -> list[Recipient]:
    """The target's accepted followers elsewhere: a circle's ten thousand in
    one query, as tuples (building Actor objects took ten times as long, and
    held the event loop while it did)."""
    rows = await Actor.filter(
        following_rows__target=target, following_rows__state=FollowState.ACCEPTED, local=False
    ).values_list("id", "inbox_url", "shared_inbox_url")
    return [Recipient(*row) for row in rows]


async def find_follow(follow_id: int) -> Follow | None:
    return await Follow.get_or_none(id=follow_id).select_related("follower", "target")


# --- local people following local people --------------------------------------------


async def follow_local(follower: Actor, target: Actor) -> Follow:
    """A person here follows another person here: accepted at once, and no
    activity is queued (both are on this server, so there is nobody to tell
    but the followed person, who is notified). Idempotent; a block either way
    refuses it (refuse_if_not_allowed)."""
    if not (follower.local and target.local) or target.kind is not ActorKind.PERSON:
        raise InvalidInput("Follow a person on this server from a local account.")
    if follower.id == target.id:
        raise InvalidInput("You cannot follow yourself.")
    await refuse_if_not_allowed(follower, target)
    async with in_transaction():
        follow, created = await Follow.get_or_create(
            follower=follower, target=target, defaults={"state": FollowState.ACCEPTED},
        )
        if created:
            await notification_events.followed(follower, target)
    return follow


async def unfollow_local(follower: Actor, target: Actor) -> bool:
    """A person here stops following another person here; False if they did not follow."""
    if not target.local:
        raise InvalidInput("Follow a person on this server from a local account.")
    return bool(await Follow.filter(follower=follower, target=target).delete())


# --- local actors following remote ones ----------------------------------------------


async def follow_remote(follower: Actor, target: Actor, *, instance_base_url: str) -> Follow:
    """A local person follows a remote actor; for a remote circle this is a
    request to join it. A local circle follows a remote circle as its sister
    (models/services/sisters.py). Idempotent. Queues the Follow activity.
    Refused across a block, and to a server this one's admins blocked
    (refuse_if_not_allowed)."""
    if not follower.local or target.local:
        raise InvalidInput("Follow someone on another server from a local account.")
    await refuse_if_not_allowed(follower, target)
    async with in_transaction():
        follow = await Follow.get_or_none(follower=follower, target=target)
        if follow is not None and follow.state is not FollowState.REJECTED:
            return follow
        suffix = ""
        if follow is None:
            follow = await Follow.create(follower=follower, target=target, state=FollowState.PENDING)
        else:  # asking again after a refusal: a new activity id, or the other side takes it for a resend
            suffix = f"-{clock.new_id()}"
        follow.state = FollowState.PENDING
        follow.uri = f"{instance_base_url}/follows/{follow.id}{suffix}"
        await follow.save(update_fields=["state", "uri"])
        if target.kind is ActorKind.GROUP:
            await _mirror_circle(target)
        await OutboxEvent.create(kind="follow.requested", subject_id=follow.id)
    return follow


async def _mirror_circle(group: Actor) -> Circle:
    """The local record of a remote circle, so its posts have a home here."""
    circle = await Circle.get_or_none(actor=group)
    if circle is None:
        circle = await Circle.create(
            actor=group, name=remote_circle_name(group), visibility=visibility.remote_circle_visibility(group)
        )
    return circle


def remote_circle_name(group: Actor) -> str:
    """The name of a circle elsewhere, as its Group says, isolated for display (models/text.py)."""
    return isolated((group.display_name or group.username)[:98])


async def mirror_circle(group: Actor) -> Circle:
    """The local record of a remote circle (made on first need: following it,
    or someone here looking it up by handle)."""
    if group.local or group.kind is not ActorKind.GROUP:
        raise InvalidInput("Only a circle on another server has a local record.")
    return await _mirror_circle(group)


async def answer_from_remote(follower: Actor, target: Actor, *, accepted: bool) -> bool:
    """A remote actor accepted or rejected a local actor's Follow."""
    follow = await Follow.get_or_none(follower=follower, target=target)
    if follow is None or not follower.local:
        return False
    async with in_transaction():
        follow.state = FollowState.ACCEPTED if accepted else FollowState.REJECTED
        await follow.save(update_fields=["state"])
        if target.kind is ActorKind.GROUP and follower.kind is not ActorKind.GROUP:  # a sister is no member
            await _set_remote_membership(await _mirror_circle(target), follower, active=accepted)
    return True


async def _set_remote_membership(circle: Circle, member: Actor, *, active: bool) -> None:
    existing = await Membership.get_or_none(circle=circle, actor=member)
    if active and existing is None:
        await Membership.create(circle=circle, actor=member, state=MembershipState.ACTIVE, updated_at=clock.now())
        await Circle.filter(id=circle.id).update(member_count=F("member_count") + 1)
    elif not active and existing is not None:
        await end_membership(existing)


async def unfollow_remote(follower: Actor, target: Actor) -> bool:
    """A local person stops following a remote actor (and leaves a remote circle)."""
    follow = await Follow.get_or_none(follower=follower, target=target)
    if follow is None:
        return False
    async with in_transaction():
        await OutboxEvent.create(
            kind="follow.undone", subject_id=follow.id,
            data={"follow_uri": follow.uri, "follower": follower.uri, "target": target.uri},
        )
        await follow.delete()
        if target.kind is ActorKind.GROUP:
            circle = await Circle.get_or_none(actor=target)
            if circle is not None:
                await _set_remote_membership(circle, follower, active=False)
    return True


async def local_follow_by_uri(uri: str) -> Follow | None:
    if not uri:
        return None
    return await Follow.filter(uri=uri, follower__local=True).select_related("follower", "target").first()
