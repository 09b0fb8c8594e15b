"""The lists of the accounts API, each paged by id with a `Link` header
(https://docs.joinmastodon.org/methods/accounts/): an account's statuses,
followers and following; one's blocks, mutes and follow requests.

What a list shows is what the web UI shows the same viewer: posts of
members-only circles only to their members (models/services/visibility.py),
a person's posts only if their profile shows them, a members-only circle's
members only to its members.
"""

from __future__ import annotations

from quart import request
from tortoise.expressions import Subquery

from models.accounts import Account
from models.actors import Actor, ActorKind, Follow, FollowState
from models.circles import Circle, Membership, MembershipState
from models.media import Media
from models.person_blocks import BlockKind, PersonBlock
from models.posts import Post, PostKind
from models.services import person_blocks, visibility
from web.mastodon import auth, entities, pagination
from web.mastodon.account_support import (
    boolean, bp, find_account, instance, me, not_found, viewer, viewer_actor,
)
from web.mastodon.status_entities import statuses as status_entities

ACCOUNTS_LIMIT, ACCOUNTS_MAX = 40, 80  # Mastodon's DEFAULT_ACCOUNTS_LIMIT, and twice it at most
STATUSES_LIMIT, STATUSES_MAX = 20, 40


def _paged(entities_: list[dict], rows: list, page: pagination.Page):
    """The entities, with the `Link` header of the rows they came from (paged by those rows' ids)."""
    ordered = pagination.newest_first(rows, page)
    first, last = (ordered[0].id, ordered[-1].id) if ordered else (None, None)
    return entities_, 200, pagination.link_header(first, last)


# --- statuses -----------------------------------------------------------------------------


@bp.get("/api/v1/accounts/<account_id>/statuses")
async def account_statuses(account_id: str):
    auth.require_if_token("read:statuses")
    actor = await find_account(account_id)
    page = pagination.page_params(default=STATUSES_LIMIT, maximum=STATUSES_MAX)
    posts = await _statuses_query(actor)
    if posts is None:
        return [], 200, {}
    rows = await pagination.apply(posts.select_related("author", "circle__actor"), page)
    ordered = pagination.newest_first(rows, page)
    entities_ = await status_entities(ordered, instance=instance(), viewer=viewer())
    return _paged(entities_, rows, page)


async def _statuses_query(actor: Actor):
    """The posts of this account the viewer may see, filtered as asked; None
    when there is nothing to show them."""
    values = dict(request.args.items())
    seer = viewer_actor()
    if actor.kind is ActorKind.GROUP:
        circle = await Circle.get_or_none(actor_id=actor.id)
        if circle is None or not await visibility.can_read(circle, seer):
            return None
        posts = Post.filter(person_blocks.not_hidden_from(seer), circle_id=circle.id, root_id=None, deleted_at=None)
        if boolean(values, "pinned"):  # a circle's pinned posts are those it features
            posts = posts.filter(featured_at__isnull=False)
    else:
        if boolean(values, "pinned") or not await _shows_posts(actor, seer):
            return None  # nobody pins posts to a person's profile here
        posts = Post.filter(visibility.readable_circles(seer), author_id=actor.id, deleted_at=None)
    if boolean(values, "exclude_replies"):
        posts = posts.filter(in_reply_to_id__isnull=True)
    if boolean(values, "only_media"):
        posts = posts.filter(id__in=Subquery(Media.filter(post_id__isnull=False).values("post_id")))
    tagged = (values.get("tagged") or "").strip().lstrip("#").lower()
    if tagged:  # the one hashtag posts carry here: a question is a status with #question
        if tagged != "question":
            return None
        posts = posts.filter(kind=PostKind.QUESTION)
    return posts


async def _shows_posts(person: Actor, seer: Actor | None) -> bool:
    """As the person's page does (web/html/users.py): their posts unless they
    chose to hide them from others, or they blocked the viewer (Mastodon
    shows a blocked viewer no statuses)."""
    if seer is not None and seer.id == person.id:
        return True
    if seer is not None and await person_blocks.is_blocked_by(seer, person):
        return False
    if not person.local:
        return True
    account = await Account.get_or_none(actor_id=person.id)
    return account is not None and account.profile_shows_posts


# --- followers and following ----------------------------------------------------------------


