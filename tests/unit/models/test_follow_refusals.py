"""Who may not follow whom: one rule in the follows service
(follows.refuse_if_not_allowed), for every way of following. As Mastodon's
FollowService (`following_not_allowed?`, app/services/follow_service.rb): a
block either way, or this server's block of the target's server, refuses the
follow with Mastodon::NotPermittedError, here a PermissionDenied (403 on pages
and in the client API alike)."""

from __future__ import annotations

import pytest

from models.actors import Actor, ActorKind, Follow
from models.errors import PermissionDenied
from models.federation import OutboxEvent
from models.person_blocks import BlockKind
from models.services import follows, moderation, person_blocks, sisters
from models.sisters import SisterLink
from tests import factories


async def remote(username: str, domain: str, kind: ActorKind = ActorKind.PERSON) -> Actor:
    return await Actor.create(uri=f"https://{domain}/users/{username}", kind=kind, local=False,
                              username=username, domain=domain, inbox_url=f"https://{domain}/users/{username}/inbox")


@pytest.fixture
async def people(database, instance):
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    admin = await factories.account(instance, "carla", is_admin=True)
    return alice, bob, admin


async def test_a_block_either_way_refuses_a_local_follow_as_permission_denied(people):
    alice, bob, _ = people
    await person_blocks.set_block(bob.actor, alice.actor, BlockKind.BLOCK)
    with pytest.raises(PermissionDenied, match="bob has blocked you"):
        await follows.follow_local(alice.actor, bob.actor)
    with pytest.raises(PermissionDenied, match="You blocked alice: unblock them first"):
        await follows.follow_local(bob.actor, alice.actor)
    assert not await Follow.exists()
    await person_blocks.set_block(bob.actor, alice.actor, BlockKind.MUTE)  # a mute refuses nothing
    await follows.follow_local(alice.actor, bob.actor)
    assert await Follow.exists(follower=alice.actor, target=bob.actor)


async def test_a_block_either_way_refuses_a_remote_follow(people, instance):
    alice, bob, _ = people
    ana = await remote("ana", "elsewhere.example")
    await person_blocks.set_block(alice.actor, ana, BlockKind.BLOCK)
    with pytest.raises(PermissionDenied, match="You blocked ana"):
        await follows.follow_remote(alice.actor, ana, instance_base_url=instance.base_url)
    await person_blocks.set_block(ana, bob.actor, BlockKind.BLOCK)  # a Block that came from ana's server
    with pytest.raises(PermissionDenied, match="ana has blocked you"):
        await follows.follow_remote(bob.actor, ana, instance_base_url=instance.base_url)
    assert not await Follow.exists()
    assert not await OutboxEvent.filter(kind="follow.requested").exists()


async def test_a_server_the_admins_blocked_is_not_followed_by_anyone_here(people, instance):
    alice, _, admin = people
    await moderation.block_domain(admin, instance, "blocked.example", reason="Spam")
    spammer = await remote("spammer", "blocked.example")
    under = await remote("other", "sub.blocked.example")  # a block covers the domain's subdomains
    group = await remote("club", "blocked.example", ActorKind.GROUP)
    for target in (spammer, under, group):
        with pytest.raises(PermissionDenied, match=f"does not talk to {target.domain}: its admins blocked it"):
            await follows.follow_remote(alice.actor, target, instance_base_url=instance.base_url)
    # A circle here following one there as its sister goes through the same rule.
    circle = await factories.circle(instance, alice, "walks")
    with pytest.raises(PermissionDenied, match="its admins blocked it"):
        await sisters.link(circle, alice.actor, group, instance_base_url=instance.base_url)
    assert not await SisterLink.exists()  # the link rolled back with the refused follow
    assert not await Follow.exists()
    assert not await OutboxEvent.filter(kind="follow.requested").exists()
