"""Discovery, actor and object documents, and collections, through the real app."""

from __future__ import annotations

import json

import pytest

from federation import signatures
from tests import factories

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
async def world(database, instance):
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers", name="Readers", purpose="We read *books*.",
                                    rules="Be kind.\nLend books back.", location="Lyon", timezone="Europe/Paris",
                                    topics="#novels poetry", meeting_cadence="Sundays", size_limit="20")
    await factories.member(circle, bob)
    post = await factories.post(instance, alice, circle, "First **post**", title="Welcome")
    return alice, bob, circle, post


async def get_json(client, path, accept=AP):
    response = await client.get(path, headers={"Accept": accept})
    assert response.status_code == 200, (path, response.status_code, await response.get_data(as_text=True))
    return response, json.loads(await response.get_data(as_text=True))


@pytest.mark.parametrize("resource", ["acct:alice@circles.test", "acct:@alice@circles.test", "http://circles.test/users/alice"])
async def test_webfinger_finds_people(client, world, resource):
    response, body = await get_json(client, f"/.well-known/webfinger?resource={resource}")
    assert response.content_type.startswith("application/jrd+json")
    assert body["subject"] == "acct:alice@circles.test"
    selfs = {link["type"]: link["href"] for link in body["links"] if link["rel"] == "self"}
    assert selfs == {AP: "http://circles.test/users/alice", LD: "http://circles.test/users/alice"}
    assert any(link["rel"] == "http://webfinger.net/rel/profile-page" for link in body["links"])


async def test_webfinger_finds_circles_and_refuses_bad_resources(client, world):
    _, body = await get_json(client, "/.well-known/webfinger?resource=acct:readers@circles.test")
    assert body["links"][0]["href"] == "http://circles.test/c/readers"
    for resource, status in [("acct:nobody@circles.test", 404), ("acct:alice@elsewhere.example", 404),
                             ("", 400), ("mailto:alice@circles.test", 400), ("acct:nodomain", 400)]:
        response = await client.get(f"/.well-known/webfinger?resource={resource}")
        assert response.status_code == status, resource


async def test_host_meta_and_nodeinfo(client, world):
    xml = await (await client.get("/.well-known/host-meta")).get_data(as_text=True)
    assert 'template="http://circles.test/.well-known/webfinger?resource={uri}"' in xml
    _, links = await get_json(client, "/.well-known/nodeinfo")
    assert [link["href"] for link in links["links"]] == ["http://circles.test/nodeinfo/2.0", "http://circles.test/nodeinfo/2.1"]
    for schema in ("2.0", "2.1"):
        _, info = await get_json(client, f"/nodeinfo/{schema}")
        assert info["version"] == schema and info["software"]["name"] == "circles"
        assert info["protocols"] == ["activitypub"] and info["openRegistrations"] is True
        assert info["usage"]["users"]["total"] == 2 and info["usage"]["localPosts"] == 1


@pytest.mark.parametrize("accept", [AP, LD])
async def test_person_document_by_content_negotiation(client, world, accept):
    response, person = await get_json(client, "/users/alice", accept)
    assert response.content_type.startswith(AP) and "Accept" in response.headers.get("Vary", "")
    assert person["type"] == "Person" and person["id"] == "http://circles.test/users/alice"
    assert person["inbox"] == "http://circles.test/users/alice/inbox"
    assert person["endpoints"]["sharedInbox"] == "http://circles.test/inbox"
    assert person["publicKey"]["owner"] == person["id"]
    signatures.load_public_key(person["publicKey"]["publicKeyPem"])
    (multikey,) = person["assertionMethod"]
    assert multikey["type"] == "Multikey" and multikey["publicKeyMultibase"].startswith("z6Mk")
    signatures.public_key_from_multibase(multikey["publicKeyMultibase"])
    html = await client.get("/users/alice", headers={"Accept": "text/html"})
    assert html.content_type.startswith("text/html")


async def test_group_document_follows_fep_1b12(client, world):
    _, group = await get_json(client, "/c/readers")
    assert group["type"] == "Group" and group["name"] == "Readers"
    assert group["attributedTo"] == "http://circles.test/c/readers/moderators"
    assert group["postingRestrictedToMods"] is False
    assert "<em>books</em>" in group["summary"]
    assert {"type": "PropertyValue", "name": "Place", "value": "Lyon"} in group["attachment"]
    assert {"type": "PropertyValue", "name": "Meets", "value": "Sundays"} in group["attachment"]
    assert {"type": "PropertyValue", "name": "Size limit", "value": "20 members"} in group["attachment"]
    assert group["tag"] == [
        {"type": "Hashtag", "name": "#novels", "href": "http://circles.test/circles?topic=novels"},
        {"type": "Hashtag", "name": "#poetry", "href": "http://circles.test/circles?topic=poetry"},
    ]
    assert "<ol>" in group["content"] and "<li>Lend books back.</li>" in group["content"]
    # Lemmy's LanguageTag needs both fields, or the whole Group fails to load
    # (Lemmy main crates/apub/objects/src/utils/protocol.rs:118-123).
    assert group["language"] == [{"identifier": "en", "name": "English"}]
    _, moderators = await get_json(client, group["attributedTo"])
    assert moderators["orderedItems"] == ["http://circles.test/users/alice"]
    _, followers = await get_json(client, group["followers"])
    assert followers["totalItems"] == 0 and followers["items"] == []  # only the count: Lemmy's GroupFollowers
    assert followers["type"] == "Collection"


