"""Deleting an account, by the person (with their password) or by an admin:
what is erased, what stays as a tombstone, what other servers are told, and
that the handle is never given out again."""

from __future__ import annotations

import json

from federation import delivery, fanout
from models.accounts import Account
from models.actors import Actor
from models.circles import Circle, Membership
from models.federation import Delivery
from models.posts import Like, Post
from models.reflections import Reflection
from models.services import account_deletion, likes, reflections
from models.services import posts as post_service
from tests import factories
from tests.factories import PASSWORD
from tests.integration.stubs import follower_on, nodeinfo_server
from tests.integration.test_delivery import verify
from tests.integration.webforms import logged_in, submit, text

AP = {"Accept": "application/activity+json"}


async def _world(instance, alice, bob):
    """Bob's circle with Alice in it: her post, Bob's reply to it, her reply,
    her like of Bob's post, a private reflection."""
    circle = await factories.circle(instance, bob, "readers")
    await factories.member(circle, alice)
    hers = await factories.post(instance, alice, circle, "My secret thoughts on chapter one", title="Chapter one")
    bobs_reply = await post_service.reply(instance, bob.actor, hers, body="Bob answers Alice")
    her_reply = await post_service.reply(instance, alice.actor, bobs_reply, body="Alice answers back")
    bobs = await factories.post(instance, bob, circle, "Bob's own post")
    await likes.like(alice.actor, bobs)
    await reflections.write(instance, alice.actor, circle, body="Only for me")
    return circle, hers, bobs_reply, her_reply


async def test_a_person_deletes_their_account_and_their_content_goes(app, fed, instance, stub, alice, bob):
    circle, hers, bobs_reply, her_reply = await _world(instance, alice, bob)
    mastodon = await stub(nodeinfo_server("mastodon"))
    await follower_on(mastodon, circle, "mo")
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()
    members_before = (await Circle.get(id=circle.id)).member_count
    client = await logged_in(app, alice)
    assert "This cannot be undone." in await text(await client.get("/settings/delete"))

    wrong = await submit(client, "/settings/delete", password="not my password")
    assert wrong.status_code == 401
    assert await Account.filter(id=alice.id).exists()

    done = await submit(client, "/settings/delete", password=PASSWORD)
    assert done.status_code == 302
    assert not await Account.filter(id=alice.id).exists()
    assert "/login" in (await client.get("/settings")).location  # signed out
    actor = await Actor.get(id=alice.actor_id)
    assert actor.deleted_at is not None and actor.display_name == "" and actor.summary == ""
    for post in (hers, her_reply):
        erased = await Post.get(id=post.id)
        assert erased.deleted_at is not None and erased.content == "" and erased.source == "" and erased.title == ""
    assert (await Post.get(id=bobs_reply.id)).deleted_at is None  # others' words stay
    # Her post is gone; Bob's reply under it stays readable there (posts.get_thread_post).
    thread = await text(await app.test_client().get(f"/posts/{hers.id}"))
    assert "secret thoughts" not in thread and "Alice answers back" not in thread
    assert "This post was deleted. The replies stay." in thread and "Bob answers Alice" in thread
    assert not await Membership.filter(actor_id=alice.actor_id).exists()
    assert (await Circle.get(id=circle.id)).member_count == members_before - 1
    assert not await Like.filter(actor_id=alice.actor_id).exists()
    assert not await Reflection.filter(author_id=alice.actor_id).exists()

    # Every known server hears one Delete of the actor, signed by her key.
    await fanout.fan_out_pending(fed)
    (delivery,) = await Delivery.filter(host=mastodon.host)
    assert delivery.payload["type"] == "Delete" and delivery.payload["object"] == actor.uri
    assert delivery.payload["actor"] == actor.uri and delivery.payload["removeData"] is True
    assert delivery.signer_id == actor.id

    # The handle is a tombstone: 410 to people and servers, and never given out again.
    assert (await app.test_client().get("/users/alice")).status_code == 410
    assert (await app.test_client().get("/users/alice", headers=AP)).status_code == 410
    webfinger = await app.test_client().get(f"/.well-known/webfinger?resource=acct:alice@{instance.domain}")
    assert webfinger.status_code == 410
    again = await submit(app.test_client(), "/signup", username="alice", email="alice@example.org", password=PASSWORD)
    assert again.status_code == 409


async def test_the_delete_is_signed_with_the_deleted_persons_key(fed, instance, stub, alice, bob):
    circle, *_ = await _world(instance, alice, bob)
    mastodon = await stub(nodeinfo_server("mastodon"))
    await follower_on(mastodon, circle, "mo")
    await fanout.fan_out_pending(fed)
    await account_deletion.delete_account(alice, by=alice, instance=instance)
    await fanout.fan_out_pending(fed)
    await delivery.deliver_due(fed)
    (received,) = [r for r in mastodon.received if json.loads(r.body).get("type") == "Delete"]
    verified = await verify(received, instance.person_uri("alice"))
    assert verified.key_id.startswith(instance.person_uri("alice"))


async def test_an_admin_deletes_an_account_and_a_member_cannot(app, instance, alice, bob):
    boss = await factories.account(instance, "boss", is_admin=True)
    refused = await submit(await logged_in(app, bob), "/admin/accounts/alice/delete")
    assert refused.status_code in (302, 403)
    assert await Account.filter(id=alice.id).exists()
    admin = await logged_in(app, boss)
    page = await text(await admin.get("/admin/accounts/alice/delete"))
    assert "Delete the account of @alice" in page and "Your password" not in page
    assert (await submit(admin, "/admin/accounts/alice/delete")).status_code == 302
    assert not await Account.filter(id=alice.id).exists()


async def test_the_only_admin_cannot_delete_themselves(app, instance):
    boss = await factories.account(instance, "boss", is_admin=True)
    client = await logged_in(app, boss)
    refused = await submit(client, "/settings/delete", password=PASSWORD)
    assert refused.status_code == 409
    assert "make someone else an admin first" in await text(refused)
    assert await Account.filter(id=boss.id).exists()
