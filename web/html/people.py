"""People on other servers: their page here, following them, and finding
a person or circle by handle (@name@example.org).

A remote person's page is /people/<name>@<domain>: the handle people type
and share, so it reads well and needs no lookup table; it cannot collide
with /users/<name> (local people, whose names have no "@") nor with
/c/<name>@<domain> (circles elsewhere)."""

from __future__ import annotations

from quart import Blueprint, current_app, flash, redirect, render_template, request, url_for

from federation import keys, parse, webfinger
from federation.fetch import FetchError
from models.actors import Actor, ActorKind, FollowState
from models.errors import DomainError, InvalidInput, NotFound
from models.posts import Post
from models.services import actors as actor_service
from models.services import circles as circle_service
from models.services import follows, moderation, person_blocks, remote
from models.services import profiles
from models.services import search as search_service
from web import security
from web.errors import headers_for, status_for
from web.html.forms import page_number
from web.html.search import is_address, search_page
from web.i18n import _, error_message
from web.site import site

bp = Blueprint("people", __name__)


@bp.app_template_global("person_url")
def person_url(actor) -> str:
    """Where a person's name links: their page here, for people elsewhere too
    (it links on to their home server)."""
    if actor.local:
        return url_for("users.show", username=actor.username)
    return url_for("people.show", handle=actor.handle)


def _split(handle: str) -> tuple[str, str]:
    username, at, domain = handle.rpartition("@")
    if not at or not username or not domain:
        raise NotFound(_("That is not a handle such as name@example.org."))
    return username, domain


async def _remote_person(handle: str):
    username, domain = _split(handle)
    return await profiles.remote_person(username, domain)


@bp.get("/people/<handle>")
async def show(handle: str):
    username, domain = _split(handle)
    if domain.lower() == site().instance.domain.lower():
        return redirect(url_for("users.show", username=username))
    person = await profiles.remote_person(username, domain)
    if person.kind is ActorKind.GROUP:  # a circle elsewhere has its page here (a GET writes nothing)
        return redirect(url_for("circles.show", handle=f"{person.username}@{person.domain}"))
    return await render_template("people/show.html", **await person_context(person))


async def person_context(person) -> dict:
    """What a person's page shows, for people here and elsewhere alike."""
    account = security.current_account()
    before = page_number(request.args.get("before"))
    viewer = account.actor if account else None
    posts = await profiles.posts_of(person, seen_by=viewer, before_id=before, limit=profiles.PAGE_SIZE + 1)
    follow = await profiles.follow_of(viewer, person) if viewer and viewer.id != person.id else None
    return {
        "person": person,
        "counts": await profiles.counts(person),
        "memberships": await circle_service.memberships_of(person, seen_by=viewer),
        "posts": posts[: profiles.PAGE_SIZE],
        "next_before": posts[profiles.PAGE_SIZE - 1].id if len(posts) > profiles.PAGE_SIZE else None,
        "follow": follow,
        "follow_states": FollowState,
        # None when the viewer neither mutes nor blocks them (or it is their own page)
        "hiding": await person_blocks.kind_between(viewer, person) if viewer and viewer.id != person.id else None,
    }


@bp.post("/people/<handle>/follow")
@security.login_required
async def follow(handle: str):
    person = await _remote_person(handle)
    if person.kind is ActorKind.GROUP:
        raise InvalidInput(_("That is a circle: join it from its page."))
    # The service refuses a blocked server, or a block either way, with a
    # PermissionDenied that names why; the error page shows it (403).
    await follows.follow_remote(security.current_account().actor, person, instance_base_url=site().instance.base_url)
    await flash(_("Asked to follow %(name)s; it says “Requested” until their server answers.", name=person.name))
    return redirect(url_for("people.show", handle=person.handle))


@bp.post("/people/<handle>/unfollow")
@security.login_required
async def unfollow(handle: str):
    person = await _remote_person(handle)
    if await follows.unfollow_remote(security.current_account().actor, person):
        await flash(_("You no longer follow %(name)s.", name=person.name))
    return redirect(url_for("people.show", handle=person.handle))


# --- finding someone by handle ---------------------------------------------------------


async def _refuse_blocked(domain: str) -> None:
    """No lookups of a domain this server's admins blocked (following someone
    there is refused by follows.refuse_if_not_allowed)."""
    if await moderation.is_blocked(domain):
        raise InvalidInput(_("This server does not talk to %(domain)s: its admins blocked it.", domain=domain),
                           field="handle")


@bp.post("/search")
@security.login_required
async def search_post():
    """Look up, on its own server, the person, circle or post a handle or web
    address names (offered by the search page, web/html/search.py)."""
    form = await request.form
    typed = form.get("handle", "")
    try:
        return redirect(await _find_address(typed) if is_address(typed) else await _find(typed))
    except DomainError as error:
        page = search_page("", handle=typed, handle_error=error_message(error))
        html = await render_template("search/index.html", **page)
        return html, status_for(error), headers_for(error)


async def _find(handle: str) -> str:
    """Where the person or circle a handle names has its page here."""
    return await page_of(await find_actor(handle))


