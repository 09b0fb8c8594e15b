"""The moderator role through the web UI (issue 11): the members page's forms,
the confirmation page, CSRF and refusals."""

from __future__ import annotations

import pytest

from models.circles import Membership, Role
from models.federation import OutboxEvent
from models.moderation import ModerationAction, ModerationKind
from models.services import governance
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def setting(instance, alice, bob):
    """Alice facilitates "readers"; Bob is a member."""
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    return circle, await Membership.get(circle=circle, actor=bob.actor)


async def test_a_facilitator_gives_and_takes_the_role_from_the_members_page(app, alice, setting):
    circle, bob_member = setting
    client = await logged_in(app, alice)
    page = await text(await client.get("/c/readers/members"))
    give = f"/c/readers/members/{bob_member.id}/moderator"
    assert f'action="{give}"' in page and 'name="csrf_token"' in page
    response = await submit(client, give)
    assert response.status_code == 302 and response.location == "/c/readers/members"
    assert (await Membership.get(id=bob_member.id)).role is Role.MODERATOR

    page = await text(await client.get("/c/readers/members"))
    assert f'href="{give}/remove"' in page
    confirm = await text(await client.get(f"{give}/remove"))
    assert f'action="{give}/remove"' in confirm
    assert (await Membership.get(id=bob_member.id)).role is Role.MODERATOR  # the page alone changes nothing
    response = await submit(client, f"{give}/remove")
    assert response.status_code == 302
    assert (await Membership.get(id=bob_member.id)).role is Role.MEMBER
    kinds = [a.kind for a in await ModerationAction.filter(circle=circle).order_by("id")]
    assert kinds == [ModerationKind.GIVE_MODERATOR, ModerationKind.TAKE_MODERATOR]
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=circle.actor_id).count() >= 2
    log = await text(await client.get("/c/readers/moderation/log"))
    assert "a moderator" in log


async def test_non_facilitators_and_forms_without_csrf_are_refused(app, alice, bob, setting):
    circle, bob_member = setting
    alice_member = await Membership.get(circle=circle, actor=alice.actor)
    member_client = await logged_in(app, bob)
    page = await text(await member_client.get("/c/readers/members"))
    assert "/moderator" not in page
    response = await submit(member_client, f"/c/readers/members/{bob_member.id}/moderator")
    assert response.status_code == 403
    response = await member_client.get(f"/c/readers/members/{alice_member.id}/moderator/remove")
    assert response.status_code == 403

    facilitator = await logged_in(app, alice)
    response = await facilitator.post(f"/c/readers/members/{bob_member.id}/moderator", form={})
    assert response.status_code == 403
    assert (await Membership.get(id=bob_member.id)).role is Role.MEMBER
    assert not await ModerationAction.filter(circle=circle).exists()


async def test_unknown_members_and_repeats_get_a_reason(app, alice, setting):
    circle, bob_member = setting
    client = await logged_in(app, alice)
    assert (await submit(client, "/c/readers/members/999999/moderator")).status_code == 404
    assert (await client.get(f"/c/readers/members/{bob_member.id}/moderator/remove")).status_code == 404
    assert (await submit(client, f"/c/readers/members/{bob_member.id}/moderator")).status_code == 302
    again = await submit(client, f"/c/readers/members/{bob_member.id}/moderator")
    assert again.status_code == 409 and "moderator already" in await text(again)


async def test_facilitators_set_the_decision_defaults(app, alice, bob, setting):
    circle, _ = setting
    client = await logged_in(app, alice)
    assert "/c/readers/decisions/settings" in await text(await client.get("/c/readers/decisions"))
    page = await text(await client.get("/c/readers/decisions/settings"))
    assert "Consent: a proposal passes unless" in page and 'name="quorum"' in page
    bad = await submit(client, "/c/readers/decisions/settings", decision_rule="consent", quorum="99")
    page = await text(bad)
    assert bad.status_code == 400 and 'value="99"' in page and "whole number" in page
    assert 'value="consent" selected' in page
    ok = await submit(client, "/c/readers/decisions/settings", decision_rule="consent", quorum="2")
    assert ok.status_code == 302

    stored = await governance.settings_for(circle)
    assert (stored.decision_rule.value, stored.quorum) == ("consent", 2)
    assert 'value="2"' in await text(await client.get("/c/readers/decisions/settings"))

    member = await logged_in(app, bob)
    assert "/decisions/settings" not in await text(await member.get("/c/readers/decisions"))
    assert (await member.get("/c/readers/decisions/settings")).status_code == 403
    refused = await submit(member, "/c/readers/decisions/settings", decision_rule="majority", quorum="0")
    assert refused.status_code == 403 and (await governance.settings_for(circle)).quorum == 2


