"""Editing posts, questions and replies, with their history.

The author (or the member who asked a question through the circle) changes
the title of a top-level post and the text of any post; the version it
replaces is kept as a PostRevision, which the author and the circle's
stewards can read. Each edit federates once, as the author's Update
(federation/post_fanout.py); remote edits are kept the same way
(models/services/remote.py: update_post)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock, live
from models.actors import Actor
from models.errors import Conflict, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post, PostKind, PostRevision
from models.reviews import Feedback
from models.services import circles as circle_service
from models.services import validation
from models.services.posts import BODY_MAX, TITLE_MAX
from models.text import render_markdown
from models.translation import N_

# Kinds whose text is edited elsewhere, or must not change under the members' feet.
OWN_EDITOR = {
    PostKind.RESOURCE: N_("Edit a resource on its own page, from the library."),
    PostKind.MEETING: N_("Edit a meeting on its own page, where its time and place are."),
    PostKind.REFLECTION: N_("Edit a reflection from your learning record."),
    PostKind.PROPOSAL: N_("A proposal cannot be changed once it is put to the circle: "
                          "members vote on the words they read. Withdraw it and propose again instead."),
}

FEEDBACK_NOT_EDITED = N_("Feedback on shared work cannot be edited: its three parts are kept as you gave them.")
# A title is what the work or the question is; others may have none.
TITLE_REQUIRED = {PostKind.QUESTION, PostKind.REVIEW}


def is_editor(actor: Actor | None, post: Post) -> bool:
    """Whether the actor wrote the post (or asked it through the circle)."""
    return actor is not None and actor.id in (post.author_id, post.asked_by_id)


def can_edit(actor: Actor | None, post: Post, *, active_member: bool, feedback_ids=frozenset()) -> bool:
    """What the thread page offers, without a query: the edit link shows
    when `edit_post` would take the edit (but for the rate limit).
    `feedback_ids`: the thread's feedback replies (reviews.feedback_in)."""
    return (
        active_member and is_editor(actor, post) and post.local and post.deleted_at is None
        and post.kind not in OWN_EDITOR and post.id not in feedback_ids
    )


async def require_editor(actor: Actor, post: Post) -> Post:
    """The post, when the actor may edit it now; else the reason why not."""
    if post.deleted_at is not None or post.circle_id is None or not post.local:
        raise NotFound("That post cannot be edited here.")
    if not is_editor(actor, post):
        raise PermissionDenied("Only the author of a post can edit it.")
    await circle_service.require_member(await post.circle, actor)
    if post.kind in OWN_EDITOR:
        raise Conflict(OWN_EDITOR[post.kind])
    if post.root_id and await Feedback.exists(reply_id=post.id):  # its three parts are kept apart too
        raise Conflict(FEEDBACK_NOT_EDITED)
    return post


async def edit_post(actor: Actor, post: Post, *, body: str, title: str | None = None) -> Post:
    """Change a post's text (and a top-level post's title); the old version
    goes to its history. Sending the same words again changes nothing."""
    await require_editor(actor, post)
    body = validation.text(body, "body", label="Text", max_length=BODY_MAX, required=True)
    if title is None or post.root_id:  # replies have no title
        title = post.title
    else:
        title = validation.single_line(
            title, "title", label="Title", max_length=TITLE_MAX, required=post.kind in TITLE_REQUIRED
        )
    if body == post.source and title == post.title:
        return post
    now = clock.now()
    async with in_transaction():
        # The row lock makes two edits at once queue, so each keeps the version it replaced.
        current = await Post.select_for_update().get(id=post.id)
        if current.deleted_at is not None:  # deleted meanwhile
            raise NotFound("That post cannot be edited here.")
        await keep_revision(
            post, title=current.title, source=current.source, content=current.content,
            by_id=post.author_id,  # the public author: a safe question's history names no asker
        )
        post.title, post.source, post.content, post.updated_at = title, body, render_markdown(body), now
        await post.save(update_fields=["title", "source", "content", "updated_at"])
        await OutboxEvent.create(kind="post.updated", subject_id=post.id)
    return post


async def keep_revision(post: Post, *, title: str, content: str, by_id: int, source: str = "") -> None:
    """The one way a post's text changes after it is written (edit_post, a
    meeting's, resource's or shared reflection's own editor, a remote
    Update): keep the title and text it had, and mark the post edited
    (`edited_at`, which the thread page shows; `updated_at` also moves for
    other changes, such as an accepted answer). Call in the transaction that
    changes the post: the announcement waits for its commit on PostgreSQL."""
    now = clock.now()
    await PostRevision.create(post_id=post.id, title=title, source=source, content=content, edited_at=now, by_id=by_id)
    await Post.filter(id=post.id).update(edited_at=now)
    post.edited_at = now
    await live.announce(live.POSTS)  # the client API's streams send `status.update` (models/live.py)


async def may_see_history(actor: Actor | None, post: Post) -> bool:
    """The author, and the circle's facilitators and moderators."""
    if actor is None or post.circle_id is None:
        return False
    return is_editor(actor, post) or await circle_service.is_steward(await post.circle, actor)


async def history(actor: Actor | None, post: Post) -> list[PostRevision]:
    """Earlier versions of a post, newest first, for who may see them."""
    if not await may_see_history(actor, post):
        raise PermissionDenied("Only the author and the circle's facilitators and moderators can see earlier versions.")
    return await PostRevision.filter(post_id=post.id).select_related("by").order_by("-edited_at", "-id")
