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
from dataclasses import dataclass

from quart import Blueprint, jsonify, request
from tortoise.expressions import Q, Subquery

from models.accounts import Account
from models.circles import Visibility
from models.errors import InvalidInput, NotFound
from models.media import Media
from models.posts import Post
from models.resources import ResourceTag
from models.services import person_blocks, profiles
from web.i18n import N_
from web.mastodon import auth, pagination, params
from web.mastodon.errors import RECORD_NOT_FOUND
from web.mastodon.status_entities import statuses
from web.site import site

bp = Blueprint("mastodon_timelines", __name__)

FALSE = ("0", "f", "false", "off")  # ActiveModel::Type::Boolean::FALSE_VALUES, as Rails reads a flag
TAG_SCAN_ROUNDS = 5  # pages of candidates a tag timeline reads at most to fill one page
TAGS_PER_MODE = 4  # any[], all[] and none[] each name at most 4 tags (app/models/tag_feed.rb, LIMIT_PER_MODE)
TAG_MAX = 100  # characters in one of them
TOO_MANY_TAGS = N_("%(name)s takes at most %(max)d hashtags.")
NOT_A_TAG = N_("%(name)s takes hashtags: letters, digits and underscores.")


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


async def tags_carried(posts: list[Post], names) -> dict[int, set[str]]:
    """Which of the hashtags `names` each post really carries, in one query
    (resources' tags) however many names: the database finds the text
    (`#rust` is in `#rustacean`), this keeps whole words."""
    names = set(names)
    carried: dict[int, set[str]] = {post.id: set() for post in posts}
    if not carried or not names:
        return carried
    for post_id, name in await ResourceTag.filter(tag__in=sorted(names), resource__post_id__in=list(carried)) \
            .values_list("resource__post_id", "tag"):
        carried[post_id].add(name)
    patterns = {name: tag_pattern(name) for name in names}
    for post in posts:
        carried[post.id].update(name for name, pattern in patterns.items() if pattern.search(post.content))
    return carried


async def carrying_tag(posts: list[Post], name: str) -> list[Post]:
    """Those of `posts` (found by `tag_filter`) that really carry the hashtag `name`."""
    carried = await tags_carried(posts, [name])
    return [post for post in posts if carried[post.id]]


def tag_name(raw: str) -> str:
    """A hashtag as given (`#Rust`, `rust`), the way it is compared: lower-case, without its `#`."""
    return raw.strip().lstrip("#").lower()


def is_tag_name(name: str) -> bool:
    return 0 < len(name) <= TAG_MAX and all(c.isalnum() or c == "_" for c in name)


@dataclass(frozen=True)
class TagQuery:
    """A tag timeline's wish (app/models/tag_feed.rb): posts with the tag or
    any of `any[]`, with every one of `all[]`, with none of `none[]`."""

    any: frozenset[str]
    all: frozenset[str] = frozenset()
    none: frozenset[str] = frozenset()

    def where(self) -> Q:
        """A filter the posts wanted all pass (some others too: `wants` decides)."""
        where = Q(*(tag_filter(name) for name in sorted(self.any)), join_type=Q.OR)
        for name in sorted(self.all):
            where &= tag_filter(name)
        return where  # `none` cannot be a filter: a post with `#rustacean` may still lack `#rust`

    def wants(self, carried: set[str]) -> bool:
        return bool(carried & self.any) and self.all <= carried and not carried & self.none

    async def keep(self, posts: list[Post]) -> list[Post]:
        carried = await tags_carried(posts, self.any | self.all | self.none)
        return [post for post in posts if self.wants(carried[post.id])]


def extra_tags(values: dict, mode: str) -> frozenset[str]:
    """`any[]`, `all[]` or `none[]`: at most TAGS_PER_MODE hashtags (one
    value alone counts as one, as Rails' Array() reads it; blank ones are
    skipped); more, or one that is no hashtag, is refused, naming the field."""
    raw = values.get(mode, [])
    given = [raw] if isinstance(raw, str) else raw
    if len(given) > TAGS_PER_MODE:
        raise InvalidInput(TOO_MANY_TAGS, field=mode, name=f"{mode}[]", max=TAGS_PER_MODE)
    names = [tag_name(value) for value in given if value.strip()]
    if not all(is_tag_name(name) for name in names):
        raise InvalidInput(NOT_A_TAG, field=mode, name=f"{mode}[]")
    return frozenset(names)


@bp.get("/api/v1/timelines/tag/<hashtag>")
async def tag(hashtag: str):
    viewer = may_read_public()
    page = pagination.page_params()
    values = await params.read()
    extra = {mode: extra_tags(values, mode) for mode in ("any", "all", "none")}
    name = tag_name(hashtag)
    if not is_tag_name(name):
        return jsonify([])
    wanted = TagQuery(any=extra["any"] | {name}, all=extra["all"], none=extra["none"])
    queryset = visible_posts(public_filter() & origin_filter() & wanted.where(), viewer)
    return await respond(await _tagged_page(queryset, page, wanted), viewer)


async def _tagged_page(queryset, page: pagination.Page, wanted: TagQuery) -> list[Post]:
    """A page of posts that carry the tags wanted, reading on past those that only
    contain their text until the page is full (TAG_SCAN_ROUNDS at most)."""
    found: list[Post] = []
    cursor = page
    for _round in range(TAG_SCAN_ROUNDS):
        rows = await pagination.apply(queryset, cursor)
        found += await wanted.keep(rows)
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
