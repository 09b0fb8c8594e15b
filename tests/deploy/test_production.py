"""The production layout of deploy/ on this machine's PostgreSQL: two web
processes (`circles serve`, no worker inside) and two `circles worker`
processes started as the systemd units start them, with the environment
file's settings, on a database of the test's own (created, migrated with
`circles migrate`, dropped).

A burst of signed inbox activities goes to both web processes, and a post
fans out to many followers on several receiving servers (ports of
127.0.0.1); every activity is processed once and every delivery made once.
Then again with one worker SIGKILLed in the middle and restarted: the same,
except that what the killed worker was sending at that moment may arrive
twice (ARCHITECTURE.md, "Data that must never be lost"). PostgreSQL only
(several processes share the queue through it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from federation import signatures
from models import clock, db
from models.actors import Actor, ActorKind, Follow, FollowState
from models.federation import Delivery, DeliveryState, InboxItem, InboxState, RemoteHost
from models.posts import Post
from models.services import accounts as account_service
from models.services import circles as circle_service
from models.services import follows, remote
from models.services import posts as post_service
from tests.conftest import POSTGRES_URL, _create_postgres_database, _drop_postgres_database
from tests.deploy import deployment
from tests.integration.stubs import StubInbox
from tests.servers import free_port, stop_process

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
DOMAIN = "circles.test"
RECEIVERS = 5
FOLLOWERS = 250  # without shared inboxes: one delivery each, on RECEIVERS servers
BURST = 60  # signed activities a phase, half to each web process
CLAIM = 50  # rows a delivery pass claims (federation/delivery.deliver_due)
SETTLE = 60.0  # seconds a phase may take to drain

# host:port of a PgBouncer in transaction mode in front of the test database's server
# (deploy/README.md, "PgBouncer"): the processes then connect through it.
PGBOUNCER = os.environ.get("CIRCLES_TEST_PGBOUNCER", "")

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="tests/deploy/test_production.py needs PostgreSQL: set CIRCLES_TEST_DATABASE_URL "
           "(several processes share the queue through it)",
)


class Peer:
    """The remote member who sends the burst: serves its actor (the key the
    inbox fetches) and takes the deliveries addressed to it."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stub = StubInbox(respond=self.respond)

    async def start(self) -> Peer:
        await self.stub.start()
        self.actor = self.stub.url("/users/peer")
        self.document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor, "type": "Person", "preferredUsername": "peer", "inbox": f"{self.actor}/inbox",
            "outbox": f"{self.actor}/outbox", "followers": f"{self.actor}/followers",
            "publicKey": {"id": f"{self.actor}#main-key", "owner": self.actor,
                          "publicKeyPem": signatures.public_key_to_pem(self.key.public_key())},
        }
        return self

    def respond(self, request):
        if request.method == "GET" and request.path.split("#")[0] == "/users/peer":
            return 200, self.document
        return 202 if request.method == "POST" else 404

    def create(self, circle_uri: str, run: str, n: int) -> dict:
        note = f"{self.actor}/notes/{run}-{n}"
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note}/activity", "type": "Create",
                "actor": self.actor, "to": [AS_PUBLIC], "cc": [circle_uri],
                "object": {"id": note, "type": "Note", "attributedTo": self.actor, "audience": circle_uri,
                           "content": f"<p>Note {n} of {run}.</p>", "published": "2024-01-01T00:00:00Z",
                           "to": [AS_PUBLIC], "cc": [circle_uri]}}

    def signed(self, url: str, activity: dict) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json"}
        return body, headers | signatures.sign_cavage("POST", url, headers, body, f"{self.actor}#main-key", self.key)


async def slowly(request) -> int:
    await asyncio.sleep(0.1)  # a delivery pass takes a while: the kill lands in the middle
    return 202


