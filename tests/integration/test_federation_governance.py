"""Proposals federate as Mastodon polls (Question); members elsewhere vote by
answering the poll, exactly as Mastodon does."""

from __future__ import annotations

import datetime as dt
import re

import httpx

from models import clock
from models.circles import Circle
from models.federation import Delivery, InboxItem, InboxState
from models.governance import Proposal, ProposalState, Vote, VoteChoice
from models.services import governance
from server import worker
from tests import factories
from tests.integration.federated import eventually, page_has, post_form
from tests.integration.test_inbox import (
    REMOTE,
    follow_of,
    post_signed,
    process,
    remote_key,
    remote_person,
)
from tests.servers import redirected_to, sign_up


def mastodon_vote(voter: str, question: str, question_author: str, option: str, n: int = 1) -> dict:
    """A poll answer exactly as Mastodon sends it (ActivityPub::VoteSerializer)."""
    note_id = f"{voter}#votes/{n}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": voter,
        "to": question_author,
        "object": {"id": note_id, "type": "Note", "name": option, "attributedTo": voter,
                   "to": question_author, "inReplyTo": question},
    }


async def _circle_with_remote_member(app, client, instance):
    private, pem = remote_key()
    rita = await remote_person("rita", pem)
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), private, f"{rita}#main-key")
    await process(app)
    proposal = await governance.propose(
        instance, alice.actor, circle, kind="rules", title="Be kind", body="We need rules.", value="1. Be kind.",
        closes_at=clock.now() + dt.timedelta(days=2),
    )
    await process(app)
    return private, rita, alice, circle, proposal


async def test_a_proposal_goes_out_as_a_poll_and_a_mastodon_vote_counts(app, client, instance):
    private, rita, _, circle, proposal = await _circle_with_remote_member(app, client, instance)
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    announce = next(p for p in sent if p["type"] == "Announce")
    question = announce["object"]["object"]
    assert question["type"] == "Question" and question["name"] == "Be kind"
    assert [o["name"] for o in question["oneOf"]] == ["Yes", "No", "Abstain"]  # a block needs a reason
    assert question["oneOf"][0]["replies"] == {"type": "Collection", "totalItems": 0}
    assert question["audience"] == circle.actor.uri and "closed" not in question and question["endTime"]

    # Mastodon sends the vote to the question's author: alice's inbox.
    vote = mastodon_vote(rita, question["id"], question["attributedTo"], "yes")
    response = await post_signed(client, "/users/alice/inbox", vote, private, f"{rita}#main-key")
    assert response.status_code == 202, await response.get_data(as_text=True)
    await process(app)
    assert (await InboxItem.get(activity_id=vote["id"])).state is InboxState.DONE
    assert [(v.choice, v.uri) for v in await Vote.all()] == [(VoteChoice.YES, f"{rita}#votes/1")]

    # The same vote again under another activity id (a retry) counts once.
    again = {**vote, "id": f"{vote['id']}-again", "object": {**vote["object"], "name": "No"}}
    await post_signed(client, "/inbox", again, private, f"{rita}#main-key")
    await process(app)
    assert [v.choice for v in await Vote.all()] == [VoteChoice.YES]

    # The poll served to others shows the count.
    document = await client.get(f"/posts/{proposal.post_id}", headers={"Accept": "application/activity+json"})
    poll = await document.get_json()
    assert poll["type"] == "Question" and poll["votersCount"] == 1 and poll["oneOf"][0]["replies"]["totalItems"] == 1

    # At the deadline the worker decides, applies the rules, and sends the closed poll and the outcome.
    await Proposal.filter(id=proposal.id).update(closes_at=clock.now() - dt.timedelta(seconds=1))
    await worker.close_due_proposals(app.extensions["circles.federation"])
    await process(app)
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.PASSED
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    inner = [p["object"] for p in sent if p["type"] == "Announce"]
    update = next(a for a in inner if a["type"] == "Update")
    assert update["object"]["type"] == "Question" and update["object"]["closed"]
    outcome = next(a for a in inner if a["type"] == "Create" and a["actor"] == circle.actor.uri)
    assert "passed: 1 yes, 0 no, 0 block" in outcome["object"]["content"]


