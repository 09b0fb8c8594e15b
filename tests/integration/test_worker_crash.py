"""A `circles worker` killed with SIGKILL in the middle of its work loses
nothing: a post being fanned out to many followers reaches every inbox once
another worker starts, and an activity being processed is processed once.

The workers run with CIRCLES_WORKER_LEASE_SECONDS=2, so the second one takes
over the dead one's claimed rows in seconds rather than five minutes. What
was being sent at the moment of the kill may be sent again: at most one
request per host and per concurrent slot, and the same activity, which
receivers take once: Mastodon keeps one boost per account and original
(app/lib/activitypub/activity/announce.rb, `Status.find_by(account:
@account, reblog: original_status)`) and one status per object id
(activity/create.rb:79-83); Circles' InboxItem.activity_id is unique."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

from cryptography.hazmat.primitives.asymmetric import rsa

from federation import delivery, signatures
from models import clock
from models.actors import ActorKind, Follow
from models.circles import Membership, MembershipState
from models.federation import Delivery, DeliveryState, InboxItem, InboxState, OutboxEvent
from models.services import follows, remote
from tests import factories
from tests.integration.stubs import Received
from tests.servers import start_worker, stop_process

LEASE = "2"
FOLLOWERS = 60
WAIT = 60.0


async def until(check, what: str, workers) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        for process, log in workers:
            assert process.poll() is None or process.returncode == -signal.SIGKILL, log.read_text(errors="replace")
        assert time.monotonic() < deadline, f"{what} did not happen in {WAIT} s:\n" + "\n".join(
            log.read_text(errors="replace")[-3000:] for _, log in workers)
        await asyncio.sleep(0.05)


def kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


async def test_a_worker_killed_mid_fanout_leaves_every_follower_their_post(database, instance, stub, tmp_path):
    async def slowly(request: Received) -> int:
        await asyncio.sleep(0.3)
        return 202

    hosts = [await stub(slowly) for _ in range(3)]
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "many", name="Many followers")
    inboxes = set()
    for n in range(FOLLOWERS):  # personal inboxes only: one delivery each
        host = hosts[n % len(hosts)]
        uri = host.url(f"/users/f{n}")
        person = await remote.upsert_actor(remote.RemoteActorInput(
            uri=uri, kind=ActorKind.PERSON, username=f"f{n}", domain=host.host, inbox_url=f"{uri}/inbox",
        ))
        await follows.receive_follow(person, circle.actor, f"{uri}/follows/1")
        inboxes.add(f"{uri}/inbox")
    await OutboxEvent.all().update(processed_at=clock.now())  # the follows' Accepts are not this story
    await factories.post(instance, alice, circle, title="For all of you", body="Our first meeting is on Monday.")

    workers = [start_worker(database, tmp_path / "first", CIRCLES_WORKER_LEASE_SECONDS=LEASE)]
    try:
        await until(lambda: sum(len(h.received) for h in hosts) >= FOLLOWERS // 4, "the first deliveries", workers)
        kill(workers[0][0])
        sent_before_kill = Counter(r.url for h in hosts for r in h.received)
        assert len(sent_before_kill) < FOLLOWERS, "the worker finished before it was killed"

        workers.append(start_worker(database, tmp_path / "second", CIRCLES_WORKER_LEASE_SECONDS=LEASE))
        await until(_none_pending, "every delivery", workers)
        while any(h.in_flight for h in hosts):
            await asyncio.sleep(0.05)
    finally:
        for process, _ in workers:
            stop_process(process)

    rows = await Delivery.all()
    assert {row.inbox_url for row in rows} >= inboxes and all(r.state is DeliveryState.DELIVERED for r in rows)
    received = Counter((r.url, r.activity["id"]) for h in hosts for r in h.received)
    assert set(received) == {(row.inbox_url, row.activity_id) for row in rows}  # nothing lost
    again = {key: n for key, n in received.items() if n > 1}
    # Only what was on its way when the worker died went twice, and only twice.
    assert all(n == 2 and sent_before_kill[url] for (url, _), n in again.items()), again
    assert len(again) <= len(hosts) * delivery.PER_HOST_CONCURRENCY, again
    print(f"sent before the kill: {len(sent_before_kill)}; sent again after it: {len(again)}")


async def _none_pending() -> bool:
    return not await Delivery.filter(state=DeliveryState.PENDING).exists()


async def test_an_activity_being_processed_when_the_worker_is_killed_is_processed_once(
    database, instance, stub, tmp_path
):
    """The first worker dies while it fetches the follower's actor document
    (the inbox stored the Follow; processing looks its sender up). The second
    worker processes the Follow once: one member, one Accept."""
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "open", name="Open circle")
    first_fetch_seen = asyncio.Event()
    pem = signatures.public_key_to_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())

    async def origin(request: Received):
        if request.method == "GET" and request.path == "/users/rita":
            if not first_fetch_seen.is_set():
                first_fetch_seen.set()
                await asyncio.sleep(WAIT)  # the first worker dies waiting for this
            return 200, {
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "id": rita, "type": "Person", "preferredUsername": "rita", "inbox": f"{rita}/inbox",
                "publicKey": {"id": f"{rita}#main-key", "owner": rita, "publicKeyPem": pem},
            }
        return 202

    server = await stub(origin)
    rita = server.url("/users/rita")
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{rita}/follows/1", "type": "Follow",
              "actor": rita, "object": circle.actor.uri}
    await InboxItem.create(activity_id=follow["id"], actor_uri=rita, activity_type="Follow", payload=follow)

    workers = [start_worker(database, tmp_path / "first", CIRCLES_WORKER_LEASE_SECONDS=LEASE)]
    try:
        await until(first_fetch_seen.is_set, "the first worker fetching Rita", workers)
        kill(workers[0][0])
        assert (await InboxItem.get(activity_id=follow["id"])).state is InboxState.QUEUED

        workers.append(start_worker(database, tmp_path / "second", CIRCLES_WORKER_LEASE_SECONDS=LEASE))

        async def accepted() -> bool:
            return any(r.activity.get("type") == "Accept" for r in server.received)

        await until(accepted, "the Accept reaching Rita", workers)
        await asyncio.sleep(1.0)  # time for a second Accept, were there one
    finally:
        for process, _ in workers:
            stop_process(process)

    item = await InboxItem.get(activity_id=follow["id"])
    assert item.state is InboxState.DONE
    person = await remote.remote_actor(rita)
    assert await Membership.filter(circle=circle, actor=person, state=MembershipState.ACTIVE).count() == 1
    assert await Follow.filter(follower=person, target=circle.actor).count() == 1
    accepts = [r for r in server.received if r.activity.get("type") == "Accept"]
    assert len(accepts) == 1 and accepts[0].activity["object"]["id"] == follow["id"]
