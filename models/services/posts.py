"""Posts and replies in circles."""

from __future__ import annotations

import contextlib
import datetime as dt

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import clock, live
from models.actors import Actor
from models.circles import Circle
from models.errors import InvalidInput, NotFound
from models.federation import OutboxEvent
from models.instance import Instance
from models.posts import Post, PostKind, PostRevision
from models.services import circles as circle_service
from models.services import media as media_service
from models.services import notification_events, person_blocks, validation
from models.text import render_markdown
from models.translation import N_

TITLE_MAX = 200
BODY_MAX = 20_000
PAGE_SIZE = 20
# The same words posted twice in the same place this soon are one post: a
# double click, or a form sent again with the back button or a reload.
REPEAT_WINDOW = dt.timedelta(minutes=2)
REPLY_BLOCKED = N_("The author of this post has blocked you, so you cannot reply to it.")


async def create_post(
    instance: Instance,
    author: Actor,
    circle: Circle,
    *,
    body: str,
    title: str = "",
    kind: str = PostKind.DISCUSSION.value,
    language: str = "",
    through_circle: bool = False,
    image: media_service.CleanImage | None = None,
    media_store: media_service.MediaStore | None = None,
) -> Post:
    """A new top-level post in a circle the author is an active member of.
    `through_circle` publishes it as the circle's own (a safe question): the
    member is kept in `asked_by`, for the circle's stewards only. `image`
    (from media.prepare_upload) is stored in `media_store` with the post."""
    title = validation.single_line(title, "title", label="Title", max_length=TITLE_MAX)
    body = validation.text(body, "body", label="Your post", max_length=BODY_MAX, required=True)
    post_kind = validation.choice(kind, PostKind, "kind", label="Kind of post")
    language = validation.language(language) or circle.language
    await circle_service.require_member(circle, author)
    asked_by = None
    if through_circle:
        if not circle.actor.local:
            raise InvalidInput("Questions through the circle can only be asked in circles on this server.")
        author, asked_by = circle.actor, author
    async with _with_image(instance, media_store, image, owner=author) as attach:
        if post_kind is PostKind.DISCUSSION:  # other kinds carry a record of their own, made with the post
            repeat = await _repeat(asked_by or author, circle=circle, in_reply_to=None, title=title, body=body)
            if repeat is not None:
                return repeat
        post = await _insert(
            instance, author, circle, post_kind, title, body, language, parent=None, asked_by=asked_by
        )
        await Circle.filter(id=circle.id).update(post_count=F("post_count") + 1)
        await attach(post)
        await notification_events.post_written(
            post, author, circle, None, mentioned=await notification_events.mentioned_here(body, instance.domain)
        )
    return post


@contextlib.asynccontextmanager
async def _with_image(instance: Instance, store, image, *, owner: Actor):
    """A transaction that stores `image` (if any) with the post given to the
    function it yields; the file is written first and removed again when the
    transaction fails or no post took it (a repeated submission), so no row
    lacks its file and no file outlives a failure."""
    if image is not None and store is None:
        raise ValueError("an image needs a media store")
    file_name = await store.write(image) if image is not None else None
    attached = False

    async def attach(post: Post) -> None:
        nonlocal attached
        if image is not None:
            await media_service.attach(instance, image, owner=owner, post=post, file_name=file_name)
            attached = True

    try:
        async with in_transaction():
            yield attach
    except BaseException:
        if file_name:
            store.remove([file_name])
        raise
    if file_name and not attached:
        store.remove([file_name])


