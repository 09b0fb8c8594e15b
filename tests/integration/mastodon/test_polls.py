"""Polls through the client API: proposals, meeting RSVPs and polls from
other servers, read and voted on as Mastodon apps do, through the services
the web forms use."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from federation import fanout
from models import clock
from models.actors import ActorKind
from models.circles import Visibility
from models.federation import Delivery, OutboxEvent
from models.governance import ProposalState, Vote, VoteChoice
from models.meetings import Meeting, Rsvp, RsvpAnswer
from models.polls import PollAnswer
from models.posts import Post
from models.errors import PermissionDenied
from models.person_blocks import BlockKind
from models.services import follows, governance, meetings, person_blocks, remote
from models.services import remote_polls as remote_poll_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text

GROUP = "https://elsewhere.example/c/readers"


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers")


async def _proposal(instance, alice, circle, **fields):
    return await governance.propose(instance, alice.actor, circle, kind="free_text", title="Meet on Tuesdays",
                                    body="Tuesdays suit most.", closes_at=clock.now() + dt.timedelta(days=1), **fields)


def _local(hours: float) -> str:
    return (clock.now() + dt.timedelta(hours=hours)).astimezone(zoneinfo.ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M")


async def _meeting(instance, alice, circle) -> Meeting:
    return await meetings.schedule(instance, alice.actor, circle, title="Chapter 3", agenda="Read it",
                                   starts_local=_local(3), ends_local=_local(4), timezone="UTC", place="Library",
                                   online_url="", capacity="")


async def _remote_poll(instance, account, options=("Yes", "No"), **poll):
    """A circle elsewhere that `account` joined, and a poll it announced."""
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=GROUP, kind=ActorKind.GROUP, username="readers", domain="elsewhere.example", inbox_url=f"{GROUP}/inbox"))
    rita = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, username="rita",
        domain="elsewhere.example", inbox_url="https://elsewhere.example/users/rita/inbox"))
    await follows.follow_remote(account.actor, group, instance_base_url=instance.base_url)
    await follows.answer_from_remote(account.actor, group, accepted=True)
    data = remote.RemotePostInput(
        uri="https://elsewhere.example/posts/1", author_uri=rita.uri, content_html="<p>Tuesdays?</p>",
        title="Meet on Tuesdays", poll=remote_poll_service.RemotePollInput(options=options, **poll))
    return await remote.store_announced_post(data, rita, group)


# --- proposals ------------------------------------------------------------------------------

async def test_a_proposal_is_a_poll_and_a_vote_from_an_app_is_the_web_vote(app, instance, alice, circle, make_api):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    proposal = await _proposal(instance, alice, circle)
    api = await make_api(bob)
    response = await api.get(f"/api/v1/polls/{proposal.post_id}")
    assert response.status_code == 200
    poll = await response.get_json()
    assert poll == {
        "id": str(proposal.post_id), "expires_at": poll["expires_at"], "expired": False, "multiple": False,
        "votes_count": 0, "voters_count": 0, "emojis": [], "voted": False, "own_votes": [],
        "options": [{"title": "Yes", "votes_count": 0}, {"title": "No", "votes_count": 0},
                    {"title": "Abstain", "votes_count": 0}, {"title": "Block", "votes_count": 0}],
    }
    assert poll["expires_at"].endswith("Z")

    response = await api.post(f"/api/v1/polls/{proposal.post_id}/votes", form={"choices[]": "1"})
    assert response.status_code == 200, await response.get_json()
    poll = await response.get_json()
    assert poll["voted"] is True and poll["own_votes"] == [1] and poll["options"][1]["votes_count"] == 1
    vote = await Vote.get(proposal_id=proposal.id)
    assert vote.voter_id == bob.actor_id and vote.choice is VoteChoice.NO
    # The web page shows the same vote, and our rule lets it change (JSON this time).
    page = await text(await (await logged_in(app, bob)).get(f"/proposals/{proposal.post_id}"))
    assert 'value="no" checked' in page
    response = await api.post(f"/api/v1/polls/{proposal.post_id}/votes", json={"choices": [0]})
    assert (await response.get_json())["own_votes"] == [0]
    assert (await Vote.get(proposal_id=proposal.id)).choice is VoteChoice.YES


async def test_a_proposal_s_status_carries_its_poll(instance, alice, circle, make_api):
    proposal = await _proposal(instance, alice, circle)
    api = await make_api(alice)
    status = await (await api.get(f"/api/v1/statuses/{proposal.post_id}")).get_json()
    poll = await (await api.get(f"/api/v1/polls/{proposal.post_id}")).get_json()
    assert status["poll"] == poll and poll["id"] == status["id"]
    [plain] = await (await api.get(f"/api/v1/accounts/{alice.actor_id}/statuses")).get_json()
    assert plain["id"] == status["id"] and plain["poll"] == poll  # every list of statuses carries it


async def test_the_last_vote_decides_and_the_poll_has_then_ended(instance, alice, circle, make_api):
    proposal = await _proposal(instance, alice, circle)
    api = await make_api(alice)
    poll = await (await api.post(f"/api/v1/polls/{proposal.post_id}/votes", form={"choices[]": "0"})).get_json()
    assert poll["expired"] is True  # everyone (alice alone) voted: decided at once
    assert (await governance.get_proposal(proposal.post_id)).state is ProposalState.PASSED
    response = await api.post(f"/api/v1/polls/{proposal.post_id}/votes", form={"choices[]": "1"})
    assert response.status_code == 422
    assert (await response.get_json())["error"] == "Validation failed: The poll has already ended."


async def test_bad_choices_are_refused_naming_them(instance, alice, circle, make_api):
    await factories.member(circle, await factories.account(instance, "bob"))  # so one vote decides nothing
    proposal = await _proposal(instance, alice, circle)
    api = await make_api(alice)
    url = f"/api/v1/polls/{proposal.post_id}/votes"
    for form in ({"choices[]": "4"}, {"choices[]": "-1"}, {"choices[]": "x"}, {}, {"choices[]": ["0", "1"]}):
        response = await api.post(url, form=form)
        assert response.status_code == 422, form
        assert "choices" in (await response.get_json())["details"], form
    # A block needs a reason, which a poll cannot carry: the service says so.
    response = await api.post(url, form={"choices[]": "3"})
    assert response.status_code == 422 and "reason" in (await response.get_json())["details"]
    assert await Vote.all().count() == 0


async def test_who_may_see_and_vote(instance, alice, circle, make_api):
    proposal = await _proposal(instance, alice, circle)
    stranger = await make_api(await factories.account(instance, "stranger"))
    # A public circle's poll: anyone reads it (anonymous too, without voted fields); only members vote.
    anonymous = await make_api(None)
    poll = await (await anonymous.get(f"/api/v1/polls/{proposal.post_id}")).get_json()
    assert "voted" not in poll and "own_votes" not in poll
    response = await stranger.post(f"/api/v1/polls/{proposal.post_id}/votes", form={"choices[]": "0"})
    assert response.status_code == 403
    assert (await response.get_json())["error"] == "Join this circle to take part in it."
    assert (await anonymous.post(f"/api/v1/polls/{proposal.post_id}/votes", form={"choices[]": "0"})).status_code == 401
    reader = await make_api(alice, scopes="read")
    assert (await reader.post(f"/api/v1/polls/{proposal.post_id}/votes", form={"choices[]": "0"})).status_code == 403
    # A members-only circle's poll is not found by others.
    hidden = await factories.circle(instance, alice, "inner", visibility=Visibility.MEMBERS.value)
    secret = await _proposal(instance, alice, hidden)
    for client in (stranger, anonymous):
        assert (await client.get(f"/api/v1/polls/{secret.post_id}")).status_code == 404
    response = await stranger.post(f"/api/v1/polls/{secret.post_id}/votes", form={"choices[]": "0"})
    assert response.status_code == 404 and (await response.get_json()) == {"error": "Record not found"}
    # Malformed ids, posts that are no polls, deleted posts.
    plain = await factories.post(instance, alice, circle)
    for raw in ("abc", "0", "99999999999999999999999", str(plain.id)):
        assert (await anonymous.get(f"/api/v1/polls/{raw}")).status_code == 404, raw
    await Post.filter(id=proposal.post_id).update(deleted_at=clock.now())
    assert (await anonymous.get(f"/api/v1/polls/{proposal.post_id}")).status_code == 404


# --- meetings ------------------------------------------------------------------------------

async def test_a_meeting_rsvp_from_an_app_is_the_web_answer(app, instance, alice, circle, make_api):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    meeting = await _meeting(instance, alice, circle)
    note = await Post.get(root_id=meeting.post_id, author_id=circle.actor_id)
    api = await make_api(bob)
    poll = await (await api.get(f"/api/v1/polls/{meeting.post_id}")).get_json()
    assert [o["title"] for o in poll["options"]] == ["Going", "Maybe", "Not going"]
    assert poll["expired"] is False and poll["voted"] is False

    response = await api.post(f"/api/v1/polls/{meeting.post_id}/votes", form={"choices[]": "0"})
    assert response.status_code == 200
    assert (await Rsvp.get(meeting_id=meeting.id, actor_id=bob.actor_id)).answer is RsvpAnswer.GOING
    assert (await Meeting.get(id=meeting.id)).going_count == 1
    page = await text(await (await logged_in(app, bob)).get(f"/meetings/{meeting.post_id}"))
    assert "1 going · 0 maybe" in page and "Your answer: <strong>Going</strong>" in page
    # The circle's RSVP note is the same poll (it is what federates as one); changing is allowed.
    poll = await (await api.post(f"/api/v1/polls/{note.id}/votes", form={"choices[]": "2"})).get_json()
    assert poll["id"] == str(note.id) and poll["own_votes"] == [2]
    assert [o["votes_count"] for o in poll["options"]] == [0, 0, 1]
    assert (await Meeting.get(id=meeting.id)).going_count == 0
    # A cancelled meeting takes no more answers.
    await meetings.cancel(alice.actor, await meetings.meeting_for_post(meeting.post_id))
    response = await api.post(f"/api/v1/polls/{meeting.post_id}/votes", form={"choices[]": "0"})
    assert response.status_code == 422 and "ended" in (await response.get_json())["error"]


# --- polls from other servers ----------------------------------------------------------------

async def test_answering_a_remote_poll_queues_the_vote_to_its_author(instance, fed, alice, make_api):
    post = await _remote_poll(instance, alice)
    api = await make_api(alice)
    poll = await (await api.get(f"/api/v1/polls/{post.id}")).get_json()
    assert poll["options"] == [{"title": "Yes", "votes_count": None}, {"title": "No", "votes_count": None}]
    assert poll["voters_count"] is None and poll["votes_count"] == 0
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()

    poll = await (await api.post(f"/api/v1/polls/{post.id}/votes", form={"choices[]": "1"})).get_json()
    assert poll["own_votes"] == [1] and poll["votes_count"] == 1
    assert (await PollAnswer.get()).option == "No"
    await fanout.fan_out_pending(fed)
    delivery = await Delivery.get()
    assert delivery.inbox_url == "https://elsewhere.example/users/rita/inbox"
    assert delivery.payload["object"]["name"] == "No" and delivery.payload["object"]["inReplyTo"] == post.uri
    # One answer per person, as Mastodon: a second is refused with 422.
    response = await api.post(f"/api/v1/polls/{post.id}/votes", form={"choices[]": "0"})
    assert response.status_code == 422 and "already" in (await response.get_json())["error"]


async def test_a_closed_remote_poll_is_expired(instance, alice, make_api):
    post = await _remote_poll(instance, alice, closes_at=clock.now() - dt.timedelta(minutes=1))
    api = await make_api(alice)
    assert (await (await api.get(f"/api/v1/polls/{post.id}")).get_json())["expired"] is True
    response = await api.post(f"/api/v1/polls/{post.id}/votes", form={"choices[]": "0"})
    assert response.status_code == 422 and await PollAnswer.all().count() == 0


# --- blocks -----------------------------------------------------------------------------------

async def test_whom_the_author_blocked_neither_sees_nor_votes_on_their_poll(instance, alice, circle, make_api):
    """As the status itself (statuses.may_read): Mastodon's polls and votes
    controllers `authorize @poll.status, :show?` and answer 404 for whom the
    author blocked (app/controllers/api/v1/polls_controller.rb,
    polls/votes_controller.rb; app/policies/status_policy.rb `author_blocking?`)."""
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    proposal = await _proposal(instance, alice, circle)
    meeting = await _meeting(instance, alice, circle)
    await person_blocks.set_block(alice.actor, bob.actor, BlockKind.BLOCK)
    api = await make_api(bob)
    for post_id in (proposal.post_id, meeting.post_id):
        assert (await api.get(f"/api/v1/statuses/{post_id}")).status_code == 404  # as its status
        assert (await api.get(f"/api/v1/polls/{post_id}")).status_code == 404
        response = await api.post(f"/api/v1/polls/{post_id}/votes", form={"choices[]": "0"})
        assert response.status_code == 404 and (await response.get_json())["error"] == "Record not found"
    assert not await Vote.exists() and not await Rsvp.filter(actor=bob.actor).exists()
    await person_blocks.set_block(alice.actor, bob.actor, BlockKind.MUTE)  # a mute hides nothing from bob
    assert (await api.get(f"/api/v1/polls/{proposal.post_id}")).status_code == 200


async def test_a_remote_poll_is_not_answered_across_a_block_either_way(app, instance, alice, make_api):
    """Mastodon's VoteService checks PollPolicy#vote? (app/services/vote_service.rb,
    app/policies/poll_policy.rb): no vote on the poll of someone one blocked, nor
    of someone who blocked one. Here remote_polls.answer refuses both, for the
    web form too; the API says 404 where the status is hidden (the author
    blocked the voter) and 403 (NotPermittedError) where it is not."""
    post = await _remote_poll(instance, alice)
    rita = await post.author
    await person_blocks.set_block(alice.actor, rita, BlockKind.BLOCK)
    api = await make_api(alice)
    assert (await api.get(f"/api/v1/polls/{post.id}")).status_code == 200  # the blocker still sees it
    response = await api.post(f"/api/v1/polls/{post.id}/votes", form={"choices[]": "0"})
    assert response.status_code == 403
    assert (await response.get_json())["error"] == "You blocked rita: unblock them first to answer their poll."
    page = await logged_in(app, alice)
    answered = await submit(page, f"/posts/{post.id}/poll", option="Yes")
    assert answered.status_code == 403 and "unblock them first to answer their poll" in await text(answered)

    await person_blocks.remove(alice.actor, rita)
    await person_blocks.set_block(rita, alice.actor, BlockKind.BLOCK)  # a Block from rita's server
    assert (await api.get(f"/api/v1/polls/{post.id}")).status_code == 404
    assert (await api.post(f"/api/v1/polls/{post.id}/votes", form={"choices[]": "0"})).status_code == 404
    with pytest.raises(PermissionDenied, match="rita has blocked you, so you cannot answer their poll"):
        await remote_poll_service.answer(alice.actor, post, "Yes")
    assert not await PollAnswer.exists() and not await OutboxEvent.filter(kind="poll.answered").exists()


# --- queries ---------------------------------------------------------------------------------

async def test_a_page_of_polls_costs_a_fixed_number_of_queries(instance, alice, circle, count_queries):
    from web.mastodon import poll_entities

    async def page():
        posts = await Post.filter(deleted_at=None).order_by("id")
        with count_queries() as queries:
            found = await poll_entities.polls(posts, viewer=alice)
        return found, len(queries)

    await _proposal(instance, alice, circle)
    await _meeting(instance, alice, circle)
    await _remote_poll(instance, alice)
    few, few_queries = await page()
    assert len(few) == 4  # the proposal, the meeting, its RSVP note, the remote poll
    for _ in range(3):
        await _proposal(instance, alice, circle)
        await _meeting(instance, alice, circle)
    many, many_queries = await page()
    assert len(many) == 13 and many_queries == few_queries <= 9, many_queries
