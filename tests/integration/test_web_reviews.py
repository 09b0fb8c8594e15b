"""Peer review through the web UI."""

from __future__ import annotations

import pytest

from models.posts import Post, PostKind
from models.reviews import Feedback
from tests import factories
from tests.integration.test_web_posts import XSS_BODY, assert_no_live_markup
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def people(database, instance):
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "writers", name="Writers")
    await factories.member(circle, bob)
    return alice, bob, circle


async def test_share_work_get_feedback_and_mark_it_helpful(app, people):
    alice, bob, _ = people
    alice_client = await logged_in(app, alice)
    response = await submit(alice_client, "/c/writers/reviews/new", title="My essay", body="Is the ending clear?",
                            link="https://alice.example/essay")
    assert response.status_code == 302
    work = await Post.get(kind=PostKind.REVIEW)
    assert "My essay" in await text(await alice_client.get("/c/writers/reviews"))
    assert "Give feedback" not in await text(await alice_client.get(f"/posts/{work.id}"))

    bob_client = await logged_in(app, bob)
    assert "Give feedback" in await text(await bob_client.get(f"/posts/{work.id}"))
    response = await submit(bob_client, f"/posts/{work.id}/feedback", works="Strong opening", questions=XSS_BODY)
    assert response.status_code == 302
    feedback = await Feedback.get()
    page = await text(await alice_client.get(f"/posts/{work.id}"))
    assert "Strong opening" in page and "Mark as helpful" in page
    assert_no_live_markup(page)

    response = await submit(alice_client, f"/posts/{feedback.reply_id}/helpful", helpful="1")
    assert response.status_code == 302
    assert "The author found this helpful" in await text(await bob_client.get(f"/posts/{work.id}"))
    response = await submit(bob_client, f"/posts/{feedback.reply_id}/helpful", helpful="0")
    assert response.status_code == 403
    assert (await Feedback.get(id=feedback.id)).helpful_at is not None


async def test_bad_review_input_is_kept_with_its_reason(app, people):
    alice, bob, _ = people
    client = await logged_in(app, alice)
    response = await submit(client, "/c/writers/reviews/new", title="Essay", body="kept text",
                            link="javascript:alert(1)")
    assert response.status_code == 400
    page = await text(response)
    assert "must be a web address" in page and "kept text" in page
    assert await Post.all().count() == 0

    await submit(client, "/c/writers/reviews/new", title="Essay", body="Look")
    work = await Post.get(kind=PostKind.REVIEW)
    response = await submit(await logged_in(app, bob), f"/posts/{work.id}/feedback", works="", questions="")
    assert response.status_code == 400
    assert "Write at least one part" in await text(response)
    assert await Feedback.all().count() == 0