async def build(receivers: list[StubInbox], peer: Peer):
    """The owner, the circle many follow (`fan`), and the circle the peer posts into (`burst`)."""
    instance = db_instance()
    owner = await account_service.create_account(instance, username="owner", email="owner@example.org",
                                                 password="correct horse battery")
    fan = await circle_service.create_circle(instance, owner, handle="fan", name="Fan-out", join_mode="open")
    burst = await circle_service.create_circle(instance, owner, handle="burst", name="Burst", join_mode="open")
    far = clock.now() + dt.timedelta(days=365)  # their software is known: no NodeInfo asked
    await RemoteHost.bulk_create([
        RemoteHost(host=stub.host, software="lemmy", software_checked_at=clock.now(), software_recheck_at=far)
        for stub in [*receivers, peer.stub]
    ])
    followers = []
    for n in range(FOLLOWERS):
        stub = receivers[n % len(receivers)]
        uri = stub.url(f"/users/f{n}")
        followers.append(Actor(uri=uri, kind=ActorKind.PERSON, local=False, username=f"f{n}", domain=stub.host,
                               display_name=f"Follower {n}", profile_url=uri, inbox_url=f"{uri}/inbox",
                               fetched_at=clock.now()))
    await Actor.bulk_create(followers)
    followers = await Actor.filter(local=False, username__startswith="f")
    await Follow.bulk_create([Follow(follower_id=a.id, target_id=fan.actor_id, state=FollowState.ACCEPTED,
                                     uri=f"{a.uri}#follow") for a in followers])
    member = await remote.upsert_actor(remote.RemoteActorInput(
        uri=peer.actor, kind=ActorKind.PERSON, username="peer", domain=peer.stub.host,
        inbox_url=f"{peer.actor}/inbox"))
    await follows.receive_follow(member, burst.actor, f"{peer.actor}/follows/1")
    # Known without its key: the web processes fetch it from the peer on the first signed request.
    await Actor.filter(id=member.id).update(fetched_at=clock.now() - dt.timedelta(days=2))
    return owner, fan, burst


def db_instance():
    from models.instance import Instance

    return Instance(domain=DOMAIN, scheme="https")


async def send_burst(peer: Peer, webs: list[str], circle_uri: str, run: str) -> None:
    """BURST signed Creates, alternately to each web process, 8 at a time: each answered 202."""
    limit = asyncio.Semaphore(8)
    async with httpx.AsyncClient(timeout=30) as client:
        async def one(n: int) -> None:
            url = f"{webs[n % len(webs)]}/inbox"
            # Signed for the instance (https://circles.test/inbox), whichever process takes it.
            body, headers = peer.signed(f"https://{DOMAIN}/inbox", peer.create(circle_uri, run, n))
            async with limit:
                response = await client.post(url, content=body, headers=headers)
            assert response.status_code == 202, f"{url}: {response.status_code} {response.text}"

        await asyncio.gather(*(one(n) for n in range(BURST)))


def received(receivers: list[StubInbox]) -> Counter:
    """(inbox, activity id) of every POST the receiving servers got."""
    return Counter((r.path, r.activity["id"]) for stub in receivers for r in stub.received)


