"""Questions: asking openly or through the circle (safe questions), accepting
an answer, the circle's question lists, credit for those who answer, and the
logged look-up of who asked a safe question."""

from __future__ import annotations

from enum import StrEnum

from tortoise.expressions import Case, F, Q, Subquery, When
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.instance import Instance
from models.posts import Post, PostKind
from models.questions import SafeQuestionReveal
from models.services import circles as circle_service
from models.services import posts as post_service
from models.services import notification_events, person_blocks, validation

PAGE_SIZE = 20
REASON_MAX = 300


class QuestionList(StrEnum):
    OPEN = "open"  # no accepted answer: unanswered first, then oldest first
    ANSWERED = "answered"  # most recently answered first
    MINE = "mine"  # those the viewer asked, openly or through the circle


async def ask(
    instance: Instance, asker: Actor, circle: Circle, *, title: str, body: str, safe: bool = False,
    language: str = "",
) -> Post:
    """A question in a circle. A safe question is published by the circle
    itself; who asked is known only to its stewards."""
    title = validation.single_line(title, "title", label="Your question", max_length=post_service.TITLE_MAX,
                                   required=True)
    return await post_service.create_post(
        instance, asker, circle, title=title, body=body, kind=PostKind.QUESTION.value,
        language=language, through_circle=safe,
    )


def asker_id(question: Post) -> int:
    """Who asked: the member behind a safe question, else the author."""
    return question.asked_by_id or question.author_id


async def may_accept(question: Post, actor: Actor | None) -> bool:
    if actor is None or question.kind is not PostKind.QUESTION or question.root_id is not None:
        return False
    try:
        await _answerable_circle(question, actor)
    except (InvalidInput, PermissionDenied):
        return False
    return True


async def accept_answer(instance: Instance, actor: Actor, question: Post, answer: Post) -> None:
    """The asker (or a steward) marks a reply as the accepted answer. The
    question's Update carries it (when the question is ours to update); in a
    circle here, the circle also says so in a short reply, so threads on
    microblogging servers show it."""
    _require_question(question)
    if answer.root_id != question.id or answer.deleted_at is not None:
        raise InvalidInput("Choose a reply in this question's thread.")
    circle = await _answerable_circle(question, actor)
    if answer.author_id == circle.actor_id:
        raise InvalidInput("That is the circle's own note; choose a member's reply.")
    if answer.author_id == asker_id(question) and (actor.id == answer.author_id or not question.asked_by_id):
        # Credit is for helping others learn; a reply to oneself stays in the thread.
        # A steward may accept the asker's reply to a safe question: refusing it
        # would tell them who asked, which only the logged look-up may (reveal).
        raise InvalidInput("Accept someone else's answer: credit goes to those who help.")
    if question.accepted_answer_id == answer.id:
        return
    async with in_transaction():
        if not await _record_answer(question, answer.id, clock.now()):
            return  # the same answer was accepted a moment ago
        await notification_events.answer_accepted(question, answer, actor)
        if circle.actor.local:
            await _withdraw_circle_notes(question, by=circle.actor)  # one "✅" per question
            author = await answer.author
            note = f"✅ Accepted answer, by {author.name} (@{author.handle}): <{answer.url or answer.uri}>"
            await post_service.reply_as_circle(instance, circle, question, note, kind=PostKind.ANSWER)


async def withdraw_acceptance(actor: Actor, question: Post) -> None:
    _require_question(question)
    if question.accepted_answer_id is None:
        raise InvalidInput("This question has no accepted answer.")
    circle = await _answerable_circle(question, actor)
    async with in_transaction():
        await _record_answer(question, None, None)
        await _withdraw_circle_notes(question, by=circle.actor)


async def _record_answer(question: Post, answer_id: int | None, at) -> bool:
    """Set (or clear) the accepted answer; False when it already was so
    (two requests at once change it once)."""
    now = clock.now()
    # (SQL's NULL <> x is not true: a question without an answer needs its own test.)
    changes = Q(accepted_answer_id__isnull=True) | ~Q(accepted_answer_id=answer_id) if answer_id else Q(
        accepted_answer_id__isnull=False
    )
    rows = Post.filter(changes, id=question.id)
    if not await rows.update(accepted_answer_id=answer_id, answered_at=at, updated_at=now):
        return False
    question.accepted_answer_id, question.answered_at, question.updated_at = answer_id, at, now
    if question.local:  # a remote asker's question is theirs to update
        await OutboxEvent.create(kind="post.updated", subject_id=question.id)
    return True


async def _withdraw_circle_notes(question: Post, *, by: Actor) -> None:
    """Delete the circle's earlier "✅ Accepted answer" notes in the thread."""
    notes = await Post.filter(root_id=question.id, author_id=by.id, kind=PostKind.ANSWER, deleted_at=None)
    for note in notes:
        await post_service.mark_deleted(note, by=by)


def _require_question(question: Post) -> None:
    if question.kind is not PostKind.QUESTION or question.root_id is not None or question.deleted_at is not None:
        raise InvalidInput("Only questions have accepted answers.")


async def _answerable_circle(question: Post, actor: Actor) -> Circle:
    """The question's circle, if `actor` may choose its answer: who asked it
    here, or a steward of the circle (also for questions from other servers,
    e.g. a Mastodon post tagged #question, when the circle is ours)."""
    circle = await Circle.get(id=question.circle_id).select_related("actor")
    if not question.local and not circle.actor.local:
        raise InvalidInput("This question lives on another server; its asker accepts answers there.")
    if question.local and actor.id == asker_id(question):
        return circle
    if not await circle_service.is_steward(circle, actor):
        raise PermissionDenied("Only the person who asked, or the circle's facilitators, can choose the answer.")
    return circle


