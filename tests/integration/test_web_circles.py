"""Circles through the web UI: creating one, the directory, and membership."""

from __future__ import annotations

import re

import pytest

from models.circles import Circle, Membership, MembershipState, Role
from tests import factories
from tests.integration.webforms import logged_in, submit, text, without_our_script


async def member_state(circle, account) -> MembershipState | None:
    row = await Membership.get_or_none(circle=circle, actor=account.actor)
    return row.state if row else None


async def member_count(circle) -> int:
    return (await Circle.get(id=circle.id)).member_count


# Creating a circle


async def test_create_circle_through_the_form(app, alice):
    client = await logged_in(app, alice)
    form_page = await client.get("/circles/new")
    assert form_page.status_code == 200
    response = await submit(
        client, "/circles/new",
        name="Slow Readers", handle="slow_readers", purpose="We read *one* chapter a week.",
        join_mode="approval", language="en", location="Lyon", timezone="Europe/Paris",
    )
    assert response.status_code == 302
    assert response.location == "/c/slow_readers"

    circle = await Circle.get(actor__username="slow_readers")
    assert (circle.name, circle.join_mode.value, circle.timezone) == ("Slow Readers", "approval", "Europe/Paris")
    owner = await Membership.get(circle=circle)
    assert (owner.actor_id, owner.role, owner.state) == (alice.actor.id, Role.FACILITATOR, MembershipState.ACTIVE)

    page = await text(await client.get(response.location))
    assert "<h1>Slow Readers</h1>" in page
    assert "<em>one</em>" in page  # the purpose is rendered Markdown
    assert "You are a facilitator of this circle." in page


async def test_creating_a_circle_needs_login(client):
    response = await client.get("/circles/new")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=/circles/new")


@pytest.mark.parametrize(
    ("handle", "name", "status", "field", "message"),
    [
        ("readers", "Other readers", 409, "handle", "The handle “readers” is already taken."),
        ("Bad Handle!", "Fine name", 400, "handle", "A handle uses only lower-case letters"),
        ("admin", "Fine name", 400, "handle", "“admin” is reserved"),
        ("long_name", "N" * 101, 400, "name", "Name is too long: 101 characters, at most 100."),
        ("no_name", "   ", 400, "name", "Name is required."),
    ],
)
async def test_invalid_circle_is_refused_with_the_error_beside_the_field(
    app, instance, alice, handle, name, status, field, message
):
    await factories.circle(instance, alice, "readers")
    client = await logged_in(app, alice)
    response = await submit(
        client, "/circles/new",
        handle=handle, name=name, purpose="Reading together", join_mode="invite", timezone="UTC",
    )
    html = await text(response)
    assert response.status_code == status
    assert f'<p class="error" id="f-{field}-error">{message}' in html
    assert 'aria-invalid="true"' in html
    # What was typed is still in the form.
    assert f'name="handle" type="text" value="{handle}"' in html
    assert f'value="{name}"' in html
    assert ">Reading together</textarea>" in html
    assert re.search(r'value="invite"\s+checked', html)
    assert await Circle.all().count() == 1


async def test_markup_in_a_circle_name_is_shown_as_text(app, alice):
    client = await logged_in(app, alice)
    response = await submit(client, "/circles/new", handle="sneaky", name="<script>alert(1)</script>",
                            purpose="[x](javascript:alert(1)) <b onclick=alert(1)>hi</b>")
    assert response.status_code == 302
    for path in ("/c/sneaky", "/circles", "/c/sneaky/members", "/"):
        html = await text(await client.get(path))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
        assert "<script" not in without_our_script(html)
        assert not re.search(r"<[^>]*\son\w+\s*=", html)  # no live event handler attribute
        assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.IGNORECASE)


# The directory


async def test_directory_lists_and_searches_circles(client, instance, alice):
    await factories.circle(instance, alice, "chess_club", name="Chess Club", purpose="Openings and endgames")
    await factories.circle(instance, alice, "python_101", name="Python 101", purpose="Learn to program")

    page = await text(await client.get("/circles"))
    assert "Chess Club" in page and "Python 101" in page

    page = await text(await client.get("/circles", query_string={"q": "python"}))
    assert "Python 101" in page and "Chess Club" not in page

    page = await text(await client.get("/circles", query_string={"q": "endgame"}))  # matches purpose
    assert "Chess Club" in page and "Python 101" not in page

    page = await text(await client.get("/circles", query_string={"q": "knitting"}))
    assert "No circle matches your search." in page


# Joining and leaving


