"""Authorization matrix for forms (issue 11): every POST route of the web UI,
sent by someone who may not use it, with fields that would otherwise pass,
is refused (a 4xx, or the login page for an anonymous visitor) and changes
nothing. Three such senders against a members-only circle: an anonymous
visitor, a signed-in outsider, and a plain member on the stewards' forms."""

from __future__ import annotations

import pytest

from models.circle_invites import CircleInvite
from models.circles import Circle, Membership, MembershipState
from models.governance import Vote
from models.meetings import Rsvp
from models.moderation import ModerationAction, Report
from models.posts import Like, Post
from models.reflections import Reflection
from models.services import circle_invites, moderation
from tests import factories
from tests.integration.webforms import logged_in, submit
from tests.security.circle_contents import add_contents, filled

# Open to anyone (signing in, signing up), to anyone signed in whatever the
# circle (their own settings, people, searching, starting a circle), or the
# federation's (signed requests: tests/security/test_hostile_peers.py).
NOT_CIRCLE_SCOPED = {
    "/login", "/logout", "/signup", "/password-reset/<token>", "/invite/<token>", "/search", "/settings",
    "/settings/delete", "/settings/password", "/settings/privacy", "/password-reset", "/email/confirm/<token>",
    "/settings/avatar", "/settings/avatar/remove",
    "/settings/email", "/settings/email/verify", "/circles/new", "/circles/follow",
    "/notifications/read", "/meetings/calendar-link", "/people/<handle>/follow", "/people/<handle>/unfollow",
    "/users/<username>/follow", "/users/<username>/unfollow",
    "/people/<int:actor_id>/block", "/people/<int:actor_id>/report",
    "/inbox", "/actor/inbox", "/c/<handle>/inbox", "/users/<username>/inbox",
}
# An outsider may ask to join (the request waits for a facilitator).
OUTSIDER_MAY = {"/c/<handle>/join"}
STEWARD_FORMS = {
    "/c/<handle>/charter/adopt", "/c/<handle>/decisions/settings", "/c/<handle>/invites",
    "/c/<handle>/invites/<int:invite_id>/revoke", "/c/<handle>/invites/person",
    "/c/<handle>/members/<int:member_id>/moderator", "/c/<handle>/members/<int:member_id>/moderator/remove",
    "/c/<handle>/moderation/ban", "/c/<handle>/moderation/posts/<int:post_id>/remove",
    "/c/<handle>/moderation/reports/<int:report_id>", "/c/<handle>/moderation/unban",
    "/c/<handle>/requests/<int:membership_id>/<any(approve, reject):decision>", "/c/<handle>/settings",
    "/c/<handle>/sisters", "/c/<handle>/sisters/<int:link_id>/kinds", "/c/<handle>/sisters/<int:link_id>/unlink",
    "/meetings/<int:post_id>/cancel", "/meetings/<int:post_id>/edit", "/posts/<int:post_id>/reveal",
}
# Fields that pass each form's validation, so only the permission can refuse.
FIELDS = {
    "title": "A fine title", "body": "A fine body", "description": "Short", "link": "https://example.org/x",
    "kind": "free_text", "choice": "yes", "answer": "going", "reason": "A reason", "category": "spam",
    "comment": "A comment", "helpful": "1", "expires": "7", "uses": "1", "handle": "dave", "member": "dave",
    "timezone": "UTC", "place": "Library", "agenda": "Chapter 3", "skill": "python", "skills": "python",
    "text": "Hello", "name": "Renamed", "purpose": "Learn", "rules": "Be kind", "join_mode": "open",
    "visibility": "public", "decision_rule": "majority", "quorum": "1", "kinds": "resources", "days": "3",
    "option": "0", "language": "en", "value_cycle": "", "share": "1",
    "confirm": "yes",  # past the confirmation page of destructive actions (web/html/confirm.py)
}


async def _state() -> dict:
    """Everything a form here could change."""
    return {
        "posts": sorted(await Post.all().values_list("id", "title", "content", "deleted_at", "accepted_answer_id")),
        "members": sorted(await Membership.all().values_list("id", "state", "role")),
        "circles": sorted(await Circle.all().values_list("id", "name", "join_mode", "visibility", "rules")),
        "reflections": sorted(await Reflection.all().values_list("id", "source", "shared_post_id")),
        "counts": [await model.all().count() for model in (Vote, Like, Rsvp, CircleInvite, Report, ModerationAction)],
    }


