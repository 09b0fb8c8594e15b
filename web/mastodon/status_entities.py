"""Status entities shaped as Mastodon's documentation and serializers shape
them (https://docs.joinmastodon.org/entities/Status/), a page of posts at a
time in a fixed number of queries."""

from __future__ import annotations

from models.accounts import Account
from models.instance import Instance
from models.posts import Post
from web.mastodon.entities import accounts, iso


async def statuses(posts: list[Post], *, instance: Instance, viewer: Account | None) -> list[dict]:
    """Status entities for these posts, in their order (their authors loaded
    with `select_related("author")`). Basic fields only so far."""
    authors = {entity["id"]: entity for entity in await accounts(
        list({post.author_id: post.author for post in posts}.values()), instance=instance, viewer=viewer
    )}
    return [
        {
            "id": str(post.id),
            "uri": post.uri,
            "url": post.url or post.uri,
            "created_at": iso(post.published_at),
            "edited_at": iso(post.edited_at),
            "account": authors[str(post.author_id)],
            "content": post.content,
            "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
            "language": post.language or None,
        }
        for post in posts
    ]
