"""Posts and replies through the web UI."""

from __future__ import annotations

import re

import pytest

from models.circles import Circle
from models.posts import Post
from tests import factories
from tests.integration.webforms import logged_in, submit, text

XSS_BODY = "Look: <script>alert(1)</script> and [x](javascript:alert(1)) and <img src=x onerror=alert(1)>"


def assert_no_live_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img" not in html
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", html, re.IGNORECASE)
    assert not re.search(r"<[^>]*\sonerror\s*=", html, re.IGNORECASE)


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "readers")


# Posting


async def test_member_posts_in_a_circle(app, alice, circle):
    client = await logged_in(app, alice)
    assert (await client.get("/c/readers/posts/new")).status_code == 200
    response = await submit(
        client, "/c/readers/posts/new", title="Chapter one", body="What did you think of **the ending**?"
    )
    assert response.status_code == 302
    post = await Post.get(circle=circle)
    assert response.location == f"/posts/{post.id}"
    assert (post.title, post.author_id, post.root_id) == ("Chapter one", alice.actor.id, None)
    assert (await Circle.get(id=circle.id)).post_count == 1

    page = await text(await client.get(response.location))
    assert "<h1>Chapter one</h1>" in page
    assert "<strong>the ending</strong>" in page
    assert "Chapter one" in await text(await client.get("/c/readers"))


async def test_non_member_cannot_post(app, instance, circle):
    bob = await factories.account(instance, "bob")
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/posts/new", title="Hi", body="Let me in")
    assert response.status_code == 403
    assert "Join this circle to take part in it." in await text(response)
    assert await Post.all().count() == 0


@pytest.mark.parametrize(
    ("title", "body", "field", "message"),
    [
        ("A title", "", "body", "Your post is required."),
        ("A title", "   \n  ", "body", "Your post is required."),
        ("A title", "x" * 20_001, "body", "Your post is too long: 20001 characters, at most 20000."),
        ("T" * 201, "Fine body", "title", "Title is too long: 201 characters, at most 200."),
    ],
)
async def test_invalid_post_is_refused_and_nothing_stored(app, alice, circle, title, body, field, message):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/posts/new", title=title, body=body)
    html = await text(response)
    assert response.status_code == 400
    assert f'<p class="error" id="f-{field}-error">{message}</p>' in html
    assert f'value="{title}"' in html  # what was typed is kept
    assert await Post.all().count() == 0
    assert (await Circle.get(id=circle.id)).post_count == 0


async def test_posting_needs_login(client, circle):
    response = await submit(client, "/c/readers/posts/new", body="Anonymous")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert await Post.all().count() == 0


# Replies and threads


async def test_reply_appears_on_the_thread_page(app, instance, alice, circle):
    root = await factories.post(instance, alice, circle, "Who is reading?", title="Roll call")
    client = await logged_in(app, alice)
    response = await submit(client, f"/posts/{root.id}/reply", body="Me, *obviously*")
    assert response.status_code == 302
    reply = await Post.get(in_reply_to_id=root.id)
    assert response.location == f"/posts/{root.id}#post-{reply.id}"
    assert reply.root_id == root.id
    assert (await Post.get(id=root.id)).reply_count == 1

    page = await text(await client.get(f"/posts/{root.id}"))
    assert "1 reply" in page
    assert f'id="post-{reply.id}"' in page and "Me, <em>obviously</em>" in page


async def test_reply_to_a_reply_lands_in_the_same_thread(app, instance, alice, circle):
    root = await factories.post(instance, alice, circle, "Root post")
    client = await logged_in(app, alice)
    await submit(client, f"/posts/{root.id}/reply", body="First reply")
    first = await Post.get(in_reply_to_id=root.id)

    response = await submit(client, f"/posts/{first.id}/reply", body="Reply to the reply")
    assert response.status_code == 302
    nested = await Post.get(in_reply_to_id=first.id)
    assert response.location == f"/posts/{root.id}#post-{nested.id}"
    assert nested.root_id == root.id
    assert (await Post.get(id=root.id)).reply_count == 2

    page = await text(await client.get(f"/posts/{root.id}"))
    assert "2 replies" in page
    assert "First reply" in page and "Reply to the reply" in page
    # Nested: the answer to the first reply sits in the first reply's branch.
    assert page.index(f'id="post-{first.id}"') < page.index('<details class="branch" open>') < page.index(
        f'id="post-{nested.id}"'
    )
    # The reply's own address shows the whole thread too.
    assert "Reply to the reply" in await text(await client.get(f"/posts/{first.id}"))


