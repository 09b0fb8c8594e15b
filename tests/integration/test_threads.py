"""Threads as trees (models/services/threads.py, posts/_reply.html): replies
nested under the reply they answer, deep ones on sub-thread pages, pages of
whole branches, questions' answers in their order, and the circle's own notes
shown as notices and not counted as replies."""

from __future__ import annotations

import importlib
import re

import pytest
from tortoise import connections

from models.posts import Post
from models.services import governance
from models.services import likes as like_service
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import threads
from tests import factories
from tests.integration.test_query_counts import slot
from tests.integration.webforms import logged_in, submit, text

MIGRATION = importlib.import_module("models.migrations.0037_circle_notes_uncounted")


@pytest.fixture
async def people(database, instance):
    alice, bob, carol = [await factories.account(instance, name) for name in ("alice", "bob", "carol")]
    circle = await factories.circle(instance, alice, "readers")
    for person in (bob, carol):
        await factories.member(circle, person)
    return alice, bob, carol, circle


async def chain(instance, author, parent, length: int) -> list[Post]:
    """`length` replies, each answering the one before."""
    replies = []
    for n in range(length):
        parent = await post_service.reply(instance, author.actor, parent, body=f"Level {n + 1}")
        replies.append(parent)
    return replies


async def tree(root: Post) -> threads.Thread:
    return await threads.load(await Post.get(id=root.id).select_related("circle"))


def ids(nodes) -> list[int]:
    return [node.id for node in nodes]


def nesting(html: str) -> dict[int, int]:
    """Each reply shown, by the reply it is shown under (0: the top level),
    read from the page's nested lists."""
    parents: dict[int, int] = {}
    stack: list[int] = []
    last = 0
    for tag in re.finditer(r'<ol class="thread">|</ol>|<article class="reply[^"]*" id="post-(\d+)"', html):
        if tag.group(0) == '<ol class="thread">':
            stack.append(last)
        elif tag.group(0) == "</ol>":
            if stack:
                stack.pop()
        else:
            last = int(tag.group(1))
            parents[last] = stack[-1]
    return parents


# --- the tree ---------------------------------------------------------------------------


async def test_replies_nest_under_the_reply_they_answer(instance, people):
    alice, bob, carol, circle = people
    root = await factories.post(instance, alice, circle, "Where do we start?")
    first = await post_service.reply(instance, bob.actor, root, body="Chapter 1")
    second = await post_service.reply(instance, carol.actor, root, body="The preface")
    answer = await post_service.reply(instance, alice.actor, first, body="Why?")
    deeper = await post_service.reply(instance, bob.actor, answer, body="It is short")
    thread = await tree(root)
    assert ids(thread.tops) == [first.id, second.id]
    assert ids(thread.nodes[first.id].children) == [answer.id]
    assert ids(thread.nodes[answer.id].children) == [deeper.id]
    assert ids(thread.nodes[second.id].children) == []


async def test_a_deep_thread_continues_on_pages_of_its_own(instance, people):
    alice, bob, _carol, circle = people
    root = await factories.post(instance, alice, circle, "Deep")
    levels = await chain(instance, bob, root, 8)
    thread = await tree(root)
    # The thread page shows levels 1-4; the 4th opens its own sub-thread (levels 4-7), the 7th the next.
    assert thread.shown_ids(thread.page(1)) == ids(levels[:4])
    places = [thread.place_of(reply.id) for reply in levels]
    assert places[:3] == [threads.Place(page=1)] * 3
    assert places[3:6] == [threads.Place(anchor_id=levels[3].id)] * 3
    assert places[6:] == [threads.Place(anchor_id=levels[6].id)] * 2
    assert thread.shown_ids(thread.sub_thread(levels[3].id)) == ids(levels[3:7])


