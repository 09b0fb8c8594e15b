"""Health check, error pages, security headers, admin access, and a crawl
that every page answers without a server error."""

from __future__ import annotations

import re

import pytest

from models import db
from models.accounts import Account, AccountState, Invite
from models.services import posts as post_service
from tests import factories
from tests.factories import PASSWORD
from tests.integration.webforms import logged_in, submit, text


async def test_healthz_reports_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok", "database": True}


async def test_healthz_reports_an_unreachable_database(make_app, tmp_path):
    await db.disconnect()
    await db.connect(f"sqlite://{tmp_path}/missing/dir/x.sqlite3")  # a database that cannot open
    response = await make_app().test_client().get("/healthz")
    assert response.status_code == 200  # alive: /readyz is the one that says 503 (test_health_probes.py)
    assert await response.get_json() == {"status": "degraded", "database": False}


async def test_unknown_url_is_a_404_page_in_the_site_style(client):
    response = await client.get("/no/such/page")
    html = await text(response)
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert '<section class="error-page">' in html and "<h1>Not found</h1>" in html
    assert "There is nothing at this address." in html
    assert (await client.get("/static/style.css")).status_code == 200


async def test_wrong_method_is_a_405_page(client):
    response = await client.get("/logout")
    assert response.status_code == 405
    assert "This address does not take that kind of request." in await text(response)


async def test_errors_are_json_for_clients_that_ask_for_it(client):
    response = await client.get("/c/nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert await response.get_json() == {"error": "There is no circle “nowhere” here."}


@pytest.mark.parametrize("path", ["/", "/login", "/circles", "/no/such/page", "/healthz"])
async def test_security_headers_on_every_response(client, path):
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


async def test_oversized_request_is_refused_cleanly(client):
    response = await submit(client, "/signup", username="big", email="big@example.org",
                            password=PASSWORD, application_text="x" * (3 * 1024 * 1024))
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"  # the rest of the body is not read
    assert "larger than this server accepts" in await text(response)
    assert await Account.all().count() == 0


async def test_nul_characters_are_refused_not_a_server_error(client, instance):
    await factories.account(instance, "alice")
    assert (await client.get("/c/read%00ers")).status_code == 400
    assert (await client.get("/circles", query_string={"q": "a\x00b"})).status_code == 400
    response = await submit(client, "/login", login="alice\x00", password=PASSWORD)
    assert response.status_code == 400
    response = await submit(client, "/signup", username="newbie", email="new\x00bie@example.org",
                            password=PASSWORD)
    assert response.status_code == 400
    assert "not allowed" in await text(response)
    assert await Account.all().count() == 1


# Admin pages


async def test_admin_pages_send_anonymous_visitors_to_login(client):
    response = await client.get("/admin/")
    assert response.status_code == 302
    assert response.location == "/login?next=/admin/"


async def test_admin_pages_refuse_non_admins(app, instance):
    await factories.account(instance, "boss", is_admin=True)
    await factories.account(instance, "victim")
    alice = await logged_in(app, await factories.account(instance, "alice"))

    response = await alice.get("/admin/")
    assert response.status_code == 403
    assert "Only the instance" in await text(response)
    assert 'href="/admin/"' not in await text(await alice.get("/"))  # no Admin link either

    assert (await submit(alice, "/admin/invites")).status_code == 403
    assert await Invite.all().count() == 0
    assert (await submit(alice, "/admin/accounts/victim/disable")).status_code == 403
    assert (await Account.get(actor__username="victim")).state is AccountState.ACTIVE


async def test_admin_sees_the_admin_page(app, instance):
    boss = await logged_in(app, await factories.account(instance, "boss", is_admin=True))
    response = await boss.get("/admin/")
    assert response.status_code == 200
    assert "Sign-ups waiting for approval" in await text(response)
    response = await submit(boss, "/admin/accounts/boss/disable")  # not oneself
    assert response.status_code == 409
    assert (await Account.get(actor__username="boss")).state is AccountState.ACTIVE


# No server errors anywhere


LINK_RE = re.compile(r'href="(/[^"#]*)')
ODD_ADDRESSES = [
    "/circles?page=abc", "/circles?page=-3", "/circles?page=99999999999999999999999",
    "/circles?page=9999999999999999999", "/c/readers/members?page=9999999999999999999",
    "/c/readers?before=9999999999999999999", "/posts/9223372036854775808",
    "/c/readers?before=%C2%B2", "/circles?page=%C2%B2", "/c/readers/members?page=%D9%A2",
    "/circles?q=%00", "/circles?q=" + "x" * 500, "/c/readers?before=abc", "/c/readers?before=-1",
    "/c/readers/members?page=abc", "/c/NoSuch", "/c/%00", "/users/nobody", "/users/%E2%80%AE",
    "/posts/0", "/posts/99999999999999999999999999", "/login?next=//evil.example", "/signup?invite=%00",
]


async def crawl(client, start: list[str], limit: int = 80) -> dict[str, int]:
    """GET every local link reachable from `start`; the status of each address."""
    seen: dict[str, int] = {}
    queue = list(start)
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen or path.startswith("/static/"):
            continue
        response = await client.get(path)
        seen[path] = response.status_code
        if response.content_type.startswith("text/html"):
            queue.extend(m.replace("&amp;", "&") for m in LINK_RE.findall(await text(response)))
    return seen


async def test_no_page_answers_with_a_server_error(app, instance):
    boss = await factories.account(instance, "boss", is_admin=True)
    alice = await factories.account(instance, "alice")
    readers = await factories.circle(instance, alice, "readers", purpose="We *read*")
    await factories.circle(instance, boss, "waiting_room", join_mode="approval")
    post = await factories.post(instance, alice, readers, "Hello **all**", title="Welcome")
    await post_service.reply(instance, alice.actor, post, body="A reply")
    pending = await factories.account(instance, "pending")
    await Account.filter(id=pending.id).update(state=AccountState.PENDING)
    await factories.member(await factories.circle(instance, boss, "approval_c", join_mode="approval"), alice)

    for client in (app.test_client(), await logged_in(app, alice), await logged_in(app, boss)):
        statuses = await crawl(client, ["/", "/circles", "/c/readers", "/c/approval_c", "/admin/"])
        for path in ODD_ADDRESSES:
            statuses[path] = (await client.get(path)).status_code
        errors = {path: status for path, status in statuses.items() if status >= 500}
        assert not errors
        assert statuses["/c/readers"] == 200 and statuses[f"/posts/{post.id}"] == 200


async def test_home_shows_questions_i_could_answer_and_my_next_meetings(app, database, instance):
    import datetime as dt

    from models import clock
    from models.services import meetings as meeting_service
    from models.services import questions as question_service

    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "readers", name="Readers", timezone="Europe/Paris")
    await factories.member(circle, bob)
    await question_service.ask(instance, bob.actor, circle, title="Where to start?", body="?")
    await question_service.ask(instance, alice.actor, circle, title="My own question", body="?")
    await question_service.ask(instance, alice.actor, circle, title="Asked safely by alice", body="?", safe=True)
    start = (clock.now() + dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=1)))
    await meeting_service.schedule(instance, bob.actor, circle, title="Chapter 1", agenda="",
                                   starts_local=start.strftime("%Y-%m-%dT%H:%M"),
                                   ends_local=(start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))

    page = await (await (await logged_in(app, alice)).get("/")).get_data(as_text=True)
    could_answer = page.split("Questions you could answer")[1].split("Your next meetings")[0]
    assert "Where to start?" in could_answer and "no answer yet" in could_answer
    assert "My own question" not in could_answer and "Asked safely by alice" not in could_answer
    meetings = page.split("Your next meetings")[1]
    assert "Chapter 1" in meetings and "(Europe/Paris)" in meetings


