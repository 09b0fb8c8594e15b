"""Hostile peers against the real inbox and the real actor fetching: each
trick is refused or neutralised with a 4xx and a reason, stores nothing it
should not, and never ends in a 500 (tests/integration's autouse fixture)."""

from __future__ import annotations

import json

import pytest

from federation import keys, parse, signatures
from models.actors import Actor
from models.federation import InboxItem
from models.posts import Post
from tests import factories
from tests.integration.test_inbox import PUBLIC, REMOTE, follow_of, post_signed, process, remote_key
from tests.integration.webforms import text

ACTIVITY_JSON = {"Content-Type": "application/activity+json"}


# --- the request itself -----------------------------------------------------------------

async def test_a_request_signed_for_another_server_is_refused(client, instance, peer):
    key, rita = peer
    await factories.account(instance, "alice")
    body = json.dumps(follow_of(rita, instance.person_uri("alice"))).encode()
    # Signed for https://other.example/inbox and replayed to us: the signed target is not ours.
    headers = ACTIVITY_JSON | signatures.sign_cavage("POST", "https://other.example/inbox", ACTIVITY_JSON, body,
                                                     f"{rita}#main-key", key)
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 401
    assert await InboxItem.all().count() == 0


async def test_a_body_that_is_not_utf8_is_refused(client, peer):
    key, rita = peer
    body = b'{"id": "' + REMOTE.encode() + b'/1", "type": "Follow", "actor": "\xff\xfe"}'
    headers = ACTIVITY_JSON | signatures.sign_cavage("POST", "http://circles.test/inbox", ACTIVITY_JSON, body,
                                                     f"{rita}#main-key", key)
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 400 and "JSON" in (await response.get_json())["error"]


async def test_a_second_digest_that_does_not_match_is_refused(client, instance, peer):
    key, rita = peer
    await factories.account(instance, "alice")
    body = json.dumps(follow_of(rita, instance.person_uri("alice"))).encode()
    headers = ACTIVITY_JSON | signatures.sign_cavage("POST", "http://circles.test/inbox", ACTIVITY_JSON, body,
                                                     f"{rita}#main-key", key)
    headers["Content-Digest"] = signatures.content_digest_header(b"something else")
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 401
    assert await InboxItem.all().count() == 0


# --- other people's objects ---------------------------------------------------------------

