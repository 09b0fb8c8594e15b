"""The client API's statuses: posting to a circle by mentioning it, reading,
context, editing, deleting, favourites, bookmarks, and what Circles lacks."""

from __future__ import annotations

import pytest

from models import clock
from models.bookmarks import Bookmark
from models.circles import Visibility
from models.federation import OutboxEvent
from models.media import Media
from models.person_blocks import BlockKind
from models.posts import Like, Post, PostKind
from models.ratelimits import RateWindow
from models.services import bookmarks as bookmark_service
from models.services import likes, moderation, person_blocks, ratelimits
from models.services import posts as post_service
from models.services import questions as question_service
from tests import factories
from web.mastodon.status_entities import statuses

STATUS_KEYS = {
    "id", "uri", "url", "created_at", "edited_at", "account", "content", "visibility", "sensitive",
    "spoiler_text", "media_attachments", "mentions", "tags", "emojis", "reblogs_count", "favourites_count",
    "replies_count", "in_reply_to_id", "in_reply_to_account_id", "reblog", "poll", "card", "language", "text",
}
VIEWER_KEYS = {"favourited", "reblogged", "muted", "bookmarked", "filtered"}


@pytest.fixture
async def rust(instance, alice):
    return await factories.circle(instance, alice, "rust")


@pytest.fixture
async def bob(instance):
    return await factories.account(instance, "bob")


async def _post(api, **data):
    return await api.post("/api/v1/statuses", json=data)


# --- posting ---

async def test_a_status_mentioning_a_circle_is_a_post_in_it(api, rust, alice):
    response = await _post(api, status="@rust Borrowing finally clicked for me")
    assert response.status_code == 200, await response.get_data(as_text=True)
    status = await response.get_json()
    post = await Post.get(id=int(status["id"]))
    assert post.circle_id == rust.id and post.author_id == alice.actor_id and post.kind is PostKind.DISCUSSION
    assert STATUS_KEYS | VIEWER_KEYS | {"pinned"} <= status.keys()
    assert status["visibility"] == "public" and status["account"]["username"] == "alice"
    assert status["mentions"][0]["acct"] == "rust" and status["text"] is None
    assert "Borrowing finally clicked" in status["content"]
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).exists()  # federated as the web UI does


async def test_a_form_body_and_the_full_handle_work_too(api, rust, instance):
    response = await api.post("/api/v1/statuses", form={"status": f"Hi @rust@{instance.domain}", "visibility": "public"})
    assert response.status_code == 200
    assert (await Post.get(id=int((await response.get_json())["id"]))).circle_id == rust.id


async def test_a_hashtag_question_is_a_question(api, rust, instance):
    response = await _post(api, status="@rust #question What does 'static mean?\nI keep seeing it.")
    status = await response.get_json()
    post = await Post.get(id=int(status["id"]))
    assert post.kind is PostKind.QUESTION and post.title == "What does 'static mean?"
    assert {"name": "question", "url": f"{instance.base_url}/tags/question"} in status["tags"]


async def test_a_status_naming_no_circle_is_refused(api, rust):
    response = await _post(api, status="Just thinking aloud")
    assert response.status_code == 422
    body = await response.get_json()
    assert "Mention the circle" in body["error"] and "status" in body["details"]


async def test_naming_two_circles_is_refused(api, rust, instance, alice):
    await factories.circle(instance, alice, "go")
    assert (await _post(api, status="@rust @go both")).status_code == 422


async def test_a_non_member_cannot_post(make_api, rust, bob):
    response = await _post(await make_api(bob), status="@rust let me in")
    assert response.status_code == 403
    assert not await Post.filter(author_id=bob.actor_id).exists()


async def test_too_long_and_empty_statuses_are_refused(api, rust):
    too_long = await _post(api, status="@rust " + "a" * post_service.BODY_MAX)
    assert too_long.status_code == 422 and "status" in (await too_long.get_json())["details"]
    assert (await _post(api, status="   ")).status_code == 422


