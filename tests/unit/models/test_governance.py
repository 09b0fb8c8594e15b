import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from models import clock
from models.actors import Actor
from models.circles import Circle, JoinMode, Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, PermissionDenied
from models.federation import OutboxEvent
from models.governance import Proposal, ProposalState, Vote, VoteChoice
from models.posts import Post, PostKind
from models.services import circles as circle_service
from models.services import governance as svc
from models.services.memberships import end_membership
from models.services import posts as post_service
from tests import factories

HOUR = dt.timedelta(hours=1)


async def past_deadline(proposal: Proposal) -> None:
    """Move the deadline just behind us (freezing the clock ahead would push
    the process's id counter into the future for later tests)."""
    proposal.closes_at = clock.now() - dt.timedelta(seconds=1)
    await Proposal.filter(id=proposal.id).update(closes_at=proposal.closes_at)


async def _circle(instance, *names):
    """A circle of alice (its facilitator) and the named members."""
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    people = [alice]
    for name in names:
        person = await factories.account(instance, name)
        await factories.member(circle, person)
        people.append(person)
    return circle, people


async def _propose(instance, who, circle, **fields):
    fields.setdefault("kind", "free_text")
    fields.setdefault("title", "Meet on Tuesdays")
    fields.setdefault("body", "Tuesdays suit most of us.")
    fields.setdefault("closes_at", clock.now() + 25 * HOUR)  # role changes stay open a day at least
    return await svc.propose(instance, who.actor, circle, **fields)


async def _close(instance, proposal) -> Proposal:
    """Move past the deadline and let the worker decide."""
    await past_deadline(proposal)
    await svc.close_due(instance, clock.now())
    return await Proposal.get(id=proposal.id)


async def test_a_proposal_is_a_post_queued_for_federation(database, instance):
    circle, (alice,) = await _circle(instance)
    proposal = await _propose(instance, alice, circle)
    post = await Post.get(id=proposal.post_id)
    assert post.kind is PostKind.PROPOSAL and post.title == "Meet on Tuesdays"
    assert proposal.state is ProposalState.OPEN and proposal.quorum == 0
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).exists()


async def test_majority_passes_with_more_yes_than_no(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle, decision_rule="majority")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await svc.vote(instance, proposal, bob.actor, "yes")
    await svc.vote(instance, proposal, cai.actor, "no")
    decided = await _close(instance, proposal)
    assert decided.state is ProposalState.PASSED
    assert decided.outcome == "Proposal “Meet on Tuesdays” passed: 2 yes, 1 no, 0 block, 0 abstain."
    outcome_post = await Post.get(title="Decision: Meet on Tuesdays").select_related("author")
    assert outcome_post.author_id == circle.actor_id and "2 yes, 1 no" in outcome_post.content
    assert await OutboxEvent.filter(kind="post.created", subject_id=outcome_post.id).exists()
    assert await OutboxEvent.filter(kind="post.updated", subject_id=proposal.post_id).exists()


async def test_majority_tie_is_rejected(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle, decision_rule="majority")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await svc.vote(instance, proposal, bob.actor, "no")
    assert (await _close(instance, proposal)).state is ProposalState.REJECTED


async def test_consent_fails_on_one_block(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle, decision_rule="consent")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await svc.vote(instance, proposal, bob.actor, "yes")
    await svc.vote(instance, proposal, cai.actor, "block", reason="It excludes people who work on Tuesdays.")
    decided = await _close(instance, proposal)
    assert decided.state is ProposalState.REJECTED and "1 block" in decided.outcome


async def test_consent_passes_with_abstentions_only(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle, decision_rule="consent")
    await svc.vote(instance, proposal, bob.actor, "abstain")
    assert (await _close(instance, proposal)).state is ProposalState.PASSED


async def test_quorum_not_met_is_rejected_with_that_reason(database, instance):
    circle, (alice, _, _) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle, quorum="2")
    await svc.vote(instance, proposal, alice.actor, "yes")
    decided = await _close(instance, proposal)
    assert decided.state is ProposalState.REJECTED
    assert "quorum not met (1 of 2 votes cast)" in decided.outcome


