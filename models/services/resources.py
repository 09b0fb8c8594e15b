"""The resource library of a circle: adding, editing, searching, resharing
into other circles, and where a link is used."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.posts import Post, PostKind
from models.resources import Level, Licence, Resource, ResourceTag
from models.services import circles as circle_service
from models.services import likes, post_edits
from models.services import posts as post_service
from models.services import validation
from models.text import plain_excerpt, render_markdown

TITLE_MAX = post_service.TITLE_MAX
DESCRIPTION_MAX = 5000
LINK_MAX = 2000
TAGS_MAX = validation.HASHTAGS_MAX
TAG_MAX = validation.HASHTAG_MAX_LENGTH
QUERY_MAX = 100
PAGE_SIZE = 20


class Order:
    NEWEST = "newest"
    HELPFUL = "helpful"


# --- input ---------------------------------------------------------------------------


def parse_tags(raw: str | list[str] | None, field: str = "tags") -> list[str]:
    """Tags as typed ("Python, web #beginners"), as hashtags (validation.hashtags)."""
    return validation.hashtags(raw, field, noun="tag")


tags_from_remote = validation.hashtags_from_remote


@dataclass(frozen=True)
class ResourceInput:
    title: str
    description: str
    link: str
    licence: Licence
    level: Level
    tags: list[str]


def check_input(
    *, title: str, description: str, link: str, licence: str = Licence.UNKNOWN.value,
    level: str = Level.ANY.value, tags: str | list[str] | None = None,
) -> ResourceInput:
    return ResourceInput(
        title=validation.single_line(title, "title", label="Title", max_length=TITLE_MAX, required=True),
        description=validation.text(
            description, "description", label="Description", max_length=DESCRIPTION_MAX, required=True
        ),
        link=validation.http_url(link, "link", label="Link", max_length=LINK_MAX),
        licence=validation.choice(licence or Licence.UNKNOWN.value, Licence, "licence", label="Licence"),
        level=validation.choice(level or Level.ANY.value, Level, "level", label="Level"),
        tags=parse_tags(tags),
    )


# --- changes -------------------------------------------------------------------------


async def add_resource(
    instance: Instance, author: Actor, circle: Circle, *, title: str, description: str, link: str,
    licence: str = Licence.UNKNOWN.value, level: str = Level.ANY.value, tags: str | list[str] | None = None,
) -> Resource:
    """A member adds a link to the circle's library (a post of kind RESOURCE)."""
    data = check_input(title=title, description=description, link=link, licence=licence, level=level, tags=tags)
    await circle_service.require_member(circle, author)
    return await _create(instance, author, circle, data, original=None)


async def _create(
    instance: Instance, author: Actor, circle: Circle, data: ResourceInput, *, original: Resource | None
) -> Resource:
    # One transaction: the post's federation event must find the resource row.
    async with in_transaction():
        post = await post_service.create_post(
            instance, author, circle, title=data.title, body=data.description, kind=PostKind.RESOURCE.value
        )
        resource = await Resource.create(
            post=post, link=data.link, licence=data.licence, level=data.level,
            reshared_from=original, reshared_from_uri=original.post.uri if original else None,
        )
        await _set_tags(resource, data.tags)
    return resource


async def _set_tags(resource: Resource, tags: list[str]) -> None:
    await ResourceTag.filter(resource=resource).delete()
    await ResourceTag.bulk_create([ResourceTag(resource=resource, tag=tag) for tag in tags])


async def edit_resource(
    actor: Actor, resource: Resource, *, title: str, description: str, link: str,
    licence: str = Licence.UNKNOWN.value, level: str = Level.ANY.value, tags: str | list[str] | None = None,
) -> Resource:
    """The author, or a steward of the circle, changes a local resource."""
    data = check_input(title=title, description=description, link=link, licence=licence, level=level, tags=tags)
    post = await require_editor(actor, resource)
    async with in_transaction():
        if (data.title, data.description) != (post.title, post.source):
            await post_edits.keep_revision(post, title=post.title, source=post.source, content=post.content, by_id=actor.id)
        await Post.filter(id=post.id).update(
            title=data.title, source=data.description, content=render_markdown(data.description),
            updated_at=clock.now(),
        )
        await Resource.filter(id=resource.id).update(link=data.link, licence=data.licence, level=data.level)
        await _set_tags(resource, data.tags)
        await OutboxEvent.create(kind="post.updated", subject_id=post.id)
    return await get_resource(resource.id)


