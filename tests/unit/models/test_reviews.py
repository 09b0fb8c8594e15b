"""Peer review: sharing work, structured feedback, marking what helped."""

from __future__ import annotations

import pytest

from models.errors import InvalidInput, NotFound, PermissionDenied
from models.posts import Post, PostKind
from models.reviews import Feedback
from models.services import posts as post_service
from models.services import reviews as svc
from tests import factories


@pytest.fixture
async def people(database, instance):
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "writers")
    await factories.member(circle, bob)
    return alice, bob, circle


async def test_feedback_in_three_parts_and_marked_helpful(instance, people):
    alice, bob, circle = people
    work = await svc.request_review(instance, alice.actor, circle, title="My essay", body="Is the ending clear?",
                                    link="https://alice.example/essay")
    assert work.kind is PostKind.REVIEW and 'href="https://alice.example/essay"' in work.content
    reply = await svc.give_feedback(instance, bob.actor, work, works="The opening.", suggestions="Shorter ending.")
    assert "<strong>What works</strong>" in reply.content and "Questions" not in reply.content
    assert (await svc.feedback_in(work))[reply.id].suggestions == "Shorter ending."

    with pytest.raises(PermissionDenied):
        await svc.mark_helpful(bob.actor, reply)
    await svc.mark_helpful(alice.actor, reply)
    assert (await Feedback.get(reply_id=reply.id)).helpful_at is not None
    await svc.mark_helpful(alice.actor, reply, helpful=False)
    assert (await Feedback.get(reply_id=reply.id)).helpful_at is None


@pytest.mark.parametrize("link", ["javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,x", "ftp://x.org/f",
                                  "https://" + "x" * 2000])
async def test_a_link_must_be_a_web_address(instance, people, link):
    alice, _, circle = people
    with pytest.raises(InvalidInput) as caught:
        await svc.request_review(instance, alice.actor, circle, title="Work", body="Look", link=link)
    assert caught.value.field == "link"
    assert await Post.all().count() == 0


async def test_bad_feedback_changes_nothing(instance, people):
    alice, bob, circle = people
    work = await svc.request_review(instance, alice.actor, circle, title="Work", body="Look")
    with pytest.raises(InvalidInput):
        await svc.give_feedback(instance, bob.actor, work)  # all parts empty
    with pytest.raises(InvalidInput):
        await svc.give_feedback(instance, bob.actor, work, works="w" * 5001)
    with pytest.raises(InvalidInput):
        await svc.give_feedback(instance, alice.actor, work, works="I love it")  # one's own work
    discussion = await factories.post(instance, alice, circle)
    with pytest.raises(InvalidInput):
        await svc.give_feedback(instance, bob.actor, discussion, works="x")
    outsider = await factories.account(instance, "dan")
    with pytest.raises(PermissionDenied):
        await svc.give_feedback(instance, outsider.actor, work, works="x")
    assert await Feedback.all().count() == 0 and (await Post.get(id=work.id)).reply_count == 0
    plain = await post_service.reply(instance, bob.actor, work, body="Just a comment")
    await svc.mark_helpful(alice.actor, plain)  # plain replies (say, from Mastodon) are feedback too
    assert (await Feedback.get(reply_id=plain.id)).helpful_at is not None
    own = await post_service.reply(instance, alice.actor, work, body="Thanks all")
    with pytest.raises(InvalidInput):
        await svc.mark_helpful(alice.actor, own)
    with pytest.raises(NotFound):
        await svc.mark_helpful(alice.actor, await post_service.reply(instance, bob.actor, discussion, body="hi"))