async def test_quorum_defaults_from_settings_and_is_bounded(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    await svc.set_defaults(circle, alice.actor, decision_rule="consent", quorum=2)
    proposal = await _propose(instance, alice, circle)
    assert proposal.quorum == 2 and proposal.decision_rule.value == "consent"
    with pytest.raises(InvalidInput) as caught:
        await _propose(instance, alice, circle, quorum="3")
    assert caught.value.field == "quorum"
    with pytest.raises(PermissionDenied):
        await svc.set_defaults(circle, bob.actor, decision_rule="majority", quorum=0)


async def test_voting_twice_replaces_the_vote(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle)
    await svc.vote(instance, proposal, bob.actor, "no")
    await svc.vote(instance, proposal, bob.actor, "Yes")
    votes = await Vote.filter(proposal=proposal)
    assert [v.choice for v in votes] == [VoteChoice.YES]
    assert (await svc.tallies([proposal.id]))[proposal.id] == svc.Tally(yes=1)


async def test_a_remote_vote_repeated_counts_once(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle)
    await svc.vote(instance, proposal, bob.actor, "yes", uri="https://remote.example/users/bob#votes/1")
    await svc.vote(instance, proposal, bob.actor, "no", uri="https://remote.example/users/bob#votes/1")
    assert [v.choice for v in await Vote.filter(proposal=proposal)] == [VoteChoice.YES]


async def test_votes_after_the_deadline_are_refused(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle)
    await past_deadline(proposal)
    with pytest.raises(Conflict, match="votes after the deadline do not count"):
        await svc.vote(instance, proposal, bob.actor, "yes")
    assert not await Vote.exists()


async def test_non_members_cannot_propose_or_vote(database, instance):
    circle, (alice,) = await _circle(instance)
    stranger = await factories.account(instance, "stranger")
    with pytest.raises(PermissionDenied):
        await _propose(instance, stranger, circle)
    proposal = await _propose(instance, alice, circle)
    with pytest.raises(PermissionDenied):
        await svc.vote(instance, proposal, stranger.actor, "yes")
    assert not await Vote.exists() and await Proposal.all().count() == 1


async def test_a_block_needs_a_reason(database, instance):
    circle, (alice,) = await _circle(instance)
    proposal = await _propose(instance, alice, circle)
    with pytest.raises(InvalidInput) as caught:
        await svc.vote(instance, proposal, alice.actor, "block", reason="  ")
    assert caught.value.field == "reason" and not await Vote.exists()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"closes_at": None}, "closes_at"),
        ({"closes_at": "past"}, "closes_at"),
        ({"closes_at": "soon"}, "closes_at"),
        ({"closes_at": "far"}, "closes_at"),
        ({"title": ""}, "title"),
        ({"title": "t" * (svc.TITLE_MAX + 1)}, "title"),
        ({"body": ""}, "body"),
        ({"kind": "coup"}, "kind"),
        ({"kind": "join_mode", "value": "anyone"}, "value"),
        ({"kind": "rules", "value": ""}, "value"),
        ({"kind": "add_facilitator", "value": "@nobody"}, "value"),
        ({"kind": "add_facilitator", "value": "@alice"}, "value"),  # is one already
        ({"kind": "remove_facilitator", "value": "@bob"}, "value"),  # is not one
        ({"decision_rule": "dictator"}, "decision_rule"),
        ({"quorum": "-1"}, "quorum"),
    ],
)
async def test_invalid_proposals_write_nothing(database, instance, fields, field):
    circle, (alice, _) = await _circle(instance, "bob")
    moments = {"past": -HOUR, "soon": HOUR / 2, "far": dt.timedelta(days=61)}
    if fields.get("closes_at") in moments:
        fields["closes_at"] = clock.now() + moments[fields["closes_at"]]
    with pytest.raises(InvalidInput) as caught:
        await _propose(instance, alice, circle, **fields)
    assert caught.value.field == field
    assert not await Proposal.exists() and not await Post.exists()


