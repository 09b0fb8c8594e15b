"""A members-only circle as Lemmy and Mastodon receive it: Lemmy 1.0 reads it
as a private community and takes its followers-only posts; Lemmy 0.19 and
Mastodon, which take only public posts from a group, are sent nothing they
would show to people outside the circle."""

from __future__ import annotations

import re

from tests.interop.receivers.harness import Stage, redirected_to


async def test_a_members_only_circle_is_a_private_lemmy_community(stage: Stage):
    response = await stage.form("/circles/new", "/circles/new", handle="quiet", name="Quiet learners",
                                join_mode="open", language="en", timezone="UTC", visibility="members")
    redirected_to(response, "/c/quiet")
    group = f"{stage.circles.base_url}/c/quiet"
    user_l = stage.lemmy_side.user
    # Lemmy 1.0: manuallyApprovesFollowers makes a community Private (main
    # crates/apub/objects/src/utils/functions.rs, `community_visibility`).
    stage.lemmy1.follow(user_l, group)
    stage.lemmy.follow(user_l, group)
    assert stage.lemmy1.communities[group].visibility == "Private"
    followed = await stage.lemmy_side.command("/_peer/follow", handle=f"@quiet@{stage.domain}")
    assert followed["found"]["id"] == group, followed
    await stage.eventually(lambda: stage.lemmy1.follows.get((user_l, group)) == "accepted", "Lemmy taking the Accept")

    created = await stage.form("/c/quiet/posts/new", "/c/quiet/posts/new", title="Where I am stuck",
                               body="I still mix up *borrowing* and moving.")
    post = stage.circles.base_url + redirected_to(created, re.compile(r"/posts/\d+"))
    # Lemmy 1.0 takes only non-public objects in a private community
    # (`verify_visibility`, same file): the circle addressed it to its followers.
    await stage.eventually(lambda: stage.lemmy1.post(post) is not None, "Lemmy 1.0 taking the post")
    assert stage.lemmy1.post(post).name == "Where I am stuck"
    # Lemmy 0.19 refuses every non-public activity (0.19.20 activities/mod.rs,
    # `verify_is_public`): it shows nothing, rather than showing it to everyone.
    assert stage.lemmy.post(post) is None
    await stage.assert_no_rejections(expected={"lemmy 0.19": ["ObjectIsNotPublic", "not public"]})