async def test_joining_an_open_circle_is_immediate(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/join")
    assert response.status_code == 302
    assert await member_state(circle, bob) is MembershipState.ACTIVE
    assert await member_count(circle) == 2
    page = await text(await client.get("/c/readers"))
    assert "You have joined Readers." in page
    assert "You are a member of this circle." in page

    response = await submit(client, "/c/readers/join")  # again
    assert response.status_code == 409
    assert await member_count(circle) == 2


async def test_approval_circle_request_is_approved_by_a_facilitator(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", join_mode="approval")
    bobs = await logged_in(app, bob)
    response = await submit(bobs, "/c/readers/join", request_text="I love novels")
    assert response.status_code == 302
    assert await member_state(circle, bob) is MembershipState.PENDING
    assert await member_count(circle) == 1
    assert "Your request to join is waiting for a facilitator." in await text(await bobs.get("/c/readers"))

    alices = await logged_in(app, alice)
    page = await text(await alices.get("/c/readers"))
    assert "Requests to join" in page and "I love novels" in page
    approve = re.search(r'action="(/c/readers/requests/\d+/approve)"', page).group(1)
    response = await submit(alices, approve)
    assert response.status_code == 302
    assert await member_state(circle, bob) is MembershipState.ACTIVE
    assert await member_count(circle) == 2
    assert "@bob is now a member." in await text(await alices.get("/c/readers"))


async def test_facilitator_declines_a_request(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", join_mode="approval")
    await submit(await logged_in(app, bob), "/c/readers/join")
    request = await Membership.get(circle=circle, actor=bob.actor)

    alices = await logged_in(app, alice)
    response = await submit(alices, f"/c/readers/requests/{request.id}/reject")
    assert response.status_code == 302
    assert await member_state(circle, bob) is None
    assert await member_count(circle) == 1
    assert "Requests to join" not in await text(await alices.get("/c/readers"))


async def test_only_stewards_can_decide_requests(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", join_mode="approval")
    carol = await factories.account(instance, "carol")
    await submit(await logged_in(app, carol), "/c/readers/join")
    request = await Membership.get(circle=circle, actor=carol.actor)
    # bob is a plain member: he sees no requests and cannot decide them
    await Membership.create(circle=circle, actor=bob.actor, role=Role.MEMBER, state=MembershipState.ACTIVE)

    bobs = await logged_in(app, bob)
    assert "Requests to join" not in await text(await bobs.get("/c/readers"))
    for decision in ("approve", "reject"):
        response = await submit(bobs, f"/c/readers/requests/{request.id}/{decision}")
        assert response.status_code == 403
        assert "facilitators and moderators can do this" in await text(response)
    assert await member_state(circle, carol) is MembershipState.PENDING


async def test_invite_only_circle_refuses_joins(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", join_mode="invite")
    client = await logged_in(app, bob)
    assert "This circle is invite-only" in await text(await client.get("/c/readers"))
    response = await submit(client, "/c/readers/join")
    assert response.status_code == 403
    assert "invite-only" in await text(response)
    assert await member_state(circle, bob) is None
    assert await member_count(circle) == 1


async def test_leaving_a_circle(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/leave", confirm="yes")
    assert response.status_code == 302
    assert await member_state(circle, bob) is None
    assert await member_count(circle) == 1
    assert "Join circle" in await text(await client.get("/c/readers"))


async def test_sole_facilitator_cannot_leave_while_others_are_members(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/leave", confirm="yes")
    assert response.status_code == 409
    assert "only facilitator: ask another member to facilitate" in await text(response)
    assert await member_state(circle, alice) is MembershipState.ACTIVE
    assert await member_count(circle) == 2


async def test_joining_needs_login(client, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    response = await submit(client, "/c/readers/join")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert await member_count(circle) == 1


# Circle pages


async def test_unknown_circle_is_404(client):
    response = await client.get("/c/nowhere")
    assert response.status_code == 404
    assert "There is no circle “nowhere” here." in await text(response)
    assert (await client.get("/c/nowhere/members")).status_code == 404


async def test_members_page_lists_active_members_with_roles(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", join_mode="approval")
    await Membership.create(circle=circle, actor=bob.actor, role=Role.MEMBER, state=MembershipState.ACTIVE)
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)  # only asks to join: pending

    response = await app.test_client().get("/c/readers/members")
    page = await text(response)
    assert response.status_code == 200
    assert '<a href="/users/alice">alice</a>' in page and "facilitator" in page
    assert '<a href="/users/bob">bob</a>' in page
    assert "carol" not in page


# Profile, charter and directory filters


async def test_a_facilitator_edits_the_profile(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "datasci", name="Data science")
    await factories.member(circle, bob)
    client = await logged_in(app, alice)
    form = await text(await client.get("/c/datasci/settings"))
    assert 'name="topics"' in form and 'name="size_limit"' in form
    response = await submit(
        client, "/c/datasci/settings", name="Data science Porto", purpose="Learn *together*",
        rules="Be kind\nCite sources", join_mode="open", language="pt", location="Porto",
        timezone="Europe/Lisbon", topics="#stats #python", meeting_cadence="Tuesdays", size_limit="15",
    )
    assert response.status_code == 302 and response.location == "/c/datasci/about"
    about = await text(await client.get("/c/datasci/about"))
    assert "Data science Porto" in about and "#stats" in about and "of at most 15" in about
    assert "<li>Cite sources</li>" in about
    directory = await text(await client.get("/circles?topic=stats&place=porto"))
    assert "Data science Porto" in directory
    assert "Data science Porto" not in await text(await client.get("/circles?topic=cooking"))

    response = await (await logged_in(app, bob)).get("/c/datasci/settings")
    assert response.status_code == 403


async def test_bad_profile_input_is_kept_with_its_reason(app, instance, alice):
    await factories.circle(instance, alice, "datasci", name="Data science")
    client = await logged_in(app, alice)
    response = await submit(
        client, "/c/datasci/settings", name="Renamed", join_mode="open", topics="c++ <b>"
    )
    assert response.status_code == 400
    page = await text(response)
    assert "is not a topic" in page and "c++ &lt;b&gt;" in page
    assert (await Circle.get(actor__username="datasci")).name == "Data science"


async def test_an_adopted_charter_is_not_on_the_settings_form(app, instance, alice):
    await factories.circle(instance, alice, "datasci", name="Data science", rules="Be kind")
    client = await logged_in(app, alice)
    response = await submit(client, "/c/datasci/charter/adopt")
    assert response.status_code == 302
    about = await text(await client.get("/c/datasci/about"))
    assert "adopted charter" in about
    assert 'name="rules"' not in await text(await client.get("/c/datasci/settings"))
    # Even a hand-made form cannot change the rules now.
    response = await submit(client, "/c/datasci/settings", name="Data science", join_mode="open", rules="Anything")
    assert response.status_code == 302
    assert (await Circle.get(actor__username="datasci")).rules == "Be kind"
