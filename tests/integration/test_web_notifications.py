"""The notifications page and the notification settings, as a browser uses
them without JavaScript: grouped unread lines, marking one read, following
a link, choosing a channel per kind and the email digest."""

from __future__ import annotations

import re

import pytest

from models import clock
from models.accounts import Account, EmailDigest
from models.notifications import Channel, Notification, NotificationPreference
from models.services import likes
from models.services import posts as post_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def thread(instance, alice, bob):
    """alice's post "Next" in her circle, with two replies by bob and carol."""
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "readers", name="Readers")
    await factories.member(circle, bob)
    await factories.member(circle, carol)
    post = await factories.post(instance, alice, circle, "What next?", title="Next")
    await post_service.reply(instance, bob.actor, post, body="Chapter two.")
    await post_service.reply(instance, carol.actor, post, body="Chapter three.")
    await likes.like(bob.actor, post)
    return post


def unread_lines(page: str) -> list[str]:
    items = re.findall(r'<li class="unread">(.*?)</li>', page, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


async def test_unread_replies_to_one_post_show_as_one_line_with_their_number(app, alice, thread):
    client = await logged_in(app, alice)
    lines = unread_lines(await text(await client.get("/notifications")))
    assert len(lines) == 2, lines
    assert lines[0].startswith("New: bob found “Next” helpful.")
    assert lines[1].startswith("New: 2 new replies to “Next”.")
    newest = await Notification.filter(recipient=alice, kind="post.reply").order_by("-id").first()
    assert f'href="/notifications/{newest.id}/open"' in await text(await client.get("/notifications"))


async def test_marking_one_line_read_marks_its_group_and_nothing_else(app, alice, bob, thread):
    client = await logged_in(app, alice)
    replies = await Notification.filter(recipient=alice, kind="post.reply").order_by("id")
    assert (await client.post(f"/notifications/{replies[1].id}/read")).status_code in (400, 403)  # no CSRF token
    response = await submit(client, f"/notifications/{replies[1].id}/read")
    assert response.status_code == 302
    assert await Notification.filter(recipient=alice, read_at=None).values_list("kind", flat=True) == ["post.liked"]
    page = await text(await client.get("/notifications"))
    assert "bob replied to “Next”." in page and "carol replied to “Next”." in page  # read: one line each
    # Someone else's notification is not theirs to mark.
    other = await logged_in(app, bob)
    assert (await submit(other, f"/notifications/{replies[0].id}/read")).status_code == 404


async def test_opening_a_notification_marks_it_read_and_goes_only_to_a_local_path(app, alice, bob, thread):
    client = await logged_in(app, alice)
    like = await Notification.get(recipient=alice, kind="post.liked")
    opened = await client.get(f"/notifications/{like.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/posts/{thread.id}"
    assert (await Notification.get(id=like.id)).read_at is not None
    assert (await (await logged_in(app, bob)).get(f"/notifications/{like.id}/open")).status_code == 404
    assert (await client.get("/notifications/999999999999999999999/open")).status_code == 404
    for url in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        await Notification.filter(id=like.id).update(url=url)
        assert (await client.get(f"/notifications/{like.id}/open")).headers["Location"] == "/"


async def test_the_settings_page_lists_each_kind_and_saves_channels_and_digest(app, alice):
    client = await logged_in(app, alice)
    assert 'href="/settings/notifications"' in await text(await client.get("/settings"))
    assert 'href="/settings/notifications"' in await text(await client.get("/notifications"))
    page = await text(await client.get("/settings/notifications"))
    assert "<legend>Replies to my posts</legend>" in page and "<legend>New meetings in my circles</legend>" in page
    assert re.search(r'id="f-post.reply-email" name="post.reply" value="email" checked', page)
    assert re.search(r'id="f-post.liked-web" name="post.liked" value="web" checked', page)
    response = await submit(client, "/settings/notifications", **{"post.reply": "none", "post.liked": "web",
                                                                  "email_digest": "weekly"})
    assert response.status_code == 302
    assert await NotificationPreference.filter(account=alice).values_list("kind", "channel") == [
        ("post.reply", Channel.NONE)]  # the default needs no row
    assert (await Account.get(id=alice.id)).email_digest is EmailDigest.WEEKLY
    page = await text(await client.get("/settings/notifications"))
    assert re.search(r'name="post.reply" value="none" checked', page) and re.search(r'value="weekly" checked', page)


async def test_the_settings_page_says_when_email_cannot_reach_the_person(app, make_app, alice):
    client = await logged_in(app, alice)
    assert "does not send email at the moment" in await text(await client.get("/settings/notifications"))
    email_on = make_app(smtp_url="smtp://127.0.0.1:2525", email_from="circles@example.org")
    client = await logged_in(email_on, alice)
    page = await text(await client.get("/settings/notifications"))
    assert "does not send email" not in page and "Your email address is not confirmed" in page
    await Account.filter(id=alice.id).update(email_verified_at=clock.now())
    page = await text(await client.get("/settings/notifications"))
    assert "does not send email" not in page and "not confirmed" not in page


@pytest.mark.parametrize("fields", [{"post.reply": "pigeon"}, {"no.such.kind": "web"}, {"email_digest": "hourly"}])
async def test_bad_choices_are_refused_with_a_reason_and_change_nothing(app, alice, fields):
    client = await logged_in(app, alice)
    response = await submit(client, "/settings/notifications", **{"post.liked": "none", **fields})
    assert response.status_code == 400
    assert "Please check the form" in await text(response)
    assert not await NotificationPreference.filter(account=alice).exists()
    assert (await Account.get(id=alice.id)).email_digest is EmailDigest.IMMEDIATELY