async def test_when_the_circle_chooses_moderators_by_proposal_facilitators_cannot_hand_out_the_role(
    app, alice, bob, setting
):
    circle, bob_member = setting
    client = await logged_in(app, alice)
    on = dict(decision_rule="majority", quorum="0", moderators_by_proposal_shown="1", moderators_by_proposal="1")
    assert (await submit(client, "/c/readers/decisions/settings", **on)).status_code == 302
    members = await text(await client.get("/c/readers/members"))
    assert "moderators are chosen by proposal" in members and "Make bob a moderator" not in members
    refused = await submit(client, f"/c/readers/members/{bob_member.id}/moderator")
    assert refused.status_code == 403 and "propose it on the Decisions page" in await text(refused)
    assert (await Membership.get(id=bob_member.id)).role is Role.MEMBER

    # Before the charter, the facilitators may go back; once it is adopted, the choice stays.
    off = {**on, "moderators_by_proposal": ""}
    assert (await submit(client, "/c/readers/decisions/settings", **off)).status_code == 302
    assert not (await governance.settings_for(circle)).moderators_by_proposal
    assert (await submit(client, "/c/readers/decisions/settings", **on)).status_code == 302
    circle.rules = "Be kind."
    await circle.save(update_fields=["rules"])
    assert (await submit(client, "/c/readers/charter/adopt")).status_code == 302
    page = await text(await client.get("/c/readers/decisions/settings"))
    assert "Moderators are chosen by proposal only, as the circle's charter says." in page
    assert 'name="moderators_by_proposal"' not in page
    forced = await submit(client, "/c/readers/decisions/settings", **off)  # a hand-made form
    assert forced.status_code == 403 and "charter says moderators are chosen by proposal" in await text(forced)
    assert (await governance.settings_for(circle)).moderators_by_proposal
    # The page's own form (no checkbox) keeps it and saves the rest.
    kept = await submit(client, "/c/readers/decisions/settings", decision_rule="consent", quorum="1")
    assert kept.status_code == 302
    stored = await governance.settings_for(circle)
    assert stored.moderators_by_proposal and stored.decision_rule.value == "consent"


async def test_a_moderator_proposal_from_the_form_is_applied_when_passed(app, instance, alice, setting):
    import datetime as dt

    from models import clock
    from models.governance import Proposal, ProposalState

    circle, bob_member = setting
    client = await logged_in(app, alice)
    form = await text(await client.get("/c/readers/proposals/new"))
    assert 'value="add_moderator"' in form and "add moderator" in form
    closes = (clock.now() + dt.timedelta(days=2)).astimezone(circle.zone).strftime("%Y-%m-%dT%H:%M")
    response = await submit(client, "/c/readers/proposals/new", kind="add_moderator", title="Bob moderates",
                            body="Bob is fair.", value="@bob", closes_at=closes, decision_rule="majority", quorum="0")
    assert response.status_code == 302, await text(response)
    proposal = await Proposal.get(circle=circle)
    assert (await submit(client, f"/proposals/{proposal.post_id}/vote", choice="yes")).status_code == 302
    await Proposal.filter(id=proposal.id).update(closes_at=clock.now() - dt.timedelta(seconds=1))
    await governance.close_due(instance, clock.now())
    assert (await Proposal.get(id=proposal.id)).state is ProposalState.PASSED
    assert (await Membership.get(id=bob_member.id)).role is Role.MODERATOR
    assert "moderator" in await text(await client.get("/c/readers/members"))


async def test_a_circle_whose_last_facilitator_goes_asks_its_longest_standing_member(app, instance, alice, bob):
    from models.accounts import Account
    from models.circles import Membership, Role
    from models.notifications import Notification
    from models.services import account_deletion
    from tests import factories
    from tests.integration.webforms import logged_in, submit, text

    circle = await factories.circle(instance, alice, "orphan", name="Orphan Circle")
    await factories.member(circle, bob)
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    boss = await factories.account(instance, "boss", is_admin=True)
    await account_deletion.delete_account(await Account.get(id=alice.id), by=boss, instance=instance)

    # Bob joined first: he is asked; the admins are told; Carol is not bothered.
    [asked] = await Notification.filter(recipient_id=bob.id)
    assert asked.kind == "circle.needs_facilitator" and asked.url == "/c/orphan/facilitate"
    [told] = await Notification.filter(recipient_id=boss.id)
    assert "Orphan Circle has no facilitator" in told.text and "longest-standing member was asked" in told.text
    assert not await Notification.filter(recipient_id=carol.id).exists()

    client = await logged_in(app, bob)
    assert "Take on the facilitator role" in await text(await client.get("/c/orphan/facilitate"))
    assert (await submit(client, "/c/orphan/facilitate")).status_code == 302
    assert (await Membership.get(circle_id=circle.id, actor_id=bob.actor.id)).role is Role.FACILITATOR
    # Once there is one, nobody else can take it on this way.
    late = await submit(await logged_in(app, carol), "/c/orphan/facilitate")
    assert late.status_code == 409
    assert (await Membership.get(circle_id=circle.id, actor_id=carol.actor.id)).role is Role.MEMBER
