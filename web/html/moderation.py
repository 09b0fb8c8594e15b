"""Reporting posts and people, and a circle's moderation page and log."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.actors import Actor, ActorKind
from models.errors import DomainError, NotFound
from models.moderation import ReportCategory
from models.services import circles as circle_service
from models.services import moderation, validation
from models.services import posts as post_service
from web import security
from web.html import confirm
from web.html.forms import form_error
from web.html.media import media_store
from web.i18n import _
from web.site import site

bp = Blueprint("moderation", __name__)


def category_labels() -> dict[str, str]:
    return {
        ReportCategory.SPAM.value: _("Spam or advertising"),
        ReportCategory.HARASSMENT.value: _("Harassment, threats or hate"),
        ReportCategory.UNSAFE.value: _("Unsafe: sexual or violent content, or someone in danger"),
        ReportCategory.RULES.value: _("It breaks the circle's rules"),
        ReportCategory.OTHER.value: _("Something else"),
    }


def _forward_wanted(form) -> bool:
    return form.get("forward") == "1"


# --- reporting ---------------------------------------------------------------------------


@bp.get("/posts/<int:post_id>/report")
@security.login_required
async def report_post_form(post_id: int):
    post = await post_service.get_post(post_id)
    return await render_template("moderation/report.html", **_post_report_context(post), values={}, errors={})


def _post_report_context(post) -> dict:
    return {
        "post": post, "person": post.author, "circle": post.circle, "labels": category_labels(),
        "action": url_for("moderation.report_post", post_id=post.id),
        "can_forward": not post.author.local,
    }


@bp.post("/posts/<int:post_id>/report")
@security.login_required
async def report_post(post_id: int):
    post = await post_service.get_post(post_id)
    form = await request.form
    try:
        await moderation.report_post(
            security.current_account().actor, post, category=form.get("category", ""),
            comment=form.get("comment", ""), forward=_forward_wanted(form),
        )
    except DomainError as error:
        return await form_error("moderation/report.html", error, form, **_post_report_context(post))
    await flash(_("Thank you. Your report has been sent to the moderators."))
    return redirect(url_for("posts.show", post_id=post.root_id or post.id))


async def _person(actor_id: int) -> Actor:
    actor = await Actor.get_or_none(id=actor_id) if validation.is_row_id(actor_id) else None
    if actor is None:
        raise NotFound(_("There is no such person."))
    return actor


async def _report_circle():
    """The circle a person is reported from (?circle=handle), if any."""
    handle = (request.args.get("circle") or "")[:100]
    return await circle_service.get_circle(handle) if handle else None


def _person_report_context(person, circle) -> dict:
    return {
        "post": None, "person": person, "circle": circle, "labels": category_labels(),
        "action": url_for("moderation.report_person", actor_id=person.id, **({"circle": circle.handle} if circle else {})),
        "can_forward": not person.local,
    }


@bp.get("/people/<int:actor_id>/report")
@security.login_required
async def report_person_form(actor_id: int):
    person, circle = await _person(actor_id), await _report_circle()
    return await render_template("moderation/report.html", **_person_report_context(person, circle), values={}, errors={})


@bp.post("/people/<int:actor_id>/report")
@security.login_required
async def report_person(actor_id: int):
    person, circle = await _person(actor_id), await _report_circle()
    form = await request.form
    try:
        await moderation.report_actor(
            security.current_account().actor, person, category=form.get("category", ""),
            comment=form.get("comment", ""), forward=_forward_wanted(form), circle=circle,
        )
    except DomainError as error:
        return await form_error("moderation/report.html", error, form, **_person_report_context(person, circle))
    await flash(_("Thank you. Your report has been sent to the moderators."))
    if circle is not None:
        return redirect(url_for("circles.members", handle=circle.handle))
    if person.local and person.kind is ActorKind.PERSON:
        return redirect(url_for("users.show", username=person.username))
    return redirect(url_for("home.index"))


# --- a circle's stewards ---------------------------------------------------------------------


async def _moderation_context(circle, actor) -> dict:
    return {
        "circle": circle, "is_steward": True, "labels": category_labels(),
        "reports": await moderation.circle_reports(circle, actor),
        "members": await circle_service.list_members(circle, limit=500),
        "banned": await moderation.banned_members(circle, actor),
    }


@bp.get("/c/<handle>/moderation")
@security.login_required
async def circle_page(handle: str):
    circle = await circle_service.get_circle(handle)
    context = await _moderation_context(circle, security.current_account().actor)
    return await render_template("moderation/circle.html", values={}, errors={}, **context)


async def _steward_action(handle: str, act, form_name: str, done: str):
    """Run `act(circle, actor, form)` and go back to the moderation page; on
    a refusal show the page again with the error beside the form that
    failed (`form_name`), its values kept."""
    circle = await circle_service.get_circle(handle)
    actor = security.current_account().actor
    form = await request.form
    try:
        await act(circle, actor, form)
    except DomainError as error:
        await circle_service.require_steward(circle, actor)  # not a steward: the refusal page, not the form
        error.field = f"{form_name}-{error.field}" if error.field else form_name
        return await form_error(
            "moderation/circle.html", error, form, form_name=form_name, **await _moderation_context(circle, actor)
        )
    await flash(done)
    return redirect(url_for("moderation.circle_page", handle=handle))


@bp.post("/c/<handle>/moderation/reports/<int:report_id>")
@security.login_required
async def decide_report(handle: str, report_id: int):
    async def act(circle, actor, form):
        await moderation.decide_circle_report(
            circle, actor, report_id, outcome=form.get("outcome", ""), note=form.get("note", "")
        )

    return await _steward_action(
        handle, act, f"report-{report_id}", _("The report is closed; the circle's log shows what you decided.")
    )


def _actor_id(form) -> int:
    return validation.whole_number(form.get("actor_id")) or 0


@bp.post("/c/<handle>/moderation/ban")
@security.login_required
async def ban(handle: str):
    form = await request.form
    if not confirm.confirmed(form) and form.get("reason", "").strip():  # without a reason the form says so first
        circle = await circle_service.get_circle(handle)
        person = await moderation.ban_target(circle, security.current_account().actor, _actor_id(form))
        return await confirm.ask(confirm.Question(
            title=_("Ban %(name)s from %(circle)s?", name=person.name, circle=circle.name),
            consequence=_("They stop being a member, their votes on open proposals are withdrawn, and they cannot "
                          "join again until a facilitator or moderator lifts the ban."),
            audience=_("The ban and your reason go in the circle's moderation log, which its members read; "
                       "%(name)s's server is told.", name=person.name),
            yes=_("Yes, ban %(name)s", name=person.name), back_url=url_for("moderation.circle_page", handle=handle),
        ), form)

    async def act(circle, actor, form):
        await moderation.ban(circle, actor, _actor_id(form), reason=form.get("reason", ""),
                             instance=site().instance)

    return await _steward_action(handle, act, "ban", _("They are banned from the circle."))


@bp.post("/c/<handle>/moderation/unban")
@security.login_required
async def unban(handle: str):
    async def act(circle, actor, form):
        await moderation.unban(circle, actor, _actor_id(form), reason=form.get("reason", ""))

    return await _steward_action(handle, act, "unban", _("The ban is lifted: they may ask to join again."))


@bp.get("/c/<handle>/moderation/posts/<int:post_id>/remove")
@security.login_required
async def remove_post_form(handle: str, post_id: int):
    circle = await circle_service.get_circle(handle)
    await circle_service.require_steward(circle, security.current_account().actor)
    post = await post_service.get_post(post_id)
    if post.circle_id != circle.id:
        raise NotFound(_("That post is not in this circle."))
    return await render_template("moderation/remove.html", circle=circle, post=post, values={}, errors={})


@bp.post("/c/<handle>/moderation/posts/<int:post_id>/remove")
@security.login_required
async def remove_post(handle: str, post_id: int):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if not confirm.confirmed(form):  # its form page says what happens and asks for the reason
        return await remove_post_form(handle, post_id)
    try:
        post = await moderation.remove_post(
            circle, security.current_account().actor, post_id, reason=form.get("reason", ""), media_store=media_store()
        )
    except DomainError as error:
        if error.field != "reason":
            raise
        post = await post_service.get_post(post_id)
        return await form_error("moderation/remove.html", error, form, circle=circle, post=post)
    await flash(_("The post is removed from the circle; the circle's log shows why."))
    if post.root_id:
        return redirect(url_for("posts.show", post_id=post.root_id))
    return redirect(url_for("circles.show", handle=handle))


@bp.get("/c/<handle>/moderation/log")
async def log(handle: str):
    circle = await circle_service.get_circle(handle)
    account = security.current_account()
    actor = account.actor if account else None
    entries = await moderation.moderation_log(circle, actor, is_admin=bool(account and account.is_admin))
    return await render_template(
        "moderation/log.html", circle=circle, entries=entries,
        is_steward=bool(actor) and await circle_service.is_steward(circle, actor),
    )
