"""A Mastodon user and a Lemmy user follow Ada's circle; Ada posts, titled
and untitled; what each of them sees. The Group document and its
collections, as Lemmy reads them."""

from __future__ import annotations

from tests.interop.receivers.harness import Stage


def link_as_shown(url: str) -> str:
    """A link as Mastodon shows it: no scheme, 30 characters and an ellipsis
    (app/lib/text_formatter.rb:56-75)."""
    rest = url.split("://", 1)[1]
    return rest if len(rest) <= 31 else rest[:30] + "…"


async def test_following_the_circle_from_mastodon_and_from_lemmy(stage: Stage):
    await stage.follow_from_mastodon()
    await stage.follow_from_lemmy()
    user_m, user_l = stage.mastodon_side.user, stage.lemmy_side.user

    # Circles answers each Follow with an Accept that each server takes: the
    # Mastodon user now follows the circle, the Lemmy user is subscribed.
    await stage.eventually(lambda: stage.group in stage.mastodon.following[user_m], "Mastodon taking the Accept")
    await stage.eventually(lambda: stage.lemmy.follows.get((user_l, stage.group)) == "accepted",
                           "Lemmy 0.19 taking the Accept")
    assert stage.lemmy1.follows[(user_l, stage.group)] == "accepted"
    members = await stage.page("/c/circle/members")
    assert user_m in members and user_l in members
    await stage.assert_no_rejections()
    # Lemmy takes only draft-cavage signatures with a Digest (activitypub-federation
    # 0.5.11 src/actix_web/inbox.rs:30-39): Circles' second knock. Mastodon
    # reads RFC 9421 (Mastodon 4.6 app/lib/signed_request.rb:237-244).
    assert stage.schemes_taken(stage.lemmy_side) == {"cavage"}
    assert stage.schemes_taken(stage.mastodon_side) == {"rfc9421"}


async def test_the_group_reads_as_a_lemmy_community(stage: Stage):
    for lemmy in (stage.lemmy, stage.lemmy1):
        community = lemmy.dereference_community(stage.group)  # Group: required fields, LanguageTag, endpoints
        assert (community.name, community.title) == ("circle", "Receiver learners")
        assert community.visibility == "Public"
        assert community.inbox == (f"{stage.circles.base_url}/inbox" if lemmy.main else f"{stage.group}/inbox")
        assert community.moderators == f"{stage.group}/moderators"
    # Lemmy reads the outbox, the moderators and the featured posts of a
    # community it fetches; it ignores their errors, which would leave its copy empty.
    followers = f"{stage.group}/followers"
    for lemmy in (stage.lemmy, stage.lemmy1):
        errors = {url: error for url, error in lemmy.collection_errors.items() if url != followers}
        assert errors == {}, errors


async def test_lemmy_reads_the_circles_follower_count(stage: Stage):
    """Lemmy shows a community's subscriber count from its followers
    collection, which must be a `Collection` with `totalItems` and `items`
    (0.19.20 crates/apub/src/protocol/collections/group_followers.rs:5-12; main
    crates/apub/apub/src/protocol/collections/group_followers.rs:5-12)."""
    for lemmy in (stage.lemmy, stage.lemmy1):
        lemmy.dereference_community(stage.group)
        assert f"{stage.group}/followers" not in lemmy.collection_errors, lemmy.collection_errors


async def test_ada_posts_titled_and_untitled(stage: Stage):
    await stage.follow_from_mastodon()
    await stage.follow_from_lemmy()
    user_m = stage.mastodon_side.user
    await stage.eventually(lambda: stage.group in stage.mastodon.following[user_m], "Mastodon taking the Accept")

    titled = await stage.post("Ownership week", "Read chapter *four*.\n\nThen try the exercises.")
    untitled = await stage.post("", "Borrowing is hard\n\nEspecially with closures.")

    # Mastodon: the circle boosts each post, fetched by its id; a Page shows
    # as its name (bold), its summary and a link, never its content.
    def boosted(post_id: str):
        return next((s for s in stage.mastodon.home(user_m) if s.reblog_of == post_id), None)

    await stage.eventually(lambda: boosted(titled) and boosted(untitled), "the circle's boosts in the Mastodon home")
    assert boosted(titled).account == stage.group
    status = stage.mastodon.status(titled)
    assert status.account == f"{stage.circles.base_url}/users/ada" and status.spoiler_text == ""
    assert status.text.startswith("<h2>Ownership week</h2>\n\n"), status.text
    shown = status.shown.splitlines()
    assert shown == ["Ownership week", "Read chapter four. Then try the exercises.", link_as_shown(titled)], shown
    shown = stage.mastodon.status(untitled).shown.splitlines()
    assert shown == ["Borrowing is hard", "Especially with closures.", link_as_shown(untitled)], shown

    # Lemmy 0.19 and 1.0: a post with a title, its body the markdown.
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.post(titled) and lemmy.post(untitled),
                               f"the posts on Lemmy {lemmy.version}")
        post = lemmy.post(titled)
        assert post.name == "Ownership week" and post.community == stage.group, post
        assert post.body == "Read chapter *four*.\n\nThen try the exercises.", post
        assert post.creator == f"{stage.circles.base_url}/users/ada"
        assert lemmy.post(untitled).name == "Borrowing is hard"
    await stage.assert_no_rejections()


async def test_lemmy_backfills_the_circle_from_its_outbox(stage: Stage):
    """A Lemmy server that first fetches the circle reads the newest posts
    from the outbox's inline `orderedItems` (0.19.20
    crates/apub/src/collections/community_outbox.rs:92-128: 50 items; main: 10)."""
    first = await stage.post("Week one", "Install the toolchain.")
    second = await stage.post("", "Week two: ownership\n\nRead chapter four.")
    await stage.follow_from_lemmy()
    for lemmy in (stage.lemmy, stage.lemmy1):
        assert [p.name for p in sorted(lemmy.posts(stage.group), key=lambda p: p.ap_id != first)] == \
            ["Week one", "Week two: ownership"], lemmy.collection_errors
        assert lemmy.post(second).body == "Week two: ownership\n\nRead chapter four."
        assert f"{stage.group}/outbox" not in lemmy.collection_errors
    await stage.assert_no_rejections()
