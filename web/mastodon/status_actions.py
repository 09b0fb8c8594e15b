"""What one does to a status besides writing it: favourite (a like, "this
helped me", federated as Like/Undo by the likes service), bookmark, and the
boosts and pins Circles does not have; the lists of one's favourites and
bookmarks, paged by the favourite's or bookmark's id as Mastodon pages them
(https://docs.joinmastodon.org/methods/statuses/, /methods/favourites/,
/methods/bookmarks/). Routes on statuses.bp."""

from __future__ import annotations

from models.errors import InvalidInput
from models.posts import Like
from models.services import bookmarks as bookmark_service
from models.services import circles as circle_service
from models.services import likes, person_blocks, ratelimits, visibility
from web.i18n import N_
from web.mastodon import auth, pagination
from web.mastodon.entities import accounts
from web.mastodon.status_entities import statuses
from web.mastodon.statuses import (
    bp,
    instance,
    one,
    spend,
    viewer,
    viewer_actor,
    visible_post,
)

NO_BOOSTS = N_("Circles has no boosts: share a post by linking to it, or reply to bring it up in its circle.")
NO_PINS = N_("Circles has no pinned posts on profiles: a circle's facilitators pin posts in the circle.")


@bp.post("/api/v1/statuses/<raw_id>/favourite")
@auth.scoped("write:favourites")
async def favourite(raw_id: str):
    """Like it, as a member of its circle (403 for others, as the web UI refuses)."""
    await spend(ratelimits.ACTIONS)  # likes notify and federate: the web UI's limit
    post = await visible_post(raw_id)
    await likes.like(viewer_actor(), post)
    return await one(post)


@bp.post("/api/v1/statuses/<raw_id>/unfavourite")
@auth.scoped("write:favourites")
async def unfavourite(raw_id: str):
    await spend(ratelimits.ACTIONS)  # likes notify and federate: the web UI's limit
    post = await visible_post(raw_id)
    await likes.unlike(viewer_actor(), post)
    return await one(post)


@bp.get("/api/v1/statuses/<raw_id>/favourited_by")
async def favourited_by(raw_id: str):
    """Who liked it, for the members of its circle (the thread page shows
    them to members only; others see the count)."""
    auth.require_if_token("read:accounts")
    post = await visible_post(raw_id)
    actor = viewer_actor()
    if actor is None or post.circle_id is None or not await circle_service.is_member(post.circle, actor):
        return []
    page = pagination.page_params(default=40, maximum=80)
    rows = pagination.newest_first(await pagination.apply(
        Like.filter(person_blocks.not_hidden_from(actor, "actor_id"), post_id=post.id).select_related("actor"),
        page), page)
    entities = await accounts([row.actor for row in rows], instance=instance(), viewer=viewer())
    return entities, 200, _links(rows)


@bp.get("/api/v1/statuses/<raw_id>/reblogged_by")
async def reblogged_by(raw_id: str):
    auth.require_if_token("read:accounts")
    await visible_post(raw_id)
    return []


@bp.post("/api/v1/statuses/<raw_id>/reblog")
@auth.scoped("write:statuses")
async def reblog(raw_id: str):
    await visible_post(raw_id)
    raise InvalidInput(NO_BOOSTS)


@bp.post("/api/v1/statuses/<raw_id>/unreblog")
@auth.scoped("write:statuses")
async def unreblog(raw_id: str):
    """Nothing to undo: the status as it is."""
    return await one(await visible_post(raw_id))


@bp.post("/api/v1/statuses/<raw_id>/pin")
@auth.scoped("write:accounts")
async def pin(raw_id: str):
    await visible_post(raw_id)
    raise InvalidInput(NO_PINS)


@bp.post("/api/v1/statuses/<raw_id>/unpin")
@auth.scoped("write:accounts")
async def unpin(raw_id: str):
    return await one(await visible_post(raw_id))


@bp.post("/api/v1/statuses/<raw_id>/bookmark")
@auth.scoped("write:bookmarks")
async def bookmark(raw_id: str):
    post = await visible_post(raw_id)
    await bookmark_service.bookmark(viewer(), post)
    return await one(post)


@bp.post("/api/v1/statuses/<raw_id>/unbookmark")
@auth.scoped("write:bookmarks")
async def unbookmark(raw_id: str):
    post = await visible_post(raw_id)
    await bookmark_service.unbookmark(viewer(), post)
    return await one(post)


@bp.get("/api/v1/bookmarks")
@auth.scoped("read:bookmarks")
async def bookmarks():
    """One's bookmarks, newest first, paged by the bookmark's id (Api::V1::BookmarksController)."""
    page = pagination.page_params(default=20, maximum=40)
    rows = pagination.newest_first(await pagination.apply(bookmark_service.kept_by(viewer()), page), page)
    return await _page_of_posts(rows)


@bp.get("/api/v1/favourites")
@auth.scoped("read:favourites")
async def favourites():
    """The posts one liked, newest like first, paged by the like's id (Api::V1::FavouritesController)."""
    page = pagination.page_params(default=20, maximum=40)
    query = Like.filter(
        visibility.readable_circles(viewer_actor(), prefix="post__circle__"),
        actor_id=viewer_actor().id, post__deleted_at=None,
    ).select_related("post", "post__author")
    rows = pagination.newest_first(await pagination.apply(query, page), page)
    return await _page_of_posts(rows)


async def _page_of_posts(rows: list) -> tuple:
    entities = await statuses([row.post for row in rows], instance=instance(), viewer=viewer())
    return entities, 200, _links(rows)


def _links(rows: list) -> dict[str, str]:
    return pagination.link_header(rows[0].id, rows[-1].id) if rows else {}
