"""Editing posts and "this helped me" on the thread page (web/html/post_actions.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import clock
from models.circles import Membership, Role
from models.posts import Like, Post, PostRevision
from models.services import governance, likes, post_edits
from models.services import posts as post_service
from models.services import questions as question_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def circle(instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")  # Alice facilitates
    await factories.member(circle, bob)
    return circle


async def _state(post_id: int) -> tuple:
    post = await Post.get(id=post_id)
    return post.title, post.source, post.content, post.updated_at, await PostRevision.all().count()


async def test_the_author_edits_a_reply_and_the_thread_shows_it_edited(app, instance, alice, bob, circle):
    root = await factories.post(instance, alice, circle, "Who read chapter 2?", title="Chapter 2")
    reply = await post_service.reply(instance, bob.actor, root, body="I did, *twice*")
    client = await logged_in(app, bob)
    thread = await text(await client.get(f"/posts/{root.id}"))
    assert f'href="/posts/{reply.id}/edit"' in thread and f'href="/posts/{root.id}/edit"' not in thread
    form = await text(await client.get(f"/posts/{reply.id}/edit"))
    assert "I did, *twice*" in form and 'name="title"' not in form  # a reply has no title
    preview = await submit(client, f"/posts/{reply.id}/edit", body="I did, **three** times", preview="1")
    assert "<strong>three</strong>" in await text(preview) and (await Post.get(id=reply.id)).updated_at is None
    response = await submit(client, f"/posts/{reply.id}/edit", body="I did, **three** times")
    assert response.status_code == 302 and response.location == f"/posts/{root.id}#post-{reply.id}"
    thread = await text(await client.get(f"/posts/{root.id}"))
    assert "<strong>three</strong>" in thread and "Edited <time" in thread
    assert f'href="/posts/{reply.id}/history"' in thread


async def test_a_top_level_post_changes_its_title(app, instance, bob, circle):
    post = await factories.post(instance, bob, circle, "Body", title="Old title")
    client = await logged_in(app, bob)
    assert 'value="Old title"' in await text(await client.get(f"/posts/{post.id}/edit"))
    assert (await submit(client, f"/posts/{post.id}/edit", title="New title", body="Body")).status_code == 302
    assert "<h1>New title</h1>" in await text(await client.get(f"/posts/{post.id}"))


@pytest.mark.parametrize("fields,message", [
    ({"title": "T", "body": "   "}, "is required"),
    ({"title": "T" * 201, "body": "ok"}, "200"),
    ({"title": "T", "body": "x" * 20_001}, "20000"),
])
async def test_bad_input_is_a_4xx_with_a_reason_and_changes_nothing(app, instance, bob, circle, fields, message):
    post = await factories.post(instance, bob, circle, "Keep", title="T")
    before = await _state(post.id)
    response = await submit(await logged_in(app, bob), f"/posts/{post.id}/edit", **fields)
    assert response.status_code == 422 or 400 <= response.status_code < 500
    body = await text(response)
    assert message in body.replace(",", "") and 'aria-invalid="true"' in body
    assert await _state(post.id) == before


async def test_who_may_edit(app, instance, alice, bob, circle):
    post = await factories.post(instance, bob, circle, "Bob's words", title="T")
    before = await _state(post.id)
    carol = await factories.account(instance, "carol")  # not in the circle
    for who in (alice, carol):  # a steward, an outsider
        client = await logged_in(app, who)
        assert (await client.get(f"/posts/{post.id}/edit")).status_code == 403
        assert (await submit(client, f"/posts/{post.id}/edit", title="T", body="Not theirs")).status_code == 403
        assert (await submit(client, f"/posts/{post.id}/edit", title="T", body="x", preview="1")).status_code == 403
    anonymous = await app.test_client().get(f"/posts/{post.id}/edit")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    await Membership.filter(circle=circle, actor=bob.actor).delete()  # Bob left
    bob_client = await logged_in(app, bob)
    assert (await submit(bob_client, f"/posts/{post.id}/edit", title="T", body="After leaving")).status_code == 403
    assert await _state(post.id) == before


async def test_a_proposal_says_why_it_cannot_be_edited(app, instance, alice, circle):
    proposal = await governance.propose(instance, alice.actor, circle, kind="free_text", title="Weekly?",
                                        body="Every Tuesday.", closes_at=clock.now() + dt.timedelta(days=3))
    client = await logged_in(app, alice)
    assert f"/posts/{proposal.post_id}/edit" not in await text(await client.get(f"/posts/{proposal.post_id}"))
    response = await client.get(f"/posts/{proposal.post_id}/edit")
    assert response.status_code == 409 and "members vote on the words they read" in await text(response)


async def test_the_history_is_for_the_author_and_the_stewards(app, instance, alice, bob, circle):
    post = await factories.post(instance, bob, circle, "First version", title="T")
    await post_edits.edit_post(bob.actor, post, title="T", body="Second version")
    carol = await factories.account(instance, "carol")
    await factories.member(circle, carol)
    for who in (bob, alice):  # the author, a facilitator
        page = await text(await (await logged_in(app, who)).get(f"/posts/{post.id}/history"))
        assert "First version" in page and "Second version" in page
    carol_client = await logged_in(app, carol)
    assert (await carol_client.get(f"/posts/{post.id}/history")).status_code == 403
    assert f"/posts/{post.id}/history" not in await text(await carol_client.get(f"/posts/{post.id}"))
    await Membership.filter(circle=circle, actor=carol.actor).update(role=Role.MODERATOR)
    assert "First version" in await text(await carol_client.get(f"/posts/{post.id}/history"))


async def test_a_safe_questions_asker_edits_it_without_being_named(app, instance, alice, bob, circle):
    question = await question_service.ask(instance, bob.actor, circle, title="Why?", body="Quietly", safe=True)
    client = await logged_in(app, bob)
    assert f"/posts/{question.id}/edit" in await text(await client.get(f"/posts/{question.id}"))
    assert (await submit(client, f"/posts/{question.id}/edit", title="Why, really?", body="Clearly")).status_code == 302
    history = await text(await (await logged_in(app, alice)).get(f"/posts/{question.id}/history"))
    assert "Quietly" in history and "@bob" not in history and ">Bob<" not in history and "/users/bob" not in history


# Likes


def _like_button(page: str, post_id: int) -> str:
    form = re.search(rf'<form[^>]*action="/posts/{post_id}/like".*?</form>', page, re.S)
    return form.group(0) if form else ""


async def test_a_member_likes_an_answer_and_everyone_sees_the_count(app, instance, alice, bob, circle):
    question = await question_service.ask(instance, alice.actor, circle, title="How?", body="Tell me")
    answer = await post_service.reply(instance, bob.actor, question, body="Like this")
    client = await logged_in(app, alice)
    button = _like_button(await text(await client.get(f"/posts/{question.id}")), answer.id)
    assert 'aria-pressed="false"' in button and "This helped me" in button
    response = await submit(client, f"/posts/{answer.id}/like", helpful="1")
    assert response.status_code == 302 and response.location == f"/posts/{question.id}#post-{answer.id}"
    page = await text(await client.get(f"/posts/{question.id}"))
    assert 'aria-pressed="true"' in _like_button(page, answer.id)
    assert "1 person found this helpful" in page and '<li><a href="/users/alice">alice</a></li>' in page
    visitor = await text(await app.test_client().get(f"/posts/{question.id}"))
    assert "1 person found this helpful" in visitor and "/users/alice" not in visitor.split("replies-heading")[1]
    assert not _like_button(visitor, answer.id)
    assert not _like_button(await text(await (await logged_in(app, bob)).get(f"/posts/{question.id}")), answer.id)
    await submit(client, f"/posts/{answer.id}/like", helpful="0")
    assert await Like.filter(post_id=answer.id).count() == 0


async def test_a_like_from_outside_the_circle_is_refused(app, instance, alice, circle):
    post = await factories.post(instance, alice, circle, "Hi")
    carol = await factories.account(instance, "carol")
    response = await submit(await logged_in(app, carol), f"/posts/{post.id}/like", helpful="1")
    assert response.status_code == 403 and await Like.all().count() == 0


async def test_a_thread_of_liked_replies_costs_the_same_queries_however_long(
    app, instance, alice, bob, circle, count_queries
):
    root = await question_service.ask(instance, alice.actor, circle, title="Why?", body="?")
    client, visitor = await logged_in(app, alice), app.test_client()

    async def grow(k):
        for n in range(k):
            person = await factories.account(instance)
            await factories.member(circle, person)
            reply = await post_service.reply(instance, person.actor, root, body=f"Because {n}")
            await likes.like(alice.actor, reply)
            await likes.like(bob.actor, reply)
            await post_edits.edit_post(person.actor, reply, body=f"Because, edited {n}")

    async def queries(viewer):
        await viewer.get(f"/posts/{root.id}")
        with count_queries() as counted:
            page = await text(await viewer.get(f"/posts/{root.id}"))
        return len(counted), page.count("2 people found this helpful")

    await grow(2)
    few = {who: await queries(who) for who in (client, visitor)}
    await grow(6)
    many = {who: await queries(who) for who in (client, visitor)}
    for who in (client, visitor):
        assert (few[who][1], many[who][1]) == (2, 8)  # the rows are really shown
        assert many[who][0] == few[who][0], (few, many)


async def test_the_history_page_costs_the_same_queries_however_many_versions(app, instance, bob, circle, count_queries):
    post = await factories.post(instance, bob, circle, "v0", title="T")
    client = await logged_in(app, bob)

    async def queries():
        await client.get(f"/posts/{post.id}/history")
        with count_queries() as counted:
            await client.get(f"/posts/{post.id}/history")
        return len(counted)

    await post_edits.edit_post(bob.actor, post, body="v1")
    few = await queries()
    for n in range(2, 6):
        await post_edits.edit_post(bob.actor, await Post.get(id=post.id), body=f"v{n}")
    assert await queries() == few