async def test_only_the_proposer_withdraws_and_only_while_open(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle)
    with pytest.raises(PermissionDenied):
        await svc.withdraw(proposal, bob.actor)
    await svc.withdraw(proposal, alice.actor)
    stored = await Proposal.get(id=proposal.id)
    assert stored.state is ProposalState.WITHDRAWN and stored.decided_at is not None
    with pytest.raises(Conflict):
        await svc.vote(instance, stored, bob.actor, "yes")
    with pytest.raises(Conflict):
        await svc.withdraw(stored, alice.actor)
    await past_deadline(proposal)
    assert await svc.close_due(instance, clock.now()) == 0
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.WITHDRAWN


async def test_close_due_twice_decides_once(database, instance):
    circle, (alice, _) = await _circle(instance, "bob")  # bob does not vote: it waits for the deadline
    proposal = await _propose(instance, alice, circle, kind="purpose", value="Read *together*.")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await past_deadline(proposal)
    assert await svc.close_due(instance, clock.now()) == 1
    assert await svc.close_due(instance, clock.now()) == 0
    assert await Post.filter(title__startswith="Decision:").count() == 1
    assert await OutboxEvent.filter(kind="post.updated").count() == 1
    # A second worker holding a stale copy of the same proposal changes nothing either.
    stale = await Proposal.get(id=proposal.id).select_related("post", "circle__actor", "value_actor")
    stale.state = ProposalState.OPEN
    await svc.decide(instance, stale)
    assert await Post.filter(title__startswith="Decision:").count() == 1


async def test_nothing_due_is_left_open(database, instance):
    circle, (alice,) = await _circle(instance)
    proposal = await _propose(instance, alice, circle)
    assert await svc.close_due(instance, clock.now()) == 0
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN


# --- applying what passed --------------------------------------------------------------


async def _pass(instance, who, circle, **fields) -> Proposal:
    proposal = await _propose(instance, who, circle, **fields)
    await svc.vote(instance, proposal, who.actor, "yes")
    return await _close(instance, proposal)


async def test_passed_rules_and_purpose_are_applied_and_the_group_updated(database, instance):
    circle, (alice,) = await _circle(instance)
    await _pass(instance, alice, circle, kind="rules", value="1. Be kind.")
    await _pass(instance, alice, circle, kind="purpose", value="Learn Rust together.")
    stored = await Circle.get(id=circle.id)
    assert stored.rules == "1. Be kind." and stored.purpose == "Learn Rust together."
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=circle.actor_id).count() == 2


async def test_a_passed_join_mode_is_applied(database, instance):
    circle, (alice,) = await _circle(instance)
    await _pass(instance, alice, circle, kind="join_mode", value="approval")
    assert (await Circle.get(id=circle.id)).join_mode is JoinMode.APPROVAL
    assert (await Actor.get(id=circle.actor_id)).manually_approves_followers is True


async def _role(circle, person) -> Role:
    return (await Membership.get(circle=circle, actor=person.actor)).role


