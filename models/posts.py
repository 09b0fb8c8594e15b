"""Posts in circles, with reply threading."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity, url_field


class PostKind(StrEnum):
    DISCUSSION = "discussion"
    QUESTION = "question"
    ANSWER = "answer"
    RESOURCE = "resource"
    MEETING = "meeting"
    REFLECTION = "reflection"
    PROPOSAL = "proposal"
    REVIEW = "review"  # work shared for feedback (models/reviews.py)


class Post(Entity):
    uri = url_field(unique=True)
    url = url_field(null=True)  # a human-readable page, when it differs from uri
    circle = fields.ForeignKeyField(
        "circles.Circle", related_name="posts", null=True, on_delete=fields.CASCADE
    )
    author = fields.ForeignKeyField("circles.Actor", related_name="posts", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(PostKind, max_length=16, default=PostKind.DISCUSSION)
    title = fields.CharField(max_length=200, default="")
    source = fields.TextField(default="")  # Markdown as typed (local posts)
    content = fields.TextField()  # sanitised HTML: the only form ever shown
    language = fields.CharField(max_length=16, default="")
    local = fields.BooleanField(default=True)
    in_reply_to = fields.ForeignKeyField(
        "circles.Post", related_name="replies", null=True, on_delete=fields.CASCADE
    )
    # The top-level post of the thread (null for a top-level post itself), so a
    # whole thread loads with one query.
    root = fields.ForeignKeyField(
        "circles.Post", related_name="thread_posts", null=True, on_delete=fields.CASCADE
    )
    reply_count = fields.IntField(default=0)  # all replies in the thread, for top-level posts
    published_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    edited_at = fields.DatetimeField(null=True)  # its text last changed (post_edits.keep_revision)
    featured_at = fields.DatetimeField(null=True)  # pinned in its circle, when
    # Questions: the reply the asker (or a steward) accepted, and when.
    accepted_answer = fields.ForeignKeyField(
        "circles.Post", related_name="accepted_for", null=True, on_delete=fields.SET_NULL
    )
    answered_at = fields.DatetimeField(null=True)
    # A safe question is published by the circle's Group actor (`author`);
    # the member who asked is kept here, shown only to the circle's stewards.
    asked_by = fields.ForeignKeyField(
        "circles.Actor", related_name="safe_questions", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "posts"
        # A circle's and a person's posts newest first, walked from the index's end, and a
        # person's posts counted for their Account entity (web/mastodon/entities.py); a
        # circle's questions, by date for the dashboard and the learning record (0043).
        indexes = (
            ("circle_id", "root_id", "id"), ("author_id", "id"), ("circle_id", "kind", "root_id", "published_at"),
        )


class Like(Entity):
    # A like of a post, local or from another server; one per actor and post.
    actor = fields.ForeignKeyField("circles.Actor", related_name="likes", on_delete=fields.CASCADE)
    post = fields.ForeignKeyField("circles.Post", related_name="likes", on_delete=fields.CASCADE)
    uri = url_field(null=True)  # the Like activity's id, to match its Undo

    class Meta:
        table = "likes"
        unique_together = (("actor", "post"),)
        indexes = (("post_id",),)  # a page's posts' likes: counted, who liked them


class PostRevision(Entity):
    # A post's title and text as they were before one edit (kept for the
    # circle's stewards and the author: models/services/post_edits.py).
    post = fields.ForeignKeyField("circles.Post", related_name="revisions", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=200, default="")
    source = fields.TextField(default="")  # Markdown as typed (local posts; empty for remote ones)
    content = fields.TextField()  # sanitised HTML, as shown then
    edited_at = fields.DatetimeField()  # when it was replaced
    # Who replaced it: the editor (the circle, for a question asked through
    # it, so the history names no asker); none once they deleted their account.
    by = fields.ForeignKeyField("circles.Actor", related_name="post_revisions", null=True, on_delete=fields.SET_NULL)

    class Meta:
        table = "post_revisions"
        indexes = (("post_id", "edited_at"),)
