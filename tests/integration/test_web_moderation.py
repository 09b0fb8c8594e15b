"""Moderation through the web UI: the report forms, a circle's moderation
page and log, and the admin pages."""

from __future__ import annotations

import pytest

from models.circles import Membership, MembershipState
from models.federation import RemoteHost
from models.moderation import ModerationAction, Report, ReportState
from models.posts import Post
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def setting(instance, alice, bob):
    """Alice facilitates "readers"; Bob and Carol are members; Bob posted."""
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await factories.member(circle, carol)
    post = await factories.post(instance, bob, circle, "Buy cheap pills", title="Offer")
    return circle, post, carol


async def test_a_member_reports_a_post_and_the_steward_sees_it(app, alice, setting):
    circle, post, carol = setting
    client = await logged_in(app, carol)
    thread = await text(await client.get(f"/posts/{post.id}"))
    assert f'/posts/{post.id}/report"' in thread
    form = await text(await client.get(f"/posts/{post.id}/report"))
    assert '<label for="f-category">' in form and "Buy cheap pills" in form
    response = await submit(client, f"/posts/{post.id}/report", category="spam", comment="An advert")
    assert response.status_code == 302 and response.location == f"/posts/{post.id}"
    report = await Report.get(post=post)
    assert (report.category.value, report.comment, report.circle_id) == ("spam", "An advert", circle.id)

    steward = await logged_in(app, alice)
    page = await text(await steward.get("/c/readers/moderation"))
    assert "An advert" in page and "Buy cheap pills" in page
    article = page[page.index('<article class="report"'):page.index("</article>")]
    assert "An advert" in article and "carol" not in article.lower()  # stewards are not told who reported


async def test_a_bad_report_keeps_the_values_and_changes_nothing(app, setting):
    circle, post, carol = setting
    client = await logged_in(app, carol)
    response = await submit(client, f"/posts/{post.id}/report", category="boring", comment="Keep this text")
    page = await text(response)
    assert response.status_code == 400
    assert 'id="f-category-error"' in page and "Keep this text" in page
    assert await Report.all().count() == 0


async def test_forms_without_csrf_change_nothing(app, alice, setting):
    circle, post, carol = setting
    client = await logged_in(app, carol)
    response = await client.post(f"/posts/{post.id}/report", form={"category": "spam"})
    assert response.status_code == 403
    steward = await logged_in(app, alice)
    response = await steward.post("/c/readers/moderation/ban", form={"actor_id": str(carol.actor.id), "reason": "x", "confirm": "yes"})
    assert response.status_code == 403
    assert await Report.all().count() == 0
    assert (await Membership.get(circle=circle, actor=carol.actor)).state is MembershipState.ACTIVE


async def test_members_get_403_on_the_moderation_page_and_actions(app, bob, setting):
    circle, post, carol = setting
    client = await logged_in(app, carol)
    assert (await client.get("/c/readers/moderation")).status_code == 403
    assert (await client.get(f"/c/readers/moderation/posts/{post.id}/remove")).status_code == 403
    response = await submit(client, "/c/readers/moderation/ban", actor_id=str(bob.actor.id), reason="I dislike him",
                            confirm="yes")
    assert response.status_code == 403
    response = await submit(client, f"/c/readers/moderation/posts/{post.id}/remove", reason="Spam", confirm="yes")
    assert response.status_code == 403
    assert (await Membership.get(circle=circle, actor=bob.actor)).state is MembershipState.ACTIVE
    assert (await Post.get(id=post.id)).deleted_at is None
    thread = await text(await client.get(f"/posts/{post.id}"))
    assert "/moderation/posts/" not in thread  # no removal link for members


async def test_a_steward_bans_and_the_log_tells_every_member(app, alice, bob, setting):
    circle, post, carol = setting
    steward = await logged_in(app, alice)
    page = await text(await steward.get("/c/readers"))
    assert 'href="/c/readers/moderation"' in page
    response = await submit(steward, "/c/readers/moderation/ban", actor_id=str(bob.actor.id), reason="", confirm="yes")
    page = await text(response)
    assert response.status_code == 400 and 'id="f-ban-reason-error"' in page
    assert f'value="{bob.actor.id}" selected' in page  # the chosen member is kept
    response = await submit(steward, "/c/readers/moderation/ban", actor_id=str(bob.actor.id), reason="Selling pills",
                            confirm="yes")
    assert response.status_code == 302
    assert (await Membership.get(circle=circle, actor=bob.actor)).state is MembershipState.BANNED

    member = await logged_in(app, carol)
    log = await text(await member.get("/c/readers/moderation/log"))
    assert "banned" in log and "Selling pills" in log
    anonymous = app.test_client()
    assert (await anonymous.get("/c/readers/moderation/log")).status_code == 403

    response = await submit(steward, "/c/readers/moderation/unban", actor_id=str(bob.actor.id), reason="Apologised")
    assert response.status_code == 302
    assert not await Membership.filter(circle=circle, actor=bob.actor).exists()


