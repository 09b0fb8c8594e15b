"""What each kind of server receives of a circle's posts, in the shapes its
own receiving code acts on (the rules are cited in federation/post_fanout.py
and federation/convert.py; tests/interop/receivers/ replays them through
models of Mastodon and Lemmy). Each remote server is a stub on loopback whose
NodeInfo names its software."""

from __future__ import annotations

import json

import pytest

from federation import fanout, vocab
from models.federation import Delivery, OutboxEvent
from models.services import moderation
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import remote
from tests import factories
from tests.integration.stubs import follower_on, nodeinfo_server

AP = {"Accept": "application/activity+json"}


@pytest.fixture
async def world(fed, instance, stub, alice, bob):
    """Alice's open circle, Bob in it, and a follower on a Mastodon and on a Lemmy server."""
    mastodon, lemmy = await stub(nodeinfo_server("mastodon")), await stub(nodeinfo_server("lemmy"))
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    mo = await follower_on(mastodon, circle, "mo")
    lee = await follower_on(lemmy, circle, "lee")
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()
    return circle, mastodon, lemmy, mo, lee


async def sent_to(fed, server) -> list[dict]:
    """Fan out what is queued; what went to `server`, oldest first."""
    await fanout.fan_out_pending(fed)
    return [d.payload for d in await Delivery.filter(host=server.host).order_by("id")]


def of_type(payloads: list[dict], kind: str) -> list[dict]:
    return [p for p in payloads if p["type"] == kind]


async def test_microblogging_servers_get_the_post_by_id_and_group_aware_ones_its_create(
        fed, instance, world, alice, client):
    circle, mastodon, lemmy, _, _ = world
    post = await factories.post(instance, alice, circle, "Read chapter four.\nThen ask.")
    (boost,) = await sent_to(fed, mastodon)
    assert boost["type"] == "Announce" and boost["object"] == post.uri  # fetched by id: Mastodon
    assert boost["id"] == f"{circle.actor.uri}/boosts/{post.id}"
    (announce,) = await sent_to(fed, lemmy)
    assert announce["id"] == f"{circle.actor.uri}/announces/{post.id}"
    assert announce["object"]["type"] == "Create" and announce["object"]["object"]["id"] == post.uri
    # Lemmy 1.0 takes only named Pages as posts: an untitled post is named from its first line.
    page = announce["object"]["object"]
    assert page["type"] == "Page" and page["name"] == "Read chapter four."
    assert page["summary"] == "Then ask."  # what Mastodon shows of a Page, beside its name
    # Both Announces are served at their ids, as the receivers fetch them.
    for activity in (boost, announce):
        response = await client.get(activity["id"].removeprefix(instance.base_url), headers=AP)
        served = json.loads(await response.get_data(as_text=True))
        assert response.status_code == 200 and served["id"] == activity["id"], served
        assert served["object"] == activity["object"] if activity is boost else served["object"]["id"]


async def test_a_reply_to_someone_elsewhere_reaches_them_addressed_and_mentioned(fed, instance, world, bob):
    circle, mastodon, lemmy, mo, _ = world
    question = await remote.store_post(remote.RemotePostInput(
        uri=mastodon.url("/users/mo/statuses/1"), author_uri=mo.uri, content_html="<p>Why None? #question</p>",
        circle_uri=circle.actor.uri,
    ), mo)
    await OutboxEvent.all().delete()
    answer = await post_service.reply(instance, bob.actor, question, body="You forgot `return`.")
    (create,) = await sent_to(fed, mastodon)  # not the circle's Announce: a comment, for Mastodon
    assert create["type"] == "Create" and create["actor"] == bob.actor.uri and create["object"]["id"] == answer.uri
    note = create["object"]
    assert mo.uri in note["cc"] and mo.uri in create["cc"]
    assert {"type": "Mention", "href": mo.uri, "name": f"@mo@{mastodon.host}"} in note["tag"]
    assert note["inReplyTo"] == question.uri
    # Group-aware servers get the circle's Announce of the same Create.
    (announce,) = await sent_to(fed, lemmy)
    assert announce["type"] == "Announce" and mo.uri in announce["object"]["object"]["cc"]


async def test_the_asker_and_the_answerer_elsewhere_hear_of_the_accepted_answer(fed, instance, world, alice, bob):
    circle, mastodon, lemmy, mo, lee = world
    question = await remote.store_post(remote.RemotePostInput(
        uri=mastodon.url("/users/mo/statuses/2"), author_uri=mo.uri, content_html="<p>How to start?</p>",
        circle_uri=circle.actor.uri, kind=question_service.PostKind.QUESTION,
    ), mo)
    answer = await remote.store_post(remote.RemotePostInput(
        uri=lemmy.url("/comment/1"), author_uri=lee.uri, content_html="<p>Read the book.</p>",
        in_reply_to_uri=question.uri,
    ), lee)
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()
    await question_service.accept_answer(instance, alice.actor, question, answer)
    for server, person in ((mastodon, mo), (lemmy, lee)):
        notes = [p for p in of_type(await sent_to(fed, server), "Create") if p["actor"] == circle.actor.uri]
        assert notes, f"the circle's note did not reach {server.host}"
        note = notes[0]["object"]
        assert "Accepted answer" in note["content"]
        assert {mo.uri, lee.uri} <= set(note["cc"])
        assert {t["href"] for t in note["tag"] if t["type"] == "Mention"} == {mo.uri, lee.uri}