@pytest.mark.parametrize("extra, field", [
    ({"poll": {"options": ["a", "b"], "expires_in": 3600}}, "poll"),
    ({"scheduled_at": "2030-01-01T00:00:00Z"}, "scheduled_at"),
    ({"media_ids": ["1"]}, "media_ids"),
    ({"spoiler_text": "spoilers"}, "spoiler_text"),
    ({"visibility": "direct"}, "visibility"),
    ({"visibility": "private"}, "visibility"),  # a public circle's posts are public
    ({"visibility": "secret"}, "visibility"),
])
async def test_what_a_post_here_cannot_carry_is_refused(api, rust, extra, field):
    response = await _post(api, status="@rust hello", **extra)
    assert response.status_code == 422
    assert field in (await response.get_json())["details"]
    assert not await Post.exists()


async def test_form_poll_options_are_refused_too(api, rust):
    response = await api.post("/api/v1/statuses", form={"status": "@rust hi", "poll[options][]": "a"})
    assert response.status_code == 422


async def test_private_fits_a_members_only_circle(api, instance, alice):
    await factories.circle(instance, alice, "quiet", visibility=Visibility.MEMBERS.value)
    status = await (await _post(api, status="@quiet members only", visibility="private")).get_json()
    assert status["visibility"] == "private"


async def test_the_same_idempotency_key_makes_one_post(api, rust):
    headers = {"Idempotency-Key": "abc-123"}
    first = await api.post("/api/v1/statuses", json={"status": "@rust once"}, headers=headers)
    second = await api.post("/api/v1/statuses", json={"status": "@rust once, really"}, headers=headers)
    assert (await first.get_json())["id"] == (await second.get_json())["id"]
    assert await Post.filter(circle_id=rust.id).count() == 1
    other = await api.post("/api/v1/statuses", json={"status": "@rust twice"}, headers={"Idempotency-Key": "xyz"})
    assert (await other.get_json())["id"] != (await first.get_json())["id"]


async def test_a_key_is_per_person(make_api, api, rust, bob):
    await factories.member(rust, bob)
    headers = {"Idempotency-Key": "same"}
    mine = await (await api.post("/api/v1/statuses", json={"status": "@rust a"}, headers=headers)).get_json()
    theirs = await (await (await make_api(bob)).post(
        "/api/v1/statuses", json={"status": "@rust b"}, headers=headers)).get_json()
    assert mine["id"] != theirs["id"]


async def test_a_reply_goes_to_its_parents_thread(make_api, api, instance, rust, alice, bob):
    await factories.member(rust, bob)
    parent = await factories.post(instance, alice, rust, "First")
    response = await (await make_api(bob)).post(
        "/api/v1/statuses", json={"status": "@alice agreed", "in_reply_to_id": str(parent.id)})
    status = await response.get_json()
    assert status["in_reply_to_id"] == str(parent.id)
    assert status["in_reply_to_account_id"] == str(alice.actor_id)
    reply = await Post.get(id=int(status["id"]))
    assert reply.root_id == parent.id and reply.circle_id == rust.id
    assert any(m["acct"] == "alice" for m in status["mentions"])
    shown = await (await api.get(f"/api/v1/statuses/{parent.id}")).get_json()
    assert shown["replies_count"] == 1


async def test_a_reply_to_a_missing_post_is_404(api, rust):
    for raw in ("999999", "not-a-number"):
        response = await _post(api, status="hello", in_reply_to_id=raw)
        assert response.status_code == 404


async def test_posting_needs_the_write_scope(make_api, alice, rust):
    reader = await make_api(alice, scopes="read")
    assert (await _post(reader, status="@rust hi")).status_code == 403
    assert (await _post(await make_api(None), status="@rust hi")).status_code == 401


# --- reading ---

