"""Less noise for microblogging followers: a circle's comments go to
group-aware servers only; top-level posts and accepted answers go to all.
Each remote server is a stub on loopback that answers NodeInfo as the real
software does."""

from __future__ import annotations

import datetime as dt

from federation import fanout, nodeinfo
from models import clock
from models.federation import Delivery, OutboxEvent, RemoteHost
from models.services import posts as post_service
from models.services import questions as question_service
from tests import factories
from tests.integration.stubs import follower_on, nodeinfo_server


async def planned_hosts(fed) -> dict[str, set[str]]:
    """Fan out what is queued; which hosts each kind of post goes to."""
    await fanout.fan_out_pending(fed)
    hosts: dict[str, set[str]] = {}
    for row in await Delivery.all().select_related("event"):
        post = await post_service.get_thread_root(row.event.subject_id)
        label = "reply" if post.root_id else "top-level"
        if post.author_id == post.circle.actor_id:
            label = "circle note"
        hosts.setdefault(label, set()).add(row.host)
    return hosts


async def test_microblogging_followers_get_posts_and_answers_not_every_comment(fed, instance, stub):
    mastodon = await stub(nodeinfo_server("mastodon"))
    lemmy = await stub(nodeinfo_server("lemmy"))
    silent = await stub(lambda request: 404 if request.method == "GET" else 202)  # no NodeInfo at all
    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "pythonistas")
    await factories.member(circle, bob)
    for server, name in ((mastodon, "mo"), (lemmy, "lee"), (silent, "sid")):
        await follower_on(server, circle, name)
    await OutboxEvent.all().delete()

    question = await question_service.ask(instance, alice.actor, circle, title="Why None?", body="?")
    answer = await post_service.reply(instance, bob.actor, question, body="Forgot return.")
    await question_service.accept_answer(instance, alice.actor, question, answer)
    hosts = await planned_hosts(fed)

    everyone = {mastodon.host, lemmy.host, silent.host}
    assert hosts["top-level"] == everyone  # the question, and its Update naming the answer
    assert hosts["circle note"] == everyone  # "✅ Accepted answer …"
    assert hosts["reply"] == {lemmy.host, silent.host}  # unknown software counts as group-aware
    # NodeInfo was asked once per host, and remembered.
    assert {h.host: h.software for h in await RemoteHost.filter(software_checked_at__isnull=False)} == {
        mastodon.host: "mastodon", lemmy.host: "lemmy", silent.host: None,
    }
    nodeinfo_requests = [r for r in mastodon.fetched if r.path == "/.well-known/nodeinfo"]
    assert len(nodeinfo_requests) == 1
    assert await nodeinfo.is_microblogging(fed, mastodon.url("/inbox"))
    assert len([r for r in mastodon.fetched if r.path == "/.well-known/nodeinfo"]) == 1


async def test_deleting_a_safe_question_does_not_name_who_asked(fed, instance, stub):
    lemmy = await stub(nodeinfo_server("lemmy"))
    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "safe")
    await factories.member(circle, bob)
    await follower_on(lemmy, circle, "lee")
    question = await question_service.ask(instance, bob.actor, circle, title="Am I too old?", body="…", safe=True)
    await post_service.delete_post(bob.actor, await post_service.get_post(question.id))
    await fanout.fan_out_pending(fed)
    payloads = [row.payload for row in await Delivery.all()]
    assert any(p["object"]["type"] == "Delete" for p in payloads if p["type"] == "Announce")
    assert all("/users/bob" not in str(p) for p in payloads)


async def test_a_host_down_for_a_while_is_asked_again_soon_not_in_a_week(fed, instance, stub):
    state = {"down": True}
    mastodon_when_up = nodeinfo_server("mastodon")

    def respond(request):
        if request.method == "GET" and state["down"]:
            return 503
        return mastodon_when_up(request)

    mastodon = await stub(respond)
    inbox = mastodon.url("/inbox")
    start = clock.now()
    try:
        clock.freeze(start)
        assert not await nodeinfo.is_microblogging(fed, inbox)  # unknown for now: group-aware
        row = await RemoteHost.get(host=mastodon.host)
        assert row.software_failures == 1 and row.software_recheck_at == start + nodeinfo.RETRY_FIRST
        state["down"] = False
        clock.freeze(start + nodeinfo.RETRY_FIRST / 2)
        assert not await nodeinfo.is_microblogging(fed, inbox)  # not asked again yet
        assert len([r for r in mastodon.fetched if r.path == "/.well-known/nodeinfo"]) == 1
        clock.freeze(start + nodeinfo.RETRY_FIRST * 1.5)
        assert await nodeinfo.is_microblogging(fed, inbox)  # asked again: Mastodon after all
        row = await RemoteHost.get(host=mastodon.host)
        assert row.software_failures == 0 and row.software_recheck_at > clock.now() + dt.timedelta(days=6)
        # Down again later: what we learnt stays, and the next try comes sooner than a week.
        state["down"] = True
        clock.freeze(start + nodeinfo.RECHECK_AFTER * 2)
        assert await nodeinfo.is_microblogging(fed, inbox)
        row = await RemoteHost.get(host=mastodon.host)
        assert row.software == "mastodon" and row.software_failures == 1
        assert row.software_recheck_at == clock.now() + nodeinfo.RETRY_FIRST
    finally:
        clock.freeze(None)


async def test_a_host_without_nodeinfo_is_asked_again_in_a_week(fed, instance, stub):
    silent = await stub(lambda request: 404 if request.method == "GET" else 202)
    assert not await nodeinfo.is_microblogging(fed, silent.url("/inbox"))
    row = await RemoteHost.get(host=silent.host)
    assert row.software is None and row.software_failures == 0
    assert row.software_recheck_at > clock.now() + dt.timedelta(days=6)