async def list_questions(
    circle: Circle, which: QuestionList, *, viewer: Actor | None = None, page: int = 1, limit: int = PAGE_SIZE
) -> list[Post]:
    """One page of the circle's questions (ask for limit + 1 to learn whether more follow)."""
    questions = Post.filter(
        person_blocks.not_hidden_from(viewer), circle=circle, kind=PostKind.QUESTION, root_id=None, deleted_at=None
    )
    if which is QuestionList.OPEN:
        # Strings, not ints: asyncpg refuses an int where tortoise binds a str.
        questions = questions.filter(accepted_answer_id=None).annotate(
            has_replies=Case(When(reply_count=0, then="0"), default="1")
        ).order_by("has_replies", "published_at", "id")
    elif which is QuestionList.ANSWERED:
        questions = questions.filter(accepted_answer_id__isnull=False).order_by("-answered_at", "-id")
    else:
        if viewer is None:
            return []
        questions = questions.filter(Q(author=viewer) | Q(asked_by=viewer)).order_by("-id")
    return await questions.select_related("author").offset((page - 1) * limit).limit(limit)


async def could_answer(
    actor: Actor, *, limit: int = 5, circle_ids: list[int] | None = None, circles: dict[int, Circle] | None = None,
) -> list[Post]:
    """Open questions in the person's circles that someone else asked,
    unanswered first, oldest first: where their help is wanted. Pass
    `circle_ids` (of the person's circles) when they are loaded already, or
    `circles` (by id, with their actors) to attach those instead of joining
    them again (the rows then come without their authors)."""
    if circles is not None:
        circle_ids = list(circles)
    elif circle_ids is None:
        circle_ids = [m.circle_id for m in await circle_service.memberships_of(actor)]
    if not circle_ids:
        return []
    rows = (
        Post.filter(circle_id__in=circle_ids, kind=PostKind.QUESTION, root_id=None, deleted_at=None,
                    accepted_answer_id=None)
        .exclude(author_id=actor.id)
        .filter(Q(asked_by_id=None) | ~Q(asked_by_id=actor.id))
        .filter(person_blocks.not_hidden_from(actor))
        .annotate(has_replies=Case(When(reply_count=0, then="0"), default="1"))
        .order_by("has_replies", "published_at", "id")
        .limit(limit)
    )
    if circles is None:
        return await rows.select_related("author", "circle__actor")
    return post_service.attach_circles(await rows, circles)


async def answer_credits(circle: Circle, actor_ids: list[int] | None = None) -> dict[int, int]:
    """How many accepted answers each member gave in the circle (learning by
    teaching); only of `actor_ids` (a page of members), when given."""
    rows = Post.filter(circle=circle, kind=PostKind.QUESTION, deleted_at=None, accepted_answer_id__isnull=False)
    if actor_ids is not None:
        rows = rows.filter(accepted_answer__author_id__in=actor_ids)
    rows = (
        await rows
        .annotate(answerer=F("accepted_answer__author_id"), answers=Count("id"))
        .group_by("answerer")
        .values("answerer", "answers")
    )
    return {row["answerer"]: row["answers"] for row in rows}


async def credits_by_circle(actor: Actor) -> dict[int, int]:
    """How many accepted answers a person gave, per circle. An accepted answer
    is a reply in its question's thread (accept_answer), so the questions are
    among the roots of the person's replies: found by the posts index on
    (author_id, id), not by reading every question."""
    their_threads = Subquery(Post.filter(author_id=actor.id, root_id__isnull=False).values("root_id"))
    rows = (
        await Post.filter(id__in=their_threads, kind=PostKind.QUESTION, deleted_at=None,
                          accepted_answer__author_id=actor.id)
        .annotate(answers=Count("id"))
        .group_by("circle_id")
        .values("circle_id", "answers")
    )
    return {row["circle_id"]: row["answers"] for row in rows}


# --- safe questions ------------------------------------------------------------------


async def reveal_asker(circle: Circle, question: Post, viewer: Actor, *, reason: str = "") -> Actor:
    """A steward looks up who asked a safe question; the look is logged for
    the whole circle to see (who looked and when, never whom they found)."""
    await circle_service.require_steward(circle, viewer)
    reason = validation.single_line(reason, "reason", label="Why you need to know", max_length=REASON_MAX,
                                    required=True)
    if question.circle_id != circle.id or question.asked_by_id is None:
        raise NotFound("That is not a question asked through this circle.")
    async with in_transaction():
        await SafeQuestionReveal.create(circle=circle, post=question, viewer=viewer, reason=reason)
        await notification_events.asker_revealed(question, circle, viewer)
    asker = await Actor.get_or_none(id=question.asked_by_id)
    if asker is None:
        raise NotFound("The person who asked has left this server.")
    return asker


async def reveal_log(circle: Circle, *, page: int = 1, limit: int = 50) -> list[SafeQuestionReveal]:
    return (
        await SafeQuestionReveal.filter(circle=circle)
        .select_related("viewer", "post")
        .order_by("-id")
        .offset((page - 1) * limit)
        .limit(limit)
    )