async def test_votes_from_non_members_and_bad_votes_are_refused(app, client, instance):
    private, rita, alice, _, proposal = await _circle_with_remote_member(app, client, instance)
    sam_key, sam_pem = remote_key()
    sam = await remote_person("sam", sam_pem)
    question = proposal.post.uri
    cases = {
        "non-member": (mastodon_vote(sam, question, alice.actor.uri, "Yes"), sam_key, sam),
        "unknown option": (mastodon_vote(rita, question, alice.actor.uri, "Maybe", 2), private, rita),
        "block without reason": (mastodon_vote(rita, question, alice.actor.uri, "Block", 3), private, rita),
    }
    for vote, key, actor in cases.values():
        response = await post_signed(client, "/inbox", vote, key, f"{actor}#main-key")
        assert response.status_code == 202
    await process(app)
    items = {item.activity_id: item for item in await InboxItem.filter(activity_type="Create")}
    for name, (vote, _, _) in cases.items():
        item = items[vote["id"]]
        assert item.state is InboxState.IGNORED and item.error, name
    assert "Join this circle" in items[cases["non-member"][0]["id"]].error
    assert not await Vote.exists()


# --- two real instances ------------------------------------------------------------------


async def test_a_member_elsewhere_votes_on_a_proposal_from_their_server(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/rust@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0, headers={"Accept": "application/activity+json"}) as a_ap,
    ):
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles/new", "/circles/new", handle="rust", name="Rust learners",
                                      join_mode="open", language="en", timezone="UTC"), "/c/rust")
        await sign_up(ann, "ann")
        redirected_to(await post_form(ann, "/circles", "/circles/follow", handle=f"@rust@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(ann, remote_circle, "You are a member"), "A accepting Ann", servers)

        closes = (clock.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        response = await post_form(bea, "/c/rust/proposals/new", "/c/rust/proposals/new", kind="free_text",
                                   title="Meet on Tuesdays", body="Tuesdays suit most.", closes_at=closes,
                                   decision_rule="majority", quorum="0")
        proposal_path = redirected_to(response, re.compile(r"/proposals/\d+"))
        # The poll reaches B through the circle's Announce.
        await eventually(lambda: page_has(ann, remote_circle, "Meet on Tuesdays"), "the proposal reaching B", servers)
        question = (await a_ap.get(proposal_path.replace("/proposals/", "/posts/"))).json()
        assert question["type"] == "Question"

        # Ann answers the poll on B; B sends her vote to A as Mastodon would.
        copy = re.search(r'href="(/posts/\d+)">Meet on Tuesdays', (await ann.get(remote_circle)).text)
        page = (await ann.get(copy.group(1))).text
        assert 'value="Yes"' in page and 'value="Block"' not in page
        response = await post_form(ann, copy.group(1), f"{copy.group(1)}/poll", option="Yes")
        assert response.status_code == 302, response.text
        assert "You answered “Yes”" in (await ann.get(copy.group(1))).text
        await eventually(lambda: page_has(bea, proposal_path, "1 yes · 0 no"), "Ann's vote counted on A", servers)

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()


async def test_a_gotosocial_vote_list_counts_too(app, client, instance):
    private, rita, alice, _, proposal = await _circle_with_remote_member(app, client, instance)
    vote = mastodon_vote(rita, proposal.post.uri, alice.actor.uri, "Abstain")
    vote["object"] = [vote["object"]]  # GoToSocial sends its poll answers as a list of Notes
    await post_signed(client, "/c/readers/inbox", vote, private, f"{rita}#main-key")
    await process(app)
    assert [v.choice for v in await Vote.all()] == [VoteChoice.ABSTAIN]


async def test_a_mastodon_vote_that_completes_the_circles_votes_decides_at_once(app, client, instance):
    private, rita, alice, circle, proposal = await _circle_with_remote_member(app, client, instance)
    await governance.vote(instance, proposal, alice.actor, "yes")
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN  # rita has not voted yet

    vote = mastodon_vote(rita, proposal.post.uri, alice.actor.uri, "Yes")
    await post_signed(client, "/inbox", vote, private, f"{rita}#main-key")
    await process(app)  # no deadline passed and no worker tick: rita's vote was the last one
    decided = await Proposal.get(id=proposal.id)
    assert decided.state is ProposalState.PASSED and "passed: 2 yes, 0 no" in decided.outcome
    assert (await Circle.get(id=circle.id)).rules == "1. Be kind."
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")]
    inner = [p["object"] for p in sent if p["type"] == "Announce"]
    update = next(a for a in inner if a["type"] == "Update")
    assert update["object"]["type"] == "Question" and update["object"]["closed"]
    assert any(a["type"] == "Create" and a["actor"] == circle.actor.uri and "passed: 2 yes" in a["object"]["content"]
               for a in inner)
