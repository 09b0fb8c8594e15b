"""Events that arrive from another server make the same notifications as
those made here: signed activities through the real inbox and its handlers."""

from __future__ import annotations

import pytest

from models.actors import Actor
from models.federation import Delivery
from models.notifications import Notification
from models.posts import Post
from models.services import questions, reviews
from models.services import posts as post_service
from models.services import tutoring as tutoring_service
from models.tutoring import TutoringMessage
from tests import factories
from tests.integration.test_inbox import PUBLIC, follow_of, note_create, post_signed, process, remote_key, remote_person
from tests.integration.test_inbox_tutoring import mastodon_dm


@pytest.fixture
async def setup(app, client, instance):
    """rita (elsewhere) joined alice's open circle "Readers"; bob is a member here."""
    key, pem = remote_key()
    rita = await remote_person("rita", pem)
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers", name="Readers")
    await factories.member(circle, bob)
    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    await Delivery.all().delete()

    async def send(activity: dict) -> None:
        response = await post_signed(client, "/inbox", activity, key, f"{rita}#main-key")
        assert response.status_code == 202, await response.get_data(as_text=True)
        await process(app)

    rita_actor = await Actor.get(uri=rita)
    return rita, rita_actor, alice, bob, circle, send


async def kinds_of(account) -> list[str]:
    return [n.kind for n in await Notification.filter(recipient=account).order_by("id")]


async def test_a_reply_from_elsewhere_tells_the_author_and_its_mentions_the_people_named(app, instance, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    post = await factories.post(instance, alice, circle, "What next?", title="Next")
    await send(note_create(rita, 1, "<p>Chapter two, @bob?</p>", to=PUBLIC, cc=[circle.actor.uri], inReplyTo=post.uri,
                           tag=[{"type": "Mention", "href": bob.actor.uri, "name": "@bob@circles.test"}]))
    reply = await Post.get(uri=f"{rita}/notes/1")
    [note] = await Notification.filter(recipient=alice)
    assert (note.kind, note.actor_id, note.subject_id, note.params) == (
        "post.reply", rita_actor.id, reply.id, {"name": "rita", "title": "Next"})
    [mention] = await Notification.filter(recipient=bob)
    assert mention.kind == "post.mention" and mention.actor_id == rita_actor.id
    # The same Create again: stored once, told once.
    await send(note_create(rita, 1, "<p>Chapter two, @bob?</p>", to=PUBLIC, cc=[circle.actor.uri], inReplyTo=post.uri))
    assert await Notification.all().count() == 2


async def test_an_answer_and_feedback_from_elsewhere_tell_the_asker_and_the_author(app, instance, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    question = await questions.ask(instance, alice.actor, circle, title="Why?", body="Tell me")
    work = await reviews.request_review(instance, alice.actor, circle, title="Essay", body="Clear?")
    await send(note_create(rita, 1, "<p>Because.</p>", to=PUBLIC, cc=[circle.actor.uri], inReplyTo=question.uri))
    await send(note_create(rita, 2, "<p>Clear!</p>", to=PUBLIC, cc=[circle.actor.uri], inReplyTo=work.uri))
    assert await kinds_of(alice) == ["question.answer", "review.received"]


async def test_a_like_from_elsewhere_tells_the_author_once(app, instance, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    post = await factories.post(instance, alice, circle, "A tip", title="Tip")
    like = {"id": f"{rita}/likes/1", "type": "Like", "actor": rita, "object": post.uri}
    await send(like)
    await send({**like, "id": f"{rita}/likes/2"})  # Lemmy-style repeat with a new id: the same like
    [note] = await Notification.filter(recipient=alice)
    assert note.kind == "post.liked" and note.actor_id == rita_actor.id


async def test_a_follow_from_elsewhere_tells_the_person(app, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    await send(follow_of(rita, alice.actor.uri, 2))
    [note] = await Notification.filter(recipient=alice)
    assert note.kind == "person.followed" and note.text == "rita follows you now."


async def test_a_report_from_elsewhere_tells_the_circles_stewards(app, instance, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    post = await factories.post(instance, bob, circle, "Buy now")
    await send({"id": f"{rita}/flags/1", "type": "Flag", "actor": rita, "content": "spam",
                "object": [bob.actor.uri, post.uri]})
    assert await kinds_of(alice) == ["report.new"] and await kinds_of(bob) == []


async def test_a_tutoring_reply_from_elsewhere_tells_the_local_person(app, instance, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    await tutoring_service.set_skills(circle, alice.actor, offers=["python"], wants=[])
    await send(mastodon_dm(rita, 1, circle.actor, "wants: python"))
    pairing = await tutoring_service.open_pairing(circle, alice.actor, rita_actor, "python", by_is_helper=True)
    first = await TutoringMessage.get(pairing=pairing)
    await send(mastodon_dm(rita, 2, alice.actor, "Yes please", in_reply_to=first.uri))
    [note] = await Notification.filter(recipient=alice)
    assert note.kind == "tutoring.message" and note.group_key == f"tutoring.message:{pairing.id}"


async def test_an_answer_accepted_elsewhere_tells_its_author_here(app, instance, setup):
    rita, rita_actor, alice, bob, circle, send = setup
    note = note_create(rita, 1, "<p>Which book first?</p>", to=PUBLIC, cc=[circle.actor.uri])
    await send(note)
    question = await Post.get(uri=f"{rita}/notes/1")
    answer = await post_service.reply(instance, bob.actor, question, body="The red one.")
    update = {"id": f"{rita}/notes/1/update", "type": "Update", "actor": rita,
              "object": {**note["object"], "acceptedAnswer": answer.uri}}
    await send(update)
    assert await kinds_of(bob) == ["answer.accepted"]
