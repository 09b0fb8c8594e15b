"""Questions: asking, safe questions, accepting answers, lists, credits, reveals."""

from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.errors import InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post, PostKind
from models.questions import SafeQuestionReveal
from models.services import posts as post_service
from models.services import questions as svc
from models.services.questions import QuestionList
from tests import factories


@pytest.fixture
def frozen_clock():
    yield clock.freeze
    clock.freeze(None)


@pytest.fixture
async def people(database, instance):
    alice = await factories.account(instance, "alice")  # facilitator
    bob = await factories.account(instance, "bob")
    cleo = await factories.account(instance, "cleo")
    circle = await factories.circle(instance, alice, "pythonistas")
    await factories.member(circle, bob)
    await factories.member(circle, cleo)
    return alice, bob, cleo, circle


async def test_a_question_needs_a_title(instance, people):
    _, bob, _, circle = people
    with pytest.raises(InvalidInput) as error:
        await svc.ask(instance, bob.actor, circle, title="  ", body="How?")
    assert error.value.field == "title"
    assert await Post.filter(kind=PostKind.QUESTION).count() == 0


async def test_the_asker_accepts_an_answer_and_the_circle_says_so(instance, people):
    _, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Why None?", body="My function returns None")
    answer = await post_service.reply(instance, cleo.actor, question, body="You forgot `return`.")
    await OutboxEvent.all().delete()

    await svc.accept_answer(instance, bob.actor, question, answer)

    stored = await Post.get(id=question.id)
    assert stored.accepted_answer_id == answer.id and stored.answered_at is not None
    note = await Post.get(root_id=question.id, author_id=circle.actor_id)
    assert note.kind is PostKind.ANSWER and answer.uri in note.content and "@cleo@circles.test" in note.content
    assert sorted(e.kind for e in await OutboxEvent.all()) == ["post.created", "post.updated"]
    assert (await Post.get(id=question.id)).reply_count == 1  # the circle's note is not counted as a reply

    # Accepting the same answer again changes nothing.
    await svc.accept_answer(instance, bob.actor, stored, answer)
    assert await OutboxEvent.all().count() == 2


async def test_only_the_asker_or_a_steward_accepts(instance, people):
    alice, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Tabs or spaces?", body="?")
    answer = await post_service.reply(instance, alice.actor, question, body="Spaces, by PEP 8.")
    with pytest.raises(PermissionDenied):
        await svc.accept_answer(instance, cleo.actor, question, answer)
    assert (await Post.get(id=question.id)).accepted_answer_id is None
    await svc.accept_answer(instance, alice.actor, question, answer)  # alice facilitates
    assert (await Post.get(id=question.id)).accepted_answer_id == answer.id


async def test_an_answer_must_belong_to_the_thread(instance, people):
    _, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Q1", body="?")
    other = await svc.ask(instance, cleo.actor, circle, title="Q2", body="?")
    elsewhere = await post_service.reply(instance, cleo.actor, other, body="an answer to Q2")
    with pytest.raises(InvalidInput):
        await svc.accept_answer(instance, bob.actor, question, elsewhere)
    discussion = await factories.post(instance, bob, circle, title="Not a question")
    reply = await post_service.reply(instance, cleo.actor, discussion, body="hi")
    with pytest.raises(InvalidInput):
        await svc.accept_answer(instance, bob.actor, discussion, reply)


async def test_one_cannot_accept_ones_own_reply(instance, people):
    _, bob, _, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Q", body="?", safe=True)
    own = await post_service.reply(instance, bob.actor, question, body="Found it myself")
    with pytest.raises(InvalidInput):
        await svc.accept_answer(instance, bob.actor, question, own)
    assert (await Post.get(id=question.id)).accepted_answer_id is None


async def test_withdrawing_reopens_the_question(instance, people):
    _, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Q", body="?")
    answer = await post_service.reply(instance, cleo.actor, question, body="A")
    await svc.accept_answer(instance, bob.actor, question, answer)
    await svc.withdraw_acceptance(bob.actor, question)
    stored = await Post.get(id=question.id)
    assert stored.accepted_answer_id is None and stored.answered_at is None
    with pytest.raises(InvalidInput):
        await svc.withdraw_acceptance(bob.actor, stored)  # nothing to withdraw


async def test_open_questions_list_unanswered_first_then_oldest(instance, people, frozen_clock):
    _, bob, cleo, circle = people
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    frozen_clock(start)
    old_with_reply = await svc.ask(instance, bob.actor, circle, title="old, replied", body="?")
    frozen_clock(start + dt.timedelta(days=1))
    newer_unanswered = await svc.ask(instance, bob.actor, circle, title="newer, no reply", body="?")
    frozen_clock(start + dt.timedelta(days=2))
    newest_unanswered = await svc.ask(instance, cleo.actor, circle, title="newest, no reply", body="?")
    await post_service.reply(instance, cleo.actor, old_with_reply, body="maybe")
    done = await svc.ask(instance, cleo.actor, circle, title="done", body="?")
    answer = await post_service.reply(instance, bob.actor, done, body="this")
    await svc.accept_answer(instance, cleo.actor, done, answer)

    open_titles = [q.title for q in await svc.list_questions(circle, QuestionList.OPEN)]
    assert open_titles == [newer_unanswered.title, newest_unanswered.title, old_with_reply.title]
    assert [q.title for q in await svc.list_questions(circle, QuestionList.ANSWERED)] == ["done"]
    mine = await svc.list_questions(circle, QuestionList.MINE, viewer=bob.actor)
    assert {q.title for q in mine} == {"old, replied", "newer, no reply"}
    assert await svc.list_questions(circle, QuestionList.MINE, viewer=None) == []