def _app_with_a_failing_route(make_app):
    app = make_app()

    @app.get("/test-only/boom")
    async def boom():  # only in this test's app: production code has no such route
        raise RuntimeError("secret detail that must not reach the page")

    return app


async def test_an_unexpected_error_is_a_styled_500_page_without_details(make_app):
    client = _app_with_a_failing_route(make_app).test_client()
    response = await client.get("/test-only/boom")
    html = await text(response)
    assert response.status_code == 500 and response.content_type.startswith("text/html")
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert '<header class="site-header">' in html and '<section class="error-page">' in html
    assert "<h1>Something went wrong</h1>" in html and "It has been logged" in html
    assert '<a href="/">Go to the home page</a>' in html
    assert "secret detail" not in html and "Traceback" not in html
    response = await client.get("/test-only/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500 and "secret detail" not in (await response.get_json())["error"]


async def test_the_500_page_still_renders_when_its_template_cannot(make_app, monkeypatch):
    from web import errors

    async def broken(*args, **kwargs):  # say the template needs the database, and the database is gone
        raise RuntimeError("template failed")

    monkeypatch.setattr(errors, "render_template", broken)
    response = await _app_with_a_failing_route(make_app).test_client().get("/test-only/boom")
    html = await text(response)
    assert response.status_code == 500
    assert '<link rel="stylesheet" href="/static/style.css">' in html and "<h1>Something went wrong</h1>" in html
    assert '<a href="/">Go to the home page</a>' in html and "template failed" not in html


async def test_a_form_without_its_csrf_token_explains_and_links_back(client, instance):
    response = await client.post("/login", form={"login": "alice", "password": PASSWORD},
                                 headers={"Host": "circles.test", "Referer": "http://circles.test/login?next=/circles"})
    html = await text(response)
    assert response.status_code == 403
    assert "This form has expired or did not come from this site." in html
    assert '<a href="/login?next=/circles">Back to the page you came from</a>' in html
    # A Referer from elsewhere is no link back.
    response = await client.post("/login", form={"login": "alice"}, headers={"Host": "circles.test", "Referer": "https://evil.example/x"})
    assert response.status_code == 403 and "evil.example" not in await text(response)
    # Nor is a path of this site that a browser reads as another site's address.
    for path in ("//evil.example/x", "/\\evil.example/x"):
        response = await client.post("/login", form={"login": "alice"},
                                     headers={"Host": "circles.test", "Referer": f"http://circles.test{path}"})
        assert response.status_code == 403 and "evil.example" not in await text(response), path