async def test_facilitators_are_added_and_removed(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    await _pass(instance, alice, circle, kind="add_facilitator", value="@bob")
    assert await _role(circle, bob) is Role.FACILITATOR
    await _pass(instance, alice, circle, kind="remove_facilitator", value="alice")
    assert await _role(circle, alice) is Role.MEMBER


async def test_the_last_facilitator_is_not_removed(database, instance):
    circle, (alice,) = await _circle(instance)
    decided = await _pass(instance, alice, circle, kind="remove_facilitator", value="alice")
    assert decided.state is ProposalState.PASSED and "could not be applied" in decided.outcome
    assert await _role(circle, alice) is Role.FACILITATOR


async def test_rotating_facilitation_hands_it_to_the_named_member(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    await _pass(instance, alice, circle, kind="add_facilitator", value="cai")
    await _pass(instance, alice, circle, kind="rotate_facilitation", value="bob")
    assert [await _role(circle, p) for p in (alice, bob, cai)] == [Role.MEMBER, Role.FACILITATOR, Role.MEMBER]


async def test_a_free_text_decision_changes_nothing_but_the_log(database, instance):
    circle, (alice,) = await _circle(instance)
    before = await Circle.get(id=circle.id)
    decided = await _pass(instance, alice, circle)
    after = await Circle.get(id=circle.id)
    assert decided.state is ProposalState.PASSED
    assert (after.rules, after.purpose, after.join_mode) == (before.rules, before.purpose, before.join_mode)
    assert [p.id for p in await svc.decision_log(circle)] == [decided.id]


async def test_deleting_the_post_withdraws_the_proposal(database, instance):
    circle, (alice, _) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle, kind="rules", value="No rules.")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await post_service.delete_post(alice.actor, await Post.get(id=proposal.post_id))
    decided = await _close(instance, proposal)
    assert decided.state is ProposalState.WITHDRAWN
    assert (await Circle.get(id=circle.id)).rules == ""
    assert not await OutboxEvent.filter(kind="post.updated").exists()


async def test_members_take_the_circles_rule_and_quorum(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    await svc.set_defaults(circle, alice.actor, decision_rule="majority", quorum=1)
    with pytest.raises(PermissionDenied) as caught:
        await _propose(instance, bob, circle, decision_rule="consent")  # only stewards choose another rule
    assert caught.value.field == "decision_rule"
    with pytest.raises(InvalidInput) as caught:
        await _propose(instance, alice, circle, quorum="0")  # nobody goes below the circle's quorum
    assert caught.value.field == "quorum"
    assert await Proposal.all().count() == 0
    assert (await _propose(instance, bob, circle)).decision_rule.value == "majority"
    assert (await _propose(instance, alice, circle, decision_rule="consent", quorum="2")).quorum == 2


async def test_silence_decides_nothing_and_role_changes_stay_open_a_day(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, bob, circle, decision_rule="", quorum="")
    decided = await _close(instance, proposal)
    assert decided.state is ProposalState.REJECTED and "quorum not met (0 of 1" in decided.outcome
    with pytest.raises(InvalidInput) as caught:
        await _propose(instance, bob, circle, kind="rotate_facilitation", value="@bob", closes_at=clock.now() + 3 * HOUR)
    assert caught.value.field == "closes_at" and "24 hours" in caught.value.message


async def test_who_leaves_or_is_banned_no_longer_votes(database, instance):
    circle, (alice, bob, cai, _) = await _circle(instance, "bob", "cai", "dan")  # dan does not vote
    proposal = await _propose(instance, alice, circle)
    for person in (alice, bob, cai):
        await svc.vote(instance, proposal, person.actor, "no" if person is not alice else "yes")
    async with in_transaction():
        await end_membership(await Membership.get(circle=circle, actor=bob.actor))
    await circle_service._change_state(await Membership.get(circle=circle, actor=cai.actor), MembershipState.BANNED)
    assert [v.voter_id for v in await Vote.all()] == [alice.actor.id]
    assert (await _close(instance, proposal)).state is ProposalState.PASSED


# --- decided early: everyone has voted -------------------------------------------------


async def test_the_last_members_vote_decides_and_applies_it_at_once(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle, kind="purpose", value="Read *together*.",
                              decision_rule="majority")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await svc.vote(instance, proposal, bob.actor, "no")
    await svc.vote(instance, proposal, bob.actor, "yes")  # changing a vote completes nothing
    assert proposal.state is ProposalState.OPEN
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN

    await svc.vote(instance, proposal, cai.actor, "no")
    assert proposal.state is ProposalState.PASSED  # the caller's copy says so too
    stored = await Proposal.get(id=proposal.id)
    assert stored.state is ProposalState.PASSED and stored.decided_at is not None
    assert stored.outcome == "Proposal “Meet on Tuesdays” passed: 2 yes, 1 no, 0 block, 0 abstain."
    # Applied and announced exactly as the worker does at a deadline.
    assert (await Circle.get(id=circle.id)).purpose == "Read *together*."
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=circle.actor_id).count() == 1
    assert await OutboxEvent.filter(kind="post.updated", subject_id=proposal.post_id).count() == 1
    assert await Post.filter(title="Decision: Meet on Tuesdays", author_id=circle.actor_id).count() == 1
    assert [p.id for p in await svc.decision_log(circle)] == [proposal.id]

    # Nothing is left for the worker, and no more votes are taken.
    await past_deadline(proposal)
    assert await svc.close_due(instance, clock.now()) == 0
    with pytest.raises(Conflict, match="passed: it takes no more votes"):
        await svc.vote(instance, stored, cai.actor, "yes")
    assert await Post.filter(title__startswith="Decision:").count() == 1


@pytest.mark.parametrize(
    "votes, state",
    [
        (("yes", "yes", "abstain"), ProposalState.PASSED),
        (("yes", "yes", "no"), ProposalState.REJECTED),  # under consent one no stops it
        (("yes", "abstain", "block"), ProposalState.REJECTED),
    ],
)
async def test_consent_is_decided_when_everyone_has_voted(database, instance, votes, state):
    circle, people = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, people[0], circle, kind="rules", value="1. Be kind.", decision_rule="consent")
    for person, choice in zip(people, votes, strict=True):
        assert proposal.state is ProposalState.OPEN
        await svc.vote(instance, proposal, person.actor, choice, reason="It hurts someone." if choice == "block" else "")
    stored = await Proposal.get(id=proposal.id)
    assert stored.state is state and proposal.state is state
    assert (await Circle.get(id=circle.id)).rules == ("1. Be kind." if state is ProposalState.PASSED else "")