async def test_empty_reply_is_refused(app, instance, alice, circle):
    root = await factories.post(instance, alice, circle, "Root post")
    client = await logged_in(app, alice)
    response = await submit(client, f"/posts/{root.id}/reply", body="  ")
    assert response.status_code == 400
    assert "Your reply is required." in await text(response)
    assert await Post.all().count() == 1


async def test_non_member_cannot_reply(app, instance, alice, circle):
    root = await factories.post(instance, alice, circle, "Members only")
    bob = await factories.account(instance, "bob")
    client = await logged_in(app, bob)
    assert "to reply" in await text(await client.get(f"/posts/{root.id}"))
    response = await submit(client, f"/posts/{root.id}/reply", body="Sneaky")
    assert response.status_code == 403
    assert await Post.all().count() == 1


# Safety of what people typed


async def test_html_and_script_in_a_post_are_never_live(app, alice, circle):
    client = await logged_in(app, alice)
    response = await submit(
        client, "/c/readers/posts/new", title="<script>alert(1)</script>", body=XSS_BODY
    )
    assert response.status_code == 302
    post = await Post.get(circle=circle)
    assert_no_live_markup(post.content)  # stored already sanitised
    await submit(client, f"/posts/{post.id}/reply", body=XSS_BODY)

    for path in (f"/posts/{post.id}", "/c/readers", "/"):
        html = await text(await client.get(path))
        assert_no_live_markup(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, escaped


async def test_html_in_a_refused_post_is_escaped_in_the_form(app, alice, circle):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/posts/new", title="T" * 201, body=XSS_BODY)
    html = await text(response)
    assert response.status_code == 400
    assert_no_live_markup(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# Pages


async def test_unknown_post_is_404(client):
    response = await client.get("/posts/123456789")
    assert response.status_code == 404
    assert "That post does not exist or was deleted." in await text(response)
    assert (await client.get("/posts/not-a-number")).status_code == 404


async def test_a_deleted_post_with_replies_keeps_its_thread_readable(app, instance, alice, circle):
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    root = await factories.post(instance, alice, circle, "Soon gone", title="A question")
    lonely = await factories.post(instance, alice, circle, "No one answered", title="Alone")
    owner, member = await logged_in(app, alice), await logged_in(app, bob)
    assert (await submit(member, f"/posts/{root.id}/reply", body="Bob's answer stays")).status_code == 302
    for post in (root, lonely):
        assert (await submit(owner, f"/posts/{post.id}/delete", confirm="yes")).status_code == 302
    page = await text(await member.get(f"/posts/{root.id}"))
    assert "This post was deleted. The replies stay." in page and "Bob's answer stays" in page
    assert "Soon gone" not in page and "This post was deleted, so it takes no new replies." in page
    assert (await submit(member, f"/posts/{root.id}/reply", body="Too late")).status_code == 404
    assert (await member.get(f"/posts/{lonely.id}")).status_code == 404  # nothing left to read


async def test_home_shows_posts_from_my_circles_only(app, instance, alice, circle):
    await factories.post(instance, alice, circle, "In my circle", title="Mine")
    bob = await factories.account(instance, "bob")
    elsewhere = await factories.circle(instance, bob, "elsewhere")
    await factories.post(instance, bob, elsewhere, "Not for alice", title="Theirs")

    client = await logged_in(app, alice)
    page = await text(await client.get("/"))
    assert "Mine" in page and "Readers" in page
    assert "Theirs" not in page


async def test_circle_page_is_paginated(app, instance, alice, circle):
    for n in range(1, 26):
        await factories.post(instance, alice, circle, f"Body {n}", title=f"Post {n:02}")
    client = app.test_client()

    first = await text(await client.get("/c/readers"))
    titles = re.findall(r">Post (\d\d)</a>", first)
    assert titles == [f"{n:02}" for n in range(25, 5, -1)]  # the newest 20
    older = re.search(r'href="(/c/readers\?before=\d+)">Older posts', first).group(1)

    second = await text(await client.get(older))
    assert re.findall(r">Post (\d\d)</a>", second) == ["05", "04", "03", "02", "01"]
    assert "Older posts" not in second


@pytest.mark.parametrize("before", ["abc", "-1", "1e5", "²", "9" * 40, ""])
async def test_malformed_before_shows_the_first_page(app, instance, alice, circle, before):
    await factories.post(instance, alice, circle, "Newest", title="Newest post")
    response = await app.test_client().get("/c/readers", query_string={"before": before})
    assert response.status_code == 200
    assert "Newest post" in await text(response)
