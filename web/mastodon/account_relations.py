"""Following, blocking and muting from an app, and the relationships they
make (https://docs.joinmastodon.org/methods/accounts/#follow and on).

Each calls the service the web UI calls: following a person here is
`follows.follow_local`, someone elsewhere `follows.follow_remote`; following
a circle here is joining it (`circles.join`: at once, or a request its
facilitators answer, shown as `requested: true`), unfollowing it leaving it;
blocks and mutes are `person_blocks`. Each answers with the Relationship as
it now stands, as Mastodon does.
"""

from __future__ import annotations

from quart import request

from models.actors import Actor, ActorKind
from models.circles import Circle, MembershipState
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.person_blocks import BlockKind
from models.services import circles as circle_service
from models.services import follows, person_blocks, ratelimits
from web.mastodon import auth, entities
from web.mastodon.account_support import (
    actors_by_ids, boolean, bp, find_account, instance, me, not_found, params, spend,
)

async def _relationship(target: Actor) -> dict:
    [row] = await entities.relationships(me().actor, [target])
    return row


@bp.get("/api/v1/accounts/relationships")
@auth.scoped("read:follows")
async def relationships():
    """Relationships with each account `id[]` names; unknown ids are left out, as Mastodon does."""
    targets = await actors_by_ids(request.args.getlist("id[]") or request.args.getlist("id"))
    return await entities.relationships(me().actor, targets)


# --- follow and unfollow ------------------------------------------------------------------


@bp.post("/api/v1/accounts/<account_id>/follow")
@auth.scoped("write:follows")  # :follow, :write, :'write:follows'
async def follow(account_id: str):
    target = await find_account(account_id)
    await params()  # reblogs, notify, languages: nothing here to set (a bad body is still refused)
    person = me().actor
    if target.id == person.id:
        # app/services/follow_service.rb: `following_not_possible?` raises RecordNotFound for oneself
        raise not_found()
    if target.kind is ActorKind.GROUP and target.local:
        await _join(target, person)
    else:
        await _follow(target, person)
    return await _relationship(target)


async def _join(group: Actor, person: Actor) -> None:
    """Join a circle here, or ask to; asking again changes nothing (Mastodon's follow is idempotent)."""
    circle = await Circle.get(actor_id=group.id).select_related("actor")
    member = await circle_service.membership(circle, person)
    if member is not None and member.state is MembershipState.BANNED:
        raise PermissionDenied(circle_service.BANNED)
    if member is None:
        await circle_service.join(circle, person)


async def _follow(target: Actor, person: Actor) -> None:
    # A block either way, or this server's block of their server, is refused by
    # the service (follows.refuse_if_not_allowed) with a PermissionDenied: 403, as
    # Mastodon's FollowService raises Mastodon::NotPermittedError (`following_not_allowed?`,
    # app/services/follow_service.rb) and app/controllers/concerns/api/error_handling.rb answers it.
    if target.local:
        await spend(ratelimits.ACTIONS)  # as users.follow
        await follows.follow_local(person, target)
        return
    await spend(ratelimits.LOOKUP)  # as people.follow
    await follows.follow_remote(person, target, instance_base_url=instance().base_url)


@bp.post("/api/v1/accounts/<account_id>/unfollow")
@auth.scoped("write:follows")
async def unfollow(account_id: str):
    """Stop following; for a circle, leave it (or take back a request to join). Idempotent."""
    target = await find_account(account_id)
    person = me().actor
    if target.kind is ActorKind.GROUP and target.local:
        circle = await Circle.get(actor_id=target.id).select_related("actor")
        try:
            await circle_service.leave(circle, person, instance=instance())
        except NotFound:
            pass  # not a member: nothing to undo
    elif target.local:
        if target.kind is ActorKind.PERSON:
            await spend(ratelimits.ACTIONS)  # as users.unfollow
            await follows.unfollow_local(person, target)
    else:
        await follows.unfollow_remote(person, target)
    return await _relationship(target)


# --- block, mute ----------------------------------------------------------------------------


@bp.post("/api/v1/accounts/<account_id>/block")
@auth.scoped("write:blocks")
async def block(account_id: str):
    target = await find_account(account_id)
    await person_blocks.set_block(me().actor, _person(target), BlockKind.BLOCK)
    return await _relationship(target)


@bp.post("/api/v1/accounts/<account_id>/unblock")
@auth.scoped("write:blocks")
async def unblock(account_id: str):
    return await _undo(account_id, BlockKind.BLOCK)


@bp.post("/api/v1/accounts/<account_id>/mute")
@auth.scoped("write:mutes")
async def mute(account_id: str):
    """Mute for good; the mute hides their posts and replies (its
    notifications too, Mastodon's default). Mutes that end are not kept here."""
    target = await find_account(account_id)
    values = await params()
    duration = str(values.get("duration") or "0").strip()
    if duration not in ("", "0"):
        raise InvalidInput("Mutes here last until you undo them: leave out duration.", field="duration")
    boolean(values, "notifications")  # checked; a mute here always hides notifications
    if await person_blocks.kind_between(me().actor, target) is BlockKind.BLOCK:
        return await _relationship(target)  # a block already hides them (one row a pair: block or mute)
    await person_blocks.set_block(me().actor, _person(target), BlockKind.MUTE)
    return await _relationship(target)


@bp.post("/api/v1/accounts/<account_id>/unmute")
@auth.scoped("write:mutes")
async def unmute(account_id: str):
    return await _undo(account_id, BlockKind.MUTE)


def _person(target: Actor) -> Actor:
    if target.kind is not ActorKind.PERSON:
        raise InvalidInput("Only people can be blocked or muted.")
    return target


async def _undo(account_id: str, kind: BlockKind):
    """Unblock only a block, unmute only a mute: each leaves the other be."""
    target = await find_account(account_id)
    if await person_blocks.kind_between(me().actor, target) is kind:
        await person_blocks.remove(me().actor, target)
    return await _relationship(target)