async def test_pages_hold_whole_branches(instance, people, monkeypatch):
    monkeypatch.setattr(threads, "REPLY_PAGE_SIZE", 3)
    alice, bob, carol, circle = people
    root = await factories.post(instance, alice, circle, "Long")
    branches = [await post_service.reply(instance, bob.actor, root, body=f"Branch {n}") for n in range(3)]
    under_first = await post_service.reply(instance, carol.actor, branches[0], body="Under the first")
    under_second = await post_service.reply(instance, carol.actor, branches[1], body="Under the second")
    thread = await tree(root)
    # 2 + 2 replies would be 4: the second branch starts page 2, whole, and the third fits beside it.
    assert [ids(page) for page in thread.pages] == [[branches[0].id], [branches[1].id, branches[2].id]]
    assert thread.place_of(under_first.id) == threads.Place(page=1)
    assert await threads.place_of(under_second) == threads.Place(page=2)
    assert thread.page(2).has_more is False and thread.page(1).has_more is True


async def test_a_questions_answers_come_accepted_then_most_liked_then_oldest(instance, people):
    alice, bob, carol, circle = people
    question = await question_service.ask(instance, alice.actor, circle, title="Why?", body="Tell me")
    oldest = await post_service.reply(instance, bob.actor, question, body="Because A")
    liked = await post_service.reply(instance, carol.actor, question, body="Because B")
    accepted = await post_service.reply(instance, bob.actor, question, body="Because C")
    also_old = await post_service.reply(instance, carol.actor, question, body="Because D")
    await like_service.like(alice.actor, liked)
    await like_service.like(bob.actor, liked)
    await like_service.like(alice.actor, also_old)
    question = await Post.get(id=question.id)
    await question_service.accept_answer(instance, alice.actor, question, accepted)
    assert await like_service.counts_of([oldest.id, liked.id, also_old.id]) == {liked.id: 2, also_old.id: 1}
    thread = await tree(question)
    assert ids(thread.tops) == [accepted.id, liked.id, also_old.id, oldest.id]
    assert len(thread.notes) == 1  # the circle's "✅ Accepted answer", apart


async def test_a_deleted_reply_keeps_its_replies_in_place(instance, people):
    alice, bob, carol, circle = people
    root = await factories.post(instance, alice, circle, "Root")
    parent = await post_service.reply(instance, bob.actor, root, body="Parent")
    child = await post_service.reply(instance, carol.actor, parent, body="Child")
    lonely = await post_service.reply(instance, bob.actor, root, body="Lonely")
    await post_service.delete_post(bob.actor, parent)
    await post_service.delete_post(bob.actor, lonely)
    thread = await tree(root)
    assert ids(thread.tops) == [parent.id] and thread.tops[0].deleted
    assert ids(thread.tops[0].children) == [child.id]


# --- the circle's own notes -------------------------------------------------------------


async def test_the_circles_notes_are_not_counted_as_replies(instance, people):
    alice, bob, _carol, circle = people
    question = await question_service.ask(instance, alice.actor, circle, title="Why?", body="Tell me")
    answer = await post_service.reply(instance, bob.actor, question, body="Because")
    await question_service.accept_answer(instance, alice.actor, await Post.get(id=question.id), answer)
    note = await Post.get(root_id=question.id, author_id=circle.actor_id)
    assert post_service.is_circle_note(note, circle)
    assert (await Post.get(id=question.id)).reply_count == 1
    await question_service.withdraw_acceptance(alice.actor, await Post.get(id=question.id))  # deletes the note
    assert (await Post.get(id=question.id)).reply_count == 1
    meeting = await meeting_service.schedule(instance, alice.actor, circle, title="Meet", agenda="", **slot())
    assert await Post.exists(root_id=meeting.post_id, author_id=circle.actor_id)  # its RSVP poll
    assert (await Post.get(id=meeting.post_id)).reply_count == 0


