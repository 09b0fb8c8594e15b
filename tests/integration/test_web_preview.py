"""Markdown preview on compose forms: the same form again with the values
kept and the Markdown rendered through the one sanitiser; nothing saved."""

from __future__ import annotations

import re

import pytest

from models.posts import Post
from models.reflections import Reflection
from tests import factories
from tests.integration.webforms import logged_in, submit, text

HOSTILE = (
    "**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
    '<img src=x onerror=alert(1)> <a href="#" onclick="steal()">y</a> <style>body{}</style>'
)


def assert_no_live_markup(html: str) -> None:
    """No element that runs code survives; escaped text (&lt;script&gt;) may."""
    for tag in ("script", "img", "style", "iframe"):
        assert f"<{tag}" not in html.lower(), tag
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.I), "an on* attribute survived"
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html, re.I), "a javascript: URL survived"


def preview_region(html: str) -> str:
    match = re.search(r'<div class="preview" role="region".*?</div>\s*</div>', html, re.S)
    assert match, "the page shows no preview"
    return match.group(0)


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers")


async def test_preview_of_a_new_post_keeps_values_and_saves_nothing(app, alice, circle):
    client = await logged_in(app, alice)
    form = await text(await client.get("/c/readers/posts/new"))
    assert 'name="preview"' in form and "Formatting help (Markdown)" in form

    response = await submit(
        client, "/c/readers/posts/new", title="Chapter one", body="What about **the ending**?", preview="1"
    )
    html = await text(response)
    assert response.status_code == 200
    assert "<strong>the ending</strong>" in preview_region(html)
    assert 'value="Chapter one"' in html  # the title is kept
    assert "What about **the ending**?</textarea>" in html  # and the Markdown as typed
    assert "not saved yet" in html
    assert await Post.all().count() == 0


async def test_preview_of_hostile_markdown_is_sanitised(app, alice, circle):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/posts/new", body=HOSTILE, preview="1")
    html = await text(response)
    region = preview_region(html)
    assert "<strong>bold</strong>" in region
    assert_no_live_markup(region)
    assert "&lt;script&gt;" in region  # raw HTML in Markdown is shown as text
    # The textarea shows the typed text escaped, never as markup.
    assert "<script>alert(1)</script>" not in html
    assert await Post.all().count() == 0


async def test_preview_still_needs_the_csrf_token(app, alice, circle):
    client = await logged_in(app, alice)
    response = await client.post("/c/readers/posts/new", form={"body": "Hi **there**", "preview": "1"})
    assert response.status_code == 403
    assert "<strong>there</strong>" not in await text(response)


async def test_preview_of_a_reply_shows_only_the_reply_form_preview(app, instance, alice, circle):
    post = await factories.post(instance, alice, circle, body="First")
    client = await logged_in(app, alice)
    response = await submit(client, f"/posts/{post.id}/reply", body="_Agreed_", preview="1")
    html = await text(response)
    assert response.status_code == 200
    assert "<em>Agreed</em>" in preview_region(html)
    assert html.count('class="preview"') == 1
    assert await Post.filter(in_reply_to=post).count() == 0


async def test_preview_of_structured_feedback_renders_each_part(app, instance, alice, bob, circle):
    await factories.member(circle, bob)
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/reviews/new", title="My essay", body="Read **it**", preview="1")
    assert "<strong>it</strong>" in preview_region(await text(response))
    await submit(client, "/c/readers/reviews/new", title="My essay", body="Read it")
    work = await Post.get(title="My essay")

    reviewer = await logged_in(app, bob)
    response = await submit(
        reviewer, f"/posts/{work.id}/feedback", works="*clear*", questions="", suggestions="`shorter`", preview="1"
    )
    html = await text(response)
    assert "<em>clear</em>" in html and "<code>shorter</code>" in html
    assert html.count('class="preview"') == 3  # one per part sent, none for the reply form
    assert await Post.filter(in_reply_to=work).count() == 0


async def test_preview_of_a_reflection_saves_nothing(app, alice, circle):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/reflections/new", body="I learnt *much*", preview="1")
    assert response.status_code == 200
    assert "<em>much</em>" in preview_region(await text(response))
    assert await Reflection.all().count() == 0
