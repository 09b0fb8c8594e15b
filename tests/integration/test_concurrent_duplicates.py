"""The same thing twice at the same moment ends in one correct state: two
votes by one person, one activity delivered twice, two facilitators
approving one request. Each runs the two at once (asyncio.gather) against
the real services or the real app, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from models import clock
from models.actors import Actor, ActorKind
from models.circles import Circle, JoinMode, Membership, MembershipState, Role
from models.errors import Conflict, NotFound
from models.federation import InboxItem
from models.governance import Vote, VoteChoice
from models.services import circles as circle_service
from models.services import governance, remote
from tests import factories
from tests.integration.test_inbox import PUBLIC, note_create, peer, post_signed  # noqa: F401 (peer: a fixture)


async def test_two_votes_at_once_by_one_person_leave_one_vote(database, instance, alice, bob):
    circle = await factories.circle(instance, alice, "study")
    await factories.member(circle, bob)
    proposal = await governance.propose(
        instance, alice.actor, circle, kind="free_text", title="Meet weekly?", body="Every Tuesday.",
        closes_at=clock.now() + dt.timedelta(days=3),
    )
    await asyncio.gather(
        governance.vote(instance, proposal, bob.actor, "yes"),
        governance.vote(instance, proposal, bob.actor, "no"),
    )
    votes = await Vote.filter(proposal_id=proposal.id, voter_id=bob.actor.id)
    assert len(votes) == 1 and votes[0].choice in (VoteChoice.YES, VoteChoice.NO)


async def test_two_facilitators_approving_one_request_at_once_count_one_member(database, instance, alice, bob):
    circle = await factories.circle(instance, alice, "study")
    await factories.member(circle, bob)
    await Membership.filter(circle_id=circle.id, actor_id=bob.actor.id).update(role=Role.FACILITATOR)
    await Circle.filter(id=circle.id).update(join_mode=JoinMode.APPROVAL)
    circle = await Circle.get(id=circle.id).select_related("actor")
    carol = await factories.account(instance, "carol")
    request = await circle_service.join(circle, carol.actor, request_text="May I join?")
    assert request.state is MembershipState.PENDING
    before = (await Circle.get(id=circle.id)).member_count
    results = await asyncio.gather(
        circle_service.approve(circle, alice.actor, request.id),
        circle_service.approve(circle, bob.actor, request.id),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Exception)]
    # The later one is told the request was decided meanwhile (a 409 or 404 with that reason).
    assert len(refused) <= 1 and all(isinstance(r, (Conflict, NotFound)) for r in refused), results
    assert (await Membership.get(id=request.id)).state is MembershipState.ACTIVE
    assert (await Circle.get(id=circle.id)).member_count == before + 1


async def test_one_activity_delivered_twice_at_once_is_kept_once(client, instance, peer):
    key, author = peer
    activity = note_create(author, 1, "Hello twice", to=PUBLIC)
    now = dt.datetime.now(dt.UTC)
    # A sender retrying signs anew; the very same signature twice is a replay (409, test_inbox).
    responses = await asyncio.gather(
        post_signed(client, "/inbox", activity, key, f"{author}#main-key", now=now),
        post_signed(client, "/inbox", activity, key, f"{author}#main-key", now=now - dt.timedelta(seconds=1)),
    )
    assert [r.status_code for r in responses] == [202, 202]
    assert await InboxItem.filter(activity_id=activity["id"]).count() == 1


async def test_one_new_actor_stored_twice_at_once_is_one_actor(database):
    """A signed Create and an Announce of it arrive together: the inbox (to
    check the signature) and the worker (for the author) both fetch the unknown
    author and store it. The later insert loses on the unique uri and refreshes
    the row instead of failing the activity (which then waited 30 s for a retry)."""
    uri = "https://elsewhere.example/users/ann"
    made = [
        remote.RemoteActorInput(uri=uri, kind=ActorKind.PERSON, username="ann", domain="elsewhere.example",
                                inbox_url=f"{uri}/inbox", display_name=name)
        for name in ("Ann", "Ann B.", "Ann C.")
    ]
    actors = await asyncio.gather(*(remote.upsert_actor(data) for data in made))
    assert len({actor.id for actor in actors}) == 1
    assert await Actor.filter(uri=uri).count() == 1