async def page_of(actor) -> str:
    """Where a person or circle has its page here (a circle elsewhere is kept as one we know)."""
    if actor.kind is ActorKind.GROUP:
        if actor.local:
            return url_for("circles.show", handle=actor.username)
        circle = await follows.mirror_circle(actor)
        return url_for("circles.show", handle=circle.handle)
    return person_url(actor)


async def find_actor(handle: str):
    """The person or circle a handle names, looked up through WebFinger when
    it lives elsewhere and was not fetched lately (the one explicit remote
    lookup of a request). Errors name the `handle` field."""
    if len(handle) > 300:
        raise InvalidInput(_("That is too long for a handle."), field="handle")
    try:
        name, domain = webfinger.parse_handle(handle)
    except InvalidInput:
        raise InvalidInput(_("Write a handle as @name@example.org."), field="handle") from None
    if domain == site().instance.domain.lower():
        return await _local_actor(name, handle)
    await _refuse_blocked(domain)
    known = await Actor.get_or_none(username=name, domain=domain, local=False)
    if known is not None and known.deleted_at is None and not remote.is_stale(known):
        return known  # fetched lately: no need to ask its server again
    fed = current_app.extensions["circles.federation"]
    try:
        uri = await webfinger.lookup(fed, handle)
        local = await actor_service.local_by_uri(uri)
        if local is not None:
            return await _local_actor(local.username, handle)
        return await keys.resolve_actor(fed, uri)
    except webfinger.UnknownHandle:
        raise InvalidInput(
            _("%(domain)s knows nobody called @%(name)s. Check the spelling of the handle.", domain=domain, name=name),
            field="handle",
        ) from None
    except (webfinger.Unreachable, FetchError):
        raise InvalidInput(
            _("Could not reach %(domain)s. Check the server's name, or try again later.", domain=domain),
            field="handle",
        ) from None
    except (webfinger.NotAnActor, parse.InvalidDocument):
        raise InvalidInput(
            _("@%(name)s@%(domain)s is not an ActivityPub account we can follow.", name=name, domain=domain),
            field="handle",
        ) from None


async def _local_actor(name: str, handle: str):
    actor = await actor_service.local_by_username(name, site().instance.domain)
    if actor is None or actor.kind not in (ActorKind.PERSON, ActorKind.GROUP):
        raise InvalidInput(_("Nobody here is called %(handle)s.", handle=handle.strip()[:300]), field="handle")
    return actor


# --- finding something by its web address -----------------------------------------------

MAX_ADDRESS = 2000


async def _find_address(address: str) -> str:
    """Where the post, person or circle at a web address has its page here
    (for a post not kept here, its author's page)."""
    found, only_its_author = await resolve_address(address)
    if isinstance(found, Post):
        return url_for("posts.show", post_id=found.id)
    if only_its_author:
        await flash(_("That post is not kept here: posts from elsewhere appear once someone here follows "
                      "their circle or their author. Here is who wrote it."))
    return await page_of(found)


async def resolve_address(address: str) -> tuple[Post | Actor, bool]:
    """The post, person or circle at a web address: known already, or fetched
    from its server through the SSRF guard (federation/fetch.py). A post is
    kept here only where it belongs (a circle we follow, someone people here
    follow); for another, its author, with True (also for the client API's
    search, web/mastodon/search.py)."""
    address = address.strip()
    if len(address) > MAX_ADDRESS:
        raise InvalidInput(_("That web address is too long."), field="handle")
    known = await search_service.known_by_address(address)
    if known is not None:
        return known, False
    host = parse.host_of(address)
    if not host or host == site().instance.domain.lower():
        raise InvalidInput(_("Nothing here has that address."), field="handle")
    await _refuse_blocked(host.partition(":")[0])
    fed = current_app.extensions["circles.federation"]
    try:
        document = (await keys.fetch_signed(fed, address)).json
        object_id = parse.id_of(document) or ""
        if parse.host_of(object_id) != host:
            raise parse.InvalidDocument("the document names another server as its home")
        if parse.type_of(document) in parse.ACTOR_TYPES:
            return await keys.resolve_actor(fed, object_id), False
        if parse.type_of(document) in parse.POST_TYPES:
            post = await search_service.known_by_address(object_id)
            if post is not None:
                return post, False
            author_id = parse.id_of(document.get("attributedTo"))
            if not author_id:
                raise parse.InvalidDocument("the post names no author")
            # Only the post's own server says who wrote it, as Mastodon trusts it
            # (app/services/activitypub/fetch_remote_status_service.rb,
            # `trustworthy_attribution?`): no other server is asked, so none
            # this one's admins blocked either (the post's was refused above).
            if parse.host_of(author_id) != host:
                raise parse.InvalidDocument("the post names an author on another server")
            return await keys.resolve_actor(fed, author_id), True
    except FetchError:
        raise InvalidInput(_("Could not reach %(domain)s. Check the address, or try again later.", domain=host),
                           field="handle") from None
    except parse.InvalidDocument:
        pass
    raise InvalidInput(_("That address is not a person, circle or post we can show."), field="handle")
