"""Reports, a circle's moderation (removal, bans, its log) and the admins'
domain blocks, through the services."""

import pytest

from models.actors import ActorKind, Follow
from models.circles import Circle, Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import Delivery, DeliveryState, OutboxEvent, RemoteHost
from models.moderation import ModerationAction, ModerationKind, Report, ReportState
from models.posts import Post
from models.services import circles as circle_service
from models.services import follows, remote
from models.services import moderation as svc
from tests import factories


async def remote_person(name: str = "rita", domain: str = "remote.example"):
    uri = f"https://{domain}/users/{name}"
    return await remote.upsert_actor(remote.RemoteActorInput(
        uri=uri, kind=ActorKind.PERSON, username=name, domain=domain, inbox_url=f"{uri}/inbox",
        shared_inbox_url=f"https://{domain}/inbox",
    ))


@pytest.fixture
async def setting(database, instance):
    """A circle facilitated by Alice, with Bob and Carol as members and a post by Bob."""
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await factories.member(circle, carol)
    post = await factories.post(instance, bob, circle, "Buy cheap pills")
    return alice, bob, carol, circle, post


async def test_a_member_reports_a_post_to_the_circle_stewards(setting):
    alice, bob, carol, circle, post = setting
    report = await svc.report_post(carol.actor, post, category="spam", comment="Advertising")
    assert (report.circle_id, report.post_id, report.target_actor_id) == (circle.id, post.id, bob.actor.id)
    assert [r.id for r in await svc.circle_reports(circle, alice.actor)] == [report.id]
    assert not await OutboxEvent.filter(kind="report.forwarded").exists()  # the author is local: nothing to send
    with pytest.raises(Conflict):
        await svc.report_post(carol.actor, post, category="spam")


@pytest.mark.parametrize(
    "fields, field",
    [({"category": "boring"}, "category"), ({"category": ""}, "category"),
     ({"category": "spam", "comment": "x" * 2001}, "comment")],
)
async def test_a_bad_report_changes_nothing(setting, fields, field):
    alice, bob, carol, circle, post = setting
    with pytest.raises(InvalidInput) as caught:
        await svc.report_post(carol.actor, post, **fields)
    assert caught.value.field == field
    assert await Report.all().count() == 0


async def test_nobody_reports_their_own_post_or_themselves(setting):
    alice, bob, carol, circle, post = setting
    with pytest.raises(InvalidInput):
        await svc.report_post(bob.actor, post, category="spam")
    with pytest.raises(InvalidInput):
        await svc.report_actor(bob.actor, bob.actor, category="spam")
    assert await Report.all().count() == 0


async def test_reporting_someone_elsewhere_can_be_forwarded(setting):
    alice, bob, carol, circle, post = setting
    rita = await remote_person()
    report = await svc.report_actor(carol.actor, rita, category="harassment", forward=True, circle=circle)
    assert report.forwarded and report.circle_id is None  # Rita is no member of the circle: admins only
    assert await OutboxEvent.filter(kind="report.forwarded", subject_id=report.id).exists()


async def test_members_cannot_moderate_and_stewards_only_their_own_circle(setting, instance):
    alice, bob, carol, circle, post = setting
    other = await factories.circle(instance, carol, "other")
    report = await svc.report_post(carol.actor, post, category="spam")
    for attempt in (
        svc.circle_reports(circle, carol.actor),
        svc.decide_circle_report(circle, carol.actor, report.id, outcome="resolve", note="ok"),
        svc.remove_post(circle, carol.actor, post.id, reason="spam"),
        svc.ban(circle, carol.actor, bob.actor.id, reason="spam", instance=instance),
        svc.moderation_log(circle, None),
        # Carol facilitates another circle: no power over this one, nor over its reports from hers.
        svc.remove_post(other, carol.actor, post.id, reason="spam"),
    ):
        with pytest.raises((PermissionDenied, NotFound)):
            await attempt
    with pytest.raises(NotFound):
        await svc.decide_circle_report(other, carol.actor, report.id, outcome="resolve", note="ok")
    assert (await Post.get(id=post.id)).deleted_at is None
    assert (await Report.get(id=report.id)).state is ReportState.OPEN
    assert await ModerationAction.all().count() == 0


