"""Resources as ActivityStreams: a link Page out, a link Page in."""

from federation import convert, parse
from models.posts import Post
from models.services import resources as resource_service
from tests import factories
from tests.conftest import corpus_json


def lemmy_page() -> dict:
    """Lemmy's link post, from the corpus (tests/fixtures/corpus/)."""
    return corpus_json("lemmy/objects_page_image_and_link.json")


async def test_a_resource_is_a_page_with_its_link_and_hashtags(database, instance):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    resource = await resource_service.add_resource(
        instance, alice.actor, circle, title="The Python tutorial", description="Start *here*.",
        link="https://docs.python.org/3/tutorial/?a=1&b=2", tags="python, web_dev",
    )
    post = await Post.get(id=resource.post_id)
    page = convert.post_to_as(
        post, author=alice.actor, circle_actor=circle.actor, parent_uri=None,
        resource=resource, resource_tags=await resource_service.tags_of(resource),
    )
    link = "https://docs.python.org/3/tutorial/?a=1&b=2"
    assert page["type"] == "Page" and page["name"] == "The Python tutorial"
    assert page["url"] == link
    assert page["attachment"] == [{"type": "Link", "href": link, "mediaType": "text/html"}]
    assert page["content"].startswith("<p>Start <em>here</em>.</p>")
    assert '<a href="https://docs.python.org/3/tutorial/?a=1&amp;b=2" rel="noopener nofollow ugc">' in page["content"]
    assert page["contentMap"] == {"en": page["content"]}
    assert page["audience"] == circle.actor.uri and circle.actor.uri in page["to"]
    assert page["tag"] == [
        {"type": "Hashtag", "name": "#python", "href": f"{circle.actor.uri}/resources?tag=python"},
        {"type": "Hashtag", "name": "#web_dev", "href": f"{circle.actor.uri}/resources?tag=web_dev"},
    ]
    # It reads back as a link post carrying the same link and tags.
    data = parse.as_to_post_input(page, local_circle_uris={circle.actor.uri})
    assert (data.link, data.tags, data.title) == (link, ("#python", "#web_dev"), "The Python tutorial")
    assert data.content_html.count("<a ") == 1  # the attachment is not repeated


def test_a_lemmy_link_post_carries_its_link_but_not_its_image():
    page = lemmy_page()
    data = parse.as_to_post_input(page, local_circle_uris=set())
    assert data.link == "https://example.com/some-article" and data.tags == ()


def test_only_top_level_titled_pages_share_links():
    page = lemmy_page()
    reply = {**page, "inReplyTo": "https://enterprise.lemmy.ml/post/1"}
    image_only = {**page, "attachment": [page["attachment"][0]]}
    hostile = {**page, "attachment": [{"type": "Link", "href": "javascript:alert(1)"}]}
    note = {**page, "type": "Note"}
    for obj in (reply, image_only, hostile, note):
        assert parse.as_to_post_input(obj, local_circle_uris=set()).link is None
