"""A circle's resource library: browsing and filtering, adding, marking
helpful, resharing into another circle. A resource's own page is its post's
page, with the block that `resource_context` fills."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.accounts import Account
from models.errors import DomainError, InvalidInput
from models.posts import Post
from models.resources import LICENCE_LABELS, Level, Licence
from models.services import circles as circle_service
from models.services import resources as resource_service
from web import security
from web.html.forms import form_error, page_param, preview, wants_preview
from web.i18n import _
from web.site import site

bp = Blueprint("resources", __name__)

FILTER_FIELDS = ("q", "tag", "level", "licence", "order")


def _choices() -> dict:
    return {"licences": LICENCE_LABELS, "levels": list(Level)}


@bp.get("/c/<handle>/resources")
async def library(handle: str):
    circle = await circle_service.get_circle(handle)
    values = {name: request.args.get(name, "")[:200] for name in FILTER_FIELDS}
    account = security.current_account()
    page = page_param(request.args.get("page"))
    context = dict(circle=circle, is_member=await security.viewer_is_member(circle), **_choices())
    try:
        filters = resource_service.check_filter(
            query=values["q"], tag=values["tag"], level=values["level"], licence=values["licence"], order=values["order"],
        )
    except InvalidInput as error:
        return await form_error("resources/library.html", error, values, results=None, **context)
    results = await resource_service.search(circle, filters, viewer=account.actor if account else None, page=page)
    return await render_template("resources/library.html", errors={}, values=values, results=results, **context)


@bp.get("/c/<handle>/resources/new")
@security.login_required
async def new(handle: str):
    circle = await circle_service.get_circle(handle)
    values = {"licence": Licence.UNKNOWN.value, "level": Level.ANY.value}
    return await render_template("resources/new.html", circle=circle, values=values, errors={}, **_choices())


@bp.post("/c/<handle>/resources/new")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("resources/new.html", form, circle=circle, **_choices())
    try:
        resource = await resource_service.add_resource(
            site().instance, security.current_account().actor, circle,
            title=form.get("title", ""), description=form.get("description", ""), link=form.get("link", ""),
            licence=form.get("licence", ""), level=form.get("level", ""), tags=form.get("tags", ""),
        )
    except DomainError as error:
        return await form_error("resources/new.html", error, form, circle=circle, **_choices())
    await flash(_("Thank you: the resource is in the library."))
    return redirect(url_for("posts.show", post_id=resource.post_id))


@bp.get("/resources/<int:resource_id>/edit")
@security.login_required
async def edit(resource_id: int):
    resource = await resource_service.get_resource(resource_id)
    post = await resource_service.require_editor(security.current_account().actor, resource)
    values = {
        "title": post.title, "link": resource.link, "description": post.source, "licence": resource.licence.value,
        "level": resource.level.value, "tags": " ".join(await resource_service.tags_of(resource)),
    }
    return await render_template("resources/edit.html", resource=resource, values=values, errors={}, **_choices())


@bp.post("/resources/<int:resource_id>/edit")
@security.login_required
async def update(resource_id: int):
    resource = await resource_service.get_resource(resource_id)
    form = await request.form
    if wants_preview(form):
        return await preview("resources/edit.html", form, resource=resource, **_choices())
    try:
        await resource_service.edit_resource(
            security.current_account().actor, resource,
            title=form.get("title", ""), description=form.get("description", ""), link=form.get("link", ""),
            licence=form.get("licence", ""), level=form.get("level", ""), tags=form.get("tags", ""),
        )
    except DomainError as error:
        return await form_error("resources/edit.html", error, form, resource=resource, **_choices())
    await flash(_("The resource has been updated."))
    return redirect(url_for("posts.show", post_id=resource.post_id))


@bp.post("/resources/<int:resource_id>/reshare")
@security.login_required
async def reshare(resource_id: int):
    form = await request.form
    resource = await resource_service.get_resource(resource_id)
    account = security.current_account()
    try:
        target = await circle_service.get_circle(form.get("circle", "")[:300])
        copy = await resource_service.reshare(site().instance, account.actor, resource, target)
    except DomainError as error:
        targets = await resource_service.reshare_targets(account.actor, resource)
        return await form_error("resources/reshare.html", error, form, resource=resource, reshare_targets=targets)
    await flash(_("Shared with %(circle)s.", circle=target.name))
    return redirect(url_for("posts.show", post_id=copy.post_id))


async def resource_context(root: Post, account: Account | None) -> dict:
    """What the post page shows of a resource: the link, licence, level, tags,
    the circles that use it and where the viewer may reshare it."""
    resource = await resource_service.resource_of_post(root)
    if resource is None or root.deleted_at is not None:
        return {"resource": None}
    viewer = account.actor if account else None
    return {  # its helpful count and the viewer's like: post_actions.action_context
        "resource": resource,
        "resource_tags": await resource_service.tags_of(resource),
        "licence_label": LICENCE_LABELS[resource.licence],
        "used_in": await resource_service.where_used(resource.link),
        "reshare_targets": await resource_service.reshare_targets(viewer, resource) if viewer else [],
        "can_edit": await resource_service.may_edit(viewer, resource),
    }