async def test_answerers_are_credited(instance, people):
    alice, bob, cleo, circle = people
    for title in ("Q1", "Q2"):
        question = await svc.ask(instance, bob.actor, circle, title=title, body="?")
        answer = await post_service.reply(instance, cleo.actor, question, body="A")
        await svc.accept_answer(instance, bob.actor, question, answer)
    question = await svc.ask(instance, cleo.actor, circle, title="Q3", body="?")
    await svc.accept_answer(instance, cleo.actor, question, await post_service.reply(instance, alice.actor, question, body="A"))

    assert await svc.answer_credits(circle) == {cleo.actor.id: 2, alice.actor.id: 1}
    assert await svc.credits_by_circle(cleo.actor) == {circle.id: 2}


# Safe questions


async def test_a_safe_question_is_published_by_the_circle(instance, people):
    _, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Is it OK not to know git?", body="…", safe=True)
    assert question.author_id == circle.actor_id and question.asked_by_id == bob.actor.id
    assert await post_service.posts_by(bob.actor) == []  # not in the asker's outbox
    # The asker accepts an answer like any asker, and can delete the question.
    answer = await post_service.reply(instance, cleo.actor, question, body="Yes, we all start somewhere.")
    await svc.accept_answer(instance, bob.actor, question, answer)
    await post_service.delete_post(bob.actor, await Post.get(id=question.id))
    assert (await Post.get(id=question.id)).deleted_at is not None


async def test_revealing_the_asker_takes_the_role_and_is_logged(instance, people):
    alice, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Safe?", body="…", safe=True)
    with pytest.raises(PermissionDenied):
        await svc.reveal_asker(circle, question, cleo.actor)
    assert await SafeQuestionReveal.all().count() == 0

    asker = await svc.reveal_asker(circle, question, alice.actor, reason="a report of spam")
    assert asker.id == bob.actor.id
    [entry] = await svc.reveal_log(circle)
    assert (entry.viewer_id, entry.post_id, entry.reason) == (alice.actor.id, question.id, "a report of spam")

    open_question = await svc.ask(instance, cleo.actor, circle, title="Open", body="…")
    with pytest.raises(NotFound):
        await svc.reveal_asker(circle, open_question, alice.actor, reason="moderation")


async def test_safe_questions_only_in_circles_here(instance, people):
    _, bob, _, circle = people
    with pytest.raises(InvalidInput):
        await svc.ask(instance, bob.actor, circle, title="x" * 201, body="…", safe=True)
    non_member = await factories.account(instance, "dan")
    with pytest.raises(PermissionDenied):
        await svc.ask(instance, non_member.actor, circle, title="Let me in?", body="…", safe=True)
    assert await Post.filter(kind=PostKind.QUESTION).count() == 0


async def test_a_steward_accepts_an_answer_to_a_question_from_mastodon(instance, people):
    from models.actors import ActorKind
    from models.services import follows, remote

    alice, bob, cleo, circle = people
    uri = "https://mastodon.example/users/mo"
    mo = await remote.upsert_actor(remote.RemoteActorInput(
        uri=uri, kind=ActorKind.PERSON, username="mo", domain="mastodon.example", inbox_url=f"{uri}/inbox"))
    await follows.receive_follow(mo, circle.actor, f"{uri}#follow")
    question = await remote.store_post(remote.RemotePostInput(
        uri=f"{uri}/statuses/1", author_uri=uri, content_html="<p>How do I start? #question</p>",
        circle_uri=circle.actor.uri, kind=PostKind.QUESTION), mo)
    assert [q.id for q in await svc.list_questions(circle, QuestionList.OPEN)] == [question.id]
    answer = await post_service.reply(instance, cleo.actor, question, body="With the tutorial.")
    assert not await svc.may_accept(question, bob.actor)
    with pytest.raises(PermissionDenied):
        await svc.accept_answer(instance, bob.actor, question, answer)
    await OutboxEvent.all().delete()

    assert await svc.may_accept(question, alice.actor)
    await svc.accept_answer(instance, alice.actor, question, answer)
    assert (await Post.get(id=question.id)).accepted_answer_id == answer.id
    # The circle's note goes out; no Update of a post that is not ours to sign.
    assert [e.kind for e in await OutboxEvent.all()] == ["post.created"]


async def test_the_circle_keeps_one_note_for_the_current_answer(instance, people):
    alice, bob, cleo, circle = people
    question = await svc.ask(instance, bob.actor, circle, title="Which editor?", body="?")
    first = await post_service.reply(instance, cleo.actor, question, body="Vim")
    second = await post_service.reply(instance, alice.actor, question, body="Whatever you like")

    async def live_notes():
        return await Post.filter(root_id=question.id, author_id=circle.actor_id, deleted_at=None)

    await svc.accept_answer(instance, bob.actor, question, first)
    await svc.accept_answer(instance, bob.actor, await Post.get(id=question.id), second)
    [note] = await live_notes()
    assert second.uri in note.content
    await svc.withdraw_acceptance(bob.actor, await Post.get(id=question.id))
    assert await live_notes() == []
    assert (await Post.get(id=question.id)).reply_count == 2  # only the members' replies remain
