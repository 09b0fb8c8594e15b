"""Blocking and muting people (issue 11): the rules, no HTTP.

A mute hides the muted person's posts and replies from the muter, and no one
is told. A block hides them too, removes any follow between the two people
(both ways) and refuses the blocked person's likes, replies to the blocker's
posts and follows; a local person's block of someone elsewhere is sent to
that person's server as a `Block`, as Mastodon sends it. Circles are shared
spaces: nothing here touches a membership."""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor, ActorKind, Follow
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.person_blocks import BlockKind, PersonBlock


def _check(owner: Actor, target: Actor | None) -> Actor:
    if target is None or target.deleted_at is not None:
        raise NotFound("No such person.")
    if target.kind != ActorKind.PERSON:
        raise InvalidInput("Only people can be blocked or muted.")
    if target.id == owner.id:
        raise InvalidInput("You cannot block or mute yourself.")
    return target


async def set_block(owner: Actor, target: Actor | None, kind: BlockKind, *, uri: str | None = None) -> PersonBlock:
    """Block or mute `target`; doing it twice changes nothing, and a block
    replaces a mute (or the other way round). `uri` is the id of a Block that
    arrived from `owner`'s server."""
    target = _check(owner, target)
    async with in_transaction():
        row = await PersonBlock.get_or_none(owner_id=owner.id, target_id=target.id)
        was = row.kind if row else None
        if row is None:
            row = await PersonBlock.create(owner_id=owner.id, target_id=target.id, kind=kind, uri=uri)
        elif row.kind != kind or (uri and row.uri != uri):
            row.kind = kind
            row.uri = uri or row.uri
            await row.save(update_fields=["kind", "uri"])
        if kind == BlockKind.BLOCK:
            await Follow.filter(
                Q(follower_id=owner.id, target_id=target.id) | Q(follower_id=target.id, target_id=owner.id)
            ).delete()
        await _federate(owner, target, row, was=was, now=kind)
    return row


async def remove(owner: Actor, target: Actor | None) -> PersonBlock | None:
    """Undo a block or mute; returns the row that was removed, if any."""
    if target is None:
        raise NotFound("No such person.")
    async with in_transaction():
        row = await PersonBlock.get_or_none(owner_id=owner.id, target_id=target.id)
        if row is not None:
            await row.delete()
            await _federate(owner, target, row, was=row.kind, now=None)
    return row


async def _federate(owner: Actor, target: Actor, row: PersonBlock, *, was: BlockKind | None,
                   now: BlockKind | None) -> None:
    """Tell a remote target's server when a local person starts or stops
    blocking them (a mute is never told). The event carries the Block's id,
    so its Undo names the same activity."""
    blocking = now == BlockKind.BLOCK
    if not owner.local or target.local or blocking == (was == BlockKind.BLOCK):
        return
    if blocking:  # each new block is a new activity, so a block after an unblock is not taken for a resend
        row.uri = f"{owner.uri}#blocks/{clock.new_id()}"
        await PersonBlock.filter(id=row.id).update(uri=row.uri)
    kind = "person.blocked" if blocking else "person.unblocked"
    await OutboxEvent.create(kind=kind, subject_id=row.id,
                             data={"owner": owner.uri, "target": target.uri, "block_uri": row.uri})


async def refuse_if_blocked(actor: Actor, owner: Actor | None, message: str) -> None:
    """Raise `PermissionDenied(message)` when `owner` blocked `actor`; the
    message may name the owner as %(name)s. Mark it with N_ for translation."""
    if owner is not None and await is_blocked_by(actor, owner):
        raise PermissionDenied(message, name=owner.name)


async def kind_between(owner: Actor, target: Actor) -> BlockKind | None:
    row = await PersonBlock.get_or_none(owner_id=owner.id, target_id=target.id)
    return row.kind if row else None


async def is_blocked_by(actor: Actor, owner: Actor) -> bool:
    """Did `owner` block `actor`? Then `actor`'s interactions with `owner` are refused."""
    return await PersonBlock.exists(owner_id=owner.id, target_id=actor.id, kind=BlockKind.BLOCK)


async def hidden_ids(owner: Actor) -> set[int]:
    """Ids of the people whose content `owner` should not see (muted or blocked)."""
    return set(await PersonBlock.filter(owner_id=owner.id).values_list("target_id", flat=True))


def not_hidden_from(viewer: Actor | None, field: str = "author_id") -> Q:
    """A filter that leaves out rows whose `field` (a post's author, say) is
    someone `viewer` muted or blocked. One subquery, no N+1."""
    if viewer is None:
        return Q()
    hidden = PersonBlock.filter(owner_id=viewer.id).values("target_id")
    # NOT IN is unknown for NULL (a safe question has no author): keep those rows.
    return Q(**{f"{field}__isnull": True}) | ~Q(**{f"{field}__in": Subquery(hidden)})


async def list_for(owner: Actor) -> list[PersonBlock]:
    return await PersonBlock.filter(owner_id=owner.id).prefetch_related("target").order_by("-created_at")