async def test_an_edit_reaches_microblogging_followers_as_the_authors_update(fed, instance, world, alice, bob):
    circle, mastodon, lemmy, _, _ = world
    question = await question_service.ask(instance, alice.actor, circle, title="Why None?", body="It prints None.")
    answer = await post_service.reply(instance, bob.actor, question, body="Forgot return.")
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()
    await question_service.accept_answer(instance, alice.actor, question, answer)  # an Update of the question
    updates = of_type(await sent_to(fed, mastodon), "Update")
    assert [(u["actor"], u["object"]["id"]) for u in updates] == [(alice.actor.uri, question.uri)]
    assert updates[0]["object"]["acceptedAnswer"] == answer.uri and "updated" in updates[0]["object"]
    announced = [a["object"] for a in of_type(await sent_to(fed, lemmy), "Announce")]
    assert [(u["type"], u["object"]["id"]) for u in announced if u["type"] == "Update"] == [("Update", question.uri)]


async def test_a_deleted_post_is_unboosted_and_deleted_by_its_author_on_microblogging_servers(
        fed, instance, world, alice):
    circle, mastodon, lemmy, _, _ = world
    post = await factories.post(instance, alice, circle, "Soon gone", title="Oops")
    (boost,) = await sent_to(fed, mastodon)
    await Delivery.all().delete()
    await post_service.delete_post(alice.actor, await post_service.get_post(post.id))
    sent = await sent_to(fed, mastodon)
    (undo,) = of_type(sent, "Undo")
    boost.pop("@context")
    assert undo["actor"] == circle.actor.uri and undo["object"] == boost  # Mastodon finds the boost by its id
    (delete,) = of_type(sent, "Delete")
    assert delete["actor"] == alice.actor.uri and delete["object"] == post.uri  # only the author deletes there
    (announce,) = await sent_to(fed, lemmy)
    assert announce["object"]["type"] == "Delete" and announce["object"]["actor"] == alice.actor.uri
    assert "summary" not in announce["object"]  # the author's own deletion, not a removal


async def test_a_removal_is_the_stewards_delete_for_lemmy_and_an_unboost_for_mastodon(fed, instance, world, alice, bob):
    circle, mastodon, lemmy, _, _ = world
    post = await factories.post(instance, bob, circle, "Buy my course", title="Offer")
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()
    await moderation.remove_post(circle, alice.actor, post.id, reason="Advertising")
    (announce,) = await sent_to(fed, lemmy)
    removal = announce["object"]
    # Lemmy takes a Delete only from a person; a summary makes it a moderator's removal.
    assert removal["type"] == "Delete" and removal["actor"] == alice.actor.uri and removal["summary"] == "Advertising"
    sent = await sent_to(fed, mastodon)
    assert [u["object"]["id"] for u in of_type(sent, "Undo")] == [f"{circle.actor.uri}/boosts/{post.id}"]
    # The post is gone from Bob's server (here) too: his own actor says so to those who hold it.
    assert [(d["actor"], d["object"]) for d in of_type(sent, "Delete")] == [(bob.actor.uri, post.uri)]


async def test_pages_events_and_polls_say_on_mastodon_what_they_are(fed, instance, world, alice, client):
    from models.services import governance

    circle, _, _, _, _ = world
    post = await factories.post(instance, alice, circle, "Bring **questions** & <notes>.", title="Week 3")
    page = json.loads(await (await client.get(f"/posts/{post.id}", headers=AP)).get_data(as_text=True))
    assert page["type"] == "Page" and page["name"] == "Week 3"
    # Plain text, escaped: Mastodon reads it as HTML.
    assert page["summary"] == "Bring questions &amp; &lt;notes&gt;."
    import datetime as dt

    from models import clock
    proposal = await governance.propose(instance, alice.actor, circle, kind="free_text", title="Meet weekly?",
                                        body="Every Sunday.", closes_at=clock.now() + dt.timedelta(days=2))
    poll = json.loads(await (await client.get(f"/posts/{proposal.post_id}", headers=AP)).get_data(as_text=True))
    assert poll["type"] == "Question" and poll["name"] == "Meet weekly?"
    # Mastodon shows a Question's content only: the title opens it.
    assert poll["content"].startswith("<p><strong>Meet weekly?</strong></p>") and "Every Sunday" in poll["content"]
    assert vocab.PUBLIC in poll["to"]


async def test_the_outbox_carries_its_newest_posts_inline_for_lemmy(instance, world, alice, bob, client):
    circle, _, _, _, _ = world
    post = await factories.post(instance, alice, circle, "First")
    await post_service.reply(instance, bob.actor, post, body="A reply is not in the outbox")
    outbox = json.loads(await (await client.get("/c/readers/outbox", headers=AP)).get_data(as_text=True))
    assert outbox["totalItems"] == 1 and outbox["first"].endswith("/c/readers/outbox?page=true")
    (item,) = outbox["orderedItems"]
    assert item["id"] == f"{circle.actor.uri}/announces/{post.id}" and item["cc"] == [circle.actor.followers_url]
    assert item["object"]["type"] == "Create" and item["object"]["object"]["type"] == "Page"


async def test_a_ban_is_the_stewards_block_for_lemmy_and_the_circles_for_mastodon(fed, instance, world, alice):
    circle, mastodon, lemmy, mo, lee = world
    await moderation.ban(circle, alice.actor, mo.id, reason="Harassment", instance=instance)
    (for_mastodon,) = of_type(await sent_to(fed, mastodon), "Block")
    assert (for_mastodon["actor"], for_mastodon["object"]) == (circle.actor.uri, mo.uri)  # so mo stops following
    (for_lemmy,) = of_type(await sent_to(fed, lemmy), "Block")
    assert (for_lemmy["actor"], for_lemmy["target"], for_lemmy["summary"]) == (alice.actor.uri, circle.actor.uri,
                                                                              "Harassment")
