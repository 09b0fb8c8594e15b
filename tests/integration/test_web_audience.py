"""Every compose form and every item says who will see it, in the same plain
words, and what it says is what the circle's visibility applies."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.integration.webforms import logged_in, text

PUBLIC = "Anyone on the web and the fediverse"
MEMBERS = "Members of this circle"

FORMS = ["posts/new", "questions/new", "resources/new", "meetings/new", "proposals/new", "reviews/new"]


def audience_of(page: str, element_id: str = "audience") -> str:
    """The text of the audience line with that id, tags and spacing removed."""
    match = re.search(rf'<p class="audience" id="{element_id}">(.*?)</p>', page, re.DOTALL)
    assert match, f"no audience line #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())


@pytest.mark.parametrize(("visibility", "words"), [("public", PUBLIC), ("members", MEMBERS)])
async def test_each_compose_form_says_who_will_see_it(app, instance, alice, visibility, words):
    circle = await factories.circle(instance, alice, "study", visibility=visibility)
    client = await logged_in(app, alice)
    for form in FORMS:
        response = await client.get(f"/c/study/{form}")
        page = await text(response)
        assert response.status_code == 200, form
        assert audience_of(page) == f"Who can see this: {words}", form
        # The submit button points at it, so a screen reader reads it with the button.
        assert 'aria-describedby="audience"' in page, form
    post = await factories.post(instance, alice, circle, "Where do we start?")
    thread = await text(await client.get(f"/posts/{post.id}"))
    assert audience_of(thread, "post-audience") == f"Who can see this: {words}"
    assert audience_of(thread, "reply-audience") == f"Who can see this: {words}"


async def test_a_reflection_says_only_you_until_it_is_shared(app, instance, alice):
    await factories.circle(instance, alice, "study", visibility="members")
    client = await logged_in(app, alice)
    form = await text(await client.get("/c/study/reflections/new"))
    assert audience_of(form) == f"Who can see this: Only you (until you share it; then: {MEMBERS})"


async def test_the_safe_question_says_who_can_find_out_who_asked(app, instance, alice):
    await factories.circle(instance, alice, "study")
    form = await text(await (await logged_in(app, alice)).get("/c/study/questions/new"))
    # Moderators can reveal an asker too (circles.require_steward), so the form names them.
    assert "facilitators and moderators can look up who asked" in form
