"""A person banned from a circle is told so, calmly, with what they can do,
wherever they would otherwise be offered to join: the circle's page, an
invitation link, and the join form itself."""

from __future__ import annotations

from models.circles import Membership, MembershipState
from models.services import circle_invites, moderation
from tests import factories
from tests.integration.webforms import logged_in, submit, text

TOLD = "You are banned from this circle"
WHAT_TO_DO = "write to one of its facilitators"


async def _banned(instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", name="Slow Readers")
    await factories.member(circle, bob)
    await moderation.ban(circle, alice.actor, bob.actor_id, reason="Spam", instance=instance)
    return circle


async def test_the_circle_page_tells_a_banned_person_and_offers_no_join(app, instance, alice, bob):
    await _banned(instance, alice, bob)
    bobby = await logged_in(app, bob)
    page = await text(await bobby.get("/c/readers"))
    assert TOLD in page and WHAT_TO_DO in page and 'href="/c/readers/members"' in page
    assert "Join circle" not in page and "/c/readers/join" not in page
    assert page.count(TOLD) == 1 and "You cannot join this circle" not in page  # once: the notice
    assert 'href="/c/readers#banned-notice">Banned</a>' in page and 'id="banned-notice"' in page
    # Others still see the way in.
    carol = await logged_in(app, await factories.account(instance, "carol"))
    page = await text(await carol.get("/c/readers"))
    assert "Join circle" in page and TOLD not in page


async def test_joining_again_is_refused_with_the_reason_and_what_to_do(app, instance, alice, bob):
    await _banned(instance, alice, bob)
    bobby = await logged_in(app, bob)
    response = await submit(bobby, "/c/readers/join")
    page = await text(response)
    assert response.status_code == 403 and "You are banned from this circle" in page and WHAT_TO_DO in page
    assert (await Membership.get(actor=bob.actor)).state is MembershipState.BANNED


async def test_an_invitation_link_tells_a_banned_person_instead_of_offering_to_join(app, instance, alice, bob):
    circle = await _banned(instance, alice, bob)
    _invite, token = await circle_invites.create(circle, alice.actor, expires="7", uses="5")
    bobby = await logged_in(app, bob)
    page = await text(await bobby.get(f"/invite/{token}"))
    assert TOLD in page and WHAT_TO_DO in page and "Join Slow Readers" not in page
    response = await submit(bobby, f"/invite/{token}")
    assert response.status_code == 403 and WHAT_TO_DO in await text(response)
    assert (await Membership.get(actor=bob.actor)).state is MembershipState.BANNED
