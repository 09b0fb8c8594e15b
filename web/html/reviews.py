"""Peer review in a circle: work shared for feedback, structured feedback,
and marking what helped."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.errors import DomainError
from models.services import circles as circle_service
from models.services import posts as post_service
from models.services import reviews as review_service
from web import security
from web.html.forms import form_error, page_param, preview, wants_preview
from web.html.posts import thread_context
from web.html.thread_links import thread_url
from web.i18n import _
from web.site import site

bp = Blueprint("reviews", __name__)
PAGE = 20


@bp.get("/c/<handle>/reviews")
async def index(handle: str):
    circle = await circle_service.get_circle(handle)
    page = page_param(request.args.get("page"))
    rows = await review_service.list_requests(circle, page=page, limit=PAGE + 1)
    return await render_template(
        "reviews/index.html", circle=circle, requests=rows[:PAGE], page=page, has_more=len(rows) > PAGE,
        is_member=await security.viewer_is_member(circle),
    )


@bp.get("/c/<handle>/reviews/new")
@security.login_required
async def new(handle: str):
    circle = await circle_service.get_circle(handle)
    return await render_template("reviews/new.html", circle=circle, values={}, errors={})


@bp.post("/c/<handle>/reviews/new")
@security.login_required
async def create(handle: str):
    circle = await circle_service.get_circle(handle)
    form = await request.form
    if wants_preview(form):
        return await preview("reviews/new.html", form, circle=circle)
    try:
        work = await review_service.request_review(
            site().instance, security.current_account().actor, circle,
            title=form.get("title", ""), body=form.get("body", ""), link=form.get("link", ""),
        )
    except DomainError as error:
        return await form_error("reviews/new.html", error, form, circle=circle)
    return redirect(url_for("posts.show", post_id=work.id))


@bp.post("/posts/<int:post_id>/feedback")
@security.login_required
async def feedback(post_id: int):
    work = await post_service.get_post(post_id)
    form = await request.form
    if wants_preview(form):
        return await preview("posts/show.html", form, **await thread_context(post_id))
    try:
        reply = await review_service.give_feedback(
            site().instance, security.current_account().actor, work,
            works=form.get("works", ""), questions=form.get("questions", ""), suggestions=form.get("suggestions", ""),
        )
    except DomainError as error:
        return await form_error("posts/show.html", error, form, **await thread_context(post_id))
    await flash(_("Thank you for your feedback."))
    return redirect(await thread_url(reply))


@bp.post("/posts/<int:post_id>/helpful")
@security.login_required
async def helpful(post_id: int):
    reply = await post_service.get_post(post_id)
    form = await request.form
    await review_service.mark_helpful(security.current_account().actor, reply, helpful=form.get("helpful") != "0")
    return redirect(await thread_url(reply))