async def test_a_steward_resolves_a_report_and_the_log_never_names_the_reporter(setting):
    alice, bob, carol, circle, post = setting
    report = await svc.report_post(carol.actor, post, category="spam")
    with pytest.raises(InvalidInput) as caught:
        await svc.decide_circle_report(circle, alice.actor, report.id, outcome="resolve", note="  ")
    assert caught.value.field == "note"
    with pytest.raises(InvalidInput):
        await svc.decide_circle_report(circle, alice.actor, report.id, outcome="ignore", note="fine")
    await svc.decide_circle_report(circle, alice.actor, report.id, outcome="dismiss", note="Not spam, a joke")
    stored = await Report.get(id=report.id)
    assert stored.state is ReportState.DISMISSED and stored.resolved_by_id == alice.actor.id and stored.resolved_at
    with pytest.raises(Conflict):
        await svc.decide_circle_report(circle, alice.actor, report.id, outcome="resolve", note="again")
    [entry] = await svc.moderation_log(circle, bob.actor)  # any member reads it
    assert entry.kind is ModerationKind.DISMISS_REPORT and entry.reason == "Not spam, a joke"
    assert entry.moderator_id == alice.actor.id and carol.actor.id not in (entry.target_actor_id, entry.moderator_id)


async def test_removing_a_post_hides_it_logs_it_and_closes_its_reports(setting):
    alice, bob, carol, circle, post = setting
    report = await svc.report_post(carol.actor, post, category="spam")
    with pytest.raises(InvalidInput):
        await svc.remove_post(circle, alice.actor, post.id, reason="")
    await svc.remove_post(circle, alice.actor, post.id, reason="Advertising")
    assert (await Post.get(id=post.id)).deleted_at is not None
    assert (await Circle.get(id=circle.id)).post_count == 0
    event = await OutboxEvent.get(kind="post.deleted", subject_id=post.id)
    assert event.data["by"] == alice.actor.uri and event.data["summary"] == "Advertising"  # the steward speaks
    assert (await Report.get(id=report.id)).state is ReportState.RESOLVED
    with pytest.raises(NotFound):
        await svc.remove_post(circle, alice.actor, post.id, reason="twice")


async def test_a_ban_ends_membership_refuses_rejoining_and_is_undone_by_an_unban(setting, instance):
    alice, bob, carol, circle, post = setting
    action = await svc.ban(circle, alice.actor, bob.actor.id, reason="Spam again", instance=instance)
    member = await Membership.get(circle=circle, actor=bob.actor)
    assert member.state is MembershipState.BANNED
    assert (await Circle.get(id=circle.id)).member_count == 2
    assert await OutboxEvent.filter(kind="member.banned", subject_id=action.id).exists()
    with pytest.raises(PermissionDenied):
        await circle_service.join(circle, bob.actor)
    with pytest.raises(PermissionDenied):
        await factories.post(instance, bob, circle, "I am back")
    with pytest.raises(Conflict):
        await svc.ban(circle, alice.actor, bob.actor.id, reason="twice", instance=instance)
    await svc.unban(circle, alice.actor, bob.actor.id, reason="Promised to stop")
    assert not await Membership.filter(circle=circle, actor=bob.actor).exists()
    event = await OutboxEvent.get(kind="member.unbanned")
    assert event.data["block"] == svc.ban_block_id(circle, action)
    await circle_service.join(circle, bob.actor)  # may join again
    kinds = [e.kind for e in await svc.moderation_log(circle, carol.actor)]
    assert kinds == [ModerationKind.UNBAN, ModerationKind.BAN]


async def test_stewards_and_strangers_cannot_be_banned_wrongly(setting, instance):
    alice, bob, carol, circle, post = setting
    await Membership.filter(circle=circle, actor=carol.actor).update(role=Role.MODERATOR)
    with pytest.raises(PermissionDenied):
        await svc.ban(circle, alice.actor, carol.actor.id, reason="no", instance=instance)
    with pytest.raises(InvalidInput):
        await svc.ban(circle, alice.actor, alice.actor.id, reason="no", instance=instance)
    with pytest.raises(NotFound):
        await svc.ban(circle, alice.actor, 2**70, reason="no", instance=instance)
    # Only people: not the circle itself, another circle or the instance's own actor.
    other = await factories.circle(instance, bob, "others")
    for actor_id in (circle.actor_id, other.actor_id):
        with pytest.raises(NotFound):
            await svc.ban(circle, alice.actor, actor_id, reason="no", instance=instance)
    with pytest.raises(NotFound):
        await svc.unban(circle, alice.actor, bob.actor.id, reason="not banned")
    assert await ModerationAction.all().count() == 0


async def test_banning_someone_elsewhere_ends_their_follow_of_the_circle(setting, instance):
    alice, bob, carol, circle, post = setting
    rita = await remote_person()
    await follows.receive_follow(rita, circle.actor, f"{rita.uri}/follows/1")
    await svc.ban(circle, alice.actor, rita.id, reason="Harassment", instance=instance)
    assert not await Follow.filter(follower=rita, target=circle.actor).exists()
    assert (await Membership.get(circle=circle, actor=rita)).state is MembershipState.BANNED
    outcome = await follows.receive_follow(rita, circle.actor, f"{rita.uri}/follows/2")
    assert outcome.state.value == "rejected"


