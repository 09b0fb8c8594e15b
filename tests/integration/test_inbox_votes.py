"""Lemmy's votes arriving at a circle: an upvote is "this helped me" (a
like), a downvote is not kept but replaces the person's upvote, as it does
on Lemmy. The activities are Lemmy's own test samples
(tests/fixtures/corpus/lemmy/activities_voting_*.json, see SOURCES.md),
pointed at our post and sent by a signed remote member.

Lemmy sends a vote as `Like` or `Dislike` (LemmyNet/lemmy c537cf29
crates/apub/src/activities/voting/mod.rs:30-54, `send_like_activity`),
undoes either as an Undo of a `Like` (same file, 48-49), and stores a new
vote by removing the person's earlier one first (92-93)."""

from __future__ import annotations

from models.posts import Like
from tests import factories
from tests.conftest import corpus_json
from tests.integration import test_inbox
from tests.integration.test_inbox import follow_of, post_signed, process

peer = test_inbox.peer  # the fixture: a signed remote person


def lemmy_vote(name: str, actor: str, post_uri: str, n: int) -> dict:
    """A Lemmy vote from the corpus, by `actor`, of our post."""
    vote = corpus_json(f"lemmy/activities_voting_{name}.json")
    vote.update(actor=actor, id=f"{actor}/activities/{n}")
    if isinstance(vote["object"], dict):  # an Undo, carrying the vote
        vote["object"] = {**vote["object"], "actor": actor, "object": post_uri, "id": f"{actor}/activities/{n}-inner"}
    else:
        vote["object"] = post_uri
    return vote


async def test_a_lemmy_upvote_is_a_like_and_a_downvote_takes_it_back(app, client, instance, peer):
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    post = await factories.post(instance, alice, circle, "Hello")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")  # Rita joins

    async def send(name: str, n: int) -> None:
        response = await post_signed(client, "/inbox", lemmy_vote(name, rita, post.uri, n), key, f"{rita}#main-key")
        assert response.status_code == 202
        await process(app)

    await send("like_note", 1)
    assert await Like.filter(post=post, actor__uri=rita).count() == 1
    assert "1 person found this helpful" in await (await client.get(f"/posts/{post.id}")).get_data(as_text=True)
    await send("dislike_page", 2)  # Rita changes her vote to a downvote: not kept, and her upvote is gone
    assert await Like.filter(post=post).count() == 0
    await send("like_note", 3)
    await send("undo_dislike_page", 4)  # Lemmy's Undo of any vote carries a Like
    assert await Like.filter(post=post).count() == 0
