"""Polls on posts from other servers: keeping their options, and members
here answering them (a proposal or an RSVP poll of a circle elsewhere, or a
Mastodon poll in a circle's thread)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.polls import PollAnswer, RemotePoll
from models.posts import Post
from models.services import circles as circle_service
from models.services import person_blocks
from models.translation import N_

MAX_OPTIONS = 20
OPTION_MAX = 200


@dataclass(frozen=True)
class RemotePollInput:
    options: tuple[str, ...]
    closes_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None


async def store(post: Post, data: RemotePollInput) -> RemotePoll:
    """Create or refresh a remote post's poll. Call in the transaction that stores the post."""
    values = {
        "options": [option[:OPTION_MAX] for option in data.options[:MAX_OPTIONS]],
        "closes_at": data.closes_at, "closed_at": data.closed_at,
    }
    poll, created = await RemotePoll.get_or_create(post=post, defaults=values)
    if not created:
        await RemotePoll.filter(id=poll.id).update(**values)
    return poll


async def poll_of(post: Post) -> RemotePoll | None:
    return await RemotePoll.get_or_none(post_id=post.id)


async def polls_of(post_ids: list[int]) -> dict[int, RemotePoll]:
    """The remote polls among these posts, by post id (one query)."""
    return {poll.post_id: poll for poll in await RemotePoll.filter(post_id__in=post_ids)}


async def answers_of(polls: list[RemotePoll], actor: Actor) -> dict[int, str]:
    """The option a person chose, by poll id (one query)."""
    rows = await PollAnswer.filter(poll_id__in=[poll.id for poll in polls], actor=actor)
    return {row.poll_id: row.option for row in rows}


def is_open(poll: RemotePoll) -> bool:
    now = clock.now()
    return poll.closed_at is None and (poll.closes_at is None or poll.closes_at > now)


ANSWER_BLOCKED = N_("%(name)s has blocked you, so you cannot answer their poll.")
ANSWER_AUTHOR_BLOCKED = N_("You blocked %(name)s: unblock them first to answer their poll.")


async def answer(actor: Actor, post: Post, option: str) -> PollAnswer:
    """A member here answers a remote poll; the answer goes to the poll's
    author (federation/fanout.py). One answer per person, as on Mastodon.
    Refused across a block either way, as Mastodon's PollPolicy#vote?
    (app/policies/poll_policy.rb, which VoteService checks)."""
    poll = await poll_of(post)
    if poll is None or post.local:
        raise NotFound("That post has no poll to answer here.")
    if post.circle_id is not None:
        await circle_service.require_member(await post.circle, actor)
    author = await post.author if post.author_id is not None else None
    await person_blocks.refuse_if_blocked(actor, author, ANSWER_BLOCKED)
    if author is not None and await person_blocks.is_blocked_by(author, actor):
        raise PermissionDenied(ANSWER_AUTHOR_BLOCKED, name=author.name)
    if not is_open(poll):
        raise Conflict("This poll has closed.")
    if option not in poll.options:
        raise InvalidInput("Choose one of the poll's options.", field="option")
    try:
        async with in_transaction():
            row = await PollAnswer.create(poll=poll, actor=actor, option=option)
            await OutboxEvent.create(kind="poll.answered", subject_id=row.id)
    except IntegrityError:
        raise Conflict("You have answered this poll already.") from None
    return row


async def answer_of(post: Post, actor: Actor) -> PollAnswer | None:
    return await PollAnswer.get_or_none(poll__post_id=post.id, actor=actor)
