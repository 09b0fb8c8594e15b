"""Reflections, the learning record and the contributions export through the web UI."""

from __future__ import annotations

import json

import pytest

from models.federation import OutboxEvent
from models.posts import Post, PostKind
from models.reflections import Reflection, ValueCycle
from models.services import reflections as reflection_service
from tests import factories
from tests.integration.test_web_posts import XSS_BODY, assert_no_live_markup
from tests.integration.webforms import logged_in, submit, text

SECRET = "My private doubt about chapter two"


@pytest.fixture
async def circle(instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    return circle


async def test_member_writes_a_private_reflection_then_shares_it(app, bob, circle):
    client = await logged_in(app, bob)
    form = await text(await client.get("/c/readers/reflections/new"))
    assert "Immediate value: the activity itself was useful (fun, inspiring, I met people)" in form
    assert 'for="f-share"' in form and 'for="f-body"' in form
    response = await submit(client, "/c/readers/reflections/new", body="I learned **ownership**", value_cycle="potential")
    assert response.status_code == 302 and response.location == "/c/readers/reflections"
    reflection = await Reflection.get(author=bob.actor)
    assert (reflection.value_cycle, reflection.shared_post_id) == (ValueCycle.POTENTIAL, None)
    assert await OutboxEvent.all().count() == 0  # private: nothing federates
    page = await text(await client.get("/c/readers/reflections"))
    assert "<strong>ownership</strong>" in page and "Only you can see it" in page

    response = await submit(client, f"/c/readers/reflections/{reflection.id}/share")
    assert response.status_code == 302
    response = await submit(client, f"/c/readers/reflections/{reflection.id}/share")
    assert "It was shared already." in await text(await client.get(response.location))
    post = await Post.get(kind=PostKind.REFLECTION)
    assert await Post.all().count() == 1
    assert "ownership" in await text(await client.get(f"/posts/{post.id}"))
    assert "ownership" in await text(await app.test_client().get("/c/readers/reflections"))  # public once shared

    response = await submit(client, f"/c/readers/reflections/{reflection.id}/unshare")
    assert response.status_code == 302
    assert (await Post.get(id=post.id)).deleted_at is not None
    assert "ownership" not in await text(await app.test_client().get("/c/readers/reflections"))
    assert await Reflection.filter(id=reflection.id, shared_post_id=None).exists()


async def test_sharing_from_the_form_and_editing(app, bob, circle):
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/reflections/new", body="Shared at once", share="on")
    assert response.status_code == 302
    assert "Your reflection is shared with the circle." in await text(await client.get(response.location))
    reflection = await Reflection.get(author=bob.actor)
    assert reflection.shared_post_id
    edit_path = f"/c/readers/reflections/{reflection.id}/edit"
    assert "Shared at once" in await text(await client.get(edit_path))
    response = await submit(client, edit_path, body="Edited words", value_cycle="reframing")
    assert response.status_code == 302
    assert (await Post.get(id=reflection.shared_post_id)).source == "Edited words"
    response = await submit(client, f"/c/readers/reflections/{reflection.id}/delete")
    assert response.status_code == 302
    assert not await Reflection.exists()
    assert (await Post.get(id=reflection.shared_post_id)).deleted_at is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"body": ""}, "body", "Your reflection is required."),
        ({"body": "x" * 5001}, "body", "Your reflection is too long: 5001 characters, at most 5000."),
        ({"body": "Kept words", "value_cycle": "priceless"}, "value_cycle", "Kind of value must be one of:"),
        ({"body": "Kept words", "meeting": "abc"}, "meeting", "That is not a meeting of this circle"),
    ],
)
async def test_bad_input_is_refused_with_a_message_and_kept(app, bob, circle, fields, field, message):
    client = await logged_in(app, bob)
    response = await submit(client, "/c/readers/reflections/new", share="on", **fields)
    html = await text(response)
    assert response.status_code == 400
    assert f'<p class="error" id="f-{field}-error">{message}' in html
    assert f">{fields['body']}</textarea>" in html  # what was typed is kept
    assert "checked" in html.split('id="f-share"')[1][:40]
    assert await Reflection.all().count() == 0 and await Post.all().count() == 0


async def test_html_and_script_are_sanitised(app, bob, circle):
    client = await logged_in(app, bob)
    await submit(client, "/c/readers/reflections/new", body=XSS_BODY, share="on")
    for path in ("/c/readers/reflections", "/c/readers/record"):
        html = await text(await client.get(path))
        assert "Look:" in html
        assert_no_live_markup(html)


async def test_non_member_cannot_write(app, instance, circle):
    carol = await factories.account(instance, "carol")
    client = await logged_in(app, carol)
    response = await submit(client, "/c/readers/reflections/new", body="Let me in")
    assert response.status_code == 403
    assert "Join this circle" in await text(response)
    assert await Reflection.all().count() == 0


async def test_login_is_required(client, circle):
    for path in ("/c/readers/reflections/new", "/settings/export.json", "/settings/export.md"):
        response = await client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login")


async def test_missing_csrf_token_changes_nothing(app, bob, circle, instance):
    reflection = await reflection_service.write(instance, bob.actor, circle, body="Untouched")
    client = await logged_in(app, bob)
    for path, form in [
        ("/c/readers/reflections/new", {"body": "Forged"}),
        (f"/c/readers/reflections/{reflection.id}/share", {}),
        (f"/c/readers/reflections/{reflection.id}/delete", {}),
        (f"/c/readers/reflections/{reflection.id}/edit", {"body": "Forged"}),
    ]:
        assert (await client.post(path, form=form)).status_code == 403
    assert [r.source for r in await Reflection.all()] == ["Untouched"]
    assert await Post.all().count() == 0


