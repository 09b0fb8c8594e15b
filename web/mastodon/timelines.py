"""Timelines: home, public and tag, paged by id (https://docs.joinmastodon.org/methods/timelines/).

Each shows what the web shows: home is the home page's two feeds in one
(top-level posts of the person's circles, and those of the people they follow
in circles they may read); public and tag show top-level posts of public
circles only, as Mastodon's public timeline leaves replies out
(app/models/public_feed.rb, `without_replies_scope`). People the viewer muted
or blocked are left out everywhere, as on the web.
"""

from __future__ import annotations

import re

from quart import Blueprint, jsonify, request
from tortoise.expressions import Q, Subquery

from models.accounts import Account
from models.circles import Visibility
from models.errors import NotFound
from models.media import Media
from models.posts import Post
from models.resources import ResourceTag
from models.services import person_blocks, profiles
from web.mastodon import auth, pagination
from web.mastodon.errors import RECORD_NOT_FOUND
from web.mastodon.status_entities import statuses
from web.site import site

bp = Blueprint("mastodon_timelines", __name__)

FALSE = ("0", "f", "false", "off")  # ActiveModel::Type::Boolean::FALSE_VALUES, as Rails reads a flag
TAG_SCAN_ROUNDS = 5  # pages of candidates a tag timeline reads at most to fill one page


def flag(name: str) -> bool:
    """A boolean parameter as Rails reads one: absent, empty, "false", "0", "f" and "off" are false."""
    value = request.args.get(name, "").strip().lower()
    return bool(value) and value not in FALSE


def public_filter() -> Q:
    """Posts anyone may read that a public timeline lists: in a public circle, top-level."""
    return Q(circle__visibility=Visibility.PUBLIC, root_id=None)


def origin_filter() -> Q:
    """`local`, `remote` (both: everything) and `only_media`
    (app/controllers/api/v1/timelines/public_controller.rb, app/models/public_feed.rb)."""
    where, local, remote = Q(), flag("local"), flag("remote")
    if local and not remote:
        where &= Q(local=True)
    elif remote and not local:
        where &= Q(local=False)
    if flag("only_media"):
        where &= Q(id__in=Subquery(Media.all().values("post_id")))
    return where


def visible_posts(where: Q, viewer: Account | None):
    queryset = Post.filter(where, person_blocks.not_hidden_from(viewer.actor if viewer else None), deleted_at=None)
    return queryset.select_related("author", "circle__actor")


async def respond(posts: list[Post], viewer: Account | None):
    entities = await statuses(posts, instance=site().instance, viewer=viewer)
    response = jsonify(entities)
    if posts:
        response.headers.update(pagination.link_header(posts[0].id, posts[-1].id))
    return response


async def one_page(queryset, page: pagination.Page) -> list[Post]:
    return pagination.newest_first(await pagination.apply(queryset, page), page)


@bp.get("/api/v1/timelines/home")
@auth.scoped("read:statuses")
async def home():
    account = auth.current_account()
    page = pagination.page_params()
    return await respond(await one_page(visible_posts(profiles.home_filter(account.actor), account), page), account)


def may_read_public() -> Account | None:
    """Open without a token; a token given must allow reading statuses
    (`authorize_if_got_token!` in Mastodon's public and tag controllers)."""
    auth.require_if_token("read:statuses")
    return auth.current_account()


@bp.get("/api/v1/timelines/public")
async def public():
    viewer = may_read_public()
    page = pagination.page_params()
    return await respond(await one_page(visible_posts(public_filter() & origin_filter(), viewer), page), viewer)


# A hashtag in a post: "#tag" as typed here (Markdown keeps it as text), or
# "#<span>tag</span>" as Mastodon links it, not followed by more of a word.
def tag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(rf"#(?:<span>)?{re.escape(tag)}(?![\w])", re.IGNORECASE)


def tag_filter(name: str) -> Q:
    """Posts that may carry the hashtag `name`: its text in them, or a resource tagged so."""
    tagged = Subquery(ResourceTag.filter(tag=name).values("resource__post_id"))
    return Q(content__icontains=f"#{name}") | Q(content__icontains=f"#<span>{name}") | Q(id__in=tagged)


async def carrying_tag(posts: list[Post], name: str) -> list[Post]:
    """Those of `posts` (found by `tag_filter`) that really carry it: the
    database finds the text (`#rust` is in `#rustacean`), this keeps whole words."""
    pattern = tag_pattern(name)
    tagged = set(await ResourceTag.filter(tag=name, resource__post_id__in=[p.id for p in posts])
                 .values_list("resource__post_id", flat=True)) if posts else set()
    return [post for post in posts if post.id in tagged or pattern.search(post.content)]


@bp.get("/api/v1/timelines/tag/<hashtag>")
async def tag(hashtag: str):
    viewer = may_read_public()
    page = pagination.page_params()
    name = hashtag.strip().lstrip("#").lower()
    if not name or not all(c.isalnum() or c == "_" for c in name):
        return jsonify([])
    queryset = visible_posts(public_filter() & origin_filter() & tag_filter(name), viewer)
    return await respond(await _tagged_page(queryset, page, name), viewer)


async def _tagged_page(queryset, page: pagination.Page, name: str) -> list[Post]:
    """A page of posts that carry the tag, reading on past those that only
    contain its text until the page is full (TAG_SCAN_ROUNDS at most)."""
    found: list[Post] = []
    cursor = page
    for _round in range(TAG_SCAN_ROUNDS):
        rows = await pagination.apply(queryset, cursor)
        found += await carrying_tag(rows, name)
        if len(rows) < cursor.limit or len(found) >= page.limit:
            break
        last = rows[-1].id
        cursor = pagination.Page(max_id=None if page.min_id is not None else last, since_id=page.since_id,
                                 min_id=last if page.min_id is not None else None, limit=page.limit)
    return pagination.newest_first(found[:page.limit], page)


# Circles has no lists: an empty set of them, and no list's timeline.
@bp.get("/api/v1/lists")
@auth.scoped("read:lists")
async def lists():
    return jsonify([])


@bp.get("/api/v1/timelines/list/<list_id>")
@auth.scoped("read:lists")
async def list_timeline(list_id: str):
    raise NotFound(RECORD_NOT_FOUND)
