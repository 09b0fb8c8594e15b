"""Local likes ("this helped me"): members of a post's circle like and unlike
it; each change federates once (federation/fanout.py)."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.errors import NotFound
from models.federation import OutboxEvent
from models.posts import Like, Post
from models.services import circles as circle_service
from models.services import notification_events, person_blocks
from models.translation import N_

LIKE_BLOCKED = N_("The author of this post has blocked you, so you cannot like it.")


async def _require_member_of(post: Post, actor: Actor) -> None:
    if post.deleted_at is not None or post.circle_id is None:
        raise NotFound("That post does not exist or was deleted.")
    await circle_service.require_member(await post.circle, actor)


async def like(actor: Actor, post: Post) -> Like:
    """Like a post of a circle the actor belongs to; liking twice changes nothing."""
    await _require_member_of(post, actor)
    existing = await Like.get_or_none(actor=actor, post=post)
    if existing is not None:
        return existing
    if post.author_id is not None:
        await person_blocks.refuse_if_blocked(actor, await post.author, LIKE_BLOCKED)
    like_id = clock.new_id()
    try:
        async with in_transaction():
            row = await Like.create(id=like_id, actor=actor, post=post, uri=f"{actor.uri}#likes/{like_id}")
            await OutboxEvent.create(kind="like.created", subject_id=row.id)
            await notification_events.liked(post, actor)
    except IntegrityError:  # the same like at the same moment, from another request
        return await Like.get(actor=actor, post=post)
    return row


async def unlike(actor: Actor, post: Post) -> bool:
    """Take a like back; False when there was none."""
    existing = await Like.get_or_none(actor=actor, post=post)
    if existing is None:
        return False
    async with in_transaction():
        if not await Like.filter(id=existing.id).delete():
            return False  # taken back meanwhile
        await OutboxEvent.create(
            kind="like.undone", subject_id=post.id, data={"actor": actor.uri, "like_uri": existing.uri}
        )
    return True


# Batched, for a page of posts (a thread and its replies): one query each.


async def counts_of(post_ids: list[int]) -> dict[int, int]:
    """How many found each post helpful, by post id (absent: none)."""
    if not post_ids:
        return {}
    rows = await Like.filter(post_id__in=post_ids).annotate(n=Count("id")).group_by("post_id").values_list("post_id", "n")
    return dict(rows)


async def liked_by(actor: Actor | None, post_ids: list[int]) -> set[int]:
    """Which of these posts the actor found helpful."""
    if actor is None or not post_ids:
        return set()
    return set(await Like.filter(actor_id=actor.id, post_id__in=post_ids).values_list("post_id", flat=True))


async def likers_of(post_ids: list[int]) -> dict[int, list[Actor]]:
    """Who found each post helpful, first to last, by post id (for members)."""
    if not post_ids:
        return {}
    likers: dict[int, list[Actor]] = {}
    for row in await Like.filter(post_id__in=post_ids).select_related("actor").order_by("id"):
        likers.setdefault(row.post_id, []).append(row.actor)
    return likers