@bp.get("/api/v1/accounts/<account_id>/followers")
async def followers(account_id: str):
    """A person's followers; a circle's members (who may see them: all, or its members)."""
    auth.require_if_token("read:accounts")
    actor = await find_account(account_id)
    page = pagination.page_params(default=ACCOUNTS_LIMIT, maximum=ACCOUNTS_MAX)
    if actor.kind is ActorKind.GROUP:
        circle = await Circle.get_or_none(actor_id=actor.id)
        if circle is None or not await visibility.can_read(circle, viewer_actor()):
            return [], 200, {}
        rows = await pagination.apply(Membership.filter(
            circle_id=circle.id, state=MembershipState.ACTIVE, actor__deleted_at=None).select_related("actor"), page)
        return await _accounts_of(rows, page, lambda row: row.actor)
    rows = await pagination.apply(Follow.filter(
        target_id=actor.id, state=FollowState.ACCEPTED, follower__deleted_at=None).select_related("follower"), page)
    return await _accounts_of(rows, page, lambda row: row.follower)


@bp.get("/api/v1/accounts/<account_id>/following")
async def following(account_id: str):
    """Whom a person follows, and the circles they are in here (those the
    viewer may know of, and only if their profile shows their circles)."""
    auth.require_if_token("read:accounts")
    actor = await find_account(account_id)
    page = pagination.page_params(default=ACCOUNTS_LIMIT, maximum=ACCOUNTS_MAX)
    if actor.kind is ActorKind.GROUP:
        return [], 200, {}
    rows = await pagination.apply(Follow.filter(
        follower_id=actor.id, state=FollowState.ACCEPTED, target__deleted_at=None).select_related("target"), page)
    if await _shows_circles(actor):
        memberships = await pagination.apply(Membership.filter(
            entities.joined_circles(viewer_actor()), actor_id=actor.id).select_related("circle__actor"), page)
        rows = _merge([*rows, *memberships], page)
    return await _accounts_of(rows, page, lambda row: row.target if isinstance(row, Follow) else row.circle.actor)


def _merge(rows: list, page: pagination.Page) -> list:
    """Two pages read the same way (by id), as one: the first `limit` in that order."""
    oldest_first = page.min_id is not None
    return sorted(rows, key=lambda row: row.id, reverse=not oldest_first)[: page.limit]


async def _shows_circles(person: Actor) -> bool:
    seer = viewer_actor()
    if not person.local or (seer is not None and seer.id == person.id):
        return True
    account = await Account.get_or_none(actor_id=person.id)
    return account is not None and account.profile_shows_circles


async def _accounts_of(rows: list, page: pagination.Page, actor_of):
    ordered = pagination.newest_first(rows, page)
    found = await entities.accounts([actor_of(row) for row in ordered], instance=instance(), viewer=viewer())
    return _paged(found, rows, page)


# --- one's own blocks, mutes and follow requests ----------------------------------------------


@bp.get("/api/v1/blocks")
@auth.scoped("read:blocks")
async def blocks():
    return await _hidden(BlockKind.BLOCK)


@bp.get("/api/v1/mutes")
@auth.scoped("read:mutes")
async def mutes():
    return await _hidden(BlockKind.MUTE)


async def _hidden(kind: BlockKind):
    page = pagination.page_params(default=ACCOUNTS_LIMIT, maximum=ACCOUNTS_MAX)
    rows = await pagination.apply(
        PersonBlock.filter(owner_id=me().actor_id, kind=kind).select_related("target"), page)
    return await _accounts_of(rows, page, lambda row: row.target)


@bp.get("/api/v1/follow_requests")
@auth.scoped("read:follows")
async def follow_requests():
    """Always empty: people here accept follows at once (models/services/follows.py)."""
    pagination.page_params(default=ACCOUNTS_LIMIT, maximum=ACCOUNTS_MAX)  # bad paging is still refused
    return []


# Two plain routes, not one `<any(...)>`: the OpenAPI description (web/mastodon/openapi.py) reads plain ones.
@bp.post("/api/v1/follow_requests/<account_id>/authorize")
@auth.scoped("write:follows")
async def authorize_follow_request(account_id: str):
    """There is never a request waiting, so none to answer."""
    raise not_found()


@bp.post("/api/v1/follow_requests/<account_id>/reject")
@auth.scoped("write:follows")
async def reject_follow_request(account_id: str):
    raise not_found()
