"""Invitation links into a circle (even an invite-only one), and join
requests that reach the facilitators as notifications."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from models import clock
from models.circle_invites import CircleInvite
from models.circles import Circle, JoinMode, Membership, MembershipState
from models.errors import Gone, PermissionDenied
from models.notifications import Notification
from models.services import circle_invites
from models.services import circles as circle_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def closed(instance, alice):
    circle = await factories.circle(instance, alice, "closed", name="Closed Study")
    await Circle.filter(id=circle.id).update(join_mode=JoinMode.INVITE)
    return await Circle.get(id=circle.id).select_related("actor")


def link_in(page: str) -> str:
    return re.search(r'id="invite-link" type="text" readonly value="http://circles.test(/invite/[^"]+)"', page).group(1)


async def test_a_facilitator_invites_with_a_link_and_the_invited_joins(app, instance, alice, closed):
    carol = await factories.account(instance, "carol")
    owner = await logged_in(app, alice)
    assert "Invite people with a link" in await text(await owner.get("/c/closed"))
    response = await submit(owner, "/c/closed/invites", expires="7", uses="1")
    page = await text(response)
    assert response.status_code == 200, page[-2000:]
    link = link_in(page)
    stored = await CircleInvite.get(circle_id=closed.id)
    assert link.rsplit("/", 1)[1] not in stored.token_hash, "only a hash of the secret is stored"
    # Anonymous: the page says how to join; signed in: one button, and the member is in.
    anonymous = await text(await app.test_client().get(link))
    assert "You are invited to Closed Study" in anonymous and "Log in" in anonymous
    guest = await logged_in(app, carol)
    assert "Join Closed Study" in await text(await guest.get(link))
    response = await submit(guest, link)
    assert response.status_code == 302 and response.headers["Location"] == "/c/closed"
    member = await Membership.get(circle_id=closed.id, actor_id=carol.actor.id)
    assert member.state is MembershipState.ACTIVE
    assert (await Circle.get(id=closed.id)).member_count == 2
    # One use only: the next person hears why, and nothing changes.
    dora = await factories.account(instance, "dora")
    used = await (await logged_in(app, dora)).get(link)
    assert used.status_code == 410 and "used as many times as it allows" in await text(used)
    assert not await Membership.filter(circle_id=closed.id, actor_id=dora.actor.id).exists()


async def test_expired_revoked_and_wrong_links_say_so(app, instance, alice, closed):
    invite, token = await circle_invites.create(closed, alice.actor, expires="1", uses="unlimited")
    client = app.test_client()
    assert (await client.get(f"/invite/{token}")).status_code == 200
    clock.freeze(clock.now() + dt.timedelta(days=2))
    try:
        expired = await client.get(f"/invite/{token}")
        assert expired.status_code == 410 and "expired" in await text(expired)
    finally:
        clock.freeze(None)
    _other, token2 = await circle_invites.create(closed, alice.actor, expires="never", uses="unlimited")
    owner = await logged_in(app, alice)
    assert (await submit(owner, f"/c/closed/invites/{_other.id}/revoke")).status_code == 302
    revoked = await client.get(f"/invite/{token2}")
    assert revoked.status_code == 410 and "withdrew" in await text(revoked)
    assert (await client.get("/invite/not-a-real-token")).status_code == 404


async def test_only_facilitators_make_links(app, instance, alice, bob, closed):
    await Membership.create(circle=closed, actor=bob.actor, state=MembershipState.ACTIVE)
    with pytest.raises(PermissionDenied):
        await circle_invites.create(closed, bob.actor, expires="7", uses="1")
    member = await logged_in(app, bob)
    assert (await member.get("/c/closed/invites")).status_code == 403
    assert (await submit(member, "/c/closed/invites", expires="7", uses="1")).status_code == 403
    owner = await logged_in(app, alice)
    refused = await submit(owner, "/c/closed/invites", expires="forever", uses="1")
    assert refused.status_code == 400 and "Choose how long the link works" in await text(refused)
    assert not await CircleInvite.filter(circle_id=closed.id).exists()


async def test_two_people_at_once_cannot_pass_the_uses(database, instance, alice, closed):
    _invite, token = await circle_invites.create(closed, alice.actor, expires="7", uses="1")
    carol, dora = await factories.account(instance, "carol"), await factories.account(instance, "dora")
    results = await asyncio.gather(circle_invites.accept(token, carol.actor), circle_invites.accept(token, dora.actor),
                                   return_exceptions=True)
    assert sum(isinstance(r, Membership) for r in results) == 1
    assert all(isinstance(r, (Membership, Gone)) for r in results), results
    assert (await Circle.get(id=closed.id)).member_count == 2


async def test_join_requests_reach_the_facilitators_and_the_answer_the_requester(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "asking", name="Asking Circle")
    await Circle.filter(id=circle.id).update(join_mode=JoinMode.APPROVAL)
    circle = await Circle.get(id=circle.id).select_related("actor")
    member = await circle_service.join(circle, bob.actor, request_text="I would like to learn with you.")
    [note] = await Notification.filter(recipient=alice)
    assert note.kind == "circle.join_request" and "@bob" in note.text and note.url == "/c/asking#requests"
    page = await text(await (await logged_in(app, alice)).get("/notifications"))
    assert "asks to join Asking Circle" in page
    await circle_service.approve(circle, alice.actor, member.id)
    [answer] = await Notification.filter(recipient=bob)
    assert answer.kind == "circle.request_approved" and "Asking Circle" in answer.text
