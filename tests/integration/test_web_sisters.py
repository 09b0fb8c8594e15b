"""Sister circles through the web UI: follow a circle, choose kinds, read the sister feed."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from models.actors import Follow, FollowState
from models.sisters import SisterLink
from tests import factories
from tests.conftest import csrf_from
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def carol(instance):
    return await factories.account(instance, "carol")


@pytest.fixture
async def circles(instance, alice, bob, carol):
    gardeners = await factories.circle(instance, alice, "gardeners")
    await factories.member(gardeners, bob)
    growers = await factories.circle(instance, carol, "growers", name="Growers of Lyon")
    return gardeners, growers


async def post_choices(client, path: str, kinds: list[str], **fields):
    """A form POST with several checked `kinds` boxes (repeated fields)."""
    token = csrf_from(await text(await client.get("/login")))
    pairs = [("csrf_token", token), *fields.items(), *(("kinds", kind) for kind in kinds)]
    return await client.post(path, data=urlencode(pairs).encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})


async def test_a_steward_follows_a_local_circle_chooses_kinds_and_reads_its_posts(app, instance, alice, carol, circles):
    gardeners, growers = circles
    await factories.post(instance, carol, growers, "How deep do carrots grow?", kind="question", title="Carrot depth")
    await factories.post(instance, carol, growers, "Lovely weather", kind="discussion", title="Weather chat")
    client = await logged_in(app, alice)
    page = await text(await client.get("/c/gardeners/sisters"))
    assert "Sister circles" in page and "follows no other circle yet" in page and 'for="f-handle"' in page

    response = await post_choices(client, "/c/gardeners/sisters", ["question"], handle="growers")
    assert response.status_code == 302 and response.location == "/c/gardeners/sisters"
    link = await SisterLink.get(circle=gardeners)
    assert link.kinds == ["question"]
    assert (await Follow.get(follower_id=gardeners.actor_id, target_id=growers.actor_id)).state is FollowState.ACCEPTED
    page = await text(await client.get(response.location))
    assert "Gardeners now follows Growers of Lyon." in page
    assert "Carrot depth" in page and "Weather chat" not in page and "in <a href=\"/c/growers\">Growers of Lyon</a>" in page

    response = await post_choices(client, f"/c/gardeners/sisters/{link.id}/kinds", ["discussion", "question"])
    assert response.status_code == 302
    page = await text(await client.get("/c/gardeners/sisters"))
    assert "Carrot depth" in page and "Weather chat" in page
    # The tab is on every page of the circle; anyone may read the feed.
    assert 'href="/c/gardeners/sisters"' in await text(await client.get("/c/gardeners"))
    assert "Weather chat" in await text(await app.test_client().get("/c/gardeners/sisters"))

    # No kind chosen: refused, the error beside that sister's boxes, nothing changed.
    response = await post_choices(client, f"/c/gardeners/sisters/{link.id}/kinds", [])
    assert response.status_code == 400 and "Choose at least one kind" in await text(response)
    assert (await SisterLink.get(id=link.id)).kinds == ["question", "discussion"]

    response = await submit(client, f"/c/gardeners/sisters/{link.id}/unlink")
    assert response.status_code == 302
    assert not await SisterLink.exists() and not await Follow.filter(follower_id=gardeners.actor_id).exists()
    assert "Carrot depth" not in await text(await client.get("/c/gardeners/sisters"))


async def test_members_who_are_not_stewards_are_refused(app, bob, alice, circles):
    client = await logged_in(app, bob)
    page = await text(await client.get("/c/gardeners/sisters"))
    assert "Follow this circle" not in page
    response = await post_choices(client, "/c/gardeners/sisters", ["question"], handle="growers")
    assert response.status_code == 403 and "facilitators and moderators" in await text(response)
    assert not await SisterLink.exists()

    steward = await logged_in(app, alice)
    await post_choices(steward, "/c/gardeners/sisters", ["question"], handle="growers")
    link = await SisterLink.get()
    assert (await post_choices(client, f"/c/gardeners/sisters/{link.id}/kinds", ["meeting"])).status_code == 403
    assert (await submit(client, f"/c/gardeners/sisters/{link.id}/unlink")).status_code == 403
    assert (await SisterLink.get()).kinds == ["question"]


async def test_without_csrf_token_nothing_happens(app, alice, circles):
    client = await logged_in(app, alice)
    response = await client.post("/c/gardeners/sisters", form={"handle": "growers", "kinds": "question"})
    assert response.status_code == 403
    assert not await SisterLink.exists()


@pytest.mark.parametrize(("handle", "message"), [
    ("", "Type the handle of the circle"),
    ("nowhere", "There is no circle “nowhere” here"),
    ("gardeners", "cannot be its own sister"),
    ("alice", "There is no circle “alice” here"),
    ("@name@bad domain", "Write a handle as @name@example.org."),
    ("x" * 400, "at most 300 characters"),
])
async def test_a_bad_handle_is_explained_beside_the_field(app, alice, circles, handle, message):
    client = await logged_in(app, alice)
    response = await post_choices(client, "/c/gardeners/sisters", ["question"], handle=handle)
    page = await text(response)
    assert response.status_code == 400 and message in page and 'id="f-handle-error"' in page
    assert f'value="{handle}"' in page  # what was typed is kept
    assert not await SisterLink.exists()


async def test_bad_kinds_and_markup_in_the_handle(app, alice, circles):
    client = await logged_in(app, alice)
    response = await post_choices(client, "/c/gardeners/sisters", ["answer"], handle="growers")
    assert response.status_code == 400 and "Kinds of posts must be among" in await text(response)
    response = await post_choices(client, "/c/gardeners/sisters", ["question"], handle="<script>x()</script>")
    page = await text(response)
    assert response.status_code == 400 and "<script>x()" not in page
    assert not await SisterLink.exists()
