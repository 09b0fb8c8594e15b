"""Authorization matrix (issue 11): every GET route of the app must carry an
explicit decision here, so a new route without one fails; the members-only
circle's pages, its forms, tools and objects are checked per viewer
(anonymous, a signed-in outsider, an admin who is no member, a member, a
moderator, a facilitator); admin pages refuse everyone but admins. The
forms (POST routes) are in test_authorization_posts.py; every ActivityPub
collection and object of a members-only circle, per remote viewer (unsigned,
a stranger's server, a member's server), in tests/integration/test_members_only.py."""

from __future__ import annotations

import pytest

from models.circles import Membership, Role
from tests import factories
from tests.integration.webforms import logged_in
from tests.security.circle_contents import add_contents, filled

# Circle pages that show members-only content: outsiders get 403.
CIRCLE_CONTENT = {
    "/c/<handle>", "/c/<handle>/questions", "/c/<handle>/resources", "/c/<handle>/meetings",
    "/c/<handle>/members", "/c/<handle>/dashboard", "/c/<handle>/decisions", "/c/<handle>/reflections",
    "/c/<handle>/reviews", "/c/<handle>/search",
}
ADMIN = {"/admin/", "/admin/domains", "/admin/overview", "/admin/reports", "/admin/accounts/<username>/delete"}
# Routes with a decision not (yet) checked by a row below, each with why.
UNCHECKED = {
    # public by design: discovery, static, the circle directory, sign-in pages, the circle's profile
    "/", "/.well-known/host-meta", "/.well-known/host-meta.json", "/.well-known/nodeinfo", "/.well-known/webfinger",
    "/nodeinfo/<any('2.0', '2.1'):schema>", "/actor", "/healthz", "/readyz", "/static/<path:filename>", "/circles",
    "/login", "/signup", "/password-reset", "/password-reset/<token>", "/c/<handle>/about", "/people/<handle>", "/users/<username>",
    "/media/<name>",
    # search: anyone, but each finds only what they may read (tests/unit/models/test_search.py,
    # tests/integration/test_web_search.py)
    "/search",
    "/language",  # the footer's language menu: sets a cookie, goes back (tests/browser/test_languages.py)
    # an invitation link: its unguessable token is the permission (tests/integration/test_circle_invites.py)
    "/invite/<token>",
    # ActivityPub collections/objects: members-only ones covered by test_members_only (401/404/200)
    "/<any(users, c):kind_path>/<name>/featured", "/<any(users, c):kind_path>/<name>/followers",
    "/<any(users, c):kind_path>/<name>/following", "/c/<handle>/outbox", "/users/<username>/outbox",
    "/posts/<int:post_id>/activity", "/posts/<int:post_id>/replies", "/c/<handle>/announces/<int:post_id>",
    "/c/<handle>/boosts/<int:post_id>",
    # a tutoring thread: its two people only (tests/integration/test_web_tutoring.py)
    "/tutoring/<int:pairing_id>",
    # the moderators collection (ActivityPub): signed fetches only on a members-only circle
    "/c/<handle>/moderators",
    # personal pages: signed-in only
    "/circles/new", "/meetings", "/notifications", "/settings", "/settings/delete",
    "/settings/export.<any(json, md):fmt>", "/settings/password", "/users/<username>/meetings.ics",
    "/settings/blocks",  # the signed-in person's own list (tests/integration/test_web_person_blocks.py)
    "/settings/email",
    # a link sent to an email address: its unguessable token is the permission
    # (tests/integration/test_web_account_email.py)
    "/email/confirm/<token>",
    # the signed-in person's own notifications: another's is 404 (tests/integration/test_web_notifications.py)
    "/settings/notifications", "/notifications/<int:notification_id>/open",
    # an unsubscribe link: its HMAC is the permission (tests/integration/test_email.py)
    "/email/unsubscribe/<int:account_id>/<kind>/<token>",
    # live updates: each topic checked, one's own account and readable threads (tests/integration/test_live.py)
    "/live",
    # client API: a poll as its post is visible, else 404 (tests/integration/mastodon/test_polls.py);
    # search finds only what the searcher may read (tests/integration/mastodon/test_search_api.py)
    "/api/v1/polls/<raw_id>", "/api/v2/search",
    # the client API: public server facts, and an app's own token (tests/integration/mastodon/test_instance.py,
    # test_oauth.py); the consent page is signed-in only (test_oauth.py)
    "/api/v1/instance", "/api/v2/instance", "/api/v1/instance/peers", "/api/v1/instance/rules",
    "/api/v1/custom_emojis", "/.well-known/oauth-authorization-server", "/api/v1/apps/verify_credentials",
    "/oauth/authorize",
    # Prometheus metrics: the operator's bearer token (CIRCLES_METRICS_TOKEN), 404 when none is set, 401 for a
    # missing or wrong one (tests/integration/test_metrics.py)
    "/metrics",
    # the client API's own description (web/mastodon/openapi.py): public, like the routes it lists
    "/api/openapi.json",
    # the client API's statuses: a post the viewer may not read is 404, lists are one's own
    # (tests/integration/mastodon/test_statuses.py)
    "/api/v1/statuses", "/api/v1/statuses/<raw_id>", "/api/v1/statuses/<raw_id>/context",
    "/api/v1/statuses/<raw_id>/source", "/api/v1/statuses/<raw_id>/history",
    "/api/v1/statuses/<raw_id>/favourited_by", "/api/v1/statuses/<raw_id>/reblogged_by",
    "/api/v1/bookmarks", "/api/v1/favourites",
    # the client API (web/mastodon/): a bearer token and its scopes; each timeline shows only what the
    # token's person may read, each notification and marker is one's own
    # (tests/integration/mastodon/test_timelines.py, test_notifications.py, test_streaming.py)
    "/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/<hashtag>",
    "/api/v1/timelines/list/<list_id>", "/api/v1/lists", "/api/v1/notifications",
    "/api/v1/notifications/unread_count", "/api/v1/notifications/<notification_id>", "/api/v1/markers",
    "/api/v1/streaming", "/api/v1/streaming/<path:path>", "/api/v1/streaming/health",
    # the client API's accounts: a bearer token and its scopes; members-only circles' posts and members
    # only for their members (tests/integration/mastodon/test_accounts.py)
    "/api/v1/accounts", "/api/v1/accounts/familiar_followers",
    "/api/v1/accounts/verify_credentials", "/api/v1/accounts/lookup", "/api/v1/accounts/search",
    "/api/v1/accounts/relationships", "/api/v1/accounts/<account_id>", "/api/v1/accounts/<account_id>/statuses",
    "/api/v1/accounts/<account_id>/followers", "/api/v1/accounts/<account_id>/following",
    "/api/v1/accounts/<account_id>/featured_tags", "/api/v1/accounts/<account_id>/lists",
    "/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests",
}


