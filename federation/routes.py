"""ActivityPub's read side: discovery (WebFinger, host-meta, NodeInfo), actor
and object documents, and collections. The same URLs that show a page to a
browser answer with JSON-LD to an ActivityPub client (see `negotiate`)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import quote, unquote, urlsplit

from quart import Blueprint, Quart, Response, current_app, request

from federation import convert, documents, fetch, keys, parse, signatures, vocab
from models import clock
from models.actors import Actor, ActorKind
from models.circles import Circle
from models.errors import AuthenticationFailed, DomainError, Gone, InvalidInput, NotFound
from models.instance import Instance
from models.services import actors as actor_service
from models.services import circles as circle_service
from models.services import posts as post_service
from models.services import stats, validation, visibility
from models.text import render_markdown

bp = Blueprint("federation", __name__)
PAGE_SIZE = 20


def instance() -> Instance:
    return current_app.extensions["circles.instance"]


def software_version() -> str:
    try:
        return version("circles")
    except PackageNotFoundError:  # running from a source tree without install
        return "0.0.0"


def activity_response(body: dict, status: int = 200) -> Response:
    return Response(
        _json(vocab.document(body)), status=status,
        content_type=f"{vocab.ACTIVITY_JSON}; charset=utf-8", headers={"Vary": "Accept"},
    )


def _json(body) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def wants_activitypub() -> bool:
    return vocab.is_activitypub_media_type(request.headers.get("Accept", ""))


# --- discovery ---------------------------------------------------------------------


def _parse_resource(resource: str, inst: Instance) -> str | None:
    """The local username a WebFinger resource names, or None if not ours."""
    resource = unquote(resource.strip())
    if resource.startswith("acct:"):
        name, _, domain = resource.removeprefix("acct:").lstrip("@").rpartition("@")
        if not name or not domain:
            raise InvalidInput("A resource is acct:name@domain or an actor URL.")
        return name if domain.lower() == inst.domain else None
    if resource.startswith(("https://", "http://")):
        parts = urlsplit(resource)
        if parts.netloc.lower() != inst.domain:
            return None
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) == 2 and segments[0] in ("users", "c", "@"):
            return segments[1]
        if parts.path in ("/actor", "/"):
            return inst.domain
        return None
    raise InvalidInput("A resource is acct:name@domain or an actor URL.")


@bp.get("/.well-known/webfinger")
async def webfinger():
    resource = request.args.get("resource", "")
    if not resource:
        raise InvalidInput("Add ?resource=acct:name@domain.")
    inst = instance()
    username = _parse_resource(resource, inst)
    actor = await actor_service.local_by_username(username, inst.domain) if username else None
    if actor is None:
        raise NotFound("No such account or circle here.")
    if actor.deleted_at is not None:
        raise Gone(actor_service.ACCOUNT_DELETED, username=actor.username)
    body = {
        "subject": f"acct:{actor.username}@{inst.domain}",
        "aliases": sorted({actor.uri, actor.profile_url or actor.uri}),
        "links": [
            {"rel": "self", "type": vocab.ACTIVITY_JSON, "href": actor.uri},
            {"rel": "self", "type": vocab.LD_JSON_AS, "href": actor.uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.profile_url or actor.uri},
        ],
    }
    return Response(
        _json(body), content_type=f"{vocab.JRD_JSON}; charset=utf-8",
        headers={"Access-Control-Allow-Origin": "*"},
    )


@bp.get("/.well-known/host-meta")
async def host_meta():
    template = f"{instance().base_url}/.well-known/webfinger?resource={{uri}}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )
    return Response(xml, content_type="application/xrd+xml; charset=utf-8", headers={"Access-Control-Allow-Origin": "*"})


@bp.get("/.well-known/host-meta.json")
async def host_meta_json():
    template = f"{instance().base_url}/.well-known/webfinger?resource={{uri}}"
    return {"links": [{"rel": "lrdd", "type": vocab.JRD_JSON, "template": template}]}


@bp.get("/.well-known/nodeinfo")
async def nodeinfo_links():
    base = instance().base_url
    return {
        "links": [
            {"rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}", "href": f"{base}/nodeinfo/{v}"}
            for v in ("2.0", "2.1")
        ]
    }


@bp.get("/nodeinfo/<any('2.0', '2.1'):schema>")
async def nodeinfo(schema: str):
    usage = await stats.usage()
    software = {"name": "circles", "version": software_version()}
    if schema == "2.1":
        software["homepage"] = instance().base_url
    body = {
        "version": schema,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": current_app.extensions["circles.site"].registration.value in ("open", "approval"),
        "usage": {
            "users": {
                "total": usage.users,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {"nodeName": instance().domain},
    }
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{schema}#"
    return Response(_json(body), content_type=f'application/json; profile="{profile}"; charset=utf-8')


# --- documents ---------------------------------------------------------------------


async def person_document(username: str) -> dict:
    actor = await actor_service.local_actor(ActorKind.PERSON, username)
    account = await actor.account
    return convert.person_to_as(
        actor, await actor_service.keys_of(actor), discoverable=account.discoverable, indexable=account.indexable
    )


async def group_document(handle: str) -> dict:
    circle = await circle_service.get_circle(handle)
    directory = f"{instance().base_url}/circles?topic="
    return convert.group_to_as(
        circle, circle.actor, await actor_service.keys_of(circle.actor),
        summary_html=render_markdown(circle.purpose),
        rules_html=render_markdown(circle_service.numbered_rules(circle.rules)),
        topic_links={tag: directory + quote(tag) for tag in await circle_service.topics_of(circle)},
    )


async def require_fetcher_for(circle: Circle | None) -> None:
    """Authorized fetch for a members-only circle's objects: the request must
    be signed (401 otherwise), by an actor on a server where the circle has an
    active member (404 otherwise: the object is not there for anyone else)."""
    if circle is None or not circle.members_only:
        return
    fed = current_app.extensions["circles.federation"]

    async def lookup(key_id: str, **_):
        try:
            public_key, owner = await keys.key_for(fed, key_id)
        except (fetch.FetchError, parse.InvalidDocument, DomainError, ValueError, TypeError) as error:
            raise signatures.KeyNotFound(f"cannot get the key {key_id[:200]}: {error}") from None
        owners[key_id] = owner
        return public_key

    owners: dict[str, Actor] = {}
    headers = {name: value for name, value in request.headers.items() if name.lower() != "host"}
    headers["Host"] = instance().domain
    url = instance().base_url + request.full_path.rstrip("?")
    try:
        verified = await signatures.verify_request(request.method, url, headers, b"", lookup, now=clock.now())
    except signatures.SignatureError as error:
        raise AuthenticationFailed(
            "This circle is members-only: sign the request as a member or a member's server (%(reason)s).",
            reason=error.reason,
        ) from None
    signer = owners[verified.key_id]
    if not await visibility.has_member_on(circle, signer.domain):
        raise NotFound("There is nothing here for you.")


async def post_document(post_id: int) -> dict:
    post = await post_service.get_post(post_id)
    if not post.local:
        raise NotFound("That post lives on another server.")
    await require_fetcher_for(post.circle)
    await post.fetch_related("in_reply_to", "accepted_answer")
    return convert.post_to_as(
        post, author=post.author, circle_actor=post.circle.actor if post.circle else None,
        **await documents.post_refs(post),
    )


async def local_actor_document(actor: Actor) -> dict:
    """The current document of any local actor (for Update activities)."""
    if actor.kind is ActorKind.GROUP:
        return await group_document(actor.username)
    if actor.kind is ActorKind.PERSON:
        return await person_document(actor.username)
    return convert.application_to_as(actor, await actor_service.keys_of(actor))


# URL rule (as web/html declares it) -> the JSON-LD document for ActivityPub clients.
NEGOTIATED = {
    "/users/<username>": person_document,
    "/c/<handle>": group_document,
    "/posts/<int:post_id>": post_document,
}


async def negotiate():
    """Before a page view: answer ActivityPub clients with the JSON-LD document."""
    rule = request.url_rule.rule if request.url_rule else None
    if request.method in ("GET", "HEAD") and rule in NEGOTIATED and wants_activitypub():
        return activity_response(await NEGOTIATED[rule](**request.view_args))
    return None


async def vary_on_accept(response: Response) -> Response:
    if request.url_rule is not None and request.url_rule.rule in NEGOTIATED:
        response.vary.add("Accept")
    return response


@bp.get("/actor")
async def instance_actor():
    actor = await actor_service.ensure_instance_actor(instance())
    return activity_response(convert.application_to_as(actor, await actor_service.keys_of(actor)))


# --- collections -------------------------------------------------------------------


def _cursor() -> int | None:
    return validation.whole_number(request.args.get("max_id"))


def _is_page_request() -> bool:
    return "page" in request.args or "max_id" in request.args


async def _paged(collection_id: str, total: int, load_rows, to_items) -> Response:
    """An OrderedCollection whose pages hold `await to_items(rows)` of the rows
    that `load_rows(before_id, limit)` returns, newest first (to_items renders
    a whole page at once, so a page costs no query per row)."""
    if not _is_page_request():
        return activity_response(convert.ordered_collection(collection_id, total, first=f"{collection_id}?page=true"))
    cursor = _cursor()
    rows = await load_rows(cursor, PAGE_SIZE + 1)  # one more tells whether a next page exists
    items = await to_items(rows[:PAGE_SIZE])
    last_id = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    page_id = f"{collection_id}?max_id={cursor}" if cursor else f"{collection_id}?page=true"
    next_page = f"{collection_id}?max_id={last_id}" if last_id else None
    return activity_response(convert.ordered_collection_page(page_id, collection_id, items, next_page=next_page))


async def _create_of(post, author: Actor, circle_actor: Actor | None) -> dict:
    return convert.post_to_create(post, author=author, circle_actor=circle_actor, **await documents.post_refs(post))


async def _creates_of(posts, author_of, circle_actor_of) -> list[dict]:
    """The Create activities of a page of posts, their references loaded together."""
    refs = await documents.post_refs_many(posts)
    return [
        convert.post_to_create(p, author=author_of(p), circle_actor=circle_actor_of(p), **refs[p.id]) for p in posts
    ]


@bp.get("/posts/<int:post_id>/activity")
async def post_activity(post_id: int):
    """The Create activity of a local post: the ids a circle's Announces point
    to are dereferenceable, as Mastodon and Lemmy expect."""
    post = await post_service.get_post(post_id)
    if not post.local:
        raise NotFound("That post lives on another server.")
    await require_fetcher_for(post.circle)
    await post.fetch_related("in_reply_to", "accepted_answer")
    return activity_response(await _create_of(post, post.author, post.circle.actor if post.circle else None))


@bp.get("/users/<username>/outbox")
async def person_outbox(username: str):
    actor = await actor_service.local_actor(ActorKind.PERSON, username)

    return await _paged(
        actor.outbox_url, await post_service.count_by(actor),
        lambda before, limit: post_service.posts_by(actor, before_id=before, limit=limit),
        lambda posts: _creates_of(posts, lambda p: actor, lambda p: p.circle.actor if p.circle else None),
    )


@bp.get("/c/<handle>/outbox")
async def group_outbox(handle: str):
    """The circle's posts, each as its Announce of the post's Create. The
    newest are also inline: Lemmy backfills a community only from
    `orderedItems` on the outbox itself and never follows `first`
    (0.19.20 crates/apub/src/protocol/collections/group_outbox.rs:6-13)."""
    circle = await circle_service.get_circle(handle)
    await require_fetcher_for(circle)
    group = circle.actor
    total = await post_service.count_in(circle)

    async def announces(posts) -> list[dict]:
        creates = await _creates_of(posts, lambda p: p.author, lambda p: group)
        return [convert.announce_of(group, p, create) for p, create in zip(posts, creates)]

    def load(before, limit):
        return post_service.posts_in(circle, before_id=before, limit=limit)

    if not _is_page_request():
        newest = await announces(await load(None, PAGE_SIZE))
        first = f"{group.outbox_url}?page=true"
        return activity_response(convert.ordered_collection(group.outbox_url, total, first=first, items=newest))
    return await _paged(group.outbox_url, total, load, announces)


async def _announced_post(handle: str, post_id: int):
    """A post of a circle here, with what its documents need."""
    circle = await circle_service.get_circle(handle)
    post = await post_service.get_post(post_id)
    if post.circle_id != circle.id or not circle.actor.local:
        raise NotFound("That post is not in this circle.")
    await require_fetcher_for(circle)
    await post.fetch_related("in_reply_to", "accepted_answer")
    return circle.actor, post


@bp.get("/c/<handle>/announces/<int:post_id>")
async def group_announce(handle: str, post_id: int):
    """The circle's Announce of a post's Create, at its own id (FEP-1b12)."""
    group, post = await _announced_post(handle, post_id)
    return activity_response(convert.announce_of(group, post, await _create_of(post, post.author, group)))


@bp.get("/c/<handle>/boosts/<int:post_id>")
async def group_boost(handle: str, post_id: int):
    """The circle's boost of a post for microblogging servers, at its own id."""
    group, post = await _announced_post(handle, post_id)
    return activity_response(convert.boost_of(group, post))


