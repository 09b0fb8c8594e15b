"""Peer review: a member shares work (a link or text) asking for feedback;
reviewers answer in three parts (what works, questions, suggestions); the
author marks the feedback that helped."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.instance import Instance
from models.posts import Post, PostKind
from models.reviews import Feedback
from models.services import posts as post_service
from models.services import validation

PART_MAX = 5000
LINK_MAX = 2000
PARTS = (
    ("works", "What works"),
    ("questions", "Questions"),
    ("suggestions", "Suggestions"),
)


async def request_review(
    instance: Instance, author: Actor, circle: Circle, *, title: str, body: str, link: str = ""
) -> Post:
    """Work shared for feedback: what it is, what kind of feedback is wanted,
    and optionally where it lives."""
    title = validation.single_line(title, "title", label="What you are sharing", max_length=post_service.TITLE_MAX,
                                   required=True)
    link = validation.http_url(link, "link", label="Link to your work", max_length=LINK_MAX, required=False)
    room = post_service.BODY_MAX - (len(link) + 4 if link else 0)  # the link is appended below
    body = validation.text(body, "body", label="What feedback you would like", max_length=room, required=True)
    if link:
        body = f"{body}\n\n<{link}>"
    return await post_service.create_post(
        instance, author, circle, title=title, body=body, kind=PostKind.REVIEW.value
    )


async def give_feedback(
    instance: Instance, reviewer: Actor, work: Post, *, works: str = "", questions: str = "", suggestions: str = ""
) -> Post:
    """Structured feedback on a review request, as a reply in its thread."""
    _require_review(work)
    parts = {
        "works": validation.text(works, "works", label="What works", max_length=PART_MAX),
        "questions": validation.text(questions, "questions", label="Questions", max_length=PART_MAX),
        "suggestions": validation.text(suggestions, "suggestions", label="Suggestions", max_length=PART_MAX),
    }
    if not any(parts.values()):
        raise InvalidInput("Write at least one part of your feedback.", field="works")
    if work.author_id == reviewer.id:
        raise InvalidInput("Feedback comes from others; reply in the thread to add to your own work.")
    body = "\n\n".join(f"**{label}**\n\n{parts[name]}" for name, label in PARTS if parts[name])
    async with in_transaction():
        reply = await post_service.reply(instance, reviewer, work, body=body)
        await Feedback.create(reply=reply, **parts)
    return reply


async def mark_helpful(author: Actor, feedback_reply: Post, *, helpful: bool = True) -> None:
    """The work's author says a reply in its thread helped (or takes it back).
    Any reply counts, structured or not: feedback from Mastodon is plain text."""
    work = await Post.get_or_none(id=feedback_reply.root_id, deleted_at=None) if feedback_reply.root_id else None
    if work is None or work.kind is not PostKind.REVIEW:
        raise NotFound("That reply is not feedback on shared work.")
    if work.author_id != author.id:
        raise PermissionDenied("Only the person who shared the work can mark feedback as helpful.")
    if feedback_reply.author_id == author.id:
        raise InvalidInput("That is your own reply.")
    await Feedback.get_or_create(reply_id=feedback_reply.id)
    await Feedback.filter(reply_id=feedback_reply.id).update(helpful_at=clock.now() if helpful else None)


async def feedback_in(work: Post, replies: list[Post] | None = None) -> dict[int, Feedback]:
    """The structured feedback of a thread (of those `replies` only, when
    given: a page of it), by reply id (one query)."""
    rows = Feedback.filter(reply__root_id=work.id)
    if replies is not None:
        rows = rows.filter(reply_id__in=[r.id for r in replies])
    return {row.reply_id: row for row in await rows}


async def list_requests(circle: Circle, *, page: int = 1, limit: int = 20) -> list[Post]:
    return (
        await Post.filter(circle=circle, kind=PostKind.REVIEW, root_id=None, deleted_at=None)
        .select_related("author")
        .order_by("-id")
        .offset((page - 1) * limit)
        .limit(limit)
    )


def _require_review(work: Post) -> None:
    if work.kind is not PostKind.REVIEW or work.root_id is not None or work.deleted_at is not None:
        raise InvalidInput("Structured feedback is for work shared for review.")