async def test_the_migration_takes_existing_notes_out_of_the_counts(instance, people):
    alice, bob, _carol, circle = people
    question = await question_service.ask(instance, alice.actor, circle, title="Why?", body="Tell me")
    answer = await post_service.reply(instance, bob.actor, question, body="Because")
    await question_service.accept_answer(instance, alice.actor, await Post.get(id=question.id), answer)
    other = await factories.post(instance, alice, circle, "No notes here")
    await post_service.reply(instance, bob.actor, other, body="A reply")
    gone = await post_service.reply(instance, bob.actor, other, body="Deleted")
    await post_service.delete_post(bob.actor, gone)
    await Post.filter(id=question.id).update(reply_count=2)  # as counted before: the note too
    database = connections.get("default")
    for _run in range(2):  # a recount: running it again changes nothing
        await database.execute_script(MIGRATION.RECOUNT_WITHOUT_NOTES)
        assert (await Post.get(id=question.id)).reply_count == 1
        assert (await Post.get(id=other.id)).reply_count == 1
    await database.execute_script(MIGRATION.RECOUNT_WITH_NOTES)  # its reverse
    assert (await Post.get(id=question.id)).reply_count == 2
    assert (await Post.get(id=other.id)).reply_count == 1


# --- the pages ----------------------------------------------------------------------------


async def test_replying_to_a_reply_from_the_thread_page(app, instance, people):
    alice, bob, _carol, circle = people
    root = await factories.post(instance, alice, circle, "Root")
    first = await post_service.reply(instance, bob.actor, root, body="First")
    client = await logged_in(app, alice)
    page = await text(await client.get(f"/posts/{root.id}"))
    assert f'<form method="post" action="/posts/{first.id}/reply"' in page
    assert f'<label for="reply-body-{first.id}">Reply to bob</label>' in page
    response = await submit(client, f"/posts/{first.id}/reply", body="An answer to the first")
    nested = await Post.get(in_reply_to_id=first.id)
    assert response.status_code == 302 and response.location == f"/posts/{root.id}#post-{nested.id}"
    page = await text(await client.get(f"/posts/{root.id}"))
    assert nesting(page) == {first.id: 0, nested.id: first.id}
    assert "2 replies" in page


async def test_continue_this_thread_opens_the_sub_thread(app, instance, people):
    alice, bob, _carol, circle = people
    root = await factories.post(instance, alice, circle, "Deep")
    levels = await chain(instance, bob, root, 6)
    page = await text(await app.test_client().get(f"/posts/{root.id}"))
    assert list(nesting(page)) == ids(levels[:4])
    assert f'<a href="/posts/{levels[3].id}#post-{levels[3].id}">Continue this thread</a>' in page
    sub = await text(await app.test_client().get(f"/posts/{levels[3].id}"))
    assert nesting(sub) == {levels[3].id: 0, levels[4].id: levels[3].id, levels[5].id: levels[4].id}
    assert f'href="/posts/{root.id}#post-{levels[0].id}">The whole thread</a>' in sub
    assert f'href="/posts/{levels[2].id}#post-{levels[2].id}">Up one level</a>' in sub


async def test_a_deleted_reply_still_continues_its_thread(app, instance, people):
    alice, bob, _carol, circle = people
    root = await factories.post(instance, alice, circle, "Deep")
    levels = await chain(instance, bob, root, 5)
    await post_service.delete_post(bob.actor, levels[3])
    page = await text(await app.test_client().get(f"/posts/{root.id}"))
    assert f'<article class="reply deleted-reply" id="post-{levels[3].id}">' in page
    assert f'<a href="/posts/{levels[3].id}#post-{levels[3].id}">Continue this thread</a>' in page
    sub = await text(await app.test_client().get(f"/posts/{levels[3].id}"))
    assert nesting(sub) == {levels[3].id: 0, levels[4].id: levels[3].id}
    assert (await app.test_client().get(f"/posts/{levels[3].id}")).status_code == 200
    await post_service.delete_post(bob.actor, levels[4])  # nothing left under it: gone
    assert (await app.test_client().get(f"/posts/{levels[3].id}")).status_code == 404


