"""Resources over federation on one instance: a Lemmy link post arriving in a
local circle joins its library; local likes and resources go out."""

from __future__ import annotations

import json

from federation import vocab
from models.federation import Delivery
from models.posts import Post, PostKind
from models.resources import Level, Licence, Resource
from models.services import likes
from models.services import resources as resource_service
from tests import factories
from tests.conftest import corpus_json
from tests.integration.test_inbox import REMOTE, follow_of, peer, post_signed, process  # noqa: F401 (peer is a fixture)
from tests.integration.webforms import text

LEMMY_PAGE = "lemmy/objects_page_image_and_link.json"  # in tests/fixtures/corpus/


async def _member_circle(app, client, instance, key, rita):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)
    return alice, circle


def _lemmy_page(rita: str, circle_uri: str, **changes) -> dict:
    """The Lemmy link post, re-addressed: written by Rita, sent to our circle."""
    page = corpus_json(LEMMY_PAGE)
    page.update(
        id=f"{REMOTE}/post/55999", attributedTo=rita, to=[circle_uri, "https://www.w3.org/ns/activitystreams#Public"],
        audience=circle_uri, context=f"{REMOTE}/post/55999/context",
        tag=[{"type": "Hashtag", "name": "#Articles", "href": f"{REMOTE}/t/articles"},
             {"type": "Hashtag", "name": "#not a tag"}, {"type": "Mention", "name": "@x"}],
    )
    page.update(changes)
    return page


async def test_a_lemmy_link_post_joins_the_circle_library(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    _, circle = await _member_circle(app, client, instance, key, rita)
    page = _lemmy_page(rita, circle.actor.uri)
    create = {"id": f"{REMOTE}/activities/create/1", "type": "Create", "actor": rita, "object": page,
              "to": page["to"], "audience": circle.actor.uri}
    assert (await post_signed(client, "/inbox", create, key, f"{rita}#main-key")).status_code == 202
    await process(app)
    resource = await Resource.get().select_related("post")
    assert resource.link == "https://example.com/some-article"
    assert (resource.licence, resource.level) == (Licence.UNKNOWN, Level.ANY)
    assert (resource.post.kind, resource.post.title, resource.post.circle_id) == (
        PostKind.RESOURCE, "Post with image and link", circle.id
    )
    assert await resource_service.tags_of(resource) == ["articles"]
    library = await text(await client.get("/c/readers/resources"))
    assert "Post with image and link" in library and "#articles" in library
    assert 'href="https://example.com/some-article" rel="noopener nofollow ugc"' in library
    # The circle still relays Rita's own Create, as for any post.
    announce = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")][-1]
    assert announce["type"] == "Announce" and announce["object"]["id"] == create["id"]


async def test_an_edited_lemmy_link_post_updates_the_library(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    _, circle = await _member_circle(app, client, instance, key, rita)
    page = _lemmy_page(rita, circle.actor.uri)
    await post_signed(client, "/inbox", {"id": f"{REMOTE}/a/1", "type": "Create", "actor": rita, "object": page},
                      key, f"{rita}#main-key")
    edited = {**page, "attachment": [{"type": "Link", "href": "https://example.com/v2"}],
              "tag": [{"type": "Hashtag", "name": "#v2"}]}
    await post_signed(client, "/inbox", {"id": f"{REMOTE}/a/2", "type": "Update", "actor": rita, "object": edited},
                      key, f"{rita}#main-key")
    await process(app)
    resource = await Resource.get()
    assert resource.link == "https://example.com/v2" and await resource_service.tags_of(resource) == ["v2"]


async def test_posts_without_a_link_stay_plain_posts(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    _, circle = await _member_circle(app, client, instance, key, rita)
    page = _lemmy_page(rita, circle.actor.uri, attachment=[], id=f"{REMOTE}/post/2")
    create = {"id": f"{REMOTE}/activities/create/2", "type": "Create", "actor": rita, "object": page}
    await post_signed(client, "/inbox", create, key, f"{rita}#main-key")
    await process(app)
    post = await Post.get(uri=f"{REMOTE}/post/2")
    assert post.kind is PostKind.DISCUSSION and await Resource.all().count() == 0


async def test_a_local_resource_goes_out_as_a_link_page(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice, circle = await _member_circle(app, client, instance, key, rita)
    await resource_service.add_resource(
        instance, alice.actor, circle, title="Tutorial", description="Good.", link="https://docs.python.org/3/", tags="python"
    )
    await process(app)
    announce = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox").order_by("id")][-1]
    page = announce["object"]["object"]
    assert (announce["type"], announce["object"]["type"], page["type"]) == ("Announce", "Create", "Page")
    assert page["url"] == "https://docs.python.org/3/"
    assert page["attachment"] == [{"type": "Link", "href": "https://docs.python.org/3/", "mediaType": "text/html"}]
    assert page["tag"][0]["name"] == "#python"
    document = json.loads(await text(await client.get(page["id"].removeprefix("http://circles.test"),
                                                      headers={"Accept": "application/activity+json"})))
    assert document["url"] == page["url"] and document["tag"] == page["tag"]


async def test_liking_a_remote_authors_post_tells_their_server(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice, circle = await _member_circle(app, client, instance, key, rita)
    note = {"id": f"{rita}/notes/1", "type": "Note", "attributedTo": rita, "content": "<p>Try this</p>",
            "to": [vocab.PUBLIC], "cc": [circle.actor.uri], "audience": circle.actor.uri}
    await post_signed(client, "/inbox", {"id": f"{rita}/c/1", "type": "Create", "actor": rita, "object": note},
                      key, f"{rita}#main-key")
    await process(app)
    post = await Post.get(uri=f"{rita}/notes/1")
    like = await likes.like(alice.actor, post)
    await likes.like(alice.actor, post)
    await process(app)
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox", signer=alice.actor).order_by("id")]
    assert sent == [{**sent[0], "id": like.uri, "type": "Like", "actor": alice.actor.uri, "object": post.uri,
                     "audience": circle.actor.uri}]
    await likes.unlike(alice.actor, post)
    await process(app)
    sent = [d.payload for d in await Delivery.filter(inbox_url=f"{REMOTE}/inbox", signer=alice.actor).order_by("id")]
    assert [p["type"] for p in sent] == ["Like", "Undo"]
    assert sent[1]["object"]["id"] == like.uri and sent[1]["object"]["object"] == post.uri


async def test_liking_a_local_post_of_a_local_circle_sends_nothing(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice, circle = await _member_circle(app, client, instance, key, rita)
    post = await factories.post(instance, alice, circle, "Hello")
    await process(app)
    before = await Delivery.all().count()
    await likes.like(alice.actor, post)
    await process(app)
    assert await Delivery.all().count() == before