async def _local_actor_at(kind_path: str, name: str) -> Actor:
    if kind_path == "users":
        return await actor_service.local_actor(ActorKind.PERSON, name)
    return (await circle_service.get_circle(name)).actor


# Follower and following lists show only their size: who learns with whom is
# the members' business, not something to publish to every crawler.
@bp.get("/<any(users, c):kind_path>/<name>/followers")
async def followers(kind_path: str, name: str):
    actor = await _local_actor_at(kind_path, name)
    count = await actor_service.follower_count(actor)
    if kind_path == "c":
        # Lemmy shows a community's subscriber count only from a `Collection`
        # with `totalItems` and `items` (0.19.20
        # crates/apub/src/protocol/collections/group_followers.rs:5-12).
        return activity_response({"id": actor.followers_url, "type": "Collection", "totalItems": count, "items": []})
    return activity_response(convert.ordered_collection(actor.followers_url, count))


@bp.get("/<any(users, c):kind_path>/<name>/following")
async def following(kind_path: str, name: str):
    actor = await _local_actor_at(kind_path, name)
    return activity_response(convert.ordered_collection(actor.following_url, await actor_service.following_count(actor)))


@bp.get("/<any(users, c):kind_path>/<name>/featured")
async def featured(kind_path: str, name: str):
    """Pinned posts (a circle's; people pin nothing yet)."""
    actor = await _local_actor_at(kind_path, name)
    items = []
    if kind_path == "c":
        circle = await circle_service.get_circle_by_actor(actor)
        await require_fetcher_for(circle)
        posts = await post_service.featured_in(circle)
        refs = await documents.post_refs_many(posts)
        items = [convert.post_to_as(p, author=p.author, circle_actor=actor, **refs[p.id]) for p in posts]
    return activity_response(convert.ordered_collection(f"{actor.uri}/featured", len(items), items=items))


@bp.get("/c/<handle>/moderators")
async def moderators(handle: str):
    circle = await circle_service.get_circle(handle)
    await require_fetcher_for(circle)
    uris = [a.uri for a in await circle_service.stewards(circle)]
    return activity_response(convert.ordered_collection(f"{circle.actor.uri}/moderators", len(uris), items=uris))


@bp.get("/posts/<int:post_id>/replies")
async def replies(post_id: int):
    post = await post_service.get_post(post_id)
    await require_fetcher_for(post.circle)

    return await _paged(
        f"{post.uri}/replies", await post_service.count_direct_replies(post),
        lambda before, limit: post_service.direct_replies(post, before_id=before, limit=limit),
        _uris_of,
    )


async def _uris_of(rows) -> list[str]:
    """Collection items given by their ids alone."""
    return [row.uri for row in rows]


def register(app: Quart, inst: Instance) -> None:
    app.extensions["circles.instance"] = inst
    app.register_blueprint(bp)
    app.before_request(negotiate)
    app.after_request(vary_on_accept)
