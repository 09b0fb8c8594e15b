"""Bookmarks: a person keeps a post they may read, to find it again; only
they see their bookmarks (Mastodon's bookmarks, for the client API)."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from models.accounts import Account
from models.bookmarks import Bookmark
from models.errors import NotFound
from models.posts import Post
from models.services import visibility


async def _require_readable(account: Account, post: Post) -> None:
    if post.deleted_at is not None:
        raise NotFound("That post does not exist or was deleted.")
    circle = await post.circle if post.circle_id else None
    if circle is not None and not await visibility.can_read(circle, account.actor):
        raise NotFound("That post does not exist or was deleted.")  # a members-only post is not shown to others


async def bookmark(account: Account, post: Post) -> Bookmark:
    """Keep a post the person may read; keeping it twice changes nothing."""
    await _require_readable(account, post)
    existing = await Bookmark.get_or_none(account_id=account.id, post_id=post.id)
    if existing is not None:
        return existing
    try:
        return await Bookmark.create(account_id=account.id, post_id=post.id)
    except IntegrityError:  # the same bookmark at the same moment, from another request
        return await Bookmark.get(account_id=account.id, post_id=post.id)


async def unbookmark(account: Account, post: Post) -> bool:
    """Let a post go; False when it was not kept."""
    return bool(await Bookmark.filter(account_id=account.id, post_id=post.id).delete())


async def bookmarked(account: Account | None, post_ids: list[int]) -> set[int]:
    """Which of these posts the person keeps: one query for a page of posts."""
    if account is None or not post_ids:
        return set()
    return set(await Bookmark.filter(account_id=account.id, post_id__in=post_ids).values_list("post_id", flat=True))


def kept_by(account: Account) -> QuerySet[Bookmark]:
    """The person's bookmarks of posts still there and still readable by them
    (a circle turned members-only, or left, hides its posts), their posts and
    authors loaded; for the caller to page by the bookmark's id."""
    return Bookmark.filter(
        visibility.readable_circles(account.actor, prefix="post__circle__"),
        account_id=account.id, post__deleted_at=None,
    ).select_related("post", "post__author")
