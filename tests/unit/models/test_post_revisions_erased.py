"""A deleted post's earlier versions go with it (models/services/posts.py
mark_deleted, forget_revisions): when its author deletes it, a steward
removes it, the author's account is deleted, or a remote author's Delete
arrives. No version's words survive in history or backups."""

import pytest

from models import clock

from models.actors import Actor, ActorKind
from models.circles import Membership, MembershipState
from models.posts import Post, PostRevision
from models.services import account_deletion, moderation, post_edits, remote
from models.services import posts as post_service
from tests import factories

ELSEWHERE = "https://elsewhere.example"


@pytest.fixture
async def people(instance):
    alice = await factories.account(instance, "alice")  # facilitator (a steward)
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    return alice, bob, circle


async def _edited(instance, author, circle, words: str) -> Post:
    post = await factories.post(instance, author, circle, words, title="T")
    await post_edits.edit_post(author.actor, post, title="T", body="Second thoughts")
    assert await PostRevision.filter(post_id=post.id, source=words).exists()
    return post


async def test_the_author_deletes_a_post_and_its_history_goes(database, instance, people):
    alice, bob, circle = people
    post = await _edited(instance, bob, circle, "Bob's first words")
    others = await _edited(instance, alice, circle, "Alice's first words")
    await post_service.delete_post(bob.actor, post)
    assert not await PostRevision.filter(post_id=post.id).exists()
    assert await PostRevision.filter(post_id=others.id).count() == 1  # only that post's


async def test_a_steward_removes_a_post_and_its_history_goes(database, instance, people):
    alice, bob, circle = people
    post = await _edited(instance, bob, circle, "Bob's first words")
    await moderation.remove_post(circle, alice.actor, post.id, reason="Off topic")
    assert not await PostRevision.filter(post_id=post.id).exists()


async def test_a_deleted_account_leaves_no_earlier_version_and_names_no_editor(database, instance, people):
    alice, bob, circle = people
    post = await _edited(instance, bob, circle, "Bob's first words")
    reply = await post_service.reply(instance, bob.actor, post, body="Bob's first reply")
    await post_edits.edit_post(bob.actor, reply, body="Bob's second reply")
    others = await _edited(instance, alice, circle, "Alice's first words")
    # A version of someone else's post that names Bob as its editor (not made by
    # today's editors, but the rows allow it): it stays, without his name.
    await PostRevision.filter(post_id=others.id).update(by_id=bob.actor.id)
    await account_deletion.delete_account(bob, by=bob, instance=instance)
    assert not await PostRevision.filter(post_id__in=[post.id, reply.id]).exists()
    assert not await PostRevision.filter(source__contains="Bob's").exists()
    [kept] = await PostRevision.filter(post_id=others.id)
    assert kept.by_id is None and kept.source == "Alice's first words"


async def test_a_remote_actors_delete_leaves_no_earlier_version(database, instance, people):
    alice, _, circle = people
    rita = await Actor.create(
        uri=f"{ELSEWHERE}/users/rita", kind=ActorKind.PERSON, local=False, username="rita",
        domain="elsewhere.example", inbox_url=f"{ELSEWHERE}/users/rita/inbox",
    )
    await Membership.create(circle=circle, actor=rita, state=MembershipState.ACTIVE)
    post = await Post.create(
        uri=f"{ELSEWHERE}/notes/1", author=rita, circle=circle, local=False, title="", content="<p>Now</p>",
        published_at=clock.now(),
    )
    await post_edits.keep_revision(post, title="", content="<p>Rita's first words</p>", by_id=rita.id)
    others = await _edited(instance, alice, circle, "Alice's first words")
    assert await remote.delete_actor(rita.uri, instance=instance)
    assert not await PostRevision.filter(post_id=post.id).exists()
    assert await PostRevision.filter(post_id=others.id).count() == 1