async def test_deleting_or_editing_someone_elses_post_changes_nothing(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    mine = await factories.post(instance, alice, circle, "Alice's words")
    for n, activity in enumerate([
        {"type": "Delete", "object": mine.uri},
        {"type": "Update", "object": {"id": mine.uri, "type": "Note", "attributedTo": rita, "content": "Rita's words"}},
        {"type": "Update", "object": {"id": mine.uri, "type": "Note", "attributedTo": alice.actor.uri,
                                      "content": "Rita's words"}},
    ]):
        activity |= {"id": f"{rita}/tricks/{n}", "actor": rita, "to": PUBLIC}
        response = await post_signed(client, "/inbox", activity, key, f"{rita}#main-key")
        assert response.status_code in (202, 400), (n, response.status_code)
        await process(app)
    post = await Post.get(id=mine.id)
    assert post.deleted_at is None and "Alice's words" in post.content


async def test_a_person_announcing_a_forged_post_of_another_host_stores_nothing(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    forged = {"id": "https://victim.example/notes/1", "type": "Note", "attributedTo": "https://victim.example/users/v",
              "content": "words put in someone's mouth", "to": PUBLIC, "cc": [circle.actor.uri]}
    announce = {"id": f"{rita}/announces/1", "type": "Announce", "actor": rita, "object": forged, "to": PUBLIC,
                "cc": [circle.actor.uri]}
    await post_signed(client, "/inbox", announce, key, f"{rita}#main-key")
    await process(app)
    assert not await Post.filter(uri="https://victim.example/notes/1").exists()
    assert not await Post.filter(content__contains="words put in").exists()


# --- names and handles --------------------------------------------------------------------

def _actor_document(uri: str, username: str, pem: str, name: str = "Someone") -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": "Person",
            "preferredUsername": username, "name": name, "inbox": f"{uri}/inbox",
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": pem}}


@pytest.fixture
async def actors_server(stub):
    """A server whose actors and WebFinger answers the test sets."""
    documents: dict[str, dict] = {}
    webfinger: dict[str, str] = {}

    def respond(request):
        path = request.path.split("?", 1)[0]
        if path == "/.well-known/webfinger":
            resource = request.path.split("resource=", 1)[1].replace("%3A", ":").replace("%40", "@")
            href = webfinger.get(resource)
            if href is None:
                return 404
            return 200, {"subject": resource, "links": [
                {"rel": "self", "type": "application/activity+json", "href": href}]}
        return (200, documents[path]) if path in documents else 404

    server = await stub(respond)
    server.documents, server.webfinger = documents, webfinger
    return server


@pytest.mark.parametrize("username", [
    "аlice",  # Cyrillic а: looks like alice
    "al\u200bice",  # a zero-width space inside
    "\u202eecila",  # right-to-left override
    "ali ce", "alice\n", "@alice@elsewhere.example",
])
async def test_handles_with_lookalike_invisible_or_control_characters_are_refused(fed, actors_server, username):
    _, pem = remote_key()
    uri = actors_server.url("/users/x")
    actors_server.documents["/users/x"] = _actor_document(uri, username, pem)
    with pytest.raises(parse.InvalidDocument):
        await keys.resolve_actor(fed, uri)
    assert not await Actor.filter(uri=uri).exists()


async def test_names_lose_their_invisible_and_bidi_characters(fed, actors_server):
    _, pem = remote_key()
    uri = actors_server.url("/users/ana")
    actors_server.documents["/users/ana"] = _actor_document(uri, "ana", pem, name="An\u200ba \u202eadmin\u202c\u2066")
    actor = await keys.resolve_actor(fed, uri)
    assert actor.display_name == "Ana admin"


async def test_right_to_left_names_are_kept_and_shown_isolated(fed, actors_server):
    """A Hebrew name is kept as sent, and shown wrapped in Unicode isolates
    (FSI...PDI), so the "@", dots and numbers beside it stay in place."""
    _, pem = remote_key()
    uri = actors_server.url("/users/sara")
    actors_server.documents["/users/sara"] = _actor_document(uri, "sara", pem, name="שרה 2")
    actor = await keys.resolve_actor(fed, uri)
    assert actor.display_name == "שרה 2"
    assert actor.name == "\u2068שרה 2\u2069"
    actors_server.documents["/users/ana"] = _actor_document(actors_server.url("/users/ana"), "ana", pem, name="Ana")
    assert (await keys.resolve_actor(fed, actors_server.url("/users/ana"))).name == "Ana"  # nothing to isolate


async def test_a_second_actor_claiming_a_known_handle_needs_webfinger_to_agree(fed, actors_server):
    _, pem = remote_key()
    alice_uri, mallory_uri = actors_server.url("/users/alice"), actors_server.url("/users/mallory")
    actors_server.documents["/users/alice"] = _actor_document(alice_uri, "alice", pem, name="Alice")
    actors_server.documents["/users/mallory"] = _actor_document(mallory_uri, "alice", pem, name="Alice")
    actors_server.webfinger[f"acct:alice@{actors_server.host}"] = alice_uri
    assert (await keys.resolve_actor(fed, alice_uri)).username == "alice"
    with pytest.raises(parse.InvalidDocument, match="belongs to another actor"):
        await keys.resolve_actor(fed, mallory_uri)
    assert (await Actor.get(uri=alice_uri)).username == "alice"
    # A real rename: WebFinger now gives the handle to the new actor, which takes it.
    actors_server.webfinger[f"acct:alice@{actors_server.host}"] = mallory_uri
    assert (await keys.resolve_actor(fed, mallory_uri)).username == "alice"
    assert (await Actor.get(uri=alice_uri)).username != "alice"


async def test_markup_in_a_remote_name_and_title_is_shown_as_text(app, client, instance, peer):
    key, rita = peer
    # As parse.as_to_actor_input keeps it: names are plain text, markup and all.
    await Actor.filter(uri=rita).update(display_name='<script>alert("n")</script>Rita')
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    page_object = {"id": f"{rita}/pages/1", "type": "Page", "attributedTo": rita, "name": '<img src=x onerror=alert(1)>Hi',
                   "content": "<p>Body</p>", "to": PUBLIC, "cc": [circle.actor.uri], "audience": circle.actor.uri}
    create = {"id": f"{rita}/pages/1/create", "type": "Create", "actor": rita, "object": page_object, "to": PUBLIC}
    assert (await post_signed(client, "/inbox", create, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    post = await Post.get(uri=f"{rita}/pages/1")
    for path in ("/c/readers", f"/posts/{post.id}"):
        page = await text(await client.get(path))
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;Hi" in page or "&lt;script&gt;" in page