@pytest.fixture
async def quiet(instance, alice, bob):
    """A members-only circle: Alice facilitates, Bob is a member, Dave asked
    to join; a post, a meeting, a proposal, a resource, a reflection, a
    report and an invitation link in it."""
    circle = await factories.circle(instance, alice, "quiet", visibility="members", name="Quiet Corner",
                                    join_mode="approval")
    await Membership.create(circle=circle, actor=bob.actor, state=MembershipState.ACTIVE)
    dave = await factories.account(instance, "dave")
    request = await Membership.create(circle=circle, actor=dave.actor, state=MembershipState.PENDING)
    contents, post = await add_contents(instance, alice, bob, circle)
    report = await moderation.report_post(alice.actor, post, category="spam")
    invite, _ = await circle_invites.create(circle, alice.actor, expires="7", uses="1")
    bob_member = await Membership.get(circle=circle, actor=bob.actor)
    return {
        "<int:member_id>": str(bob_member.id), "<int:membership_id>": str(request.id),
        "<any(approve, reject):decision>": "approve", "<int:invite_id>": str(invite.id),
        "<int:report_id>": str(report.id), "<int:link_id>": "999999", "<int:pairing_id>": "999999",
        "<any(share, unshare, delete):action>": "delete",
        **contents,
    }


def _circle_forms(app) -> list[str]:
    rules = {r.rule for r in app.url_map.iter_rules() if "POST" in r.methods}
    return sorted(rule for rule in rules - NOT_CIRCLE_SCOPED if not rule.startswith("/admin/"))


async def _refused(client, app, rules, ids, *, anonymous: bool = False) -> list[str]:
    wrong = []
    for rule in rules:
        response = await submit(client, filled(rule, ids), **FIELDS)
        status = response.status_code
        to_login = status == 302 and "/login" in response.headers.get("Location", "")
        if not (400 <= status < 500 or (anonymous and to_login)):
            wrong.append(f"{rule}: {status} {response.headers.get('Location', '')}")
    return wrong


async def test_no_circle_form_works_for_an_anonymous_visitor(app, quiet):
    before = await _state()
    wrong = await _refused(app.test_client(), app, _circle_forms(app), quiet, anonymous=True)
    assert not wrong, "\n".join(wrong)
    assert await _state() == before


async def test_no_circle_form_but_asking_to_join_works_for_an_outsider(app, instance, quiet):
    outsider = await logged_in(app, await factories.account(instance, "carol"))
    before = await _state()
    wrong = await _refused(outsider, app, [r for r in _circle_forms(app) if r not in OUTSIDER_MAY], quiet)
    assert not wrong, "\n".join(wrong)
    assert await _state() == before


async def test_a_plain_member_cannot_use_the_stewards_forms(app, bob, quiet):
    member = await logged_in(app, bob)
    assert STEWARD_FORMS <= set(_circle_forms(app)), STEWARD_FORMS - set(_circle_forms(app))
    before = await _state()
    wrong = await _refused(member, app, sorted(STEWARD_FORMS), quiet)
    assert not wrong, "\n".join(wrong)
    assert await _state() == before


async def test_admin_forms_refuse_everyone_but_admins(app, instance, bob, quiet):
    admin_forms = sorted(r.rule for r in app.url_map.iter_rules() if "POST" in r.methods and r.rule.startswith("/admin/"))
    ids = {**quiet, "<username>": "bob", "<any('make-admin', 'unmake-admin'):action>": "make-admin",
           "<any(approve, disable, enable):action>": "disable"}
    before = await _state()
    for client, anonymous in ((app.test_client(), True), (await logged_in(app, bob), False)):
        wrong = await _refused(client, app, admin_forms, ids, anonymous=anonymous)
        assert not wrong, "\n".join(wrong)
    assert await _state() == before
    assert not (await factories.account(instance, "erin")).is_admin
