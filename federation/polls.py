"""Posts that federate as Mastodon polls (`Question`), and the votes that
come back as poll answers.

Mastodon (and GoToSocial) vote by sending a Create of a Note that has a
`name` (the option chosen), an `inReplyTo` (the Question) and no content, to
the Question's author; each post kind that is a poll registers how it renders
its options (POLL_RENDERERS) and what a vote does (VOTE_HANDLERS)."""

from __future__ import annotations

import logging

from federation import convert
from federation.runtime import Federation
from models.actors import Actor
from models.governance import VoteChoice
from models.posts import Post, PostKind
from models.services import governance, remote

log = logging.getLogger(__name__)

MAX_VOTES_PER_ACTIVITY = 10  # GoToSocial sends one Note per chosen option
PROPOSAL_OPTIONS = {"Yes": VoteChoice.YES, "No": VoteChoice.NO, "Abstain": VoteChoice.ABSTAIN,
                    "Block": VoteChoice.BLOCK}


def is_vote(obj) -> bool:
    """A poll answer as Mastodon shapes it: a Note with a name, a reply, no content."""
    return (
        convert.type_of(obj) == "Note" and isinstance(obj.get("name"), str)
        and convert.id_of(obj.get("inReplyTo")) is not None and not obj.get("content")
    )


def votes_in(activity: dict) -> list[dict] | None:
    """The poll answers a Create carries (one Note, or GoToSocial's list of
    them), or None when it carries something else."""
    obj = activity.get("object")
    notes = obj if isinstance(obj, list) else [obj]
    if notes and all(is_vote(note) for note in notes):
        return notes[:MAX_VOTES_PER_ACTIVITY]
    return None


async def receive_vote(fed: Federation, actor: Actor, activity: dict) -> bool:
    """Count the poll answers in `activity`, whichever inbox it came through
    (the Question's author's or the shared one). Refusals raise DomainError."""
    counted = False
    for note in votes_in(activity) or []:
        note_id = convert.id_of(note)
        if not note_id or convert.host_of(note_id) != convert.host_of(actor.uri):
            raise convert.InvalidDocument("a vote's id is on another host than its voter")
        if convert.id_of(note.get("attributedTo")) not in (None, actor.uri):
            raise convert.InvalidDocument("a vote is attributed to someone other than its sender")
        post = await remote.post_by_uri(convert.id_of(note["inReplyTo"]))
        handler = VOTE_HANDLERS.get(post.kind) if post is not None and post.local else None
        if handler is None:
            log.info("ignoring a vote on %s: not a poll here", convert.id_of(note["inReplyTo"])[:200],
                     extra={"activity_id": activity.get("id"), "host": convert.host_of(actor.uri)})
            continue
        counted = await handler(post, actor, note["name"][:200], note_id) or counted
    return counted


async def _vote_on_proposal(post: Post, voter: Actor, option: str, vote_id: str) -> bool:
    choice = {name.lower(): choice for name, choice in PROPOSAL_OPTIONS.items()}.get(option.strip().lower())
    if choice is None:
        raise convert.InvalidDocument(f"“{option[:40]}” is not an option of this proposal")
    proposal = await governance.get_proposal(post.id)
    await governance.vote(proposal, voter, choice.value, uri=vote_id)
    return True


VOTE_HANDLERS = {
    PostKind.PROPOSAL: _vote_on_proposal,
}


async def _proposal_poll(post: Post) -> dict | None:
    proposal = await governance.proposal_for_post(post)
    if proposal is None:
        return None
    tally = (await governance.tallies([proposal.id])).get(proposal.id, governance.Tally())
    return convert.proposal_to_poll(proposal, {choice: tally.of(choice) for choice in VoteChoice},
                                    options=PROPOSAL_OPTIONS)


POLL_RENDERERS = {
    PostKind.PROPOSAL: _proposal_poll,
}


async def poll_of(post: Post) -> dict | None:
    """The Question fields of a post that is a poll, else None."""
    render = POLL_RENDERERS.get(post.kind) if post.local else None
    return await render(post) if render else None