async def test_instance_pages_are_for_admins_only(setting, instance):
    alice, bob, carol, circle, post = setting
    for attempt in (
        svc.all_reports(alice), svc.overview(alice),
        svc.block_domain(alice, instance, "spam.example", reason=""),
        svc.decide_report_as_admin(alice, 1, outcome="resolve", note="x"),
    ):
        with pytest.raises(PermissionDenied):
            await attempt
    assert not await RemoteHost.filter(host="spam.example").exists()


async def test_an_admin_blocks_a_domain_and_its_people_leave(setting, instance):
    alice, bob, carol, circle, post = setting
    admin = await factories.account(instance, "dana", is_admin=True)
    rita = await remote_person(domain="spam.example")
    await follows.receive_follow(rita, circle.actor, f"{rita.uri}/follows/1")
    remote_post = await remote.store_post(
        remote.RemotePostInput(uri=f"{rita.uri}/notes/1", author_uri=rita.uri, content_html="<p>spam</p>",
                               circle_uri=circle.actor.uri), rita,
    )
    queued = await Delivery.create(activity_id="https://circles.test/x", signer=alice.actor, inbox_url="https://spam.example/inbox",
                                   host="spam.example", payload={}, next_attempt_at=remote_post.published_at)
    for bad in ("", "not a domain!", "circles.test"):
        with pytest.raises(InvalidInput):
            await svc.block_domain(admin, instance, bad, reason="")
    await svc.block_domain(admin, instance, "https://SPAM.example/", reason="Spam wave")
    assert await svc.is_blocked("spam.example")
    # Other spellings of the same host: a trailing dot, a port, a subdomain.
    for spelling in ("spam.example.", "Spam.Example:8443", "a.spam.example."):
        assert await svc.is_blocked(spelling), spelling
    # An internationalised name is blocked whichever way it is written.
    await svc.block_domain(admin, instance, "späm.example", reason="Spam wave")
    assert await svc.is_blocked("xn--spm-rla.example") and await svc.is_blocked("SPÄM.example.")
    await svc.unblock_domain(admin, "xn--spm-rla.example")
    assert (await Post.get(id=remote_post.id)).deleted_at is not None
    assert not await Membership.filter(actor=rita).exists()
    assert (await Delivery.get(id=queued.id)).state is DeliveryState.FAILED
    with pytest.raises(Conflict):
        await svc.block_domain(admin, instance, "spam.example", reason="")
    overview = await svc.overview(admin)
    assert overview.accounts == 4 and overview.circles == 1 and overview.failed_by_host == [("spam.example", 1)]
    await svc.unblock_domain(admin, "spam.example")
    assert not await svc.is_blocked("spam.example")
    with pytest.raises(NotFound):
        await svc.unblock_domain(admin, "spam.example")


async def test_admins_see_every_report_and_close_them(setting, instance):
    alice, bob, carol, circle, post = setting
    admin = await factories.account(instance, "dana", is_admin=True)
    rita = await remote_person()
    about_post = await svc.report_post(carol.actor, post, category="spam")
    about_rita = await svc.report_actor(bob.actor, rita, category="other")
    assert {r.id for r in await svc.all_reports(admin)} == {about_post.id, about_rita.id}
    await svc.decide_report_as_admin(admin, about_post.id, outcome="resolve", note="Talked to Bob")
    assert [r.id for r in await svc.all_reports(admin)] == [about_rita.id]
    [entry] = await svc.moderation_log(circle, carol.actor)  # the circle sees what happened to its report
    assert entry.kind is ModerationKind.RESOLVE_REPORT and entry.moderator_id == admin.actor.id


async def test_a_domain_block_covers_its_subdomains_and_ports_only(database, instance):
    admin = await factories.account(instance, "dana", is_admin=True)
    await svc.block_domain(admin, instance, "spam.example", reason="")
    for host in ("spam.example", "a.spam.example", "spam.example:8443"):
        assert await svc.is_blocked(host), host
    for host in ("notspam.example", "example", "spam.example.org", ""):
        assert not await svc.is_blocked(host), host
    assert await svc.blocked_among({"a.spam.example", "ok.example"}) == {"a.spam.example"}


async def test_a_report_about_a_steward_goes_to_the_other_stewards(setting):
    alice, bob, carol, circle, post = setting
    await Membership.filter(circle=circle, actor=carol.actor).update(role=Role.MODERATOR)
    report = await svc.report_actor(bob.actor, alice.actor, category="harassment", circle=circle)
    assert await svc.circle_reports(circle, alice.actor) == []
    with pytest.raises(PermissionDenied):
        await svc.decide_circle_report(circle, alice.actor, report.id, outcome="dismiss", note="Nonsense")
    assert [r.id for r in await svc.circle_reports(circle, carol.actor)] == [report.id]
    await svc.decide_circle_report(circle, carol.actor, report.id, outcome="resolve", note="Talked it through")
