"""Editing posts, questions and replies (models/services/post_edits.py), and
the batched like look-ups a thread page uses (models/services/likes.py)."""

import datetime as dt

import pytest

from models import clock
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post, PostRevision
from models.services import circles as circle_service
from models.services import governance, likes, post_edits, reflections, resources, reviews
from models.services import posts as post_service
from models.services import questions as question_service
from tests import factories


@pytest.fixture
async def people(instance):
    alice = await factories.account(instance, "alice")  # facilitator (a steward)
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await factories.member(circle, carol)
    return alice, bob, carol, circle


async def test_the_author_edits_and_the_old_version_is_kept(database, instance, people):
    _, bob, _, circle = people
    post = await factories.post(instance, bob, circle, "First *words*", title="Hello")
    await OutboxEvent.all().delete()
    edited = await post_edits.edit_post(bob.actor, post, title="Hello again", body="Better <script>x()</script> **words**")
    stored = await Post.get(id=post.id)
    assert stored.title == "Hello again" and "<strong>words</strong>" in stored.content and "<script>" not in stored.content
    assert stored.source.startswith("Better") and stored.updated_at is not None and edited.updated_at == stored.updated_at
    [revision] = await PostRevision.filter(post=post)
    assert revision.title == "Hello" and revision.source == "First *words*" and "<em>words</em>" in revision.content
    assert revision.by_id == bob.actor.id
    assert await OutboxEvent.filter(kind="post.updated", subject_id=post.id).count() == 1


async def test_the_same_words_again_change_nothing(database, instance, people):
    _, bob, _, circle = people
    post = await factories.post(instance, bob, circle, "Same", title="T")
    await OutboxEvent.all().delete()
    await post_edits.edit_post(bob.actor, post, title="T", body="Same")
    assert await PostRevision.all().count() == 0 and await OutboxEvent.all().count() == 0
    assert (await Post.get(id=post.id)).updated_at is None


async def test_a_reply_keeps_no_title(database, instance, people):
    alice, bob, _, circle = people
    root = await factories.post(instance, alice, circle, "Root", title="Root")
    reply = await post_service.reply(instance, bob.actor, root, body="A reply")
    await post_edits.edit_post(bob.actor, reply, title="Sneaky title", body="A better reply")
    stored = await Post.get(id=reply.id)
    assert stored.title == "" and stored.source == "A better reply"


@pytest.mark.parametrize("body,title,field", [("", "T", "body"), ("x" * 20_001, "T", "body"), ("ok", "t" * 201, "title")])
async def test_invalid_input_is_refused_and_changes_nothing(database, instance, people, body, title, field):
    _, bob, _, circle = people
    post = await factories.post(instance, bob, circle, "Keep me", title="T")
    with pytest.raises(InvalidInput) as error:
        await post_edits.edit_post(bob.actor, post, title=title, body=body)
    assert error.value.field == field
    stored = await Post.get(id=post.id)
    assert (stored.source, stored.title, stored.updated_at) == ("Keep me", "T", None)
    assert await PostRevision.all().count() == 0


async def test_who_may_edit(database, instance, people):
    alice, bob, carol, circle = people
    post = await factories.post(instance, bob, circle, "Bob's")
    for other in (alice, carol):  # a steward cannot put words in a member's mouth
        with pytest.raises(PermissionDenied):
            await post_edits.edit_post(other.actor, post, body="Not yours")
    await circle_service.leave(circle, bob.actor, instance=instance)
    with pytest.raises(PermissionDenied):  # no longer a member
        await post_edits.edit_post(bob.actor, await Post.get(id=post.id), body="After leaving")
    await circle_service.join(circle, bob.actor)
    await post_service.delete_post(bob.actor, post)
    with pytest.raises(NotFound):
        await post_edits.edit_post(bob.actor, await Post.get(id=post.id), body="After deleting")
    assert (await Post.get(id=post.id)).source == "Bob's" and await PostRevision.all().count() == 0


async def test_a_proposal_is_not_edited_here(database, instance, people):
    alice, _, _, circle = people
    proposal = await governance.propose(instance, alice.actor, circle, kind="free_text", title="Weekly?",
                                        body="Every Tuesday.", closes_at=clock.now() + dt.timedelta(days=3))
    post = await Post.get(id=proposal.post_id)
    with pytest.raises(Conflict) as error:
        await post_edits.edit_post(alice.actor, post, body="Every day!")
    assert "vote" in str(error.value)
    assert not post_edits.can_edit(alice.actor, post, active_member=True)
    assert (await Post.get(id=post.id)).source == "Every Tuesday."


