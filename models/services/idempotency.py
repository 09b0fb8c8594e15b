"""Idempotency keys: an app that sends a status again with the same
`Idempotency-Key` gets the first one back, not a second post. Mastodon keeps
a key an hour per account (app/services/post_status_service.rb:
`redis.setex(idempotency_key, 3_600, @status.id)`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.accounts import Account
from models.idempotency import IdempotencyKey
from models.posts import Post

WINDOW = dt.timedelta(hours=1)


def _digest(key: str) -> str:
    return clock.token_digest(key)


async def recall(account: Account, key: str) -> Post | None:
    """The post this key made for this person within the hour, if it is still there."""
    row = await IdempotencyKey.filter(
        account_id=account.id, key_digest=_digest(key), created_at__gt=clock.now() - WINDOW,
        post__deleted_at=None,
    ).select_related("post", "post__author").first()
    return row.post if row is not None else None


def _live(row: IdempotencyKey) -> bool:
    return row.created_at > clock.now() - WINDOW and row.post.deleted_at is None


async def once(account: Account, key: str | None, make: Callable[[], Awaitable[Post]]) -> Post:
    """`make()` the post, unless this key made one within the hour: then that
    one. Two requests with one key at the same moment make one post: the key
    is stored in the post's transaction, and the second insert of it fails
    (unique per account), which rolls back the second post."""
    if not key:
        return await make()
    earlier = await recall(account, key)
    if earlier is not None:
        return earlier
    digest = _digest(key)
    try:
        async with in_transaction():
            # An expired key, or one whose post was deleted, may be used again.
            row = await IdempotencyKey.filter(account_id=account.id, key_digest=digest).select_related("post").first()
            if row is not None:
                if _live(row):
                    return row.post  # made meanwhile, by the same request sent again
                await IdempotencyKey.filter(id=row.id).delete()
            post = await make()
            await IdempotencyKey.create(account_id=account.id, key_digest=digest, post_id=post.id)
    except IntegrityError:
        earlier = await recall(account, key)
        if earlier is None:
            raise
        return earlier
    return post


async def forget_expired() -> int:
    """Drop keys older than the window (for a periodic clean-up)."""
    return await IdempotencyKey.filter(created_at__lte=clock.now() - WINDOW).delete()