async def require_editor(actor: Actor, resource: Resource) -> Post:
    """The resource's post, when the actor may edit it: its author, or a
    steward of its circle; only resources written here."""
    post = await Post.get(id=resource.post_id).select_related("circle")
    if not post.local or post.deleted_at is not None:
        raise NotFound("That resource cannot be edited here.")
    if post.author_id != actor.id:
        await circle_service.require_steward(post.circle, actor)
    return post


async def may_edit(actor: Actor | None, resource: Resource) -> bool:
    if actor is None:
        return False
    try:
        await require_editor(actor, resource)
    except (NotFound, PermissionDenied):
        return False
    return True


async def reshare(instance: Instance, actor: Actor, resource: Resource, target: Circle) -> Resource:
    """Share a resource into another circle the person is an active member of,
    here or elsewhere (fanout sends it to a remote circle's Group). The link,
    licence, level and tags stay the original's."""
    await circle_service.require_member(target, actor)
    post = await Post.get(id=resource.post_id)
    if post.deleted_at is not None:
        raise NotFound("That resource has been deleted.")
    if post.circle_id == target.id:
        raise Conflict("This resource is already in that circle.", field="circle")
    if await Resource.filter(link=resource.link, post__circle=target, post__deleted_at=None).exists():
        raise Conflict("%(circle)s already has this link in its library.", field="circle", circle=target.name)
    resource.post = post
    description = post.source or plain_excerpt(post.content, DESCRIPTION_MAX) or resource.link
    data = ResourceInput(
        title=(post.title or plain_excerpt(post.content, 80) or resource.link)[:TITLE_MAX],
        description=description, link=resource.link, licence=resource.licence, level=resource.level,
        tags=await tags_of(resource),
    )
    return await _create(instance, actor, target, data, original=resource)


async def store_remote(post: Post, link: str, tags: list[str]) -> Resource | None:
    """A remote post carrying a link becomes a library entry (licence unknown,
    level any). Call in the transaction that stores the post."""
    try:
        link = validation.http_url(link, "link", label="Link", max_length=LINK_MAX)
    except InvalidInput:
        return None
    await Post.filter(id=post.id).update(kind=PostKind.RESOURCE)
    post.kind = PostKind.RESOURCE
    resource = await Resource.create(post=post, link=link)
    await _set_tags(resource, tags_from_remote(tags))
    return resource


async def update_remote(post: Post, link: str, tags: list[str]) -> Resource | None:
    """A remote author edited a link post: follow its new link and tags.
    Call in the transaction that updates the post."""
    resource = await Resource.get_or_none(post_id=post.id)
    if resource is None:
        return await store_remote(post, link, tags) if post.root_id is None else None
    try:
        link = validation.http_url(link, "link", label="Link", max_length=LINK_MAX)
    except InvalidInput:
        return resource
    await Resource.filter(id=resource.id).update(link=link)
    await _set_tags(resource, tags_from_remote(tags))
    return resource


# --- reading -------------------------------------------------------------------------


async def get_resource(resource_id: int) -> Resource:
    if not validation.is_row_id(resource_id):
        raise NotFound("That resource does not exist.")
    resource = await Resource.filter(id=resource_id, post__deleted_at=None).select_related(
        "post__author", "post__circle__actor"
    ).first()
    if resource is None:
        raise NotFound("That resource does not exist or was deleted.")
    return resource


async def resource_of_post(post: Post) -> Resource | None:
    if post.kind is not PostKind.RESOURCE:
        return None
    return await Resource.get_or_none(post_id=post.id).select_related("reshared_from__post__circle__actor")


async def tags_of(resource: Resource) -> list[str]:
    return list(await ResourceTag.filter(resource=resource).order_by("id").values_list("tag", flat=True))


async def resources_of_posts(posts: list[Post]) -> dict[int, Resource]:
    """resource_of_post for a page of posts, by post id, in one query."""
    ids = [p.id for p in posts if p.kind is PostKind.RESOURCE]
    if not ids:
        return {}
    rows = await Resource.filter(post_id__in=ids).select_related("reshared_from__post__circle__actor")
    return {r.post_id: r for r in rows}


async def tags_of_many(resources: list[Resource]) -> dict[int, list[str]]:
    """tags_of for several resources, by resource id, in one query."""
    tags: dict[int, list[str]] = {r.id: [] for r in resources}
    if tags:
        rows = await ResourceTag.filter(resource_id__in=list(tags)).order_by("id").values_list("resource_id", "tag")
        for resource_id, tag in rows:
            tags[resource_id].append(tag)
    return tags


@dataclass(frozen=True)
class LibraryEntry:
    resource: Resource  # with post__author loaded
    tags: list[str]
    helpful: int  # how many found it helpful (likes of its post)
    liked: bool  # whether the viewer did


