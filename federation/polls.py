"""Posts that federate as Mastodon polls (`Question`), and the votes that
come back as poll answers.

Mastodon (and GoToSocial) vote by sending a Create of a Note that has a
`name` (the option chosen), an `inReplyTo` (the Question) and no content, to
the Question's author; each post kind that is a poll registers how it renders
its options (POLL_RENDERERS) and what a vote does (VOTE_HANDLERS)."""

from __future__ import annotations

import logging

from federation import convert, parse
from federation.runtime import Federation
from models.actors import Actor
from models import clock
from models.governance import VoteChoice
from models.instance import Instance
from models.meetings import RsvpAnswer
from models.posts import Post, PostKind
from models.services import governance, meetings, remote

log = logging.getLogger(__name__)

MAX_VOTES_PER_ACTIVITY = 10  # GoToSocial sends one Note per chosen option
# No "Block": a block needs a reason, which a poll answer cannot carry; a
# member elsewhere who objects answers No (under consent, any No stops it).
PROPOSAL_OPTIONS = {"Yes": VoteChoice.YES, "No": VoteChoice.NO, "Abstain": VoteChoice.ABSTAIN}
RSVP_OPTIONS = {"Going": RsvpAnswer.GOING, "Maybe": RsvpAnswer.MAYBE, "Not going": RsvpAnswer.NOT_GOING}


def is_vote(obj) -> bool:
    """A poll answer as Mastodon shapes it: a Note with a name, a reply, no content."""
    return (
        parse.type_of(obj) == "Note" and isinstance(obj.get("name"), str)
        and parse.id_of(obj.get("inReplyTo")) is not None and not obj.get("content")
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
        note_id = parse.id_of(note)
        if not note_id or parse.host_of(note_id) != parse.host_of(actor.uri):
            raise parse.InvalidDocument("a vote's id is on another host than its voter")
        if parse.id_of(note.get("attributedTo")) not in (None, actor.uri):
            raise parse.InvalidDocument("a vote is attributed to someone other than its sender")
        post = await remote.post_by_uri(parse.id_of(note["inReplyTo"]))
        handler = VOTE_HANDLERS.get(post.kind) if post is not None and post.local else None
        if handler is None:
            log.info("ignoring a vote on %s: not a poll here", parse.id_of(note["inReplyTo"])[:200],
                     extra={"activity_id": activity.get("id"), "host": parse.host_of(actor.uri)})
            continue
        counted = await handler(fed.instance, post, actor, note["name"][:200], note_id) or counted
    return counted


async def _vote_on_proposal(instance: Instance, post: Post, voter: Actor, option: str, vote_id: str) -> bool:
    choice = {name.lower(): choice for name, choice in PROPOSAL_OPTIONS.items()}.get(option.strip().lower())
    if choice is None:
        raise parse.InvalidDocument(f"“{option[:40]}” is not an option of this proposal")
    proposal = await governance.get_proposal(post.id)
    await governance.vote(instance, proposal, voter, choice.value, uri=vote_id)
    return True


async def _rsvp_by_vote(instance: Instance, post: Post, voter: Actor, option: str, vote_id: str) -> bool:
    """A vote in a meeting's RSVP poll (the circle's reply under the Event)."""
    if post.root_id is None:
        return False  # the Event itself is no poll
    await meetings.rsvp_from_poll(voter, await Post.get(id=post.root_id), option)
    return True


VOTE_HANDLERS = {
    PostKind.PROPOSAL: _vote_on_proposal,
    PostKind.MEETING: _rsvp_by_vote,
}


async def _proposal_poll(post: Post) -> dict | None:
    proposal = await governance.proposal_for_post(post)
    if proposal is None:
        return None
    return _proposal_fields(proposal, (await governance.tallies([proposal.id])).get(proposal.id))


def _proposal_fields(proposal, tally) -> dict:
    tally = tally or governance.Tally()
    counts = {name: tally.of(choice) for name, choice in PROPOSAL_OPTIONS.items()}
    return convert.poll_to_as(counts, ends_at=proposal.closes_at, closed_at=proposal.decided_at)


async def _rsvp_poll(post: Post) -> dict | None:
    """The circle's reply under a meeting is a Going / Maybe / Not going poll,
    so people answer from any Mastodon app; it closes when the meeting starts."""
    if post.root_id is None or post.author_id != (await post.circle).actor_id:
        return None
    meeting = await meetings.meeting_for_post(post.root_id)
    return _rsvp_fields(meeting, await meetings.answer_counts(meeting))


def _rsvp_fields(meeting, counts) -> dict:
    """From a meeting loaded with its post."""
    closed = meeting.cancelled_at or (meeting.starts_at if meeting.starts_at <= clock.now() else None)
    return {
        "name": f"Coming to “{meeting.post.title}”?",
        **convert.poll_to_as({name: counts[answer] for name, answer in RSVP_OPTIONS.items()},
                             ends_at=meeting.starts_at, closed_at=closed),
    }


POLL_RENDERERS = {
    PostKind.PROPOSAL: _proposal_poll,
    PostKind.MEETING: _rsvp_poll,
}


async def poll_of(post: Post) -> dict | None:
    """The Question fields of a post that is a poll, else None."""
    render = POLL_RENDERERS.get(post.kind) if post.local else None
    return await render(post) if render else None


async def polls_of(posts: list[Post]) -> dict[int, dict]:
    """poll_of for a page of posts, by post id (only the polls), in a fixed
    number of queries: proposals and their tallies, the meetings whose RSVP
    poll a circle's reply is, and their answer counts."""
    local = [p for p in posts if p.local]
    proposals = await governance.proposals_for_posts(local)
    tallies = await governance.tallies([p.id for p in proposals.values()])
    polls = {post_id: _proposal_fields(p, tallies.get(p.id)) for post_id, p in proposals.items()}
    # An RSVP poll is the circle's own reply under a meeting (compared with
    # the meeting's circle below, as _rsvp_poll does).
    replies = [p for p in local if p.kind is PostKind.MEETING and p.root_id is not None]
    if replies:
        found = await meetings.meetings_by_post_ids(list({p.root_id for p in replies}))
        counts = await meetings.answer_counts_of(list(found.values()))
        for post in replies:
            meeting = found.get(post.root_id)
            if meeting is not None and post.author_id == meeting.circle.actor_id:
                polls[post.id] = _rsvp_fields(meeting, counts[meeting.id])
    return polls
