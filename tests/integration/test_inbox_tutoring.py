"""Tutoring with a Mastodon user, through the real inbox and fan-out: the
payloads are shaped as Mastodon sends direct messages (to: [our person],
cc: [], a Mention tag, inReplyTo)."""

from __future__ import annotations

import json

import pytest

from federation import vocab
from models.actors import Actor
from models.federation import Delivery, InboxItem, InboxState
from models.posts import Post
from models.services import tutoring as tutoring_service
from models.tutoring import Pairing, TutoringMessage
from tests import factories
from tests.integration.test_inbox import REMOTE, follow_of, post_signed, process, remote_key, remote_person
from tests.integration.webforms import logged_in, submit, text

RITA_INBOX = f"{REMOTE}/users/rita/inbox"


def mastodon_dm(author: str, n: int, to, content: str, *, in_reply_to: str | None = None) -> dict:
    """A Create of a direct Note, as Mastodon 4 sends one to the mentioned person."""
    note_id = f"{author}/statuses/{n}"
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", {"ostatus": "http://ostatus.org#",
                                                               "inReplyToAtomUri": "ostatus:inReplyToAtomUri"}],
        "id": f"{note_id}/activity", "type": "Create", "actor": author, "published": "2026-11-26T10:00:00Z",
        "to": [to.uri], "cc": [],
        "object": {
            "id": note_id, "type": "Note", "summary": None, "inReplyTo": in_reply_to,
            "published": "2026-11-26T10:00:00Z", "url": f"{REMOTE}/@{author.rsplit('/', 1)[1]}/{n}",
            "attributedTo": author, "to": [to.uri], "cc": [], "sensitive": False,
            "atomUri": note_id, "inReplyToAtomUri": in_reply_to,
            "conversation": f"tag:remote.example,2026-11-26:objectId={n}:objectType=Conversation",
            "content": f'<p><span class="h-card" translate="no"><a href="{to.uri}" class="u-url mention">'
                       f"@<span>{to.username}</span></a></span> {content}</p>",
            "contentMap": {"en": content}, "attachment": [],
            "tag": [{"type": "Mention", "href": to.uri, "name": f"@{to.username}@{to.domain}"}],
            "replies": {"id": f"{note_id}/replies", "type": "Collection"},
        },
    }