async def test_a_public_status_reads_anonymously(make_api, instance, alice, rust):
    post = await factories.post(instance, alice, rust, "Public words")
    response = await (await make_api(None)).get(f"/api/v1/statuses/{post.id}")
    status = await response.get_json()
    assert response.status_code == 200 and status["id"] == str(post.id)
    assert not VIEWER_KEYS & status.keys()  # viewer-dependent fields only with a viewer


async def test_members_only_statuses_are_404_to_others(make_api, instance, alice, bob):
    quiet = await factories.circle(instance, alice, "quiet", visibility=Visibility.MEMBERS.value)
    post = await factories.post(instance, alice, quiet, "Just us")
    for client in (await make_api(bob), await make_api(None)):
        assert (await client.get(f"/api/v1/statuses/{post.id}")).status_code == 404
        assert (await client.get(f"/api/v1/statuses/{post.id}/context")).status_code == 404
    many = await (await make_api(bob)).get(f"/api/v1/statuses?id[]={post.id}")
    assert await many.get_json() == []
    mine = await (await make_api(alice)).get(f"/api/v1/statuses/{post.id}")
    assert (await mine.get_json())["visibility"] == "private"


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "99999999999999999999", "1e3", "１２"])
async def test_malformed_ids_are_404(api, raw):
    assert (await api.get(f"/api/v1/statuses/{raw}")).status_code == 404
    assert (await api.post(f"/api/v1/statuses/{raw}/favourite")).status_code == 404


async def test_several_statuses_by_id(api, instance, alice, rust):
    first = await factories.post(instance, alice, rust, "one")
    second = await factories.post(instance, alice, rust, "two")
    response = await api.get(f"/api/v1/statuses?id[]={second.id}&id[]={first.id}&id[]=junk&id[]=12345")
    assert [s["id"] for s in await response.get_json()] == [str(second.id), str(first.id)]


async def test_context_lists_ancestors_and_descendants(make_api, api, instance, alice, bob, rust):
    await factories.member(rust, bob)
    root = await factories.post(instance, alice, rust, "root")
    middle = await post_service.reply(instance, bob.actor, root, body="middle")
    leaf = await post_service.reply(instance, alice.actor, middle, body="leaf")
    side = await post_service.reply(instance, bob.actor, root, body="side")
    gone = await post_service.reply(instance, bob.actor, root, body="gone")
    await post_service.delete_post(bob.actor, gone)
    context = await (await api.get(f"/api/v1/statuses/{middle.id}/context")).get_json()
    assert [s["id"] for s in context["ancestors"]] == [str(root.id)]
    assert [s["id"] for s in context["descendants"]] == [str(leaf.id)]
    whole = await (await api.get(f"/api/v1/statuses/{root.id}/context")).get_json()
    assert [s["id"] for s in whole["descendants"]] == [str(middle.id), str(leaf.id), str(side.id)]
    await person_blocks.set_block(alice.actor, bob.actor, BlockKind.MUTE)
    muted = await (await api.get(f"/api/v1/statuses/{root.id}/context")).get_json()
    assert [s["id"] for s in muted["descendants"]] == [str(leaf.id)]


async def test_a_long_thread_s_context_is_cut_shorter_for_anonymous_readers(
        monkeypatch, make_api, api, instance, alice, rust):
    from web.mastodon import statuses as status_views

    monkeypatch.setattr(status_views, "DESCENDANTS_MAX", 3)
    monkeypatch.setattr(status_views, "DESCENDANTS_ANONYMOUS", 2)
    root = await factories.post(instance, alice, rust, "root")
    replies = [await post_service.reply(instance, alice.actor, root, body=f"reply {n}") for n in range(4)]
    signed_in = await (await api.get(f"/api/v1/statuses/{root.id}/context")).get_json()
    assert [s["id"] for s in signed_in["descendants"]] == [str(r.id) for r in replies[:3]]
    anonymous = await (await (await make_api(None)).get(f"/api/v1/statuses/{root.id}/context")).get_json()
    assert [s["id"] for s in anonymous["descendants"]] == [str(r.id) for r in replies[:2]]