async def test_post_document_and_collections(client, world):
    alice, bob, circle, post = world
    _, page = await get_json(client, f"/posts/{post.id}")
    assert page["type"] == "Page" and page["name"] == "Welcome"
    assert page["attributedTo"] == "http://circles.test/users/alice"
    assert page["audience"] == "http://circles.test/c/readers"
    assert "https://www.w3.org/ns/activitystreams#Public" in page["to"]
    assert "<strong>post</strong>" in page["content"]
    assert page["language"] == {"identifier": "en", "name": "English"}  # Lemmy's Page.language: one LanguageTag
    _, outbox = await get_json(client, "/c/readers/outbox")
    assert outbox["totalItems"] == 1
    _, first = await get_json(client, outbox["first"].removeprefix("http://circles.test"))
    (announce,) = first["orderedItems"]
    assert announce["type"] == "Announce" and announce["object"]["object"]["id"] == post.uri
    _, person_outbox = await get_json(client, "/users/alice/outbox?page=true")
    assert person_outbox["orderedItems"][0]["type"] == "Create"


async def test_a_question_names_its_accepted_answer(client, world, instance):
    from models.services import posts as post_service
    from models.services import questions as question_service

    alice, bob, circle, _ = world
    question = await question_service.ask(instance, bob.actor, circle, title="Which edition?", body="?")
    answer = await post_service.reply(instance, alice.actor, question, body="The 1998 one.")
    _, before = await get_json(client, f"/posts/{question.id}")
    assert "acceptedAnswer" not in before
    await question_service.accept_answer(instance, bob.actor, question, answer)
    _, page = await get_json(client, f"/posts/{question.id}")
    assert page["acceptedAnswer"] == answer.uri and page["updated"]
    _, create = await get_json(client, f"/posts/{question.id}/activity")
    assert create["object"]["acceptedAnswer"] == answer.uri


async def test_unknown_documents_are_404(client, world):
    for path in ("/users/nobody", "/c/nothing", "/posts/999", "/users/nobody/outbox", "/c/nothing/followers"):
        response = await client.get(path, headers={"Accept": AP})
        assert response.status_code == 404, path


async def test_activitypub_clients_get_errors_as_json(client, world):
    response = await client.get("/users/nobody", headers={"Accept": AP})
    assert response.status_code == 404
    assert json.loads(await response.get_data(as_text=True)) == {"error": "No one here has the name “nobody”."}
    browser = await client.get("/users/nobody", headers={"Accept": "text/html"})
    assert browser.content_type.startswith("text/html")


async def test_the_create_activity_of_a_post_is_served(client, world):
    *_, post = world
    _, create = await get_json(client, f"/posts/{post.id}/activity")
    assert create["type"] == "Create" and create["id"] == f"{post.uri}/activity"
    assert create["object"]["id"] == post.uri and create["actor"] == "http://circles.test/users/alice"


async def test_a_malformed_page_cursor_is_ignored_not_a_500(client, world):
    for cursor in ("%C2%B2", "abc", "9" * 40):
        response = await client.get(f"/users/alice/outbox?max_id={cursor}", headers={"Accept": AP})
        assert response.status_code == 200, cursor


async def test_collections_page_through_every_item_once(client, world, instance):
    from federation.routes import PAGE_SIZE

    alice, _, circle, _ = world
    for n in range(PAGE_SIZE + 3):
        await factories.post(instance, alice, circle, f"post {n}")
    seen, path = [], "/c/readers/outbox?page=true"
    while path:
        _, page = await get_json(client, path)
        seen += [item["object"]["object"]["id"] for item in page["orderedItems"]]
        path = page.get("next", "").removeprefix("http://circles.test") or None
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 4


async def test_a_posts_replies_page_through(client, world, instance):
    from federation.routes import PAGE_SIZE
    from models.services import posts as post_service

    alice, bob, _, post = world
    for n in range(PAGE_SIZE + 2):
        await post_service.reply(instance, bob.actor, post, body=f"reply {n}")
    _, collection = await get_json(client, f"/posts/{post.id}/replies")
    assert collection["totalItems"] == PAGE_SIZE + 2
    seen, path = [], collection["first"].removeprefix("http://circles.test")
    while path:
        _, page = await get_json(client, path)
        seen += page["orderedItems"]
        path = page.get("next", "").removeprefix("http://circles.test") or None
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 2 and all(uri.startswith("http://circles.test/posts/") for uri in seen)