async def reply(
    instance: Instance, author: Actor, parent: Post, *, body: str, language: str = "",
    image: media_service.CleanImage | None = None, media_store: media_service.MediaStore | None = None,
) -> Post:
    """A reply anywhere in a thread, by an active member of the thread's circle,
    with an image (see create_post) if given."""
    body = validation.text(body, "body", label="Your reply", max_length=BODY_MAX, required=True)
    language = validation.language(language)
    if parent.deleted_at is not None:
        raise NotFound("That post has been deleted.")
    circle = await parent.circle
    await circle_service.require_member(circle, author)
    await person_blocks.refuse_if_blocked(author, await parent.author, REPLY_BLOCKED)
    root_id = parent.root_id or parent.id
    async with _with_image(instance, media_store, image, owner=author) as attach:
        repeat = await _repeat(author, circle=circle, in_reply_to=parent, title="", body=body)
        if repeat is not None:
            return repeat
        post = await _insert(
            instance, author, circle, PostKind.DISCUSSION, "", body,
            language or parent.language, parent=parent,
        )
        await Post.filter(id=root_id).update(reply_count=F("reply_count") + 1)
        await attach(post)
        await notification_events.post_written(
            post, author, circle, parent, mentioned=await notification_events.mentioned_here(body, instance.domain)
        )
    return post


async def _repeat(person: Actor, *, circle: Circle, in_reply_to: Post | None, title: str, body: str) -> Post | None:
    """The same post by the same person just now, if this is it sent again.
    Call in a transaction: locking the person's row first makes two copies
    sent at the same moment wait for each other, so the second finds the first."""
    await Actor.select_for_update().filter(id=person.id).first()
    return await Post.filter(
        Q(author_id=person.id) | Q(asked_by_id=person.id),
        circle_id=circle.id, in_reply_to_id=in_reply_to.id if in_reply_to else None, title=title, source=body,
        kind=PostKind.DISCUSSION, deleted_at=None, local=True, published_at__gt=clock.now() - REPEAT_WINDOW,
    ).order_by("-id").first()


async def reply_as_circle(
    instance: Instance, circle: Circle, parent: Post, body: str, *, kind: PostKind = PostKind.DISCUSSION
) -> Post:
    """The circle itself replies in a thread (e.g. to say which answer was
    accepted): a note (is_circle_note), not counted among the replies. Call
    in a transaction."""
    return await _insert(instance, circle.actor, circle, kind, "", body, parent.language, parent=parent)


def is_circle_note(post: Post, circle: Circle | None) -> bool:
    """Written by its circle itself, not by a member: the accepted-answer
    note, the meeting's RSVP poll, a decision. Such notes show as short
    notices and are not counted as replies. A safe question is the circle's
    too, but a member asked it (`asked_by` here; its kind, from elsewhere)."""
    return bool(
        circle is not None and post.author_id == circle.actor_id
        and not post.asked_by_id and post.kind is not PostKind.QUESTION
    )


async def _insert(
    instance: Instance, author: Actor, circle: Circle, kind: PostKind, title: str, body: str,
    language: str, *, parent: Post | None, asked_by: Actor | None = None,
) -> Post:
    post_id = clock.new_id()
    post = await Post.create(
        id=post_id,
        uri=instance.post_uri(post_id),
        circle=circle,
        author=author,
        kind=kind,
        title=title,
        source=body,
        content=render_markdown(body),
        language=language,
        local=True,
        in_reply_to=parent,
        asked_by=asked_by,
        root_id=(parent.root_id or parent.id) if parent else None,
        published_at=clock.now(),
    )
    # Federation picks this up (federation/fanout.py); written in the caller's transaction.
    await OutboxEvent.create(kind="post.created", subject_id=post.id)
    # Open thread pages, and the client API's streams (models/live.py).
    await live.announce(live.POSTS, f"thread:{post.root_id}" if post.root_id else "")
    return post


async def require_may_delete(actor: Actor, post: Post) -> None:
    """The author, who asked it through the circle, or a steward of the circle."""
    if actor.id not in (post.author_id, post.asked_by_id):
        await circle_service.require_steward(await post.circle, actor)


async def delete_post(actor: Actor, post: Post, *, media_store: media_service.MediaStore | None = None) -> None:
    """The author (or who asked it through the circle), or a steward of the
    circle, deletes a post (its replies stay). With `media_store`, its images
    go too: rows in the transaction, files once it has committed."""
    if post.deleted_at is not None:
        return
    await require_may_delete(actor, post)
    if actor.id == post.asked_by_id:
        actor = await post.author  # the circle deletes its safe question: the Delete must not name the asker
    file_names: list[str] = []
    async with in_transaction():
        await mark_deleted(post, by=actor)
        if media_store is not None:
            file_names = await media_service.detach_all(post)
    if media_store is not None:
        media_store.remove(file_names)