async def test_the_circles_notes_are_unlisted_and_not_counted(api, make_api, instance, alice, bob, rust):
    await factories.member(rust, bob)
    question = await question_service.ask(instance, bob.actor, rust, title="Why?", body="Why though")
    answer = await post_service.reply(instance, alice.actor, question, body="Because")
    await question_service.accept_answer(instance, bob.actor, question, answer)
    context = await (await api.get(f"/api/v1/statuses/{question.id}/context")).get_json()
    note = [s for s in context["descendants"] if s["account"]["group"]]
    assert len(note) == 1 and note[0]["visibility"] == "unlisted"
    shown = await (await api.get(f"/api/v1/statuses/{question.id}")).get_json()
    assert shown["replies_count"] == 1
    assert shown["content"].startswith("<p><strong>Why?</strong></p>")


async def test_a_page_of_statuses_costs_a_fixed_number_of_queries(api, instance, alice, bob, rust, count_queries):
    await factories.member(rust, bob)
    posts = []
    for n in range(3):
        posts.append(await factories.post(instance, alice, rust, f"post {n} @bob #rust"))
    for post in posts:
        await likes.like(bob.actor, post)
        await bookmark_service.bookmark(alice, post)

    async def cost(ids):
        query = "&".join(f"id[]={i}" for i in ids)
        with count_queries() as queries:
            response = await api.get(f"/api/v1/statuses?{query}")
        assert len(await response.get_json()) == len(ids)
        return len(queries)

    await api.get("/api/v1/statuses")  # the token's first use is noted once (oauth.token_for)
    few = await cost([posts[0].id])
    for n in range(3, 12):
        posts.append(await factories.post(instance, alice, rust, f"post {n} @bob #rust"))
    assert await cost([post.id for post in posts]) == few <= 20  # with the accounts' counts and the polls


# --- editing and deleting ---

async def test_editing_keeps_history_and_federates(api, instance, alice, rust):
    post = await factories.post(instance, alice, rust, "First words")
    response = await api.put(f"/api/v1/statuses/{post.id}", json={"status": "Better words"})
    status = await response.get_json()
    assert response.status_code == 200 and "Better words" in status["content"] and status["edited_at"]
    assert await OutboxEvent.filter(kind="post.updated", subject_id=post.id).exists()
    history = await (await api.get(f"/api/v1/statuses/{post.id}/history")).get_json()
    assert ["First words" in h["content"] for h in history] == [True, False]
    assert "Better words" in history[-1]["content"]
    source = await (await api.get(f"/api/v1/statuses/{post.id}/source")).get_json()
    assert source == {"id": str(post.id), "text": "Better words", "spoiler_text": ""}


async def test_others_see_only_the_current_version(make_api, api, instance, alice, bob, rust):
    post = await factories.post(instance, alice, rust, "First words")
    await api.put(f"/api/v1/statuses/{post.id}", json={"status": "Better words"})
    bobs_app = await make_api(bob)
    history = await (await bobs_app.get(f"/api/v1/statuses/{post.id}/history")).get_json()
    assert len(history) == 1 and "Better words" in history[0]["content"]
    assert (await bobs_app.get(f"/api/v1/statuses/{post.id}/source")).status_code == 404  # only its editor's


async def test_someone_elses_post_cannot_be_edited(make_api, instance, alice, bob, rust):
    await factories.member(rust, bob)
    post = await factories.post(instance, alice, rust, "Mine")
    response = await (await make_api(bob)).put(f"/api/v1/statuses/{post.id}", json={"status": "Yours"})
    assert response.status_code == 403


async def test_an_over_long_edit_is_422(api, instance, alice, rust):
    post = await factories.post(instance, alice, rust, "Mine")
    response = await api.put(f"/api/v1/statuses/{post.id}", json={"status": "a" * (post_service.BODY_MAX + 1)})
    assert response.status_code == 422


