"""An invite-only circle inviting a Mastodon user by handle, as Mastodon
takes it: the Invite itself means nothing to Mastodon, so the user also gets
a direct message saying how to join, and their Follow of the circle is then
accepted although the circle is invite-only."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.interop.receivers.harness import Stage, redirected_to


async def test_a_mastodon_user_is_invited_by_direct_message_and_joins_by_following(stage: Stage):
    redirected_to(await stage.form("/circles/new", "/circles/new", handle="closed", name="Closed learners",
                                   join_mode="invite", language="en", timezone="UTC"), "/c/closed")
    group = f"{stage.circles.base_url}/c/closed"
    ada = f"{stage.circles.base_url}/users/ada"
    user_m = stage.mastodon_side.user
    handle = f"@peer@{urlsplit(stage.mastodon_side.origin).netloc}"
    redirected_to(await stage.form("/c/closed/invites", "/c/closed/invites/person", handle=handle),
                  "/c/closed/invites")

    def invitations(filtered: bool):
        return [n for n in stage.mastodon.notifications(user_m, filtered=filtered)
                if n.type == "mention" and n.sender == ada]

    # A direct message from someone the user does not follow: Mastodon's default
    # policy files it among the notification requests (app/models/notification_policy.rb:14-15,
    # app/services/notify_service.rb:199-205), where it waits to be read.
    await stage.eventually(lambda: invitations(filtered=True), "the invitation reaching the Mastodon user")
    status = stage.mastodon.status(invitations(filtered=True)[0].status)
    assert status.visibility == "direct"
    assert f"@closed@{stage.domain}" in status.text and "invites you to join Closed learners" in status.text
    # Mastodon has no class for an Invite (app/lib/activitypub/activity.rb, `klass`): it does nothing with it.
    await stage.assert_no_rejections(expected={"mastodon": ["activities of type Invite are not modelled"]})

    followed = await stage.mastodon_side.command("/_peer/follow", handle=f"@closed@{stage.domain}")
    assert followed["found"]["id"] == group, followed
    stage.mastodon.follow(user_m, group, followed["follow"])
    await stage.eventually(lambda: group in stage.mastodon.following[user_m], "Mastodon taking the Accept")
    assert user_m in await stage.page("/c/closed/members")