async def settled(processes: dict[str, object], run: str) -> None:
    """Until the run's inbox items are processed and no delivery waits (or SETTLE s)."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}"
        waiting = await InboxItem.filter(activity_id__contains=f"/{run}-", state=InboxState.QUEUED).count()
        if not waiting and not await Delivery.filter(state=DeliveryState.PENDING).count():
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"{run}: still {await Delivery.filter(state=DeliveryState.PENDING).count()} deliveries pending "
                f"after {SETTLE} s")


async def check_run(run: str, post: Post, receivers: list[StubInbox], before: Counter, *,
                    duplicates_allowed: int) -> int:
    """Every activity of the run processed once, every delivery made (once, but
    for up to `duplicates_allowed`); returns how many came twice."""
    items = await InboxItem.filter(activity_id__contains=f"/{run}-")
    assert len(items) == BURST and {i.state for i in items} == {InboxState.DONE}, Counter(i.state for i in items)
    notes = await Post.filter(uri__contains=f"/notes/{run}-").values_list("uri", flat=True)
    assert len(notes) == BURST and len(set(notes)) == BURST  # one post per activity

    rows = await Delivery.filter(host__in=[s.host for s in receivers], created_at__gte=post.created_at)
    assert len(rows) >= FOLLOWERS and {r.state for r in rows} == {DeliveryState.DELIVERED}
    now = received(receivers) - before
    expected = {(httpx.URL(r.inbox_url).path, r.activity_id) for r in rows}
    assert set(now) == expected  # each row reached its inbox, nothing else came
    twice = sum(count - 1 for count in now.values())
    assert twice <= duplicates_allowed, f"{twice} deliveries came twice"
    return twice


@needs_postgres
async def test_two_web_processes_and_two_workers_process_and_deliver_everything_once(tmp_path):
    database_url = await _create_postgres_database(POSTGRES_URL)
    receivers = [await StubInbox(respond=slowly).start() for _ in range(RECEIVERS)]
    peer = await Peer().start()
    processes: dict[str, object] = {}
    try:
        env = deployment.production_env(
            tmp_path, database_url, CIRCLES_DOMAIN=DOMAIN,
            # The receivers and the peer are ports of 127.0.0.1: exactly those may be reached.
            CIRCLES_ALLOW_PRIVATE_ADDRESSES=",".join(s.host for s in [*receivers, peer.stub]),
            # A killed worker's rows come back after this (300 s in production).
            CIRCLES_WORKER_LEASE_SECONDS="4",
        )
        assert env["CIRCLES_RUN_WORKER"] == "false" and "maxsize=" in env["CIRCLES_DATABASE_URL"]
        deployment.run(["migrate"], env, tmp_path)
        assert "migrations current" in deployment.run(["migrate", "--check"], env, tmp_path)
        await db.connect(env["CIRCLES_DATABASE_URL"])
        if PGBOUNCER:  # the web processes and workers through PgBouncer; migrations and this test direct
            env["CIRCLES_DATABASE_URL"] = deployment.through_pgbouncer(env["CIRCLES_DATABASE_URL"], PGBOUNCER)

        owner, fan, burst = await build(receivers, peer)

        web_args = deployment.exec_start("circles-web@.service")
        worker_args = deployment.exec_start("circles-worker@.service")
        concurrency = int(worker_args[worker_args.index("--concurrency") + 1])
        webs = []
        for n in range(2):
            port = free_port()
            args = [arg.replace("%i", str(port)) for arg in web_args]
            processes[f"web {n}"] = deployment.start(args, env, tmp_path / f"web{n}.log")
            webs.append(f"http://127.0.0.1:{port}")
        for n in range(2):
            processes[f"worker {n}"] = deployment.start(worker_args, env, tmp_path / f"worker{n}.log")
        await wait_ready(webs, processes, tmp_path)

        # 1. All running: a burst into the inbox and a post to many followers, at once.
        before = received(receivers)
        post = await post_service.create_post(db_instance(), owner.actor, fan, body="Week 1 notes.")
        await send_burst(peer, webs, burst.actor.uri, "one")
        await settled(processes, "one")
        await check_run("one", post, receivers, before, duplicates_allowed=0)

        # 2. The same, with a worker killed while it sends, and started again.
        before = received(receivers)
        post = await post_service.create_post(db_instance(), owner.actor, fan, body="Week 2 notes.")
        burst_sent = asyncio.create_task(send_burst(peer, webs, burst.actor.uri, "two"))
        deadline = time.monotonic() + SETTLE
        while not (received(receivers) - before) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        claimed = await Delivery.filter(state=DeliveryState.PENDING, next_attempt_at__gt=clock.now()).count()
        processes["worker 0"].send_signal(signal.SIGKILL)
        processes["worker 0"].wait(10)
        assert claimed, "nothing was claimed when the worker was killed"
        processes["worker 0"] = deployment.start(worker_args, env, tmp_path / "worker0.log")
        await burst_sent
        await settled(processes, "two")
        # What the killed worker was sending may come again: at most a full claim of each of its slots.
        twice = await check_run("two", post, receivers, before, duplicates_allowed=concurrency * CLAIM)
        print(f"after the SIGKILL: {twice} deliveries came twice; every one came at least once")

        report = json.loads(deployment.run(["status", "--json"], env, tmp_path))
        assert report["queues"]["deliveries_pending"] == 0 and report["queues"]["inbox_queued"] == 0
    finally:
        for name, process in processes.items():
            stop_process(process)
        await db.disconnect()
        for stub in [*receivers, peer.stub]:
            await stub.close()
        await _drop_postgres_database(POSTGRES_URL, database_url)


async def wait_ready(webs: list[str], processes: dict, folder: Path) -> None:
    """Each web process answers /readyz; each worker said it started."""
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(timeout=2) as client:
        for url in webs:
            while True:
                for name, process in processes.items():
                    assert process.poll() is None, f"{name} exited:\n" + "\n".join(
                        p.read_text()[-3000:] for p in folder.glob("*.log"))
                try:
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} not ready"
                await asyncio.sleep(0.1)
    for n in range(2):
        log = folder / f"worker{n}.log"
        while "worker for" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)


def test_the_units_and_the_environment_file_agree():
    """What the production test relies on is what deploy/ says (no database needed)."""
    env = deployment.env_file()
    assert env["CIRCLES_RUN_WORKER"] == "false"
    assert env["CIRCLES_TRUSTED_PROXIES"] == "1"
    assert deployment.exec_start("circles-web@.service") == ["serve", "--bind", "127.0.0.1:%i"]
    worker = deployment.exec_start("circles-worker@.service")
    assert worker[0] == "worker" and int(worker[worker.index("--concurrency") + 1]) >= 1
