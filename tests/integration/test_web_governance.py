"""Proposals, votes and the decision log through the web UI."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from models import clock
from models.governance import Proposal, ProposalState, Vote, VoteChoice
from models.posts import Post
from models.services import governance
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers", timezone="Europe/Paris")


def in_paris(delta: dt.timedelta) -> str:
    return (clock.now() + delta).astimezone(zoneinfo.ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M")


def proposal_form(**fields) -> dict:
    return {"kind": "rules", "title": "Be kind", "body": "We need rules.", "value": "1. Be kind.",
            "closes_at": in_paris(dt.timedelta(days=3)), "decision_rule": "majority", "quorum": "0", **fields}


async def _proposal(instance, alice, circle) -> Proposal:
    return await governance.propose(instance, alice.actor, circle, kind="free_text", title="Meet on Tuesdays",
                                    body="Tuesdays suit most.", closes_at=clock.now() + dt.timedelta(days=1))


async def test_a_member_proposes_from_the_circle_page(app, alice, circle):
    client = await logged_in(app, alice)
    circle_page = await text(await client.get("/c/readers"))
    assert 'href="/c/readers/decisions"' in circle_page
    form = await text(await client.get("/c/readers/proposals/new"))
    assert 'value="majority" selected' in form and "Europe/Paris" in form
    response = await submit(client, "/c/readers/proposals/new", **proposal_form(closes_at=in_paris(dt.timedelta(days=3))))
    assert response.status_code == 302, await text(response)
    proposal = await Proposal.get(circle=circle).select_related("post")
    assert response.location == f"/proposals/{proposal.post_id}"
    # The deadline was typed in the circle's time zone.
    assert abs(proposal.closes_at - (clock.now() + dt.timedelta(days=3))) < dt.timedelta(minutes=2)
    decisions = await text(await client.get("/c/readers/decisions"))
    assert "Be kind" in decisions and "you have not voted yet" in decisions
    assert "See the proposal and vote" in await text(await client.get(f"/posts/{proposal.post_id}"))


async def test_members_vote_change_their_vote_and_see_it(app, instance, alice, circle):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    proposal = await _proposal(instance, alice, circle)
    client = await logged_in(app, bob)
    page = await text(await client.get(f"/proposals/{proposal.post_id}"))
    assert 'name="choice" value="block"' in page
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="no")
    assert response.status_code == 302
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="yes")
    assert response.status_code == 302
    assert [v.choice for v in await Vote.all()] == [VoteChoice.YES]
    decisions = await text(await client.get("/c/readers/decisions"))
    assert "1 yes · 0 no" in decisions and "your vote: <strong>yes</strong>" in decisions


async def test_a_block_without_reason_is_refused_next_to_the_field(app, instance, alice, circle):
    proposal = await _proposal(instance, alice, circle)
    client = await logged_in(app, alice)
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="block", reason=" ")
    assert response.status_code == 400
    page = await text(response)
    assert 'id="f-reason-error"' in page and "Your reason is required." in page
    assert 'value="block" checked' in page  # what was chosen is kept
    assert not await Vote.exists()


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"closes_at": "past"}, "closes_at", "at least 1 hour"),
        ({"closes_at": "tomorrow at noon"}, "closes_at", "as a date and time"),
        ({"title": "t" * 201}, "title", "Title is too long"),
        ({"kind": "join_mode", "value": "everyone"}, "value", "join mode must be one of"),
        ({"body": "<script>alert(1)</script>", "title": "<b>bold</b>", "quorum": "9"}, "quorum", "quorum"),
    ],
)
async def test_bad_proposals_are_refused_with_the_values_kept(app, alice, circle, fields, field, message):
    if fields.get("closes_at") == "past":
        fields["closes_at"] = in_paris(-dt.timedelta(hours=2))
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/proposals/new", **proposal_form(**fields))
    assert response.status_code == 400
    page = await text(response)
    assert f'id="f-{field}-error"' in page and message in page
    assert "<script>alert" not in page and "<b>bold" not in page
    assert f'value="{fields.get("title", "Be kind")}"'.replace("<", "&lt;").replace(">", "&gt;") in page
    assert not await Proposal.exists() and not await Post.exists()


async def test_a_member_of_another_circle_cannot_propose_or_vote(app, instance, alice, circle):
    proposal = await _proposal(instance, alice, circle)
    bob = await factories.account(instance, "bob")
    await factories.circle(instance, bob, "writers")
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/proposals/new", **proposal_form())
    assert response.status_code == 403
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="yes")
    assert response.status_code == 403 and "Join this circle" in await text(response)
    assert not await Vote.exists() and await Proposal.all().count() == 1


async def test_forms_without_csrf_change_nothing(app, instance, alice, circle):
    proposal = await _proposal(instance, alice, circle)
    client = await logged_in(app, alice)
    response = await client.post(f"/proposals/{proposal.post_id}/vote", form={"choice": "yes"})
    assert response.status_code in (400, 403)
    response = await client.post("/c/readers/proposals/new", form=proposal_form())
    assert response.status_code in (400, 403)
    response = await client.post(f"/proposals/{proposal.post_id}/withdraw", form={})
    assert response.status_code in (400, 403)
    assert not await Vote.exists() and await Proposal.all().count() == 1
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN


async def test_the_proposer_withdraws_and_the_log_shows_decisions(app, instance, alice, circle):
    proposal = await _proposal(instance, alice, circle)
    client = await logged_in(app, alice)
    response = await submit(client, f"/proposals/{proposal.post_id}/withdraw")
    assert response.status_code == 302 and response.location == "/c/readers/decisions"
    page = await text(await client.get("/c/readers/decisions"))
    assert "No open proposals." in page and "withdrawn" in page and "Meet on Tuesdays" in page


async def test_the_decision_log_is_paginated(app, instance, alice, circle):
    for n in range(governance.LOG_PAGE + 1):
        proposal = await governance.propose(
            instance, alice.actor, circle, kind="free_text", title=f"Idea {n}", body="Why not?",
            closes_at=clock.now() + dt.timedelta(hours=2),
        )
        await governance.withdraw(proposal, alice.actor)
    client = app.test_client()
    first = await text(await client.get("/c/readers/decisions"))
    assert "Idea 20" in first and "Idea 0<" not in first and "page=2" in first
    second = await text(await client.get("/c/readers/decisions?page=2"))
    assert "Idea 0<" in second and "Idea 20" not in second


async def test_votes_after_the_deadline_are_refused_with_a_message(app, instance, alice, circle):
    proposal = await _proposal(instance, alice, circle)
    client = await logged_in(app, alice)
    await Proposal.filter(id=proposal.id).update(closes_at=clock.now() - dt.timedelta(minutes=1))
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="yes")
    assert response.status_code == 409
    assert "votes after the deadline do not count" in await text(response)
    assert not await Vote.exists()


async def test_the_last_members_vote_decides_and_says_so(app, instance, alice, circle):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    proposal = await _proposal(instance, alice, circle)
    await governance.vote(instance, proposal, alice.actor, "no")
    client = await logged_in(app, bob)
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="yes")
    assert response.status_code == 302
    page = await text(await client.get(response.location))
    assert "Everyone has voted, so the proposal is decided: it did not pass." in page
    assert "Proposal “Meet on Tuesdays” rejected: 1 yes, 1 no" in page and 'name="choice"' not in page
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.REJECTED
    response = await submit(client, f"/proposals/{proposal.post_id}/vote", choice="no")
    assert response.status_code == 409 and "it takes no more votes" in await text(response)


async def test_a_rules_proposal_shows_the_rules_beside_it_with_each_change_marked(app, instance, alice, circle):
    circle.rules = "1. Be kind.\n2. Read <b>the</b> chapter."
    await circle.save()
    proposal = await governance.propose(
        instance, alice.actor, circle, kind="rules", title="Kinder", body="Softer words.",
        value="1. Be kind.\n2. Skim <i>the</i> chapter.\n3. Listen.", closes_at=clock.now() + dt.timedelta(days=1),
    )
    page = await text(await (await logged_in(app, alice)).get(f"/proposals/{proposal.post_id}"))
    now, proposed = page.split('id="compare-current"')[1].split('id="compare-proposed"')
    assert '<del><span class="visually-hidden">removed: </span>Read' in now and "Be kind." in now
    assert '<ins><span class="visually-hidden">added: </span>Skim' in proposed
    assert "3. Listen." in proposed.split("<ins>")[-1]  # the new line is marked as added
    # The texts are escaped, never markup: neither <b> nor <i> reaches the page as a tag.
    assert "&lt;b&gt;the&lt;/b&gt;" in now and "<b>the</b>" not in page and "&lt;i&gt;the&lt;/i&gt;" in proposed


async def test_texts_too_long_to_compare_are_shown_whole_and_the_page_says_so(app, instance, alice, circle):
    circle.rules = "a " * 2500
    await circle.save()
    proposal = await governance.propose(instance, alice.actor, circle, kind="rules", title="Bees", body="More bees.",
                                        value="b " * 2500, closes_at=clock.now() + dt.timedelta(days=1))
    page = await text(await app.test_client().get(f"/proposals/{proposal.post_id}"))
    assert "too long to mark each change" in page and "<ins>" not in page and "<del>" not in page
    assert ("b " * 2500).strip() in page.split('id="compare-proposed"')[1]


async def test_a_proposal_decided_early_says_when(app, instance, alice, circle):
    proposal = await _proposal(instance, alice, circle)
    await governance.vote(instance, proposal, alice.actor, "yes")  # alice is the only member
    page = await text(await (await logged_in(app, alice)).get(f"/proposals/{proposal.post_id}"))
    assert "Decided early on" in page and "when every member still in the circle had voted" in page
    later = await _proposal(instance, alice, circle)
    await Proposal.filter(id=later.id).update(closes_at=clock.now() - dt.timedelta(seconds=1))
    await governance.close_due(instance, clock.now())
    assert "Decided early" not in await text(await (await logged_in(app, alice)).get(f"/proposals/{later.post_id}"))
