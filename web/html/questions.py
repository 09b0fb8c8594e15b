"""Questions in a circle: the lists, asking (openly or through the circle),
accepting an answer, and the stewards' logged look-up of a safe question's asker."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.errors import DomainError, InvalidInput
from models.services import circles as circle_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services.questions import QuestionList
from web import security
from web.html.forms import form_error, page_number, page_param, preview, wants_preview
from web.html.posts import thread_context
from web.html.thread_links import thread_url
from web.i18n import N_, _
from web.site import site

bp = Blueprint("questions", __name__)
LIST_LABELS = {
    QuestionList.OPEN: N_("Open"),
    QuestionList.ANSWERED: N_("Answered"),
    QuestionList.MINE: N_("Mine"),
}


@bp.get("/c/<handle>/questions")
async def index(handle: str):
    circle = await circle_service.get_circle(handle)
    which = _list_choice(request.args.get("show"))
    page = page_param(request.args.get("page"))
    account = security.current_account()
    rows = await question_service.list_questions(
        circle, which, viewer=account.actor if account else None, page=page,
        limit=question_service.PAGE_SIZE + 1,
    )
    return await render_template(
        "questions/index.html", circle=circle, which=which, lists=LIST_LABELS, page=page,
        questions=rows[: question_service.PAGE_SIZE], has_more=len(rows) > question_service.PAGE_SIZE,
        is_member=await security.viewer_is_member(circle),
    )


def _list_choice(raw: str | None) -> QuestionList:
    try:
        return QuestionList(raw or QuestionList.OPEN.value)
    except ValueError:
        return QuestionList.OPEN


@bp.get("/c/<handle>/questions/new")
@security.login_required
async def new(handle: str):
    circle = await circle_service.get_circle(handle)
    safe = request.args.get("safe") == "1"
    return await render_template("questions/new.html", circle=circle, values={"safe": safe}, errors={})


@bp.post("/c/<handle>/questions/new")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("questions/new.html", form, circle=circle)
    try:
        question = await question_service.ask(
            site().instance, security.current_account().actor, circle,
            title=form.get("title", ""), body=form.get("body", ""), safe=form.get("safe") == "1",
        )
    except DomainError as error:
        return await form_error("questions/new.html", error, form, circle=circle)
    if question.asked_by_id:
        await flash(_("Your question is asked through the circle: members see the circle as its author."))
    return redirect(url_for("posts.show", post_id=question.id))


@bp.post("/posts/<int:post_id>/accept")
@security.login_required
async def accept(post_id: int):
    question = await post_service.get_post(post_id)
    form = await request.form
    answer = await post_service.get_post(page_number(form.get("answer_id")) or 0)
    await question_service.accept_answer(site().instance, security.current_account().actor, question, answer)
    await flash(_("The answer is marked as accepted. Thank you for closing the loop!"))
    return redirect(await thread_url(answer))


@bp.post("/posts/<int:post_id>/accept/withdraw")
@security.login_required
async def withdraw(post_id: int):
    question = await post_service.get_post(post_id)
    await question_service.withdraw_acceptance(security.current_account().actor, question)
    await flash(_("The question is open again."))
    return redirect(url_for("posts.show", post_id=question.id))


@bp.post("/posts/<int:post_id>/reveal")
@security.login_required
async def reveal(post_id: int):
    """Shown in this response only: a flash message would carry the name in
    the session cookie."""
    question = await post_service.get_post(post_id)
    form = await request.form
    try:
        asker = await question_service.reveal_asker(
            question.circle, question, security.current_account().actor, reason=form.get("reason", "")
        )
    except InvalidInput as error:
        return await form_error("posts/show.html", error, form, **await thread_context(post_id))
    return await render_template(
        "posts/show.html", values={}, errors={}, revealed_asker=asker, **await thread_context(post_id)
    )


@bp.get("/c/<handle>/reveals")
@security.login_required
async def reveals(handle: str):
    """Who looked up the askers of safe questions, and when: for every member."""
    circle = await circle_service.get_circle(handle)
    await circle_service.require_member(circle, security.current_account().actor)
    page = page_param(request.args.get("page"))
    rows = await question_service.reveal_log(circle, page=page, limit=51)
    return await render_template(
        "questions/reveals.html", circle=circle, reveals=rows[:50], page=page, has_more=len(rows) > 50
    )
