"""Peer tutoring in a circle: my skills, suggested partners, my pairings,
questions I could answer, and each pairing's private thread (with a member
on another server too: the pages warn that its admins can read it)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.actors import Actor
from models.circles import Circle
from models.errors import DomainError, InvalidInput, NotFound
from models.services import circles as circle_service
from models.services import tutoring as tutoring_service
from models.services import validation
from models.tutoring import Pairing
from web import security
from web.html.forms import form_error, page_number, preview, wants_preview
from web.i18n import _

bp = Blueprint("tutoring", __name__)


async def _index_context(circle: Circle) -> dict:
    """What the circle's tutoring page shows the person looking at it."""
    account = security.current_account()
    if account is None or not await circle_service.is_member(circle, account.actor):
        return {"circle": circle, "is_member": False}
    me = account.actor
    size = tutoring_service.CLOSED_PAGE
    closed = await tutoring_service.closed_pairings_of(
        circle, me, before_id=page_number(request.args.get("closed_before")), limit=size + 1
    )
    return {
        "circle": circle,
        "is_member": True,
        "me": me,
        "skills": await tutoring_service.skills_of(circle, me),
        "suggestions": await tutoring_service.suggestions_for(me, circle),
        "pairings": await tutoring_service.open_pairings_of(circle, me),
        "closed": closed[:size],
        "next_closed_before": closed[size - 1].id if len(closed) > size else None,
        "questions": await tutoring_service.questions_for_helper(me, circle),
    }


def _skill_values(skills: tutoring_service.SkillLists) -> dict:
    return {"offers": ", ".join(skills.offers), "wants": ", ".join(skills.wants)}


@bp.get("/c/<handle>/tutoring")
async def index(handle: str):
    circle = await circle_service.get_circle(handle)
    context = await _index_context(circle)
    values = _skill_values(context["skills"]) if context["is_member"] else {}
    return await render_template("tutoring/index.html", values=values, errors={}, **context)


@bp.post("/c/<handle>/tutoring/skills")
@security.login_required
async def skills(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    me = security.current_account().actor
    try:
        lists = await tutoring_service.set_skills(
            circle, me,
            offers=tutoring_service.split_list(form.get("offers"), "offers", label="I can help with"),
            wants=tutoring_service.split_list(form.get("wants"), "wants", label="I would like help with"),
        )
    except DomainError as error:
        return await form_error("tutoring/index.html", error, form, **await _index_context(circle))
    if not circle.actor.local:
        # Members on the circle's own server can then ask us to pair.
        await tutoring_service.send_skills(circle, me, lists)
        await flash(_("Your skills are saved and sent to the circle on %(domain)s.", domain=circle.actor.domain))
    else:
        await flash(_("Your skills are saved."))
    return redirect(url_for("tutoring.index", handle=circle.handle))


async def _partner(raw: str | None) -> Actor:
    actor_id = page_number((raw or "").strip())
    actor = await Actor.get_or_none(id=actor_id) if actor_id and validation.is_row_id(actor_id) else None
    if actor is None:
        raise NotFound("That person is not here any more; reload the page.")
    return actor


@bp.post("/c/<handle>/tutoring/open")
@security.login_required
async def open_pairing(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    me = security.current_account().actor
    try:
        if form.get("role") not in ("ask", "offer"):
            raise InvalidInput("Choose whether you ask for help or offer it.")
        pairing = await tutoring_service.open_pairing(
            circle, me, await _partner(form.get("other")), form.get("skill", ""),
            by_is_helper=form.get("role") == "offer",
        )
    except DomainError as error:
        context = await _index_context(circle)
        values = _skill_values(context["skills"]) if context["is_member"] else {}
        # The buttons have no field of their own: show the message above the page.
        error.field = None
        return await form_error("tutoring/index.html", error, values, **context)
    if pairing.helper.local and pairing.learner.local:
        await flash(_("The pairing is open: say hello and agree how you want to work together."))
    else:
        await flash(_("Your first message is on its way. The pairing starts when they reply."))
    return redirect(url_for("tutoring.thread", pairing_id=pairing.id))


async def _own_pairing(pairing_id: int) -> Pairing:
    return await tutoring_service.get_pairing(pairing_id, security.current_account().actor)


async def _thread_context(pairing: Pairing) -> dict:
    me = security.current_account().actor
    rows = await tutoring_service.messages(
        pairing, me, before_id=page_number(request.args.get("before")), limit=tutoring_service.MESSAGES_PAGE + 1
    )
    size = tutoring_service.MESSAGES_PAGE
    page = rows[:size]
    return {
        "pairing": pairing,
        "circle": pairing.circle,
        "me": me,
        "partner": tutoring_service.partner_of(pairing, me),
        "messages": list(reversed(page)),  # oldest of the page first, like a conversation
        "earlier_before": page[-1].id if len(rows) > size else None,
    }


@bp.get("/tutoring/<int:pairing_id>")
@security.login_required
async def thread(pairing_id: int):
    pairing = await _own_pairing(pairing_id)
    return await render_template("tutoring/thread.html", values={}, errors={}, **await _thread_context(pairing))


@bp.post("/tutoring/<int:pairing_id>/messages")
@security.login_required
async def send(pairing_id: int):
    pairing = await _own_pairing(pairing_id)
    form = await request.form
    if wants_preview(form):
        return await preview("tutoring/thread.html", form, **await _thread_context(pairing))
    try:
        await tutoring_service.send_message(pairing, security.current_account().actor, form.get("body", ""))
    except DomainError as error:
        return await form_error("tutoring/thread.html", error, form, **await _thread_context(pairing))
    return redirect(url_for("tutoring.thread", pairing_id=pairing.id) + "#reply")


@bp.post("/tutoring/<int:pairing_id>/close")
@security.login_required
async def close(pairing_id: int):
    pairing = await _own_pairing(pairing_id)
    closed = await tutoring_service.close_pairing(pairing, security.current_account().actor)
    await flash(_("The pairing is closed. Thank you for learning together.") if closed else _("It was closed already."))
    return redirect(url_for("tutoring.index", handle=pairing.circle.handle))