def test_every_get_route_has_an_authorization_decision(app):
    rules = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods}
    decided = CIRCLE_CONTENT | ADMIN | set(FACILITATOR_PAGES) | set(BY_ROLE) | UNCHECKED
    assert rules - decided == set(), "new GET route(s) without an authorization decision"
    assert decided - rules == set(), "stale entries"


@pytest.fixture
async def circles(instance, alice, bob):
    quiet = await factories.circle(instance, alice, "quiet", visibility="members", name="Quiet Corner")
    await factories.member(quiet, bob)
    await factories.circle(instance, alice, "open_one", name="Open")
    return quiet


async def test_members_only_circle_pages_by_viewer(app, instance, circles, alice, bob):
    carol = await factories.account(instance, "carol")
    viewers = {"anonymous": (app.test_client(), 403), "non-member": (await logged_in(app, carol), 403),
               "member": (await logged_in(app, bob), 200), "facilitator": (await logged_in(app, alice), 200)}
    for who, (client, expected) in viewers.items():
        for rule in sorted(CIRCLE_CONTENT):
            got = (await client.get(rule.replace("<handle>", "quiet"))).status_code
            assert got == expected, (who, rule, got)
            if rule != "/c/<handle>/dashboard":  # the dashboard is for a circle's own members, public or not
                public = (await client.get(rule.replace("<handle>", "open_one"))).status_code
                assert public == 200, ("public circle", who, rule, public)


async def test_admin_pages_refuse_non_admins(app, instance, circles, alice, bob):
    carol = await factories.account(instance, "carol")
    for who, client in {"anonymous": app.test_client(), "member": await logged_in(app, bob),
                        "non-member": await logged_in(app, carol)}.items():
        for rule in sorted(ADMIN):
            got = (await client.get(rule.replace("<username>", "bob"))).status_code
            assert got in (302, 403, 404), (who, rule, got)


# (the moderation log is not here: README says every member can read it)
FACILITATOR_PAGES = ["/c/<handle>/settings", "/c/<handle>/moderation", "/c/<handle>/invites",
                     "/c/<handle>/decisions/settings"]


