"""Questions, accepted answers and safe questions through the web UI."""

from __future__ import annotations

import pytest

from models.posts import Post, PostKind
from models.questions import SafeQuestionReveal
from models.services import posts as post_service
from models.services import questions as question_service
from tests import factories
from tests.integration.test_web_posts import XSS_BODY, assert_no_live_markup
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def people(database, instance):
    alice = await factories.account(instance, "alice")  # facilitator
    bob = await factories.account(instance, "bob")
    cleo = await factories.account(instance, "cleo")
    circle = await factories.circle(instance, alice, "pythonistas", name="Pythonistas")
    await factories.member(circle, bob)
    await factories.member(circle, cleo)
    return alice, bob, cleo, circle


async def test_ask_answer_and_accept(app, instance, people):
    alice, bob, cleo, circle = people
    bob_client = await logged_in(app, bob)
    assert (await bob_client.get("/c/pythonistas/questions/new")).status_code == 200
    response = await submit(bob_client, "/c/pythonistas/questions/new", title="Why None?", body="It returns **None**")
    assert response.status_code == 302
    question = await Post.get(kind=PostKind.QUESTION)
    assert question.author_id == bob.actor.id and question.asked_by_id is None

    listing = await text(await bob_client.get("/c/pythonistas/questions"))
    assert "Why None?" in listing and "no answer yet" in listing

    answer = await post_service.reply(instance, cleo.actor, question, body="Add a `return`.")
    page = await text(await bob_client.get(f"/posts/{question.id}"))
    assert "Accept this answer" in page
    cleo_client = await logged_in(app, cleo)
    assert "Accept this answer" not in await text(await cleo_client.get(f"/posts/{question.id}"))

    response = await submit(bob_client, f"/posts/{question.id}/accept", answer_id=str(answer.id))
    assert response.status_code == 302
    assert (await Post.get(id=question.id)).accepted_answer_id == answer.id
    page = await text(await bob_client.get(f"/posts/{question.id}"))
    assert "✅ Accepted answer" in page and "Open the question again" in page
    assert "Why None?" in await text(await bob_client.get("/c/pythonistas/questions?show=answered"))
    assert "Why None?" not in await text(await bob_client.get("/c/pythonistas/questions?show=open"))
    members = await text(await bob_client.get("/c/pythonistas/members"))
    assert "helped with 1 accepted answer" in members
    assert "helped with 1 accepted answer" in await text(await bob_client.get("/users/cleo"))


async def test_others_cannot_accept_and_nothing_changes(app, instance, people):
    _, bob, cleo, circle = people
    question = await question_service.ask(instance, bob.actor, circle, title="Q", body="?")
    answer = await post_service.reply(instance, cleo.actor, question, body="A")
    cleo_client = await logged_in(app, cleo)
    response = await submit(cleo_client, f"/posts/{question.id}/accept", answer_id=str(answer.id))
    assert response.status_code == 403
    assert "Only the person who asked" in await text(response)
    for bad in ("", "abc", "99999999999999999999", str(question.id)):
        response = await submit(await logged_in(app, bob), f"/posts/{question.id}/accept", answer_id=bad)
        assert response.status_code in (400, 404), bad
    assert (await Post.get(id=question.id)).accepted_answer_id is None


async def test_bad_questions_are_shown_back_with_the_reason(app, people):
    _, bob, _, _ = people
    client = await logged_in(app, bob)
    response = await submit(client, "/c/pythonistas/questions/new", title="", body="details kept")
    assert response.status_code == 400
    page = await text(response)
    assert "Your question is required." in page and "details kept" in page
    response = await submit(client, "/c/pythonistas/questions/new", title="t" * 201, body="x")
    assert response.status_code == 400
    response = await client.post("/c/pythonistas/questions/new", form={"title": "No token", "body": "x"})
    assert response.status_code == 403
    assert await Post.filter(kind=PostKind.QUESTION).count() == 0


async def test_question_text_is_sanitised(app, people):
    _, bob, _, _ = people
    client = await logged_in(app, bob)
    await submit(client, "/c/pythonistas/questions/new", title="<script>alert(1)</script>", body=XSS_BODY)
    question = await Post.get(kind=PostKind.QUESTION)
    page = await text(await client.get(f"/posts/{question.id}"))
    assert_no_live_markup(page)
    assert "&lt;script&gt;" in page
    assert_no_live_markup(await text(await client.get("/c/pythonistas/questions")))


