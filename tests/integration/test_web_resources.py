"""The resource library through the web UI."""

from __future__ import annotations

import re

import pytest

from models.posts import Like, Post
from models.resources import Resource
from models.services import resources as resource_service
from tests import factories
from tests.integration.test_web_posts import XSS_BODY, assert_no_live_markup
from tests.integration.webforms import logged_in, submit, text

LINK = "https://docs.python.org/3/tutorial/"


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers")


def fields(**overrides) -> dict:
    return {"title": "The Python tutorial", "link": LINK, "description": "Start *here*.",
            "licence": "cc-by-sa", "level": "beginner", "tags": "Python, #docs"} | overrides


async def add(instance, account, circle, **overrides):
    values = fields(**overrides)
    return await resource_service.add_resource(instance, account.actor, circle, **values)


async def test_the_circle_page_links_to_its_library(client, circle):
    assert 'href="/c/readers/resources"' in await text(await client.get("/c/readers"))


async def test_a_member_adds_a_resource_and_sees_it_in_the_library(app, alice, circle):
    client = await logged_in(app, alice)
    assert (await client.get("/c/readers/resources/new")).status_code == 200
    response = await submit(client, "/c/readers/resources/new", **fields())
    assert response.status_code == 302
    resource = await Resource.get().select_related("post")
    assert response.location == f"/posts/{resource.post_id}"
    assert (resource.link, resource.post.circle_id) == (LINK, circle.id)

    page = await text(await client.get(response.location))
    assert "<h1>The Python tutorial</h1>" in page
    assert f'<a href="{LINK}" rel="noopener nofollow ugc">' in page
    assert "CC BY-SA" in page and "Beginner" in page
    assert 'href="/c/readers/resources?tag=python">#python</a>' in page
    assert 'href="/c/readers/resources">Readers</a>' in page  # where used

    library = await text(await client.get("/c/readers/resources"))
    assert "The Python tutorial" in library and "#docs" in library and "0 found it helpful" in library


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"link": "javascript:alert(1)"}, "link", "Link must be a web address starting with https:// or http://."),
        ({"link": " JAVASCRIPT:alert(1)"}, "link", "Link must be a web address starting with https:// or http://."),
        ({"link": "data:text/html,hi"}, "link", "Link must be a web address starting with https:// or http://."),
        ({"link": "https://example.org/" + "a" * 2000}, "link", "Link is too long: 2020 characters, at most 2000."),
        ({"title": "T" * 201}, "title", "Title is too long: 201 characters, at most 200."),
        ({"description": ""}, "description", "Description is required."),
        ({"tags": "a b c d e f g h i j k"}, "tags", "Choose at most 10 tags."),
        ({"licence": "mine"}, "licence", None),
    ],
)
async def test_bad_input_is_refused_and_kept_in_the_form(app, alice, circle, overrides, field, message):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/resources/new", **fields(**overrides))
    html = await text(response)
    assert response.status_code == 400
    assert f'<p class="error" id="f-{field}-error">' in html
    if message:
        assert message in html
    assert 'value="The Python tutorial"' in html or field == "title"  # what was typed is kept
    assert await Resource.all().count() == 0 and await Post.all().count() == 0


async def test_non_members_cannot_add(app, instance, circle):
    bob = await factories.account(instance, "bob")
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/resources/new", **fields())
    assert response.status_code == 403
    assert "Join this circle to take part in it." in await text(response)
    assert await Resource.all().count() == 0


async def test_forms_without_csrf_are_refused(app, alice, circle, instance):
    client = await logged_in(app, alice)
    response = await client.post("/c/readers/resources/new", form=fields())
    assert response.status_code in (400, 403)
    resource = await add(instance, alice, circle)
    response = await client.post(f"/posts/{resource.post_id}/like", form={})
    assert response.status_code in (400, 403)
    assert await Resource.all().count() == 1 and await Like.all().count() == 0


async def test_script_in_a_description_is_escaped(app, alice, circle):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/resources/new", **fields(description=XSS_BODY, title="<b>bold</b>"))
    assert response.status_code == 302
    for path in (response.location, "/c/readers/resources"):
        html = await text(await client.get(path))
        assert_no_live_markup(html)
        assert "&lt;b&gt;bold&lt;/b&gt;" in html