async def test_the_asker_of_a_safe_question_edits_it_and_its_history_names_only_the_circle(database, instance, people):
    alice, bob, carol, circle = people
    question = await question_service.ask(instance, bob.actor, circle, title="Why?", body="Asked quietly", safe=True)
    await post_edits.edit_post(bob.actor, question, title="Why, really?", body="Asked more clearly")
    [revision] = await post_edits.history(alice.actor, question)  # a steward
    assert revision.by_id == circle.actor_id and revision.source == "Asked quietly"
    assert [r.id for r in await post_edits.history(bob.actor, question)] == [revision.id]  # the asker
    with pytest.raises(PermissionDenied):
        await post_edits.history(carol.actor, question)  # another member
    with pytest.raises(InvalidInput):
        await post_edits.edit_post(bob.actor, question, title="", body="A question needs its title")


async def test_counts_and_who_liked_come_in_one_query_each(database, instance, people, count_queries):
    alice, bob, carol, circle = people
    root = await factories.post(instance, alice, circle, "Root")
    replies = [await post_service.reply(instance, alice.actor, root, body=f"Answer {n}") for n in range(3)]
    for reply in replies[:2]:
        await likes.like(bob.actor, reply)
    await likes.like(carol.actor, replies[0])
    ids = [root.id, *(r.id for r in replies)]
    with count_queries() as queries:
        counts = await likes.counts_of(ids)
        mine = await likes.liked_by(carol.actor, ids)
        who = await likes.likers_of(ids)
    assert len(queries) == 3
    assert counts == {replies[0].id: 2, replies[1].id: 1} and mine == {replies[0].id}
    assert [a.id for a in who[replies[0].id]] == [bob.actor.id, carol.actor.id]
    assert await likes.liked_by(None, ids) == set() and await likes.counts_of([]) == {}


async def test_only_a_change_of_words_marks_a_post_edited(database, instance, people):
    # updated_at also moves when an answer is accepted (federation sends it);
    # the thread's "Edited" mark reads edited_at, which only a kept version sets.
    alice, bob, _, circle = people
    question = await question_service.ask(instance, bob.actor, circle, title="Why?", body="Tell me")
    answer = await post_service.reply(instance, alice.actor, question, body="Because")
    await question_service.accept_answer(instance, bob.actor, question, answer)
    stored = await Post.get(id=question.id)
    assert stored.updated_at is not None and stored.edited_at is None
    await post_edits.edit_post(bob.actor, stored, title="Why?", body="Tell me more")
    [revision] = await PostRevision.filter(post_id=question.id)
    assert (await Post.get(id=question.id)).edited_at == revision.edited_at


async def test_a_resource_and_a_shared_reflection_keep_their_earlier_words(database, instance, people):
    alice, bob, _, circle = people
    resource = await resources.add_resource(instance, bob.actor, circle, title="A book", description="Good",
                                            link="https://example.org/book")
    await resources.edit_resource(alice.actor, resource, title="A book", description="Very good",  # a steward
                                  link="https://example.org/book")
    [kept] = await PostRevision.filter(post_id=resource.post_id)
    assert (kept.source, kept.by_id) == ("Good", alice.actor.id)
    assert (await Post.get(id=resource.post_id)).edited_at == kept.edited_at
    reflection = await reflections.write(instance, bob.actor, circle, body="I learnt a lot", share=True)
    await reflections.edit(bob.actor, reflection.id, body="I learnt a lot")  # same words: nothing kept
    await reflections.edit(bob.actor, reflection.id, body="I learnt even more")
    [kept] = await PostRevision.filter(post_id=reflection.shared_post_id)
    assert kept.source == "I learnt a lot" and (await Post.get(id=reflection.shared_post_id)).edited_at is not None


async def test_a_review_keeps_its_title_and_its_feedback_is_not_edited_here(database, instance, people):
    alice, bob, _, circle = people
    work = await reviews.request_review(instance, bob.actor, circle, title="My essay", body="Is it clear?")
    with pytest.raises(InvalidInput) as error:  # request_review requires it too
        await post_edits.edit_post(bob.actor, work, title="", body="Is it clear?")
    assert error.value.field == "title" and (await Post.get(id=work.id)).title == "My essay"
    reply = await reviews.give_feedback(instance, alice.actor, work, works="The start", suggestions="Shorter")
    assert not post_edits.can_edit(alice.actor, reply, active_member=True, feedback_ids={reply.id})
    with pytest.raises(Conflict) as error:  # its Feedback row would keep the old parts
        await post_edits.edit_post(alice.actor, reply, body="Something else")
    assert "three parts" in str(error.value)
    assert "The start" in (await Post.get(id=reply.id)).source and await PostRevision.all().count() == 0