async def test_someone_elses_reflection_cannot_be_changed(app, instance, alice, bob, circle):
    reflection = await reflection_service.write(instance, bob.actor, circle, body=SECRET)
    admin = await factories.account(instance, "root_admin", is_admin=True)
    for intruder in (alice, admin):  # the circle's facilitator, the instance's admin
        client = await logged_in(app, intruder)
        assert (await client.get(f"/c/readers/reflections/{reflection.id}/edit")).status_code == 404
        for action in ("edit", "share", "unshare", "delete"):
            response = await submit(client, f"/c/readers/reflections/{reflection.id}/{action}", body="Taken over")
            assert response.status_code == 404, action
            assert SECRET not in await text(response)
    kept = await Reflection.get(id=reflection.id)
    assert (kept.source, kept.shared_post_id) == (SECRET, None)
    assert await Post.all().count() == 0


async def test_a_reflection_is_reached_only_through_its_own_circle(app, instance, bob, circle, alice):
    other = await factories.circle(instance, alice, "writers")
    await factories.member(other, bob)
    reflection = await reflection_service.write(instance, bob.actor, circle, body=SECRET)
    client = await logged_in(app, bob)
    assert (await client.get(f"/c/writers/reflections/{reflection.id}/edit")).status_code == 404
    assert (await client.get(f"/c/readers/reflections/{reflection.id}/edit")).status_code == 200


async def test_a_private_reflection_shows_on_no_page_but_its_authors(app, instance, alice, bob, circle):
    meeting = await factories.post(instance, alice, circle, "Session one", title="Session one", kind="meeting")
    reflection = await reflection_service.write(instance, bob.actor, circle, body=SECRET, meeting_id=meeting.id)
    admin = await factories.account(instance, "root_admin", is_admin=True)
    pages = [
        "/c/readers", "/c/readers/reflections", "/c/readers/record", f"/posts/{meeting.id}",
        "/users/bob", "/users/alice", "/", "/circles", "/admin", "/users/bob/outbox?page=true",
        "/c/readers/outbox?page=true", "/settings/export.json", "/settings/export.md",
        f"/c/readers/reflections/{reflection.id}/edit",
    ]
    viewers = [app.test_client(), await logged_in(app, alice), await logged_in(app, admin)]
    for viewer in viewers:
        for path in pages:
            response = await viewer.get(path)
            assert SECRET not in await text(response), path
    author = await logged_in(app, bob)
    assert SECRET in await text(await author.get("/c/readers/reflections"))
    assert SECRET in await text(await author.get("/settings/export.md"))


async def test_new_form_links_a_meeting_of_the_circle_only(app, instance, alice, bob, circle):
    meeting = await factories.post(instance, alice, circle, "Details", title="Session one", kind="meeting")
    discussion = await factories.post(instance, alice, circle, "Chat", title="Just chat")
    client = await logged_in(app, bob)
    html = await text(await client.get(f"/c/readers/reflections/new?meeting={meeting.id}"))
    assert "Session one" in html and f'name="meeting" value="{meeting.id}"' in html
    response = await submit(client, "/c/readers/reflections/new", body="Good one", meeting=str(meeting.id))
    assert response.status_code == 302
    assert (await Reflection.get(author=bob.actor)).meeting_id == meeting.id

    for wrong in (discussion.id, 99999999999, "x"):
        html = await text(await client.get(f"/c/readers/reflections/new?meeting={wrong}"))
        assert "That is not a meeting of this circle" in html
        assert 'name="meeting"' not in html and "Just chat" not in html


async def test_learning_record_page(app, instance, alice, bob, circle):
    await factories.post(instance, alice, circle, "A", title="Session one", kind="meeting")
    await reflection_service.write(instance, bob.actor, circle, body="So useful", value_cycle="applied", share=True)
    html = await text(await app.test_client().get("/c/readers/record"))
    assert "<table>" in html and '<th scope="col">Meetings held</th>' in html
    assert "Applied value: 1" in html and "So useful" in html
    assert "<script" not in html
    assert (await app.test_client().get("/c/readers/record?before=2020-01")).status_code == 200
    assert (await app.test_client().get("/c/readers/record?before=garbage&reflections_before=x")).status_code == 200
    circle_page = await text(await app.test_client().get("/c/readers"))
    assert 'href="/c/readers/reflections"' in circle_page and 'href="/c/readers/record"' in circle_page


async def test_export_downloads(app, instance, bob, circle):
    await reflection_service.write(instance, bob.actor, circle, body=SECRET, value_cycle="immediate")
    await factories.post(instance, bob, circle, "A post of mine", title="Mine")
    client = await logged_in(app, bob)
    response = await client.get("/settings/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="contributions-bob.json"'
    data = json.loads(await text(response))
    assert [r["source"] for r in data["reflections"]] == [SECRET]
    assert [p["title"] for p in data["posts"]] == ["Mine"]

    response = await client.get("/settings/export.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"] == 'attachment; filename="contributions-bob.md"'
    markdown = await text(response)
    assert "## Readers (@readers)" in markdown and f"> {SECRET}" in markdown and "#### Mine" in markdown
