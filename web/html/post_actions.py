"""What one does to a post in a thread besides replying: edit it (and read
its earlier versions), and say "this helped me" (a like)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request

from models.errors import DomainError
from models.services import likes, post_edits
from models.services import posts as post_service
from web import security
from web.html.forms import form_error, preview, wants_preview
from web.html.thread_links import thread_url
from web.i18n import _

bp = Blueprint("post_actions", __name__)


async def action_context(posts, actor, *, active_member: bool, feedback_ids=frozenset()) -> dict:
    """What the thread page needs to show these posts' actions, in one query:
    members see who found each post helpful (and so the counts); others the counts.
    `feedback_ids`: replies that are feedback on shared work (not edited here)."""
    ids = [post.id for post in posts if post.deleted_at is None]
    if active_member:
        likers = await likes.likers_of(ids)
        counts = {post_id: len(people) for post_id, people in likers.items()}
        liked_ids = {post_id for post_id, people in likers.items() if any(p.id == actor.id for p in people)}
    else:
        likers, counts, liked_ids = {}, await likes.counts_of(ids), set()
    return {
        "like_counts": counts, "likers": likers, "liked_ids": liked_ids,
        "may_edit": lambda post: post_edits.can_edit(actor, post, active_member=active_member, feedback_ids=feedback_ids),
    }


async def _edit_page(post, **context) -> dict:
    root = await post_service.get_thread_root(post.root_id) if post.root_id else post
    return {"post": post, "root": root, "circle": post.circle, **context}


@bp.get("/posts/<int:post_id>/edit")
@security.login_required
async def edit(post_id: int):
    post = await post_edits.require_editor(security.current_account().actor, await post_service.get_post(post_id))
    values = {"title": post.title, "body": post.source}
    return await render_template("posts/edit.html", values=values, errors={}, **await _edit_page(post))


@bp.post("/posts/<int:post_id>/edit")
@security.login_required
async def update(post_id: int):
    form = await request.form
    actor = security.current_account().actor
    post = await post_edits.require_editor(actor, await post_service.get_post(post_id))  # refused: the error page
    if wants_preview(form):
        return await preview("posts/edit.html", form, **await _edit_page(post))
    try:
        await post_edits.edit_post(actor, post, body=form.get("body", ""), title=form.get("title"))
    except DomainError as error:
        return await form_error("posts/edit.html", error, form, **await _edit_page(post))
    await flash(_("Your changes are saved."))
    return redirect(await thread_url(post))


@bp.get("/posts/<int:post_id>/history")
@security.login_required
async def history(post_id: int):
    post = await post_service.get_post(post_id)
    revisions = await post_edits.history(security.current_account().actor, post)
    return await render_template("posts/history.html", revisions=revisions, **await _edit_page(post))


@bp.post("/posts/<int:post_id>/like")
@security.login_required
async def like(post_id: int):
    """Say "this helped me" of any post (a like), or take it back. The form
    names the state it wants, so a repeated submit changes nothing. Back to
    the post in its thread, or to `next` (the library's list)."""
    form = await request.form
    post = await post_service.get_post(post_id)
    actor = security.current_account().actor
    if form.get("helpful") == "0":
        await likes.unlike(actor, post)
    else:
        await likes.like(actor, post)
    if form.get("next"):
        return redirect(security.safe_next(form["next"]))
    return redirect(await thread_url(post))