async def mark_deleted(
    post: Post, *, by: Actor | None, activity: dict | None = None, summary: str = ""
) -> bool:
    """Hide a post and take it out of its counts, once even if asked twice at
    the same moment. With `by` (who deleted it), queue the Delete; `activity`
    is a remote deleter's own Delete, for the circle to relay; `summary` is a
    moderator's reason, sent with the Delete. Its earlier versions go with it.
    Call in a transaction."""
    now = clock.now()
    if not await Post.filter(id=post.id, deleted_at=None).update(deleted_at=now):
        return False
    post.deleted_at = now
    await live.announce(live.POSTS, live.GONE)  # the client API's streams say it is gone (models/live.py)
    await PostRevision.filter(post_id=post.id).delete()  # a deleted post's words do not survive in its history
    if post.root_id:
        if not is_circle_note(post, await post.circle if post.circle_id else None):  # notes were never counted
            await Post.filter(id=post.root_id).update(reply_count=F("reply_count") - 1)
    elif post.circle_id:
        await Circle.filter(id=post.circle_id).update(post_count=F("post_count") - 1)
    if by is not None:
        await OutboxEvent.create(
            kind="post.deleted", subject_id=post.id,
            data={"by": by.uri, "activity": activity or {}, **({"summary": summary} if summary else {})},
        )
    return True


async def forget_revisions(post_ids: list[int], *, editor: Actor) -> None:
    """A person leaves (account deleted, or a remote actor's Delete): the
    earlier versions of their posts go, and no other version names them as
    its editor (`by` is nullable: the actor row stays as a tombstone, so
    nothing cascades). Call in a transaction."""
    await PostRevision.filter(post_id__in=post_ids).delete()
    await PostRevision.filter(by_id=editor.id).update(by_id=None)


async def get_thread_root(root_id: int) -> Post:
    """A thread's first post, even when deleted (its replies stay readable)."""
    root = await Post.filter(id=root_id).select_related("author", "circle__actor").first()
    if root is None:
        raise NotFound("That thread does not exist.")
    return root


async def get_post(post_id: int) -> Post:
    if not validation.is_row_id(post_id):
        raise NotFound("That post does not exist or was deleted.")
    post = await Post.filter(id=post_id, deleted_at=None).select_related("author", "circle__actor").first()
    if post is None:
        raise NotFound("That post does not exist or was deleted.")
    return post


async def get_thread_post(post_id: int) -> Post:
    """A post to show with its thread: a deleted one only when replies to it
    remain (they stay readable under it, a deep branch on its own page)."""
    if not validation.is_row_id(post_id):
        raise NotFound("That post does not exist or was deleted.")
    post = await Post.filter(id=post_id).select_related("author", "circle__actor").first()
    if post is None or (post.deleted_at is not None and not await _has_replies(post)):
        raise NotFound("That post does not exist or was deleted.")
    return post


async def _has_replies(post: Post) -> bool:
    """Whether a live reply remains anywhere under `post`, however deep: the
    thread tree keeps a deleted reply exactly then (threads._prune_deleted)."""
    if post.root_id is None:
        return bool(post.reply_count)
    children: dict[int, list[tuple[int, bool]]] = {}
    for reply_id, parent_id, deleted_at in await Post.filter(root_id=post.root_id).values_list(
        "id", "in_reply_to_id", "deleted_at"
    ):
        children.setdefault(parent_id, []).append((reply_id, deleted_at is None))
    below = list(children.get(post.id, []))
    while below:
        reply_id, live = below.pop()
        if live:
            return True
        below.extend(children.get(reply_id, []))
    return False


