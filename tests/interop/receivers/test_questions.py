"""A Mastodon user asks the circle a question (#question, mentioning the
circle, as Mastodon sends a post to a group); a member answers on Circles;
the asker is notified and sees the answer in the thread; the answer is
accepted, and the circle's note says so. What the Lemmy user sees too."""

from __future__ import annotations

import re

import httpx

from tests.interop.receivers.harness import Stage
from tests.servers import redirected_to, sign_up

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def bob_answers(stage: Stage, question_path: str, text: str) -> str:
    """Bob signs up, joins the circle and replies to the question; returns his post's number."""
    async with httpx.AsyncClient(base_url=stage.circles.base_url, timeout=10.0) as bob:
        await sign_up(bob, "bob")
        redirected_to(await stage.form("/c/circle", "/c/circle/join", client=bob), "/c/circle")
        response = await stage.form(question_path, f"{question_path}/reply", client=bob, body=text)
        where = redirected_to(response, re.compile(r"/posts/\d+(\?page=\d+)?#post-\d+"))
    return where.rsplit("#post-", 1)[1]


async def test_a_mastodon_question_answered_and_accepted(stage: Stage):
    await stage.follow_from_mastodon()
    await stage.follow_from_lemmy()
    asker = stage.mastodon_side.user
    await stage.eventually(lambda: stage.group in stage.mastodon.following[asker], "Mastodon taking the Accept")

    # The Mastodon user asks, as Mastodon writes a post that mentions a group.
    content = (f'<p><span class="h-card"><a href="{stage.group}" class="u-url mention">@<span>circle</span></a>'
               f'</span> What does the borrow checker check? <a href="{stage.mastodon_side.origin}/tags/question" '
               f'class="mention hashtag" rel="tag">#<span>question</span></a></p>')
    asked = await stage.mastodon_side.command("/_peer/post", content=content, tags=["#question"], mastodon=True)
    question = asked["note"]
    stage.mastodon.post(asker, {"id": question, "type": "Note", "content": content, "to": [PUBLIC],
                                "cc": [f"{asker}/followers", stage.group, f"{stage.group}/followers"]})
    path = None

    async def listed() -> bool:
        nonlocal path
        found = re.search(r'href="(/posts/\d+)"[^>]*>[^<]*borrow checker', await stage.page("/c/circle/questions"))
        path = found and found[1]
        return bool(path)

    await stage.eventually(listed, "the question listed among the circle's questions")

    # Bob, a member, answers on Circles.
    answer_id = await bob_answers(stage, path, "That no reference outlives its data.")
    answer = f"{stage.circles.base_url}/posts/{answer_id}"
    bob_uri = f"{stage.circles.base_url}/users/bob"

    # Mastodon: the asker is notified (a Mention of them, from Bob) and sees the answer under the question.
    def notified_by(sender: str):
        return [n for n in stage.mastodon.notifications(asker) if n.type == "mention" and n.sender == sender]

    await stage.eventually(lambda: notified_by(bob_uri), "the asker notified of Bob's answer")
    assert notified_by(bob_uri)[0].status == answer
    assert [s.uri for s in stage.mastodon.thread(question)] == [question, answer]
    assert stage.mastodon.status(answer).shown == "That no reference outlives its data."
    assert stage.mastodon.notifications(asker, filtered=True) == []

    # Lemmy: the question is a post (titled from its first line, without the
    # circle's mention), the answer a comment under it.
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.comments(question), f"Bob's answer on Lemmy {lemmy.version}")
        assert lemmy.post(question).name == "What does the borrow checker check? #question"
        assert [c.content for c in lemmy.comments(question)] == ["That no reference outlives its data."]

    # Ada, the circle's steward, accepts Bob's answer: the circle's note
    # reaches the asker as a mention, in the thread.
    response = await stage.form(path, f"{path}/accept", answer_id=answer_id)
    assert response.status_code in (302, 303), response.text

    def circle_notes():
        return notified_by(stage.group)

    await stage.eventually(circle_notes, "the asker notified of the accepted answer")
    note = stage.mastodon.status(circle_notes()[0].status)
    assert note.in_reply_to == question and note.account == stage.group
    assert note.shown.startswith("✅ Accepted answer, by bob"), note.shown
    assert [s.uri for s in stage.mastodon.thread(question)] == [question, answer, note.uri]

    # Lemmy 1.0 takes no announced Create{Note} without inReplyTo (the
    # Mastodon question itself): it learns of the question from the answer.
    # Neither Lemmy takes the circle's note (test_lemmy_users_do_not_see_the_circles_own_notes).
    await stage.assert_no_rejections(expected={"lemmy 1.0": ["has no community in 1.0", "is a Group, not a Person"],
                                               "lemmy 0.19": ["is a Group, not a Person"]})


async def test_lemmy_users_do_not_see_the_circles_own_notes(stage: Stage):
    """A limit, in the README: the circle's own notes (an accepted answer, an
    RSVP poll) are written by the circle, and Lemmy takes a comment only from
    a Person: it dereferences a Note's `attributedTo` and a Create's `actor`
    as one, never a Group (0.19.20 crates/apub/src/protocol/objects/note.rs:39,
    protocol/activities/create_or_update/note.rs:21, protocol/objects/person.rs:14-19).
    Bob's answer itself is there."""
    await stage.follow_from_lemmy()
    user = stage.lemmy_side.user
    await stage.eventually(lambda: stage.lemmy.follows.get((user, stage.group)) == "accepted",
                           "Lemmy taking the Accept")
    response = await stage.form("/c/circle/questions/new", "/c/circle/questions/new",
                                title="What is a lifetime?", body="In Rust.")
    path = redirected_to(response, re.compile(r"/posts/\d+"))
    question = stage.circles.base_url + path
    answer_id = await bob_answers(stage, path, "How long a reference is valid.")
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.comments(question), f"Bob's answer on Lemmy {lemmy.version}")
    response = await stage.form(path, f"{path}/accept", answer_id=answer_id)
    assert response.status_code in (302, 303), response.text
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: any("is a Group, not a Person" in r.reason for r in lemmy.rejections),
                               f"Lemmy {lemmy.version} refusing the circle's note")
        assert [c.content for c in lemmy.comments(question)] == ["How long a reference is valid."]
    await stage.assert_no_rejections(expected={"lemmy 1.0": ["is a Group, not a Person"],
                                               "lemmy 0.19": ["is a Group, not a Person"]})