async def test_a_safe_question_hides_its_asker_except_from_logged_looks(app, people):
    alice, bob, cleo, circle = people
    bob_client = await logged_in(app, bob)
    response = await submit(
        bob_client, "/c/pythonistas/questions/new", title="Is it OK to be slow?", body="I feel behind", safe="1"
    )
    assert response.status_code == 302
    question = await Post.get(kind=PostKind.QUESTION)
    assert question.author_id == circle.actor_id and question.asked_by_id == bob.actor.id

    cleo_page = await text(await (await logged_in(app, cleo)).get(f"/posts/{question.id}"))
    assert "asked through" in cleo_page and "Bob" not in cleo_page and "bob" not in cleo_page
    assert "Find out who asked" not in cleo_page
    own_page = await text(await bob_client.get(f"/posts/{question.id}"))
    assert "by you" in own_page
    # Replying in one's own safe question shows one's name: the form says so first.
    assert "Your reply shows your name, as every reply does" in own_page
    assert "Your reply shows your name" not in cleo_page
    anonymous_page = await text(await app.test_client().get(f"/posts/{question.id}"))
    assert "bob" not in anonymous_page

    # A member cannot look; a facilitator can, and every member sees that they did.
    cleo_client = await logged_in(app, cleo)
    response = await submit(cleo_client, f"/posts/{question.id}/reveal", reason="curious")
    assert response.status_code == 403
    alice_client = await logged_in(app, alice)
    assert "Find out who asked" in await text(await alice_client.get(f"/posts/{question.id}"))
    response = await submit(alice_client, f"/posts/{question.id}/reveal", reason="")
    assert response.status_code == 400 and "Why you need to know is required" in await text(response)
    assert await SafeQuestionReveal.all().count() == 0
    response = await submit(alice_client, f"/posts/{question.id}/reveal", reason="a report")
    assert response.status_code == 200
    assert "asked by bob" in await text(response)
    assert "bob" not in str(response.headers.get("Set-Cookie", ""))  # not carried in the session
    assert "asked by bob" not in await text(await alice_client.get(f"/posts/{question.id}"))
    assert await SafeQuestionReveal.all().count() == 1
    log = await text(await cleo_client.get("/c/pythonistas/reveals"))
    assert "alice" in log and "a report" in log and "bob" not in log


async def test_the_asker_of_a_safe_question_accepts_an_answer(app, instance, people):
    _, bob, cleo, circle = people
    question = await question_service.ask(instance, bob.actor, circle, title="Safe", body="?", safe=True)
    answer = await post_service.reply(instance, cleo.actor, question, body="Sure")
    response = await submit(await logged_in(app, bob), f"/posts/{question.id}/accept", answer_id=str(answer.id))
    assert response.status_code == 302
    assert (await Post.get(id=question.id)).accepted_answer_id == answer.id


async def test_a_steward_sees_the_askers_reply_like_any_other(app, instance, people):
    alice, bob, cleo, circle = people
    question = await question_service.ask(instance, bob.actor, circle, title="Safe", body="?", safe=True)
    own = await post_service.reply(instance, bob.actor, question, body="Found it myself")
    other = await post_service.reply(instance, cleo.actor, question, body="Sure")
    accept = '<input type="hidden" name="answer_id" value="{}">'
    alice_client = await logged_in(app, alice)
    page = await text(await alice_client.get(f"/posts/{question.id}"))
    assert accept.format(own.id) in page and accept.format(other.id) in page
    bob_client = await logged_in(app, bob)
    page = await text(await bob_client.get(f"/posts/{question.id}"))  # the asker knows who asked
    assert accept.format(own.id) not in page and accept.format(other.id) in page
    refused = await submit(bob_client, f"/posts/{question.id}/accept", answer_id=str(own.id))
    assert refused.status_code == 400
    response = await submit(alice_client, f"/posts/{question.id}/accept", answer_id=str(own.id))
    assert response.status_code == 302
    assert (await Post.get(id=question.id)).accepted_answer_id == own.id


async def test_the_reveal_log_is_for_members(app, instance, people):
    outsider = await factories.account(instance, "dan")
    response = await (await logged_in(app, outsider)).get("/c/pythonistas/reveals")
    assert response.status_code == 403