@pytest.fixture
async def setup(app, client, instance):
    """alice here offers python in her circle; rita (Mastodon) follows it."""
    key, pem = remote_key()
    rita = await remote_person("rita", pem)
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers", name="Readers")
    await tutoring_service.set_skills(circle, alice.actor, offers=["python"], wants=[])
    await post_signed(client, "/c/readers/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    await Delivery.all().delete()  # the Accept of the follow
    return key, rita, alice, circle


async def test_a_mastodon_member_lists_skills_by_direct_message_and_is_answered(app, client, setup):
    key, rita, alice, circle = setup
    dm = mastodon_dm(rita, 1, circle.actor, "offers: Drawing<br>wants: Python, statistics")
    assert (await post_signed(client, "/c/readers/inbox", dm, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert (await InboxItem.get(activity_id=dm["id"])).state is InboxState.DONE
    rita_actor = await Actor.get(uri=rita)
    assert await tutoring_service.skills_of(circle, rita_actor) == tutoring_service.SkillLists(
        offers=["drawing"], wants=["python", "statistics"]
    )
    assert not await Post.exists()  # a message to the circle about skills is not a post in it
    [answer] = await Delivery.all()
    assert answer.inbox_url == RITA_INBOX  # her own inbox, not her server's shared one
    note = answer.payload["object"]
    assert answer.payload["actor"] == circle.actor.uri and note["to"] == [rita] and note["cc"] == []
    assert note["inReplyTo"] == dm["object"]["id"] and note["tag"][0] == {
        "type": "Mention", "href": rita, "name": "@rita@remote.example"
    }
    assert "you would like help with python, statistics" in note["content"]


async def test_pairing_with_a_mastodon_user_sends_a_direct_note_and_maps_the_reply(app, client, setup):
    key, rita, alice, circle = setup
    await post_signed(client, "/c/readers/inbox", mastodon_dm(rita, 1, circle.actor, "wants: python"), key,
                      f"{rita}#main-key")
    await process(app)
    await Delivery.all().delete()

    # Alice offers help through the page; the warning is shown before she does.
    alice_web = await logged_in(app, alice)
    page = await text(await alice_web.get("/c/readers/tutoring"))
    assert "rita is on another server (remote.example)" in page and "the admins of that server can read them" in page
    rita_id = str((await Actor.get(uri=rita)).id)
    opened = await submit(alice_web, "/c/readers/tutoring/open", other=rita_id, skill="python", role="offer")
    assert opened.status_code == 302
    pairing = await Pairing.get()
    thread_path = f"/tutoring/{pairing.id}"
    page = await text(await alice_web.get(thread_path))
    assert "Waiting for a reply: rita accepts the pairing by replying." in page
    assert "not end-to-end encrypted" in page and "Send to remote.example" in page

    await process(app)
    [delivery] = await Delivery.all()
    assert delivery.inbox_url == RITA_INBOX and delivery.signer_id == alice.actor.id
    create, note = delivery.payload, delivery.payload["object"]
    assert create["type"] == "Create" and note["type"] == "Note"
    for doc in (create, note):
        assert doc["to"] == [rita] and doc["cc"] == []
        addressed = set(doc["to"]) | set(doc["cc"])
        assert not addressed & vocab.PUBLIC_ALIASES and circle.actor.uri not in addressed
        assert not any(a.endswith("/followers") for a in addressed) and "audience" not in doc
    assert note["tag"] == [{"type": "Mention", "href": rita, "name": "@rita@remote.example"}]
    assert "“Readers”" in note["content"] and "“python”" in note["content"] and "Reply to this message" in note["content"]
    assert note["tutoring"]["skill"] == "python" and note["inReplyTo"] is None

    # Rita answers from Mastodon: a direct reply to alice alone.
    reply = mastodon_dm(rita, 2, alice.actor, "Yes please, <em>thanks</em>! <script>steal()</script>",
                        in_reply_to=note["id"])
    assert (await post_signed(client, "/users/alice/inbox", reply, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert (await InboxItem.get(activity_id=reply["id"])).state is InboxState.DONE
    received = await TutoringMessage.get(uri=reply["object"]["id"])
    assert received.pairing_id == pairing.id and "steal" not in received.content and "<em>thanks</em>" in received.content
    assert (await Pairing.get(id=pairing.id)).accepted_at is not None
    assert not await Post.exists()
    page = await text(await alice_web.get(thread_path))
    assert "Yes please, <em>thanks</em>!" in page and "Waiting for a reply" not in page
    assert "Yes please" not in await text(await alice_web.get("/c/readers"))

    # Alice's answer goes back in reply to rita's Note.
    assert (await submit(alice_web, f"{thread_path}/messages", body="Tuesday at 5?")).status_code == 302
    await process(app)
    answer = await Delivery.filter(signer_id=alice.actor.id).order_by("-id").first()
    assert answer.payload["object"]["inReplyTo"] == reply["object"]["id"] and answer.inbox_url == RITA_INBOX
    assert "Tuesday at 5?" in answer.payload["object"]["content"]

    # Alice's export holds the thread whole: her messages and rita's.
    exported = json.loads(await text(await alice_web.get("/settings/export.json")))
    [thread] = exported["tutoring"]
    assert thread["partner"] == "rita@remote.example" and thread["accepted"] is not None
    assert [m["text"] for m in thread["messages"]][1:] == ["@alice Yes please, thanks!", "Tuesday at 5?"]
    markdown = await text(await alice_web.get("/settings/export.md"))
    assert "## Tutoring" in markdown and "> Tuesday at 5?" in markdown

    # Someone else cannot delete rita's message; rita can, as Mastodon deletes (a Tombstone).
    tombstone = {"id": reply["object"]["id"], "type": "Tombstone", "atomUri": reply["object"]["id"]}
    mallory_key, mallory_pem = remote_key()
    mallory = await remote_person("mallory", mallory_pem)
    await post_signed(client, "/inbox", {"id": f"{mallory}#delete-1", "type": "Delete", "actor": mallory,
                                         "to": [vocab.PUBLIC], "object": tombstone}, mallory_key, f"{mallory}#main-key")
    await process(app)
    assert await TutoringMessage.exists(uri=reply["object"]["id"])
    deleted = {"id": f"{reply['object']['id']}#delete", "type": "Delete", "actor": rita, "to": [vocab.PUBLIC],
               "object": tombstone}
    await post_signed(client, "/inbox", deleted, key, f"{rita}#main-key")
    await process(app)
    assert (await InboxItem.get(activity_id=deleted["id"])).state is InboxState.DONE
    assert not await TutoringMessage.exists(uri=reply["object"]["id"])
    assert "Yes please" not in await text(await alice_web.get(thread_path))


async def test_a_reply_from_someone_else_is_not_added_and_does_not_leak(app, client, setup):
    key, rita, alice, circle = setup
    rita_actor = await Actor.get(uri=rita)
    await tutoring_service.set_skills(circle, rita_actor, offers=[], wants=["python"])
    pairing = await tutoring_service.open_pairing(circle, alice.actor, rita_actor, "python", by_is_helper=True)
    first = await TutoringMessage.get(pairing=pairing)
    await process(app)
    await Delivery.all().delete()
    mallory_key, mallory_pem = remote_key()
    mallory = await remote_person("mallory", mallory_pem)
    # Mallory guessed the Note's id and replies to it, to alice and publicly to the circle.
    sneaky = mastodon_dm(mallory, 7, alice.actor, "Let me in", in_reply_to=first.uri)
    sneaky["object"]["cc"] = [vocab.PUBLIC, circle.actor.uri]
    await post_signed(client, "/inbox", sneaky, mallory_key, f"{mallory}#main-key")
    await process(app)
    assert (await InboxItem.get(activity_id=sneaky["id"])).state is InboxState.IGNORED
    assert await TutoringMessage.filter(pairing=pairing).count() == 1
    assert not await Post.exists() and not await Delivery.exists()
    assert (await Pairing.get(id=pairing.id)).accepted_at is None
    # A direct note to alice that answers nothing of ours is no post either.
    stray = mastodon_dm(rita, 9, alice.actor, "Hi alice, just saying hello")
    await post_signed(client, "/users/alice/inbox", stray, key, f"{rita}#main-key")
    await process(app)
    assert not await Post.exists() and await TutoringMessage.filter(pairing=pairing).count() == 1


def _followers_only(dm: dict, author: str) -> dict:
    """Mastodon's followers-only shape: to the author's followers, the mentioned circle in cc."""
    mentioned = dm["object"]["to"]
    for document in (dm, dm["object"]):
        document["to"], document["cc"] = [f"{author}/followers"], mentioned
    return dm


@pytest.mark.parametrize("shape", ["direct", "followers-only"])
async def test_a_non_public_message_to_a_circle_is_not_reshared_and_its_author_is_told(app, client, setup, shape):
    # The circle re-shares whatever it posts to all its followers: a message meant for fewer people stays out.
    key, rita, alice, circle = setup
    dm = mastodon_dm(rita, 7, circle.actor, "UC a private thought about chapter 2")
    if shape == "followers-only":
        dm = _followers_only(dm, rita)
    assert (await post_signed(client, "/c/readers/inbox", dm, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert (await InboxItem.get(activity_id=dm["id"])).state is InboxState.IGNORED  # not taken as a post
    assert not await Post.exists()
    [answer] = await Delivery.all()  # to her alone: nothing was announced to the circle's followers
    assert answer.inbox_url == RITA_INBOX
    note = answer.payload["object"]
    assert note["to"] == [rita] and note["cc"] == [] and note["inReplyTo"] == dm["object"]["id"]
    assert "was not posted" in note["content"] and "public" in note["content"]
    assert "UC a private thought" not in json.dumps(answer.payload)
    assert "UC a private thought" not in await text(await client.get("/c/readers"))


async def test_a_public_mention_of_the_circle_is_posted_and_reshared(app, client, setup):
    key, rita, alice, circle = setup
    dm = mastodon_dm(rita, 8, circle.actor, "UC an open question about chapter 2")
    dm["object"]["to"] = dm["to"] = [vocab.PUBLIC]
    dm["object"]["cc"] = dm["cc"] = [circle.actor.uri, f"{rita}/followers"]
    assert (await post_signed(client, "/c/readers/inbox", dm, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert await Post.filter(uri=dm["object"]["id"], circle=circle).exists()
    assert "UC an open question" in await text(await client.get("/c/readers"))


async def test_an_edit_that_makes_a_circle_post_private_takes_it_out(app, client, setup):
    key, rita, alice, circle = setup
    dm = mastodon_dm(rita, 9, circle.actor, "UC first public words")
    dm["object"]["to"] = dm["to"] = [vocab.PUBLIC]
    dm["object"]["cc"] = dm["cc"] = [circle.actor.uri]
    await post_signed(client, "/c/readers/inbox", dm, key, f"{rita}#main-key")
    await process(app)
    await Delivery.all().delete()
    edited = dict(dm["object"], to=[f"{rita}/followers"], cc=[circle.actor.uri], content="<p>UC now private</p>")
    update = {"id": f"{edited['id']}#updates/1", "type": "Update", "actor": rita, "object": edited}
    assert (await post_signed(client, "/c/readers/inbox", update, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    assert (await Post.get(uri=edited["id"])).deleted_at is not None
    sent = json.dumps([d.payload for d in await Delivery.all()])
    assert "UC now private" not in sent and "UC first public words" not in sent
    assert '"Delete"' in sent  # the circle withdraws what it had re-shared
    assert "UC now private" not in await text(await client.get("/c/readers"))
