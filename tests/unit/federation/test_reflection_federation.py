"""Shared reflections federate as posts with hashtags; private ones never do."""

from __future__ import annotations

import pytest

from federation import convert, fanout
from federation.runtime import Federation
from models.actors import ActorKind
from models.federation import Delivery, OutboxEvent
from models.posts import Post, PostKind
from models.services import follows, remote
from models.services import reflections as reflection_service
from tests import factories


@pytest.fixture
async def fed(database, instance):
    federation = Federation.start(instance, allow_private_addresses=True, version="test")
    yield federation
    await federation.close()


async def _circle_with_remote_follower(instance):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    uri = "https://remote.example/users/rita"
    rita = await remote.upsert_actor(remote.RemoteActorInput(
        uri=uri, kind=ActorKind.PERSON, username="rita", domain="remote.example", inbox_url=f"{uri}/inbox",
    ))
    await follows.receive_follow(rita, circle.actor, f"{uri}/follows/1")
    return alice, circle


def _tags(document: dict) -> list[str]:
    return [tag["name"] for tag in document.get("tag", []) if tag["type"] == "Hashtag"]


async def test_a_reflection_post_carries_its_hashtags(database, instance):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    reflection = await reflection_service.write(instance, alice.actor, circle, body="Learned", share=True)
    post = await Post.get(id=reflection.shared_post_id)
    as_post = lambda **kw: convert.post_to_as(post, author=alice.actor, circle_actor=circle.actor, parent_uri=None, **kw)
    assert _tags(as_post()) == ["#reflection"]
    assert _tags(as_post(value_cycle="transformative")) == ["#reflection", "#transformativevalue"]
    discussion = await factories.post(instance, alice, circle, "Just talk")
    assert "tag" not in convert.post_to_as(discussion, author=alice.actor, circle_actor=circle.actor, parent_uri=None)


async def test_only_a_shared_reflection_is_announced_to_the_circles_followers(fed, instance):
    alice, circle = await _circle_with_remote_follower(instance)
    await fanout.fan_out_pending(fed)  # the Accept of Rita's follow
    await Delivery.all().delete()

    reflection = await reflection_service.write(instance, alice.actor, circle, body="Mine alone", value_cycle="applied")
    await reflection_service.edit(alice.actor, reflection.id, body="Still mine", value_cycle="potential")
    assert await OutboxEvent.filter(processed_at=None).count() == 0
    assert await fanout.fan_out_pending(fed) == 0 and await Delivery.all().count() == 0

    await reflection_service.share(instance, alice.actor, reflection.id)
    assert await fanout.fan_out_pending(fed) == 1
    announce = (await Delivery.get()).payload
    assert announce["type"] == "Announce" and announce["actor"] == circle.actor.uri
    note = announce["object"]["object"]
    # Untitled, yet a named Page, as Lemmy 1.0 takes top-level posts.
    assert note["type"] == "Page" and note["name"] == "Still mine" and "Still mine" in note["content"]
    assert _tags(note) == ["#reflection", "#potentialvalue"]
    assert (await Post.get(id=note["id"].rsplit("/", 1)[1])).kind is PostKind.REFLECTION