async def test_filters_narrow_the_library(client, instance, alice, circle):
    await add(instance, alice, circle)
    await add(instance, alice, circle, title="Async in depth", link="https://example.org/async", level="advanced",
              licence="cc0", tags="python async")
    await add(instance, alice, circle, title="Rust book", link="https://doc.rust-lang.org/book/", tags="rust",
              licence="cc-by", description="About ownership")

    async def shown(query: str) -> list[str]:
        html = await text(await client.get(f"/c/readers/resources?{query}"))
        return re.findall(r'<h3><a href="/posts/\d+">([^<]+)</a></h3>', html)

    assert await shown("") == ["Rust book", "Async in depth", "The Python tutorial"]
    assert await shown("tag=python") == ["Async in depth", "The Python tutorial"]
    assert await shown("tag=python&level=advanced") == ["Async in depth"]
    assert await shown("q=ownership") == ["Rust book"]
    assert await shown("licence=cc0&q=async") == ["Async in depth"]
    response = await client.get("/c/readers/resources?level=expert")
    assert response.status_code == 400 and "Level must be one of" in await text(response)
    response = await client.get("/c/readers/resources?tag=%3Cscript%3E")
    assert response.status_code == 400 and "&lt;script&gt;" in await text(response)


async def test_library_is_paginated(client, instance, alice, circle):
    for n in range(resource_service.PAGE_SIZE + 1):
        await add(instance, alice, circle, title=f"Item {n}", link=f"https://example.org/{n}")
    first = await text(await client.get("/c/readers/resources"))
    assert "Item 20" in first and "Item 0<" not in first
    assert 'href="/c/readers/resources?page=2' in first
    second = await text(await client.get("/c/readers/resources?page=2"))
    assert "Item 0<" in second and "Item 20" not in second


async def test_helpful_is_set_and_taken_back(app, instance, alice, circle):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    resource = await add(instance, alice, circle)
    client = await logged_in(app, bob)
    for _ in range(2):  # a double submit likes once
        response = await submit(client, f"/posts/{resource.post_id}/like", next="/c/readers/resources?order=helpful",
                                helpful="1")
        assert response.status_code == 302 and response.location == "/c/readers/resources?order=helpful"
    assert await Like.filter(post_id=resource.post_id, actor=bob.actor).count() == 1
    assert "Helpful ✓ (1)" in await text(await client.get("/c/readers/resources"))
    response = await submit(client, f"/posts/{resource.post_id}/like", next="https://evil.example/", helpful="0")
    assert response.status_code == 302 and response.location == "/"
    assert await Like.all().count() == 0

    stranger = await logged_in(app, await factories.account(instance, "stranger"))
    response = await submit(stranger, f"/posts/{resource.post_id}/like")
    assert response.status_code == 403 and await Like.all().count() == 0


async def test_reshare_from_the_resource_page(app, instance, alice, circle):
    other = await factories.circle(instance, alice, "writers")
    resource = await add(instance, alice, circle)
    client = await logged_in(app, alice)
    page = await text(await client.get(f"/posts/{resource.post_id}"))
    assert '<option value="writers">Writers</option>' in page
    response = await submit(client, f"/resources/{resource.id}/reshare", circle="writers")
    assert response.status_code == 302
    copy = await Resource.get(reshared_from_id=resource.id).select_related("post")
    assert copy.post.circle_id == other.id and response.location == f"/posts/{copy.post_id}"
    assert "Shared from" in await text(await client.get(response.location))

    again = await submit(client, f"/resources/{resource.id}/reshare", circle="writers")
    assert again.status_code == 409 and "already has this link" in await text(again)
    outsider = await factories.circle(instance, await factories.account(instance, "zed"), "closed", join_mode="invite")
    refused = await submit(client, f"/resources/{resource.id}/reshare", circle=outsider.actor.username)
    assert refused.status_code == 403
    assert await Resource.all().count() == 2


async def test_the_author_or_a_steward_edits(app, instance, alice, circle):
    bob, carol = await factories.account(instance, "bob"), await factories.account(instance, "carol")
    await factories.member(circle, bob)
    await factories.member(circle, carol)
    resource = await add(instance, bob, circle)
    other = await logged_in(app, carol)
    assert "Edit this resource" not in await text(await other.get(f"/posts/{resource.post_id}"))
    assert (await other.get(f"/resources/{resource.id}/edit")).status_code == 403
    refused = await submit(other, f"/resources/{resource.id}/edit", **fields(title="Mine"))
    assert refused.status_code == 403

    steward = await logged_in(app, alice)
    assert "Edit this resource" in await text(await steward.get(f"/posts/{resource.post_id}"))
    form = await text(await steward.get(f"/resources/{resource.id}/edit"))
    assert 'value="python docs"' in form and 'value="The Python tutorial"' in form
    bad = await submit(steward, f"/resources/{resource.id}/edit", **fields(link="javascript:alert(1)", title="Kept"))
    assert bad.status_code == 400 and 'value="Kept"' in await text(bad)
    response = await submit(steward, f"/resources/{resource.id}/edit", **fields(title="Tutorial 3.13", tags="python"))
    assert response.status_code == 302 and response.location == f"/posts/{resource.post_id}"
    assert "<h1>Tutorial 3.13</h1>" in await text(await steward.get(response.location))
    assert (await Resource.get(id=resource.id)).link == LINK
