"""A post with its thread, and replying."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.circles import MembershipState
from models.errors import DomainError, NotFound
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import media as media_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import person_blocks, remote_polls
from models.services import reviews as review_service
from models.services import threads
from web import security
from web.html import confirm, post_actions, resources
from web.html.circle_header import is_active_steward
from web.html.forms import form_error, page_param, preview, wants_preview
from web.html.media import media_store, uploaded_image
from web.html.thread_links import thread_url
from web.i18n import _
from web.site import site

bp = Blueprint("posts", __name__)


async def thread_context(post_id: int) -> dict:
    post = _in_a_circle(await post_service.get_thread_post(post_id))
    root = await post_service.get_thread_root(post.root_id) if post.root_id else post
    account = security.current_account()
    actor = account.actor if account else None
    membership = await circle_service.membership(root.circle, actor) if actor else None
    view = await _thread_view(root, post)
    replies = await threads.fill(view)
    media = await media_service.media_of([root.id, *(reply.id for reply in replies)])
    can_reply = bool(membership and membership.state is MembershipState.ACTIVE)
    is_steward = is_active_steward(membership)
    feedback = await review_service.feedback_in(root, replies) if root.kind is PostKind.REVIEW else {}
    return {
        "post": post,
        "root": root,
        "view": view,
        "max_depth": threads.MAX_DEPTH,
        "page": view.page,
        "has_more": view.has_more,
        "circle": root.circle,
        "can_reply": can_reply,
        "is_steward": is_steward,
        "may_accept": await question_service.may_accept(root, actor) and not root.deleted_at,
        "asked_by_me": bool(actor and root.asked_by_id == actor.id),
        "media": media,
        "hidden_authors": await person_blocks.hidden_ids(actor) if actor else set(),
        "feedback": feedback,
        "note_links": await _note_links(root, view.notes),
        "whole_thread_url": _whole_thread_url(root, view),
        **await resources.resource_context(root, account),
        **await _poll_context([root, *replies], actor),
        **await post_actions.action_context([root, *replies], actor, active_member=can_reply, feedback_ids=feedback.keys()),
    }


async def _thread_view(root, post) -> threads.ThreadView:
    """The page of the thread `post` is on (or `?page=`), or, for a reply
    deeper than the nesting shows, the sub-thread it is in; a long thread
    comes in pages, and a reply's own address opens the one it is on."""
    thread = await threads.load(root)
    place = thread.place_of(post.id)
    if place.anchor_id is not None:
        return thread.sub_thread(place.anchor_id)
    return thread.page(page_param(request.args.get("page")) if "page" in request.args else place.page)


def _whole_thread_url(root, view: threads.ThreadView) -> str | None:
    """From a sub-thread, back to the thread page with its branch."""
    if view.sub_thread is None:
        return None
    top = view.thread.top_of(view.sub_thread)
    page = view.thread.place_of(top.id).page
    return url_for("posts.show", post_id=root.id, page=page if page > 1 else None) + f"#post-{top.id}"


async def _note_links(root, notes) -> dict:
    """The accepted answer's author and local address, for the circle's
    "✅ Accepted answer" note, shown as a link rather than its raw URL."""
    if root.kind is not PostKind.QUESTION or not root.accepted_answer_id or not notes:
        return {}
    answer = await Post.filter(id=root.accepted_answer_id, deleted_at=None).select_related("author").first()
    if answer is None:
        return {}
    return {"answer": answer, "answer_url": url_for("posts.show", post_id=answer.id) + f"#post-{answer.id}"}


async def _poll_context(posts, actor) -> dict:
    """Remote polls in the thread (a proposal or RSVP poll of a circle
    elsewhere, a Mastodon poll), by post id, and the viewer's answers."""
    polls = await remote_polls.polls_of([post.id for post in posts])
    answers = await remote_polls.answers_of(list(polls.values()), actor) if actor and polls else {}
    return {"remote_polls": polls, "poll_answers": answers, "poll_is_open": remote_polls.is_open}


def _in_a_circle(post):
    """Threads here live in circles; a post kept only because someone here
    follows its author shows on the author's page instead."""
    if post.circle is None:
        raise NotFound("That post is not in a circle here: see it on its author's page.")
    return post


@bp.get("/posts/<int:post_id>")
async def show(post_id: int):
    return await render_template("posts/show.html", values={}, errors={}, **await thread_context(post_id))


@bp.post("/posts/<int:post_id>/delete")
@security.login_required
async def delete(post_id: int):
    post = _in_a_circle(await post_service.get_post(post_id))
    form = await request.form
    if not confirm.confirmed(form) and post.deleted_at is None:
        await post_service.require_may_delete(security.current_account().actor, post)
        reply = post.root_id is not None
        return await confirm.ask(confirm.Question(
            title=_("Delete this reply?") if reply else _("Delete this post?"),
            consequence=_("Its words and images are erased; replies to it stay. This cannot be undone."),
            audience=_("It disappears for everyone who could read it, here and on the other servers it went to."),
            yes=_("Yes, delete the reply") if reply else _("Yes, delete the post"),
            back_url=url_for("posts.show", post_id=post.root_id or post.id),
        ), form)
    await post_service.delete_post(security.current_account().actor, post, media_store=media_store())
    await flash(_("The post has been deleted."))
    if post.root_id:
        return redirect(url_for("posts.show", post_id=post.root_id))
    return redirect(url_for("circles.show", handle=post.circle.handle))


@bp.post("/posts/<int:post_id>/poll")
@security.login_required
async def answer_poll(post_id: int):
    """Answer a poll from another server; the answer goes to its author."""
    form = await request.form
    post = await post_service.get_post(post_id)
    try:
        await remote_polls.answer(security.current_account().actor, post, form.get("option", ""))
    except DomainError as error:
        return await form_error("posts/show.html", error, form, **await thread_context(post_id))
    await flash(_("Your answer is on its way."))
    return redirect(await thread_url(post))


@bp.post("/posts/<int:post_id>/reply")
@security.login_required
async def reply(post_id: int):
    form = await request.form
    parent = await post_service.get_post(post_id)
    if wants_preview(form):
        return await preview("posts/show.html", form, **await thread_context(post_id))
    try:
        new = await post_service.reply(
            site().instance, security.current_account().actor, parent, body=form.get("body", ""),
            image=await uploaded_image(form), media_store=media_store(),
        )
    except DomainError as error:
        return await form_error("posts/show.html", error, form, **await thread_context(post_id))
    return redirect(await thread_url(new))


@bp.app_template_global("circle_note")
def circle_note(post, circle) -> bool:
    """In templates: a post by the circle itself (posts.is_circle_note)."""
    return post_service.is_circle_note(post, circle)
