"""Lists that grow come in pages: a thread's replies and the admin's accounts
(page sizes made small here, so a few rows make several pages)."""

from __future__ import annotations

import re

import pytest

from models.accounts import AccountState
from models.posts import Post
from models.services import accounts as account_service
from models.services import posts as post_service
from models.services import threads
from tests import factories
from tests.factories import PASSWORD
from tests.integration.webforms import logged_in, submit, text
from web.html import admin


def reply_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="reply[^"]*" id="post-(\d+)"', html)]


@pytest.fixture
async def thread(instance, alice, bob, monkeypatch):
    monkeypatch.setattr(threads, "REPLY_PAGE_SIZE", 3)
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    root = await factories.post(instance, alice, circle, "Where do we start?", title="Start")
    replies = [await post_service.reply(instance, bob.actor, root, body=f"Reply {n}") for n in range(5)]
    return root, replies


async def test_a_long_thread_comes_in_pages_of_replies(client, thread):
    root, replies = thread
    first = await text(await client.get(f"/posts/{root.id}"))
    assert reply_ids(first) == [r.id for r in replies[:3]]
    assert f'href="/posts/{root.id}?page=2">Later replies</a>' in first
    assert "Earlier replies" not in first

    second = await text(await client.get(f"/posts/{root.id}?page=2"))
    assert reply_ids(second) == [r.id for r in replies[3:]]
    assert f'href="/posts/{root.id}?page=1">Earlier replies</a>' in second
    assert "Later replies" not in second
    assert "Where do we start?" in second  # the question stays on top of every page

    beyond = await text(await client.get(f"/posts/{root.id}?page=9"))
    assert reply_ids(beyond) == [] and "Earlier replies" in beyond


async def test_a_replys_address_opens_the_page_it_is_on(client, thread):
    root, replies = thread
    html = await text(await client.get(f"/posts/{replies[4].id}"))
    assert reply_ids(html) == [r.id for r in replies[3:]]
    assert f'class="reply focused" id="post-{replies[4].id}"' in html
    html = await text(await client.get(f"/posts/{replies[1].id}"))
    assert reply_ids(html) == [r.id for r in replies[:3]]


async def test_after_replying_you_land_on_the_page_with_your_reply(app, bob, thread):
    root, replies = thread
    client = await logged_in(app, bob)
    response = await submit(client, f"/posts/{root.id}/reply", body="One more")
    assert response.status_code == 302
    new = await Post.filter(root_id=root.id).order_by("-id").first()
    assert response.location == f"/posts/{root.id}?page=2#post-{new.id}"
    assert new.id in reply_ids(await text(await client.get(response.location.split("#")[0])))
    # In a thread of one page the address has no page.
    short = await factories.post(app.extensions["circles.instance"], bob, await root.circle, "Short one")
    response = await submit(client, f"/posts/{short.id}/reply", body="Only reply")
    only = await Post.get(root_id=short.id)
    assert response.location == f"/posts/{short.id}#post-{only.id}"


async def test_the_admin_page_lists_accounts_in_pages_and_every_waiting_sign_up(app, instance, monkeypatch):
    monkeypatch.setattr(admin, "PAGE_SIZE", 3)
    boss = await factories.account(instance, "boss", is_admin=True)
    for n in range(5):
        await factories.account(instance, f"member{n}")
    await account_service.create_account(instance, username="waiting", email="waiting@example.org",
                                         password=PASSWORD, state=AccountState.PENDING)
    client = await logged_in(app, boss)

    first = await text(await client.get("/admin/"))
    assert "<td>@member1</td>" in first and "<td>@member2</td>" not in first
    assert 'href="/admin/?page=2">Next</a>' in first
    # The waiting sign-up is on the third page of accounts, but listed for approval on every page.
    assert "<strong>@waiting</strong>" in first

    second = await text(await client.get("/admin/?page=2"))
    assert "<td>@member2</td>" in second and "<td>@waiting</td>" not in second
    assert 'href="/admin/?page=1">Previous</a>' in second and 'href="/admin/?page=3">Next</a>' in second
    third = await text(await client.get("/admin/?page=3"))
    assert "<td>@waiting</td>" in third and "Next</a>" not in third


async def test_a_branch_is_never_split_across_pages(client, instance, bob, thread):
    root, replies = thread
    nested = await post_service.reply(instance, bob.actor, replies[0], body="An answer to the first reply")
    first = await text(await client.get(f"/posts/{root.id}"))
    assert "6 replies" in first  # the thread's count, not this page's
    # Pages of 3 replies: the first branch (2 replies) and the next one; the rest later.
    assert reply_ids(first) == [replies[0].id, nested.id, replies[1].id]
    later = await text(await client.get(f"/posts/{root.id}?page=2"))
    assert reply_ids(later) == [r.id for r in replies[2:]]
    # The nested reply's own address opens the page with its branch, scrolled to it.
    html = await text(await client.get(f"/posts/{nested.id}"))
    assert f'class="reply focused" id="post-{nested.id}"' in html and reply_ids(html) == reply_ids(first)
    assert await threads.place_of(nested) == threads.Place(page=1)
    assert await threads.place_of(replies[3]) == threads.Place(page=2)