async def test_only_active_members_are_waited_for(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle)
    await circle_service._change_state(await Membership.get(circle=circle, actor=cai.actor), MembershipState.BANNED)
    pending = await factories.account(instance, "dan")
    await Membership.create(circle=circle, actor=pending.actor, state=MembershipState.PENDING, role=Role.MEMBER)
    await svc.vote(instance, proposal, alice.actor, "yes")
    assert proposal.state is ProposalState.OPEN  # bob, a member, has not voted
    await svc.vote(instance, proposal, bob.actor, "yes")
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.PASSED  # the banned and the pending are not


async def test_the_quorum_still_applies_when_everyone_has_voted(database, instance):
    circle, (alice, bob) = await _circle(instance, "bob")
    proposal = await _propose(instance, alice, circle, quorum="2")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await circle_service.leave(circle, bob.actor, instance=instance)  # bob leaves without voting
    decided = await Proposal.get(id=proposal.id)
    assert decided.state is ProposalState.REJECTED and "quorum not met (1 of 2 votes cast)" in decided.outcome


async def test_the_last_non_voter_leaving_decides_and_applies_it(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle, kind="purpose", value="Read slowly.")
    other = await _propose(instance, alice, circle, title="Meet on Fridays")
    await svc.vote(instance, proposal, alice.actor, "yes")
    await svc.vote(instance, proposal, bob.actor, "yes")
    await svc.vote(instance, other, alice.actor, "yes")  # bob has not voted on this one

    await circle_service.leave(circle, cai.actor, instance=instance)  # cai never voted on either
    decided = await Proposal.get(id=proposal.id)
    assert decided.state is ProposalState.PASSED and decided.decided_at < decided.closes_at
    assert (await Circle.get(id=circle.id)).purpose == "Read slowly."  # applied as after a last vote
    assert await Post.filter(title="Decision: Meet on Tuesdays", author_id=circle.actor_id).count() == 1
    assert (await Proposal.get(id=other.id)).state is ProposalState.OPEN  # bob is still to vote there


async def test_a_voter_leaving_withdraws_their_vote_and_decides_nothing(database, instance):
    circle, (alice, bob, cai) = await _circle(instance, "bob", "cai")
    proposal = await _propose(instance, alice, circle)
    await svc.vote(instance, proposal, alice.actor, "yes")
    await svc.vote(instance, proposal, cai.actor, "yes")
    await circle_service.leave(circle, cai.actor, instance=instance)  # bob has still to vote
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.OPEN
    assert [v.voter_id for v in await Vote.filter(proposal_id=proposal.id)] == [alice.actor.id]