@dataclass(frozen=True)
class LibraryPage:
    entries: list[LibraryEntry]
    page: int
    has_more: bool


@dataclass(frozen=True)
class LibraryFilter:
    query: str = ""
    tag: str = ""
    level: Level | None = None
    licence: Licence | None = None
    order: str = Order.NEWEST


def check_filter(*, query: str = "", tag: str = "", level: str = "", licence: str = "", order: str = "") -> LibraryFilter:
    """Search and filter values from a form; empty means "any"."""
    query = (query or "").strip()[:QUERY_MAX]
    tags = parse_tags((tag or "").strip()[: TAG_MAX + 1], field="tag")
    order = (order or Order.NEWEST).strip()
    if order not in (Order.NEWEST, Order.HELPFUL):
        raise InvalidInput("Sort by newest or by most helpful.", field="order")
    return LibraryFilter(
        query=query,
        tag=tags[0] if tags else "",
        level=validation.choice(level, Level, "level", label="Level") if level else None,
        licence=validation.choice(licence, Licence, "licence", label="Licence") if licence else None,
        order=order,
    )


async def search(
    circle: Circle, filters: LibraryFilter, *, viewer: Actor | None = None, page: int = 1, per_page: int = PAGE_SIZE
) -> LibraryPage:
    """One page of the circle's library, matching the filters, in a fixed
    number of queries whatever the page size: the resources (ids first when
    sorted by helpfulness), their tags, their like counts, what the viewer liked."""
    # Every resource's post is of kind RESOURCE (store_remote sets it): naming the kind lets the
    # database read only those posts of the circle, by the index on (circle_id, kind, ...).
    rows = Resource.filter(post__circle=circle, post__kind=PostKind.RESOURCE, post__deleted_at=None)
    if filters.query:
        rows = rows.filter(
            Q(post__title__icontains=filters.query) | Q(post__source__icontains=filters.query)
            | Q(post__content__icontains=filters.query)
        )
    if filters.tag:
        rows = rows.filter(id__in=Subquery(ResourceTag.filter(tag=filters.tag).values("resource_id")))
    if filters.level is not None:
        rows = rows.filter(level=filters.level)
    if filters.licence is not None:
        rows = rows.filter(licence=filters.licence)
    page = max(page, 1)
    offset, limit = (page - 1) * per_page, per_page + 1  # one more tells whether a next page exists
    if filters.order == Order.HELPFUL:
        # Ids first: PostgreSQL groups only what it selects, and the rows need the post and author too.
        ids = await (
            rows.annotate(helpful=Count("post__likes")).group_by("id").order_by("-helpful", "-id")
            .offset(offset).limit(limit).values_list("id", flat=True)
        )
        loaded = {r.id: r for r in await Resource.filter(id__in=ids).select_related("post__author")}
        found = [loaded[i] for i in ids]
    else:
        found = await rows.select_related("post__author").order_by("-id").offset(offset).limit(limit)
    shown = found[:per_page]
    return LibraryPage(await _entries(shown, viewer), page=page, has_more=len(found) > per_page)


async def _entries(resources: list[Resource], viewer: Actor | None) -> list[LibraryEntry]:
    ids = [r.id for r in resources]
    post_ids = [r.post_id for r in resources]
    tags: dict[int, list[str]] = {}
    for resource_id, tag in await ResourceTag.filter(resource_id__in=ids).order_by("id").values_list("resource_id", "tag"):
        tags.setdefault(resource_id, []).append(tag)
    counts = await likes.counts_of(post_ids)
    liked = await likes.liked_by(viewer, post_ids)
    return [
        LibraryEntry(r, tags.get(r.id, []), counts.get(r.post_id, 0), r.post_id in liked) for r in resources
    ]


async def where_used(link: str, *, limit: int = 50) -> list[Circle]:
    """The circles whose libraries hold this link, oldest first."""
    rows = (
        await Resource.filter(link=link, post__deleted_at=None)
        .select_related("post__circle__actor")
        .order_by("id")
        .limit(limit)
    )
    circles: dict[int, Circle] = {}
    for row in rows:
        circles.setdefault(row.post.circle_id, row.post.circle)
    return list(circles.values())


async def reshare_targets(actor: Actor, resource: Resource) -> list[Circle]:
    """The viewer's other circles, where this link is not yet."""
    used = {c.id for c in await where_used(resource.link, limit=500)}
    return [m.circle for m in await circle_service.memberships_of(actor) if m.circle_id not in used]