async def test_deleting_answers_with_the_source(api, instance, alice, rust):
    post = await factories.post(instance, alice, rust, "To be *gone*")
    response = await api.delete(f"/api/v1/statuses/{post.id}")
    status = await response.get_json()
    assert response.status_code == 200 and status["text"] == "To be *gone*" and "content" not in status
    assert (await Post.get(id=post.id)).deleted_at is not None
    assert await OutboxEvent.filter(kind="post.deleted", subject_id=post.id).exists()
    assert (await api.get(f"/api/v1/statuses/{post.id}")).status_code == 404


async def test_a_member_cannot_delete_anothers_post(make_api, instance, alice, bob, rust):
    await factories.member(rust, bob)
    post = await factories.post(instance, alice, rust, "Mine")
    assert (await (await make_api(bob)).delete(f"/api/v1/statuses/{post.id}")).status_code == 403
    quiet = await factories.circle(instance, alice, "quiet", visibility=Visibility.MEMBERS.value)
    hidden = await factories.post(instance, alice, quiet, "Ours")
    assert (await (await make_api(bob)).delete(f"/api/v1/statuses/{hidden.id}")).status_code == 404
    assert (await Post.get(id=hidden.id)).deleted_at is None


# --- favourites, bookmarks, boosts, pins ---

async def test_favouriting_likes_and_federates(make_api, api, instance, alice, bob, rust):
    await factories.member(rust, bob)
    post = await factories.post(instance, alice, rust, "Helpful")
    bobs = await make_api(bob)
    status = await (await bobs.post(f"/api/v1/statuses/{post.id}/favourite")).get_json()
    assert status["favourited"] is True and status["favourites_count"] == 1
    assert await OutboxEvent.filter(kind="like.created").exists()
    likers = await (await api.get(f"/api/v1/statuses/{post.id}/favourited_by")).get_json()
    assert [a["username"] for a in likers] == ["bob"]
    listed = await bobs.get("/api/v1/favourites")
    assert [s["id"] for s in await listed.get_json()] == [str(post.id)]
    assert "max_id=" in listed.headers["Link"]
    status = await (await bobs.post(f"/api/v1/statuses/{post.id}/unfavourite")).get_json()
    assert status["favourited"] is False and status["favourites_count"] == 0
    assert await OutboxEvent.filter(kind="like.undone").exists()


async def test_a_non_member_cannot_favourite(make_api, instance, alice, bob, rust):
    post = await factories.post(instance, alice, rust, "Helpful")
    assert (await (await make_api(bob)).post(f"/api/v1/statuses/{post.id}/favourite")).status_code == 403
    assert not await Like.exists()
    assert await (await (await make_api(bob)).get(f"/api/v1/statuses/{post.id}/favourited_by")).get_json() == []


async def test_bookmarks_are_kept_and_paged(api, instance, alice, rust):
    posts = [await factories.post(instance, alice, rust, f"keep {n}") for n in range(3)]
    for post in posts:
        status = await (await api.post(f"/api/v1/statuses/{post.id}/bookmark")).get_json()
        assert status["bookmarked"] is True
    first = await api.get("/api/v1/bookmarks?limit=2")
    assert [s["id"] for s in await first.get_json()] == [str(posts[2].id), str(posts[1].id)]
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    rest = await api.get(next_url.replace("https://circles.test", "").replace("http://circles.test", ""))
    assert [s["id"] for s in await rest.get_json()] == [str(posts[0].id)]
    await api.post(f"/api/v1/statuses/{posts[0].id}/unbookmark")
    assert await Bookmark.filter(post_id=posts[0].id).count() == 0


async def test_bookmarks_need_their_scope(make_api, alice):
    reader = await make_api(alice, scopes="read:statuses write:statuses")
    assert (await reader.get("/api/v1/bookmarks")).status_code == 403
    assert (await reader.get("/api/v1/favourites")).status_code == 403