async def test_a_steward_removes_a_post_with_a_reason(app, alice, setting):
    circle, post, carol = setting
    steward = await logged_in(app, alice)
    assert f"/c/readers/moderation/posts/{post.id}/remove" in await text(await steward.get(f"/posts/{post.id}"))
    response = await submit(steward, f"/c/readers/moderation/posts/{post.id}/remove", reason="", confirm="yes")
    assert response.status_code == 400 and 'id="f-reason-error"' in await text(response)
    response = await submit(steward, f"/c/readers/moderation/posts/{post.id}/remove", reason="Advertising", confirm="yes")
    assert response.status_code == 302
    assert (await Post.get(id=post.id)).deleted_at is not None
    assert (await ModerationAction.get(post_id=post.id)).reason == "Advertising"


async def test_a_steward_closes_a_report_and_errors_stay_by_that_form(app, alice, setting):
    circle, post, carol = setting
    client = await logged_in(app, carol)
    await submit(client, f"/posts/{post.id}/report", category="spam")
    report = await Report.get(post=post)
    steward = await logged_in(app, alice)
    response = await submit(steward, f"/c/readers/moderation/reports/{report.id}", outcome="dismiss", note="")
    page = await text(response)
    assert response.status_code == 400 and f'id="f-report-{report.id}-note-error"' in page
    assert f'id="f-report-{report.id}-dismiss" name="outcome" value="dismiss" checked' in page
    response = await submit(steward, f"/c/readers/moderation/reports/{report.id}", outcome="dismiss", note="A joke")
    assert response.status_code == 302
    assert (await Report.get(id=report.id)).state is ReportState.DISMISSED


async def test_a_steward_of_another_circle_cannot_moderate_this_one(app, instance, bob, setting):
    circle, post, carol = setting
    await factories.circle(instance, carol, "carols")
    client = await logged_in(app, carol)
    assert (await client.get("/c/readers/moderation")).status_code == 403
    response = await submit(client, f"/c/carols/moderation/posts/{post.id}/remove", reason="Spam", confirm="yes")
    assert response.status_code == 404
    assert (await Post.get(id=post.id)).deleted_at is None


async def test_admin_pages_are_for_admins(app, alice, setting):
    client = await logged_in(app, alice)
    for path in ("/admin/reports", "/admin/domains", "/admin/overview"):
        assert (await client.get(path)).status_code == 403, path
    response = await submit(client, "/admin/domains", host="spam.example", reason="")
    assert response.status_code == 403
    assert not await RemoteHost.filter(host="spam.example").exists()


async def test_an_admin_blocks_a_domain_and_reads_the_overview(app, instance, setting):
    admin = await factories.account(instance, "dana", is_admin=True)
    client = await logged_in(app, admin)
    response = await submit(client, "/admin/domains", host="not a domain", reason="Spam wave")
    page = await text(response)
    assert response.status_code == 400 and 'id="f-host-error"' in page and "Spam wave" in page
    response = await submit(client, "/admin/domains", host="spam.example", reason="Spam wave")
    assert response.status_code == 302
    assert "spam.example" in await text(await client.get("/admin/domains"))
    overview = await text(await client.get("/admin/overview"))
    assert "<dt>Accounts</dt><dd>4</dd>" in overview
    assert (await client.get("/admin/reports")).status_code == 200
    response = await submit(client, "/admin/domains/unblock", host="spam.example")
    assert response.status_code == 302
    assert (await RemoteHost.get(host="spam.example")).blocked_at is None


async def test_a_member_reports_a_person_from_the_member_list(app, bob, setting):
    circle, post, carol = setting
    client = await logged_in(app, carol)
    members = await text(await client.get("/c/readers/members"))
    link = f"/people/{bob.actor.id}/report?circle=readers"
    assert link in members
    assert "Also send the report" not in await text(await client.get(link))  # Bob lives here: nothing to forward
    response = await submit(client, link, category="harassment", comment="Rude in private")
    assert response.status_code == 302 and response.location == "/c/readers/members"
    report = await Report.get(target_actor=bob.actor)
    assert (report.circle_id, report.post_id, report.forwarded) == (circle.id, None, False)
    # From Bob's own page: for the admins only, and once while it is open.
    response = await submit(client, f"/people/{bob.actor.id}/report", category="harassment")
    assert response.status_code == 409
    assert (await client.get(f"/people/{2**70}/report")).status_code == 404
