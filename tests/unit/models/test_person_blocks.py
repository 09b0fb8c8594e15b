"""Blocks and mutes between people: the service rules."""

from __future__ import annotations

import pytest

from models.actors import Follow, FollowState
from models.errors import InvalidInput, NotFound
from models.person_blocks import BlockKind, PersonBlock
from models.services import person_blocks as svc
from tests import factories


@pytest.fixture
async def pair(database, instance):
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    return alice.actor, bob.actor


async def test_blocking_yourself_is_refused(pair):
    alice, _ = pair
    with pytest.raises(InvalidInput):
        await svc.set_block(alice, alice, BlockKind.BLOCK)
    assert await PersonBlock.all().count() == 0


async def test_unknown_person_is_not_found(pair):
    alice, _ = pair
    with pytest.raises(NotFound):
        await svc.set_block(alice, None, BlockKind.MUTE)


async def test_blocking_twice_is_idempotent_and_removes_follows_both_ways(pair):
    alice, bob = pair
    await Follow.create(follower=alice, target=bob, state=FollowState.ACCEPTED)
    await Follow.create(follower=bob, target=alice, state=FollowState.ACCEPTED)
    await svc.set_block(alice, bob, BlockKind.BLOCK)
    await svc.set_block(alice, bob, BlockKind.BLOCK)
    assert await PersonBlock.filter(owner=alice).count() == 1
    assert await Follow.all().count() == 0
    assert await svc.is_blocked_by(bob, alice)
    assert not await svc.is_blocked_by(alice, bob)


async def test_mute_hides_but_keeps_follows_and_unblock_undoes(pair):
    alice, bob = pair
    await Follow.create(follower=alice, target=bob, state=FollowState.ACCEPTED)
    await svc.set_block(alice, bob, BlockKind.MUTE)
    assert await svc.hidden_ids(alice) == {bob.id}
    assert not await svc.is_blocked_by(bob, alice)
    assert await Follow.all().count() == 1
    assert await svc.remove(alice, bob) is not None
    assert await svc.hidden_ids(alice) == set()
    assert await svc.remove(alice, bob) is None


async def test_a_blocked_person_cannot_like_the_blockers_posts(database, instance):
    from models.errors import PermissionDenied
    from models.posts import Like
    from models.services import likes

    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "gardeners")
    await factories.member(circle, bob)
    post = await factories.post(instance, alice, circle)
    await svc.set_block(alice.actor, bob.actor, BlockKind.BLOCK)
    with pytest.raises(PermissionDenied, match="blocked you"):
        await likes.like(bob.actor, post)
    assert await Like.all().count() == 0
    await svc.set_block(alice.actor, bob.actor, BlockKind.MUTE)  # a mute refuses nothing
    await likes.like(bob.actor, post)
    assert await Like.all().count() == 1