async def test_no_boosts_and_no_pins(api, instance, alice, rust):
    post = await factories.post(instance, alice, rust, "Boost me")
    response = await api.post(f"/api/v1/statuses/{post.id}/reblog")
    assert response.status_code == 422 and "no boosts" in (await response.get_json())["error"]
    assert await (await api.get(f"/api/v1/statuses/{post.id}/reblogged_by")).get_json() == []
    assert (await api.post(f"/api/v1/statuses/{post.id}/pin")).status_code == 422


# --- who may post, and what an entity carries ---

async def test_a_banned_person_is_told_so(make_api, instance, alice, bob, rust):
    await factories.member(rust, bob)
    await moderation.ban(rust, alice.actor, bob.actor_id, reason="spam", instance=instance)
    response = await _post(await make_api(bob), status="@rust still here?")
    assert response.status_code == 403 and "banned" in (await response.get_json())["error"]


async def test_a_blocked_reader_gets_404(make_api, instance, alice, bob, rust):
    post = await factories.post(instance, alice, rust, "Not for bob")
    await person_blocks.set_block(alice.actor, bob.actor, BlockKind.BLOCK)
    assert (await (await make_api(bob)).get(f"/api/v1/statuses/{post.id}")).status_code == 404


async def test_images_are_media_attachments(api, instance, alice, rust):
    post = await factories.post(instance, alice, rust, "Look")
    await Media.create(owner=alice.actor, post=post, url="https://elsewhere.example/a.png", media_type="image/png",
                       width=40, height=20, alt="A diagram")
    status = await (await api.get(f"/api/v1/statuses/{post.id}")).get_json()
    [attachment] = status["media_attachments"]
    assert attachment["type"] == "image" and attachment["description"] == "A diagram"
    assert attachment["remote_url"] == "https://elsewhere.example/a.png"
    assert attachment["meta"]["original"] == {"width": 40, "height": 20, "size": "40x20", "aspect": 2.0}


async def test_authors_are_loaded_when_the_caller_did_not(instance, alice, rust):
    post = await factories.post(instance, alice, rust, "Vote")
    [status] = await statuses([await Post.get(id=post.id)], instance=instance, viewer=None)
    assert status["account"]["username"] == "alice" and status["poll"] is None


async def test_bookmarks_and_context_cost_a_fixed_number_of_queries(api, instance, alice, rust, count_queries):
    root = await factories.post(instance, alice, rust, "root")

    async def grow(n):
        for _ in range(n):
            reply = await post_service.reply(instance, alice.actor, root, body=f"reply {await Post.all().count()}")
            await bookmark_service.bookmark(alice, reply)

    async def cost(path):
        with count_queries() as queries:
            assert (await api.get(path)).status_code == 200
        return len(queries)

    await grow(1)
    await api.get("/api/v1/bookmarks")  # the token's first use is noted once
    few = (await cost("/api/v1/bookmarks"), await cost(f"/api/v1/statuses/{root.id}/context"))
    await grow(8)
    assert (await cost("/api/v1/bookmarks"), await cost(f"/api/v1/statuses/{root.id}/context")) == few


async def test_posting_shares_the_web_uis_rate_limit(api, alice, rust):
    limit = ratelimits.POSTING
    await RateWindow.create(key=limit.key(f"account:{alice.id}"),
                            started_at=ratelimits.window_start(limit, clock.now()), hits=limit.hits)
    response = await _post(api, status="@rust one too many")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert not await Post.exists()


async def test_a_question_asked_from_an_app_keeps_its_title_in_step(api, rust):
    status = await (await _post(api, status="@rust #question How do traits work?")).get_json()
    await api.put(f"/api/v1/statuses/{status['id']}", json={"status": "@rust #question How do generics work?"})
    assert (await Post.get(id=int(status["id"]))).title == "How do generics work?"
