"""Blocking and muting people (issue 11): the rules, no HTTP.

A block also removes any follow between the two people, both ways. Circles
are shared spaces: nothing here touches a membership."""

from __future__ import annotations

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.actors import Actor, ActorKind, Follow
from models.errors import InvalidInput, NotFound
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
    replaces a mute (or the other way round)."""
    target = _check(owner, target)
    async with in_transaction():
        row = await PersonBlock.get_or_none(owner_id=owner.id, target_id=target.id)
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
    return row


async def remove(owner: Actor, target: Actor | None) -> PersonBlock | None:
    """Undo a block or mute; returns the row that was removed, if any."""
    if target is None:
        raise NotFound("No such person.")
    row = await PersonBlock.get_or_none(owner_id=owner.id, target_id=target.id)
    if row is not None:
        await row.delete()
    return row


async def kind_between(owner: Actor, target: Actor) -> BlockKind | None:
    row = await PersonBlock.get_or_none(owner_id=owner.id, target_id=target.id)
    return row.kind if row else None


async def is_blocked_by(actor: Actor, owner: Actor) -> bool:
    """Did `owner` block `actor`? Then `actor`'s interactions with `owner` are refused."""
    return await PersonBlock.exists(owner_id=owner.id, target_id=actor.id, kind=BlockKind.BLOCK)


async def hidden_ids(owner: Actor) -> set[int]:
    """Ids of the people whose content `owner` should not see (muted or blocked)."""
    return set(await PersonBlock.filter(owner_id=owner.id).values_list("target_id", flat=True))


async def list_for(owner: Actor) -> list[PersonBlock]:
    return await PersonBlock.filter(owner_id=owner.id).prefetch_related("target").order_by("-created_at")