async def test_facilitator_pages_refuse_a_plain_member(app, instance, circles, alice, bob):
    member, facilitator = await logged_in(app, bob), await logged_in(app, alice)
    for rule in FACILITATOR_PAGES:
        path = rule.replace("<handle>", "quiet")
        assert (await member.get(path)).status_code in (403, 404), path
        assert (await facilitator.get(path)).status_code == 200, path


# What each viewer of the members-only circle gets from its forms, tools and
# objects. OUT: anonymous, a signed-in outsider and an admin who is no member
# (members-only content is for members, README "What is public"). 403 or a
# 302 to the login page both mean "not for you".
OUT = {"anonymous": 403, "outsider": 403, "admin": 403}
MEMBERS = {**OUT, "member": 200, "moderator": 200, "facilitator": 200}
STEWARDS = {**OUT, "member": 403, "moderator": 200, "facilitator": 200}
FACILITATORS = {**OUT, "member": 403, "moderator": 403, "facilitator": 200}
BY_ROLE = {
    **dict.fromkeys([
        "/posts/<int:post_id>", "/proposals/<int:post_id>", "/meetings/<int:post_id>", "/posts/<int:post_id>/report",
        "/c/<handle>/dashboard.csv", "/c/<handle>/dashboard.json", "/c/<handle>/meetings.ics",
        "/c/<handle>/posts/new", "/c/<handle>/questions/new", "/c/<handle>/resources/new",
        "/c/<handle>/meetings/new", "/c/<handle>/proposals/new", "/c/<handle>/reviews/new",
        "/c/<handle>/reflections/new", "/c/<handle>/record", "/c/<handle>/record.<any(json, md):fmt>",
        "/c/<handle>/sisters", "/c/<handle>/tutoring",
        # every member reads who looked up a safe question's asker, and the moderation log (README)
        "/c/<handle>/reveals", "/c/<handle>/moderation/log",
        # says whether the circle needs someone to take it on (tests/integration/test_web_roles.py)
        "/c/<handle>/facilitate",
    ], MEMBERS),
    # the organiser's or a steward's (Bob, a plain member, wrote neither)
    "/meetings/<int:post_id>/edit": STEWARDS,
    "/c/<handle>/moderation/posts/<int:post_id>/remove": STEWARDS,
    # editing a post is its author's alone (Bob's); its earlier versions, the author's and the stewards'
    "/posts/<int:post_id>/edit": {**OUT, "member": 200, "moderator": 403, "facilitator": 403},
    "/posts/<int:post_id>/history": MEMBERS,
    # the author's or a steward's: Bob added this resource
    "/resources/<int:resource_id>/edit": {**STEWARDS, "member": 200},
    # a reflection is its author's alone (Bob's): others do not learn it exists
    "/c/<handle>/reflections/<int:reflection_id>/edit": {**OUT, "member": 200, "moderator": 404, "facilitator": 404},
    "/c/<handle>/members/<int:member_id>/moderator/remove": FACILITATORS,
    # reporting a person (Dave, in no circle): anyone signed in
    "/people/<int:actor_id>/report": {**dict.fromkeys(MEMBERS, 200), "anonymous": 403},
}


async def test_a_members_only_circles_forms_tools_and_objects_by_role(app, instance, circles, alice, bob):
    moderator = await factories.account(instance, "mo")
    await factories.member(circles, moderator)
    await Membership.filter(circle=circles, actor=moderator.actor).update(role=Role.MODERATOR)
    ids, _post = await add_contents(instance, alice, bob, circles)
    ids |= {
        "<int:member_id>": str((await Membership.get(circle=circles, actor=moderator.actor)).id),
        "<int:actor_id>": str((await factories.account(instance, "dave")).actor.id),
        "<any(json, md):fmt>": "json",  # the learning record's download; .md is the same route
    }
    viewers = {
        "anonymous": app.test_client(),
        "outsider": await logged_in(app, await factories.account(instance, "carol")),
        "admin": await logged_in(app, await factories.account(instance, "ada", is_admin=True)),
        "member": await logged_in(app, bob), "moderator": await logged_in(app, moderator),
        "facilitator": await logged_in(app, alice),
    }
    wrong = []
    for rule, expected in sorted(BY_ROLE.items()):
        path = filled(rule, ids)
        for who, client in viewers.items():
            response = await client.get(path)
            got = response.status_code
            if got == 302 and "/login" in response.headers["Location"]:
                got = 403
            if got != expected[who]:
                wrong.append((rule, who, got, expected[who]))
    assert not wrong, "\n".join(f"{rule} as {who}: {got}, expected {want}" for rule, who, got, want in wrong)
