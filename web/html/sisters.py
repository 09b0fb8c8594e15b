"""Sister circles of a circle: which circles it follows, the kinds of posts
shown from each, and the sister feed."""

from __future__ import annotations

from quart import Blueprint, current_app, flash, redirect, render_template, request, url_for

from federation import keys, parse, webfinger
from federation.fetch import FetchError
from models.actors import Actor
from models.circles import Circle
from models.errors import DomainError, InvalidInput, NotFound
from models.services import circles as circle_service
from models.services import feed_cards
from models.services import sisters as sister_service
from models.sisters import DEFAULT_SISTER_KINDS, SISTER_KINDS
from web import security
from web.html.forms import form_error, page_number
from web.i18n import N_, _
from web.site import site

bp = Blueprint("sisters", __name__)

KIND_LABELS = {
    "resource": N_("Resources"), "question": N_("Questions"), "meeting": N_("Meetings"), "discussion": N_("Discussions"),
}
HANDLE_MAX = 300


async def _context(circle: Circle, *, before_id: int | None = None, **extra) -> dict:
    account = security.current_account()
    size = sister_service.PAGE_SIZE
    feed = await sister_service.sister_feed(circle, before_id=before_id, limit=size + 1)
    return {
        "circle": circle,
        "sisters": await sister_service.sisters_of(circle),
        "feed": feed[:size],
        "card_details": await feed_cards.card_details(feed[:size]),
        "next_before": feed[size - 1].id if len(feed) > size else None,
        "is_steward": bool(account and await circle_service.is_steward(circle, account.actor)),
        "kinds": [(kind.value, KIND_LABELS[kind.value]) for kind in SISTER_KINDS],
        "kind_labels": KIND_LABELS,
        "new_kinds": [kind.value for kind in DEFAULT_SISTER_KINDS],
        "failed_link": None,
        **extra,
    }


@bp.get("/c/<handle>/sisters")
async def index(handle: str):
    circle = await circle_service.get_circle(handle)
    context = await _context(circle, before_id=page_number(request.args.get("before")))
    return await render_template("sisters/index.html", values={}, errors={}, **context)


async def _find_circle(handle: str) -> Actor:
    """The Group a handle names: `name` for a circle here, `@name@domain` elsewhere."""
    handle = (handle or "").strip().removeprefix("@")
    if not handle:
        raise InvalidInput("Type the handle of the circle to follow, like @name@example.org.", field="handle")
    if len(handle) > HANDLE_MAX:
        raise InvalidInput("A handle has at most %(max)d characters.", field="handle", max=HANDLE_MAX)
    name, _at, domain = handle.partition("@")
    if not domain or domain.lower() == site().instance.domain:
        try:
            return (await circle_service.get_circle(name)).actor
        except NotFound:
            raise InvalidInput("There is no circle “%(name)s” here; check the handle.", field="handle",
                               name=name[:40]) from None
    fed = current_app.extensions["circles.federation"]
    try:
        return await keys.resolve_actor(fed, await webfinger.lookup(fed, f"@{handle}"))
    except (FetchError, parse.InvalidDocument) as error:
        raise InvalidInput("Could not reach that circle: %(error)s", field="handle", error=str(error)) from None


@bp.post("/c/<handle>/sisters")
@security.login_required
async def follow(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    by = security.current_account().actor
    try:
        await circle_service.require_steward(circle, by)  # before any lookup on the network
        sister = await _find_circle(form.get("handle", ""))
        await sister_service.link(
            circle, by, sister, form.getlist("kinds"), instance_base_url=site().instance.base_url
        )
    except DomainError as error:
        context = await _context(circle, new_kinds=form.getlist("kinds"))
        return await form_error("sisters/index.html", error, form, **context)
    name = (await circle_service.get_circle_by_actor(sister)).name
    await flash(_("%(circle)s now follows %(sister)s.", circle=circle.name, sister=name) if sister.local
                else _("Asked %(sister)s to let %(circle)s follow it; its posts appear once it answers.",
                       sister=name, circle=circle.name))
    return redirect(url_for("sisters.index", handle=circle.handle))


@bp.post("/c/<handle>/sisters/<int:link_id>/kinds")
@security.login_required
async def set_kinds(handle: str, link_id: int):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    link = await sister_service.get_link(circle, link_id)
    try:
        await sister_service.set_kinds(circle, security.current_account().actor, link.sister, form.getlist("kinds"))
    except InvalidInput as error:
        context = await _context(circle, failed_link=link.id)
        return await form_error("sisters/index.html", error, form, **context)
    await flash(_("The kinds of posts shown from that circle are saved."))
    return redirect(url_for("sisters.index", handle=circle.handle))


@bp.post("/c/<handle>/sisters/<int:link_id>/unlink")
@security.login_required
async def unlink(handle: str, link_id: int):
    circle = await circle_service.get_circle(handle)
    link = await sister_service.get_link(circle, link_id)
    await sister_service.unlink(circle, security.current_account().actor, link.sister)
    await flash(_("%(circle)s no longer follows that circle.", circle=circle.name))
    return redirect(url_for("sisters.index", handle=circle.handle))
