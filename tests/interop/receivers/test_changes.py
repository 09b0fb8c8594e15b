"""After a post: Ada edits it, Ada deletes one, a steward removes a member's
post. What the Mastodon user and the Lemmy user see of each change."""

from __future__ import annotations

import re

import httpx

from models.resources import Level, Licence
from tests.interop.receivers.harness import Stage
from tests.servers import redirected_to, sign_up


async def both_following(stage: Stage) -> None:
    await stage.follow_from_mastodon()
    await stage.follow_from_lemmy()
    await stage.eventually(lambda: stage.group in stage.mastodon.following[stage.mastodon_side.user]
                           and stage.lemmy.follows.get((stage.lemmy_side.user, stage.group)) == "accepted",
                           "both Accepts taken")


def boost_of(stage: Stage, post_id: str):
    return next((s for s in stage.mastodon.home(stage.mastodon_side.user) if s.reblog_of == post_id), None)


async def everywhere(stage: Stage, post_id: str) -> None:
    await stage.eventually(
        lambda: boost_of(stage, post_id) and stage.lemmy.post(post_id) and stage.lemmy1.post(post_id),
        "the post on Mastodon and on both Lemmys")


async def test_ada_edits_her_post(stage: Stage):
    await both_following(stage)
    fields = {"link": "https://doc.rust-lang.org/book/", "licence": Licence.UNKNOWN.value, "level": Level.ANY.value,
              "tags": "rust"}
    response = await stage.form("/c/circle/resources/new", "/c/circle/resources/new", title="The Rust book",
                                description="Chapters 1 to 4 first.", **fields)
    path = redirected_to(response, re.compile(r"/posts/\d+"))
    post_id = stage.circles.base_url + path
    await everywhere(stage, post_id)
    assert stage.mastodon.status(post_id).shown.splitlines()[:2] == ["The Rust book", "Chapters 1 to 4 first."]

    edit = re.search(r'href="(/resources/\d+/edit)"', await stage.page(path))[1]
    response = await stage.form(edit, edit, title="The Rust book, 2nd edition",
                                description="Chapters 1 to 6 first.", **fields)
    redirected_to(response, path)

    # Mastodon applies the author's own Update (a newer `updated`): the new text.
    await stage.eventually(lambda: stage.mastodon.status(post_id).shown.startswith("The Rust book, 2nd edition"),
                           "the edit on Mastodon")
    assert stage.mastodon.status(post_id).shown.splitlines()[1] == "Chapters 1 to 6 first."
    # Lemmy: the announced Update, by the post's creator, changes title and body.
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.post(post_id).name == "The Rust book, 2nd edition",
                               f"the edit on Lemmy {lemmy.version}")
        assert lemmy.post(post_id).body.startswith("Chapters 1 to 6 first.")
        assert lemmy.post(post_id).url == "https://doc.rust-lang.org/book/"
    await stage.assert_no_rejections()


async def test_ada_deletes_her_post(stage: Stage):
    await both_following(stage)
    post_id = await stage.post("Meeting notes", "We read chapter two.")
    await everywhere(stage, post_id)
    boost = boost_of(stage, post_id)

    path = post_id.removeprefix(stage.circles.base_url)
    response = await stage.form(path, f"{path}/delete", confirm="yes")
    redirected_to(response, "/c/circle")

    # Mastodon: the circle's boost goes (its Undo), and so does the status (Ada's own Delete).
    await stage.eventually(lambda: stage.mastodon.status(post_id) is None and stage.mastodon.status(boost.uri) is None,
                           "the post and its boost gone from Mastodon")
    assert boost_of(stage, post_id) is None
    # Lemmy: deleted by its author (no `summary`), not removed.
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.post(post_id).deleted, f"the deletion on Lemmy {lemmy.version}")
        assert not lemmy.post(post_id).removed
    await stage.assert_no_rejections()


async def test_a_steward_removes_a_members_post(stage: Stage):
    await both_following(stage)
    async with httpx.AsyncClient(base_url=stage.circles.base_url, timeout=10.0) as bob:
        await sign_up(bob, "bob")
        redirected_to(await stage.form("/c/circle", "/c/circle/join", client=bob), "/c/circle")
        response = await stage.form("/c/circle/posts/new", "/c/circle/posts/new", client=bob,
                                    title="Cheap watches", body="Buy now!")
        path = redirected_to(response, re.compile(r"/posts/\d+"))
    post_id = stage.circles.base_url + path
    await everywhere(stage, post_id)
    boost = boost_of(stage, post_id)

    number = path.rsplit("/", 1)[1]
    page = f"/c/circle/moderation/posts/{number}/remove"
    response = await stage.form(page, page, reason="Advertising", confirm="yes")
    redirected_to(response, "/c/circle")

    # Mastodon: the boost and the status are gone.
    await stage.eventually(lambda: stage.mastodon.status(post_id) is None and stage.mastodon.status(boost.uri) is None,
                           "the removed post gone from Mastodon")
    # Lemmy: removed (a Delete with `summary`) by a Person, the steward, with the reason.
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.post(post_id).removed, f"the removal on Lemmy {lemmy.version}")
        assert lemmy.post(post_id).removal_reason == "Advertising" and not lemmy.post(post_id).deleted
    await stage.assert_no_rejections()
