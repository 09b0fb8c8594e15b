"""Poll entities (https://docs.joinmastodon.org/entities/Poll/) for the posts
that are votes in Circles' terms, shaped as Mastodon's
app/serializers/rest/poll_serializer.rb shapes them:

- a proposal: Yes / No / Abstain / Block (governance.vote). Block is listed so
  the counts are the circle's real tally; voting it from an app fails as the
  web form does without a reason (a block needs one);
- a meeting's RSVP: Going / Maybe / Not going (meetings.rsvp), on the meeting's
  post and on the circle's reply under it, which federates as the meeting's
  poll (federation/polls.py). It takes answers until the meeting ends, as the
  service does;
- a poll on a post from another server (remote_polls.answer). Only its
  options are kept here, not its counts, so each option's `votes_count` is
  null (Mastodon's "results not published") and `votes_count` counts the
  answers given from here.

A poll's id is its post's id: an app asks `GET /api/v1/polls/<status.poll.id>`
and the post is what decides who may see it. None of our polls takes several
choices (`multiple` is false).
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from models import clock
from models.accounts import Account
from models.governance import Proposal, ProposalState, VoteChoice
from models.meetings import Meeting, Rsvp, RsvpAnswer
from models.polls import PollAnswer, RemotePoll
from models.posts import Post, PostKind
from models.services import governance, meetings, remote_polls
from web.mastodon.entities import iso

PROPOSAL_OPTIONS = (("Yes", VoteChoice.YES), ("No", VoteChoice.NO), ("Abstain", VoteChoice.ABSTAIN),
                    ("Block", VoteChoice.BLOCK))
RSVP_OPTIONS = (("Going", RsvpAnswer.GOING), ("Maybe", RsvpAnswer.MAYBE), ("Not going", RsvpAnswer.NOT_GOING))


@dataclass(frozen=True)
class PollSource:
    """What a post's poll is: a proposal, a meeting's RSVP or a remote poll."""
    post: Post
    proposal: Proposal | None = None
    meeting: Meeting | None = None
    remote: RemotePoll | None = None

    @property
    def titles(self) -> list[str]:
        if self.proposal is not None:
            return [title for title, _ in PROPOSAL_OPTIONS]
        if self.meeting is not None:
            return [title for title, _ in RSVP_OPTIONS]
        return list(self.remote.options)

    @property
    def expired(self) -> bool:
        now = clock.now()
        if self.proposal is not None:  # governance._require_open
            return self.proposal.state is not ProposalState.OPEN or now >= self.proposal.closes_at
        if self.meeting is not None:  # meetings.rsvp
            return self.meeting.cancelled_at is not None or self.meeting.ends_at <= now
        return not remote_polls.is_open(self.remote)

    @property
    def expires_at(self):
        if self.proposal is not None:
            return self.proposal.closes_at
        if self.meeting is not None:
            return self.meeting.ends_at
        return self.remote.closed_at or self.remote.closes_at


async def sources(posts: list[Post]) -> dict[int, PollSource]:
    """The polls among a page of posts, by post id: three queries at most."""
    found: dict[int, PollSource] = {}
    by_id = {post.id: post for post in posts}
    for post_id, proposal in (await governance.proposals_for_posts([p for p in posts if p.local])).items():
        found[post_id] = PollSource(by_id[post_id], proposal=proposal)
    # A meeting's own post, and the circle's RSVP reply under a meeting here.
    meeting_posts = [p for p in posts if p.kind is PostKind.MEETING]
    wanted = {p.id: p.id if p.root_id is None else p.root_id for p in meeting_posts}
    by_post = await meetings.meetings_by_post_ids(list(set(wanted.values())))
    for post in meeting_posts:
        meeting = by_post.get(wanted[post.id])
        if meeting is None:
            continue
        if post.root_id is None or (post.local and post.author_id == meeting.circle.actor_id):
            found[post.id] = PollSource(post, meeting=meeting)
    remote = [p for p in posts if not p.local and p.id not in found]
    if remote:
        polls = await remote_polls.polls_of([p.id for p in remote])
        found.update({p.id: PollSource(p, remote=polls[p.id]) for p in remote if p.id in polls})
    return found


async def source_of(post: Post) -> PollSource | None:
    return (await sources([post])).get(post.id)


async def _proposal_counts(found: list[PollSource], viewer) -> tuple[dict, dict]:
    ids = [s.proposal.id for s in found]
    if not ids:
        return {}, {}
    mine = await governance.votes_of(viewer.actor, ids) if viewer else {}
    return await governance.tallies(ids), {pid: vote.choice for pid, vote in mine.items()}


async def _meeting_counts(found: list[PollSource], viewer) -> tuple[dict, dict]:
    unique = list({s.meeting.id: s.meeting for s in found}.values())
    if not unique:
        return {}, {}
    counts = await meetings.answer_counts_of(unique)
    mine = {}
    if viewer is not None:
        rows = await Rsvp.filter(meeting_id__in=[m.id for m in unique], actor_id=viewer.actor_id)
        mine = {row.meeting_id: row.answer for row in rows}
    return counts, mine


async def _remote_counts(found: list[PollSource], viewer) -> tuple[dict, dict]:
    polls = [s.remote for s in found]
    if not polls:
        return {}, {}
    counts = dict(await PollAnswer.filter(poll_id__in=[p.id for p in polls])
                  .annotate(n=Count("id")).group_by("poll_id").values_list("poll_id", "n"))
    mine = await remote_polls.answers_of(polls, viewer.actor) if viewer is not None else {}
    return counts, mine


def _entity(source: PollSource, options: list[dict], total: int, voters: int | None,
            chosen: list[int] | None, viewer) -> dict:
    entity = {
        "id": str(source.post.id),
        "expires_at": iso(source.expires_at),
        "expired": source.expired,
        "multiple": False,
        "votes_count": total,
        "voters_count": voters,
        "options": options,
        "emojis": [],
    }
    if viewer is not None:  # as the serializer: only for a signed-in person
        entity["voted"] = bool(chosen)
        entity["own_votes"] = chosen or []
    return entity


async def polls(posts: list[Post], *, viewer: Account | None) -> dict[int, dict]:
    """The Poll entity of each post that is a poll, by post id, in a fixed
    number of queries for the page (at most nine, with the viewer's choices)."""
    found = await sources(posts)
    by_kind = {kind: [s for s in found.values() if getattr(s, kind) is not None]
               for kind in ("proposal", "meeting", "remote")}
    tallies, votes = await _proposal_counts(by_kind["proposal"], viewer)
    rsvp_counts, rsvps = await _meeting_counts(by_kind["meeting"], viewer)
    answer_counts, answers = await _remote_counts(by_kind["remote"], viewer)
    entities = {}
    for post_id, source in found.items():
        if source.proposal is not None:
            tally = tallies.get(source.proposal.id) or governance.Tally()
            options = [{"title": t, "votes_count": tally.of(c)} for t, c in PROPOSAL_OPTIONS]
            mine = votes.get(source.proposal.id)
            chosen = [i for i, (_, c) in enumerate(PROPOSAL_OPTIONS) if c is mine]
            entities[post_id] = _entity(source, options, tally.cast, tally.cast, chosen, viewer)
        elif source.meeting is not None:
            counts = rsvp_counts[source.meeting.id]
            options = [{"title": t, "votes_count": counts[a]} for t, a in RSVP_OPTIONS]
            mine = rsvps.get(source.meeting.id)
            chosen = [i for i, (_, a) in enumerate(RSVP_OPTIONS) if a is mine]
            total = sum(counts.values())
            entities[post_id] = _entity(source, options, total, total, chosen, viewer)
        else:
            titles = source.titles
            options = [{"title": t, "votes_count": None} for t in titles]
            mine = answers.get(source.remote.id)
            chosen = [titles.index(mine)] if mine in titles else []
            entities[post_id] = _entity(source, options, answer_counts.get(source.remote.id, 0), None, chosen, viewer)
    return entities
