"""Destructive actions ask first (web/html/confirm.py): a POST without
`confirm=yes` changes nothing and answers with a page saying what will happen
and who will see it; its "Yes" form carries the fields and acts. Someone who
may not act is refused before any question, so the page reveals nothing."""

from __future__ import annotations

import re

import pytest

from models.circles import Membership, MembershipState
from models.meetings import Meeting
from models.moderation import ModerationAction
from models.posts import Post
from models.services import meetings as meeting_service
from models.services import posts as post_service
from tests import factories
from tests.conftest import csrf_from
from tests.integration.test_web_meetings import _form as meeting_form
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def circle(instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", name="Readers", timezone="Asia/Tokyo")
    await factories.member(circle, bob)
    return circle


def hidden_fields(page: str) -> dict:
    """The fields the confirmation page's form will send (but its CSRF token)."""
    form = page.split('class="confirm-form"', 1)[1].split("</form>", 1)[0]
    return {name: value for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
            if name != "csrf_token"}


async def asked(response, *, yes: str, says: str) -> dict:
    """The confirmation page: its "Yes" button, what it says, a way back; its hidden fields."""
    page = await text(response)
    assert response.status_code == 200, page
    assert f'<button type="submit">{yes}</button>' in page and "No, go back</a>" in page and says in page
    fields = hidden_fields(page)
    assert fields.pop("confirm") == "yes"
    return fields


async def test_leaving_asks_first(app, circle, bob):
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/leave")
    await asked(response, yes="Yes, leave the circle", says="see that you are no longer among them")
    assert "<h1>Leave Readers?</h1>" in await text(response) and 'href="/c/readers"' in await text(response)
    assert await Membership.filter(circle=circle, actor=bob.actor, state=MembershipState.ACTIVE).exists()
    assert (await submit(client, "/c/readers/leave", confirm="yes")).status_code == 302
    assert not await Membership.filter(circle=circle, actor=bob.actor).exists()


async def test_cancelling_a_meeting_asks_first(app, instance, circle, alice, bob):
    meeting = await meeting_service.schedule(instance, alice.actor, circle, **meeting_form())
    path = f"/meetings/{meeting.post_id}/cancel"
    refused = await submit(await logged_in(app, bob), path)  # not the organiser: no question, a refusal
    assert refused.status_code == 403 and "confirm-form" not in await text(refused)
    client = await logged_in(app, alice)
    await asked(await submit(client, path), yes="Yes, cancel the meeting", says="people who said they would come")
    assert (await Meeting.get(id=meeting.id)).cancelled_at is None
    assert (await submit(client, path, confirm="yes")).status_code == 302
    assert (await Meeting.get(id=meeting.id)).cancelled_at is not None


async def test_banning_asks_first_and_carries_the_reason(app, circle, alice, bob):
    client = await logged_in(app, alice)
    response = await submit(client, "/c/readers/moderation/ban", actor_id=str(bob.actor.id), reason="Spam <b>links</b>")
    fields = await asked(response, yes="Yes, ban bob", says="moderation log")
    assert fields == {"actor_id": str(bob.actor.id), "reason": "Spam &lt;b&gt;links&lt;/b&gt;"}  # kept, escaped
    assert await Membership.filter(circle=circle, actor=bob.actor, state=MembershipState.ACTIVE).exists()
    assert not await ModerationAction.exists()
    response = await submit(client, "/c/readers/moderation/ban", actor_id=str(bob.actor.id), reason="Spam <b>links</b>",
                            confirm="yes")
    assert response.status_code == 302
    assert await Membership.filter(circle=circle, actor=bob.actor, state=MembershipState.BANNED).exists()
    assert (await ModerationAction.get()).reason == "Spam <b>links</b>"
    refused = await submit(await logged_in(app, bob), "/c/readers/moderation/ban", actor_id=str(alice.actor.id),
                           reason="x")
    assert refused.status_code == 403 and "confirm-form" not in await text(refused)


@pytest.mark.parametrize("reply", [False, True], ids=["post", "reply"])
async def test_deleting_a_post_or_reply_asks_first(app, instance, circle, alice, bob, reply):
    root = await factories.post(instance, alice, circle, body="The question")
    post = await post_service.reply(instance, bob.actor, root, body="An answer") if reply else root
    refused = await submit(await logged_in(app, bob if not reply else alice), f"/posts/{post.id}/delete")
    if not reply:  # bob may not delete alice's post (alice, a facilitator, may delete bob's reply)
        assert refused.status_code == 403 and "confirm-form" not in await text(refused)
    client = await logged_in(app, alice if not reply else bob)
    what = "reply" if reply else "post"
    await asked(await submit(client, f"/posts/{post.id}/delete"), yes=f"Yes, delete the {what}",
                says="here and on the other servers it went to")
    assert (await Post.get(id=post.id)).deleted_at is None
    assert (await submit(client, f"/posts/{post.id}/delete", confirm="yes")).status_code == 302
    assert (await Post.get(id=post.id)).deleted_at is not None


async def test_removing_a_post_without_confirm_shows_its_form(app, instance, circle, alice, bob):
    post = await factories.post(instance, bob, circle, body="Buy watches")
    client = await logged_in(app, alice)
    path = f"/c/readers/moderation/posts/{post.id}/remove"
    response = await submit(client, path, reason="Advertising")
    page = await text(response)
    assert response.status_code == 200 and "<h1>Remove a post from Readers</h1>" in page
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert (await Post.get(id=post.id)).deleted_at is None
    assert (await submit(client, path, reason="Advertising", confirm="yes")).status_code == 302
    assert (await Post.get(id=post.id)).deleted_at is not None


async def test_a_confirmation_page_costs_a_few_queries_however_big_the_thread(
    app, instance, circle, alice, bob, count_queries
):
    root = await factories.post(instance, alice, circle, body="The question")
    client = await logged_in(app, alice)
    token = csrf_from(await text(await client.get("/login")))
    counts = []
    for _ in range(2):  # the same page with 5 more replies in the thread
        with count_queries() as queries:
            response = await client.post(f"/posts/{root.id}/delete", form={"csrf_token": token})
        assert response.status_code == 200
        counts.append(len(queries))
        for n in range(5):
            await post_service.reply(instance, bob.actor, root, body=f"Reply {n}")
    assert counts[0] == counts[1] and counts[0] <= 15, counts