async def test_a_deleted_reply_continues_when_only_a_deeper_reply_lives(app, instance, people):
    alice, bob, _carol, circle = people
    root = await factories.post(instance, alice, circle, "Deep")
    levels = await chain(instance, bob, root, 6)
    for deleted in levels[3:5]:  # the depth-4 reply and its child; the grandchild lives
        await post_service.delete_post(bob.actor, deleted)
    page = await text(await app.test_client().get(f"/posts/{root.id}"))
    assert f'<a href="/posts/{levels[3].id}#post-{levels[3].id}">Continue this thread</a>' in page
    sub = await app.test_client().get(f"/posts/{levels[3].id}")
    assert sub.status_code == 200
    assert nesting(await text(sub)) == {levels[3].id: 0, levels[4].id: levels[3].id, levels[5].id: levels[4].id}


async def test_notes_show_as_notices_in_the_thread(app, instance, people):
    alice, bob, _carol, circle = people
    question = await question_service.ask(instance, alice.actor, circle, title="Why?", body="Tell me")
    answer = await post_service.reply(instance, bob.actor, question, body="Because")
    await question_service.accept_answer(instance, alice.actor, await Post.get(id=question.id), answer)
    note = await Post.get(root_id=question.id, author_id=circle.actor_id, deleted_at=None)
    page = await text(await app.test_client().get(f"/posts/{question.id}"))
    assert f'<li class="circle-notice" id="post-{note.id}"' in page
    assert f'<a href="/posts/{answer.id}#post-{answer.id}">bob’s answer</a> was accepted.' in page
    assert note.uri not in page and "&lt;http" not in page  # no raw address
    assert list(nesting(page)) == [answer.id]  # not a reply
    assert "1 reply" in page
    meeting = await meeting_service.schedule(instance, alice.actor, circle, title="Meet", agenda="", **slot())
    page = await text(await app.test_client().get(f"/posts/{meeting.post_id}"))
    assert f'<a href="/meetings/{meeting.post_id}">Say so on the meeting’s page</a>' in page and "0 replies" in page


async def test_decisions_show_as_notices_in_the_home_feed(app, instance, people):
    alice, _bob, _carol, circle = people
    proposal = await factories.post(instance, alice, circle, "Shall we?", title="Meet weekly")
    await governance._outcome_post(instance, circle, proposal, "Proposal “Meet weekly” passed.")
    client = await logged_in(app, alice)
    for path in ("/", f"/c/{circle.handle}"):
        page = await text(await client.get(path))
        assert re.search(r'<p class="circle-notice feed-notice"[^>]*>.*?Decision: Meet weekly', page, re.S), path
        cards = re.findall(r'<article class="post-card[^"]*".*?</article>', page, re.S)
        assert len(cards) == 1 and "Meet weekly" in cards[0] and "Decision:" not in cards[0], path  # the proposal


async def test_a_thread_page_sends_as_many_queries_however_many_branches(app, instance, people, count_queries):
    alice, bob, carol, circle = people
    question = await question_service.ask(instance, alice.actor, circle, title="Why?", body="Tell me")
    client = await logged_in(app, alice)

    serial = iter(range(100))

    async def grow(k):
        for _ in range(k):
            answer = await post_service.reply(instance, bob.actor, question, body=f"Because {next(serial)}")
            await like_service.like(carol.actor, answer)
            await chain(instance, carol, answer, 5)  # deeper than the page shows

    async def measure():
        await client.get(f"/posts/{question.id}")
        with count_queries() as queries:
            page = await text(await client.get(f"/posts/{question.id}"))
        return queries, page

    await grow(2)
    few, few_page = await measure()
    await grow(4)
    many, many_page = await measure()
    assert len(nesting(many_page)) == 3 * len(nesting(few_page)) == 24  # 4 levels a branch
    assert len(many) == len(few), f"{few.report()}\n{many.report()}"
