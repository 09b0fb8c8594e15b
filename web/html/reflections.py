"""Reflections in a circle, the circle's learning record, and downloading
one's own contributions."""

from __future__ import annotations

import json

from quart import Blueprint, Response, flash, redirect, render_template, request, url_for

from models.circles import Circle, MembershipState
from models.errors import DomainError, InvalidInput
from models.reflections import VALUE_CYCLE_EXPLANATIONS, Reflection
from models.services import circles as circle_service
from models.services import record_export as record_export_service
from models.services import reflections as reflection_service
from web import security
from web.html.forms import form_error, page_number, preview, wants_preview
from web.i18n import _, error_message
from web.site import site

bp = Blueprint("reflections", __name__)


def _meeting_id(raw: str | None) -> int | None:
    """A meeting id from a form or URL; something that is not an id is refused."""
    if not (raw or "").strip():
        return None
    meeting_id = page_number(raw.strip())
    if meeting_id is None:
        raise InvalidInput(reflection_service.NOT_A_MEETING, field="meeting")
    return meeting_id


def _form_context(circle: Circle, meeting=None, reflection: Reflection | None = None) -> dict:
    return {"circle": circle, "meeting": meeting, "reflection": reflection, "cycles": VALUE_CYCLE_EXPLANATIONS}


async def _own_in(handle: str, reflection_id: int) -> tuple[Circle, Reflection]:
    """The circle and one of the logged-in person's reflections in it (else 404)."""
    circle = await circle_service.get_circle(handle)
    actor = security.current_account().actor
    return circle, await reflection_service.get_own(actor, reflection_id, circle=circle)


@bp.get("/c/<handle>/reflections")
async def index(handle: str):
    circle = await circle_service.get_circle(handle)
    shared = await reflection_service.shared_in(
        circle, before_id=page_number(request.args.get("before")), limit=reflection_service.PAGE_SIZE + 1
    )
    account = security.current_account()
    mine = []
    if account:
        mine = await reflection_service.private_of(
            account.actor, circle, before_id=page_number(request.args.get("mine_before")),
            limit=reflection_service.PAGE_SIZE + 1,
        )
    membership = await circle_service.membership(circle, account.actor) if account else None
    size = reflection_service.PAGE_SIZE
    return await render_template(
        "reflections/index.html",
        circle=circle,
        shared=shared[:size],
        next_before=shared[size - 1].shared_post_id if len(shared) > size else None,
        mine=mine[:size],
        next_mine_before=mine[size - 1].id if len(mine) > size else None,
        is_member=bool(membership and membership.state is MembershipState.ACTIVE),
        cycles=VALUE_CYCLE_EXPLANATIONS,
    )


@bp.get("/c/<handle>/reflections/new")
@security.login_required
async def new(handle: str):
    circle = await circle_service.get_circle(handle)
    meeting = None
    try:
        meeting = await reflection_service.meeting_of(circle, _meeting_id(request.args.get("meeting")))
    except InvalidInput as error:
        await flash(error_message(error))
    values = {"meeting": str(meeting.id)} if meeting else {}
    return await render_template(
        "reflections/form.html", values=values, errors={}, **_form_context(circle, meeting)
    )


@bp.post("/c/<handle>/reflections/new")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("reflections/form.html", form, **_form_context(circle))
    try:
        reflection = await reflection_service.write(
            site().instance, security.current_account().actor, circle,
            body=form.get("body", ""), value_cycle=form.get("value_cycle", ""),
            meeting_id=_meeting_id(form.get("meeting")), share=form.get("share") == "on",
        )
    except DomainError as error:
        return await form_error("reflections/form.html", error, form, **_form_context(circle))
    await flash(_("Your reflection is shared with the circle.") if reflection.shared_post_id
                else _("Your reflection is saved. Only you can see it."))
    return redirect(url_for("reflections.index", handle=circle.handle))


@bp.get("/c/<handle>/reflections/<int:reflection_id>/edit")
@security.login_required
async def edit(handle: str, reflection_id: int):
    circle, reflection = await _own_in(handle, reflection_id)
    values = {"body": reflection.source, "value_cycle": reflection.value_cycle or ""}
    return await render_template(
        "reflections/form.html", values=values, errors={},
        **_form_context(circle, reflection.meeting, reflection),
    )


@bp.post("/c/<handle>/reflections/<int:reflection_id>/edit")
@security.login_required
async def update(handle: str, reflection_id: int):
    circle, reflection = await _own_in(handle, reflection_id)
    form = await request.form
    if wants_preview(form):
        return await preview(
            "reflections/form.html", form, **_form_context(circle, reflection.meeting, reflection)
        )
    try:
        await reflection_service.edit(
            security.current_account().actor, reflection.id,
            body=form.get("body", ""), value_cycle=form.get("value_cycle", ""),
        )
    except DomainError as error:
        return await form_error(
            "reflections/form.html", error, form, **_form_context(circle, reflection.meeting, reflection)
        )
    await flash(_("Your reflection is updated."))
    return redirect(url_for("reflections.index", handle=circle.handle))


@bp.post("/c/<handle>/reflections/<int:reflection_id>/<any(share, unshare, delete):action>")
@security.login_required
async def act(handle: str, reflection_id: int, action: str):
    circle, reflection = await _own_in(handle, reflection_id)
    actor = security.current_account().actor
    if action == "share":
        changed = await reflection_service.share(site().instance, actor, reflection.id)
        await flash(_("Your reflection is shared with the circle.") if changed else _("It was shared already."))
    elif action == "unshare":
        changed = await reflection_service.unshare(actor, reflection.id)
        await flash(_("Your reflection is private again.") if changed else _("It was private already."))
    else:
        await reflection_service.delete(actor, reflection.id)
        await flash(_("Your reflection is deleted."))
    return redirect(url_for("reflections.index", handle=circle.handle))


@bp.get("/c/<handle>/record")
async def record(handle: str):
    circle = await circle_service.get_circle(handle)
    learning = await reflection_service.learning_record(
        circle,
        before=reflection_service.parse_month(request.args.get("before")),
        reflections_before=page_number(request.args.get("reflections_before")),
    )
    return await render_template(
        "reflections/record.html", circle=circle, record=learning, cycles=VALUE_CYCLE_EXPLANATIONS
    )


@bp.get("/c/<handle>/record.<any(json, md):fmt>")
async def record_export(handle: str, fmt: str):
    """The record page's months as a download (a members-only circle's only for
    its members: the check on every /c/<handle>/ address, web/html/visibility.py)."""
    circle = await circle_service.get_circle(handle)
    data = await record_export_service.record_data(
        circle, before=reflection_service.parse_month(request.args.get("before"))
    )
    body = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json" else record_export_service.record_markdown(data)
    return _download(body, fmt, f"learning-record-{circle.actor.username}-{data['last_month']}.{fmt}")


def _download(body: str, fmt: str, filename: str) -> Response:
    content_type = "application/json" if fmt == "json" else "text/markdown; charset=utf-8"
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/settings/export.<any(json, md):fmt>")
@security.login_required
async def export(fmt: str):
    actor = security.current_account().actor
    data = await reflection_service.export_contributions(actor)
    body = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json" else reflection_service.export_markdown(data)
    return _download(body, fmt, f"contributions-{actor.username}.{fmt}")