# A circle's top-level posts newest first, in the order of the posts index on
# (circle_id, root_id, id) that reads them. root_id is null in every row listed, so
# naming it changes no order, but PostgreSQL needs it named: it knows a column is
# constant only when it equals a value, not when it IS NULL, and without it walks
# every post newest first, or reads the circle's and sorts them
# (tests/integration/test_query_plans.py).
NEWEST_TOP_LEVEL_FIRST = ("-root_id", "-id")


async def list_circle_posts(
    circle: Circle, *, seen_by: Actor | None = None, before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Post]:
    """Top-level posts, newest first, but those of people `seen_by` muted or
    blocked; pass the last id seen as before_id for the next page."""
    posts = Post.filter(person_blocks.not_hidden_from(seen_by), circle=circle, root_id=None, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        posts = posts.filter(id__lt=before_id)
    return await posts.select_related("author", "circle").order_by(*NEWEST_TOP_LEVEL_FIRST).limit(limit)


async def recent_posts_for(
    actor: Actor, *, limit: int = PAGE_SIZE, circle_ids: list[int] | None = None,
    circles: dict[int, Circle] | None = None,
) -> list[Post]:
    """Newest top-level posts in the circles the actor belongs to (their home
    feed), but those of people they muted or blocked; pass `circle_ids` when
    their memberships are loaded already, or `circles` (by id, with their
    actors) to have those attached to the posts instead of joined again."""
    if circles is not None:
        circle_ids = list(circles)
    elif circle_ids is None:
        circle_ids = [m.circle_id for m in await circle_service.memberships_of(actor)]
    if not circle_ids:
        return []
    rows = Post.filter(person_blocks.not_hidden_from(actor), circle_id__in=circle_ids, root_id=None, deleted_at=None)
    if circles is None:
        return await rows.select_related("author", "circle__actor").order_by("-id").limit(limit)
    return attach_circles(await rows.select_related("author").order_by("-id").limit(limit), circles)


def attach_circles(posts: list[Post], circles: dict[int, Circle]) -> list[Post]:
    """Give each post its circle from `circles` (loaded already), saving a join
    per row on pages that have the reader's circles at hand (the home page)."""
    for post in posts:
        post.circle = circles[post.circle_id]
    return posts


async def posts_by(author: Actor, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[Post]:
    """A local author's posts and replies, newest first (their outbox)."""
    posts = Post.filter(author=author, local=True, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        posts = posts.filter(id__lt=before_id)
    return await posts.select_related("circle__actor", "in_reply_to", "accepted_answer").order_by("-id").limit(limit)


async def posts_in(circle: Circle, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[Post]:
    """A circle's top-level posts, newest first (its outbox, which lists its
    posts as a Lemmy community's does; replies are in each post's `replies`)."""
    posts = Post.filter(circle=circle, root_id=None, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        posts = posts.filter(id__lt=before_id)
    return await posts.select_related("author", "in_reply_to", "accepted_answer").order_by(
        *NEWEST_TOP_LEVEL_FIRST).limit(limit)


async def count_by(author: Actor) -> int:
    return await Post.filter(author=author, local=True, deleted_at=None).count()


async def count_in(circle: Circle) -> int:
    return await Post.filter(circle=circle, root_id=None, deleted_at=None).count()


async def direct_replies(post: Post, *, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[Post]:
    replies = Post.filter(in_reply_to=post, deleted_at=None)
    if before_id is not None and validation.is_row_id(before_id):
        replies = replies.filter(id__lt=before_id)
    return await replies.order_by("-id").limit(limit)


async def count_direct_replies(post: Post) -> int:
    return await Post.filter(in_reply_to=post, deleted_at=None).count()


async def featured_in(circle: Circle, *, limit: int = 20) -> list[Post]:
    """Pinned posts of a circle, most recently pinned first (the newest post
    first among those pinned at once: a stable order, whichever index is read)."""
    return (
        await Post.filter(circle=circle, deleted_at=None, featured_at__isnull=False)
        .select_related("author", "in_reply_to", "accepted_answer")
        .order_by("-featured_at", "-id")
        .limit(limit)
    )
