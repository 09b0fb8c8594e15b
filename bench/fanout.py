"""How fast does one post reach its circle's followers, against signing and
POSTing the same bodies with httpx?

    python bench/fanout.py [--followers 10000] [--hosts 500] [--no-shared-inboxes] [--database-url URL]

Builds one circle followed by F people on H servers. Each server is a port
of 127.0.0.1 answered by a bare HTTP receiver in a child process (202 to
every POST, counted); with shared inboxes (the default) each server gets one
POST per activity, without them one per follower. The servers are known as
group-aware software (Lemmy), so they get the circle's Announce.

Then, alternating, twice each:

* Circles: a member writes a post (an OutboxEvent, as the web UI makes one)
  and the worker's stages run until no delivery is pending: fan-out, then
  claim, sign, POST and record each delivery (federation/fanout.py,
  federation/delivery.py). Timed from the post to the last delivery
  recorded; SQL statements counted as the tests count them.
* the baseline: the same bodies to the same inboxes, signed with the same
  key by the same signing code and POSTed with one httpx client, 50 at a
  time (the worker claims 50 rows a pass).

Printed: seconds, POSTs received (they must equal the deliveries expected:
the deduplication is right), SQL statements per delivery, and
`ratio: fanout_<shared|unshared> <Circles / baseline>` (issue 15's target: at
most 1.5). Uses a temporary SQLite database unless --database-url is given.
Nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import multiprocessing
import pstats
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from bench.common import database, load, write_rows
from bench.pages import PASSWORD, progress, say
from federation import delivery, fanout, keys
from federation.runtime import Federation
from models import clock, db
from models.actors import Actor, ActorKind, Follow, FollowState, KeyAlgorithm
from models.federation import Delivery, DeliveryState, RemoteHost
from models.instance import Instance
from models.services import accounts as account_service
from models.services import actors as actor_service
from models.services import circles as circle_service
from models.services import posts as post_service
from tests.querycount import count_queries

BATCH = 500
BASELINE_CONCURRENCY = 50


# --- the receiving servers (a child process, so they take no time from this one's loop) ---


def _receive(ports: list[int], ready, counter, first=None) -> None:
    """Answer 202 to every POST on `ports`, counting them in `counter`; when
    `first` is given (a shared double) and holds 0, the first POST writes its
    arrival there (time.monotonic(), one clock for every process on Linux)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                with counter.get_lock():
                    counter.value += 1
                    if first is not None and not first.value:
                        first.value = time.monotonic()
                writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, "127.0.0.1", port, backlog=512) for port in ports]
        ready.set()
        await asyncio.gather(*(server.serve_forever() for server in servers))

    asyncio.run(main())


def free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


# --- the data ----------------------------------------------------------------------------


async def build(instance: Instance, ports: list[int], followers: int, shared: bool):
    """A circle and its author; `followers` people on the servers at `ports`, following it."""
    tag = uuid.uuid4().hex[:6]
    owner = await account_service.create_account(
        instance, username=f"owner{tag}", email=f"owner{tag}@example.org", password=PASSWORD)
    circle = await circle_service.create_circle(instance, owner, handle=f"fan{tag}", name="Fan-out", purpose="Bench")
    await actor_service.signing_key(circle.actor, KeyAlgorithm.RSA)  # made once, as a live circle has it
    far = clock.now() + dt.timedelta(days=365)  # no NodeInfo asked: they are known
    await RemoteHost.bulk_create([
        RemoteHost(host=f"127.0.0.1:{port}", software="lemmy", software_checked_at=clock.now(),
                   software_recheck_at=far) for port in ports
    ], ignore_conflicts=True)
    made = 0
    for start in range(0, followers, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, followers)):
            origin = f"http://127.0.0.1:{ports[n % len(ports)]}"
            base = f"{origin}/users/f{tag}{n}"
            batch.append(Actor(
                uri=base, kind=ActorKind.PERSON, local=False, username=f"f{tag}{n}", domain=origin[7:],
                display_name=f"Follower {n}", profile_url=base, inbox_url=f"{base}/inbox",
                shared_inbox_url=f"{origin}/inbox" if shared else None, fetched_at=clock.now(),
            ))
        await Actor.bulk_create(batch)
        await Follow.bulk_create([
            Follow(follower_id=actor.id, target_id=circle.actor_id, state=FollowState.ACCEPTED, uri=f"{actor.uri}#f")
            for actor in batch
        ])
        made += len(batch)
        progress("followers", made, followers)
    return owner, circle


# --- the two runs ----------------------------------------------------------------------------


async def circles_run(fed: Federation, owner, circle, counter, n: int) -> tuple[float, int, int]:
    """Seconds from the post to its last delivery, POSTs received, SQL statements."""
    before = counter.value
    with count_queries() as statements:
        started = time.perf_counter()
        # Each round its own text: the same text again would be taken for a form sent twice (one post).
        await post_service.create_post(fed.instance, owner.actor, circle, body=f"Notes from week {n}.")
        while await fanout.fan_out_pending(fed) or await delivery.deliver_due(fed):
            pass
        elapsed = time.perf_counter() - started
    pending = await Delivery.filter(state=DeliveryState.PENDING).count()
    if pending:
        raise SystemExit(f"{pending} deliveries still pending: a receiver failed?")
    return elapsed, counter.value - before, len(statements)


async def baseline_run(deliveries: list[tuple[str, bytes]], signer, counter) -> tuple[float, int]:
    """The same bodies to the same inboxes, signed and POSTed with httpx, 50 at a time."""
    before = counter.value
    limit = asyncio.Semaphore(BASELINE_CONCURRENCY)
    # The connection limits of Circles' own client (federation/fetch.make_client).
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client:
        async def send(url: str, body: bytes) -> None:
            async with limit:
                request = client.build_request("POST", url, content=body,
                                               headers={"Content-Type": "application/activity+json"})
                await signer(request)
                response = await client.send(request)
                if response.status_code != 202:
                    raise SystemExit(f"the receiver answered {response.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(send(url, body) for url, body in deliveries))
        elapsed = time.perf_counter() - started
    return elapsed, counter.value - before


async def last_bodies(circle) -> list[tuple[str, bytes]]:
    rows = await Delivery.filter(signer_id=circle.actor_id).order_by("-id").limit(1).values_list("activity_id", flat=True)
    activity_id = rows[0]
    return [
        (url, json.dumps(payload, separators=(",", ":")).encode())
        for url, payload in await Delivery.filter(activity_id=activity_id).values_list("inbox_url", "payload")
    ]


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="circles-fanout-"))
    with database(args.database_url or "sqlite", "fanout", folder) as database_url:
        await run_on(args, folder, database_url)


async def run_on(args: argparse.Namespace, folder: Path, database_url: str) -> None:
    ports = free_ports(args.hosts)
    ready, counter = multiprocessing.Event(), multiprocessing.Value("q", 0)
    receiver = multiprocessing.Process(target=_receive, args=(ports, ready, counter), daemon=True)
    receiver.start()
    try:
        if not ready.wait(30):
            raise SystemExit("the receiving servers did not start")
        await db.migrate(database_url)
        await db.connect(database_url)
        instance = Instance(domain="127.0.0.1:9", scheme="http")
        await actor_service.ensure_instance_actor(instance)
        fed = Federation.start(instance, allow_private_addresses=True, version="bench")
        try:
            say(f"building: {args.followers} followers on {args.hosts} servers"
                f" ({'shared inboxes' if args.shared else 'no shared inboxes'})")
            owner, circle = await build(instance, ports, args.followers, args.shared)
            expected = args.hosts if args.shared else args.followers
            key = await actor_service.signing_key(circle.actor, KeyAlgorithm.RSA)
            signer = keys.request_signer(key.private_pem, key.key_id, scheme="rfc9421")
            ours, theirs, statements = [], [], []
            for round_ in range(args.rounds):
                profiler = cProfile.Profile() if args.profile and round_ == args.rounds - 1 else None
                if profiler:
                    profiler.enable()
                seconds, received, sql = await circles_run(fed, owner, circle, counter, round_ + 1)
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(str(Path(tempfile.gettempdir()) / "circles-fanout.prof"))
                    print("profile of Circles' last round (cProfile, top 20 by own time, then by cumulative):")
                    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)
                    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
                if received != expected:
                    raise SystemExit(f"Circles made {received} POSTs, expected {expected}")
                bodies = await last_bodies(circle)
                base_seconds, base_received = await baseline_run(bodies, signer, counter)
                if base_received != expected:
                    raise SystemExit(f"the baseline made {base_received} POSTs, expected {expected}")
                ours.append(seconds)
                theirs.append(base_seconds)
                statements.append(sql / expected)
                say(f"  round {round_ + 1}: circles {seconds:.2f} s ({sql / expected:.1f} statements per delivery),"
                    f" baseline {base_seconds:.2f} s")
            name = f"fanout_{'shared' if args.shared else 'unshared'}_{database_url.split('://')[0]}"
            print(f"{name}: {expected} deliveries to {args.hosts} servers; circles {statistics.median(ours):.2f} s,"
                  f" baseline {statistics.median(theirs):.2f} s;"
                  f" {statistics.median(statements):.1f} SQL statements per delivery")
            print(f"ratio: {name} {statistics.median(ours) / statistics.median(theirs):.2f}")
            print(f"ratio: {name}_statements_per_delivery {statistics.median(statements):.2f}")
            print(f"  ({database_url.split('://')[0]}; {load()})")
            write_rows(args.csv, [
                ("fanout", f"{database_url.split('://')[0]}_{'shared' if args.shared else 'unshared'}",
                 args.followers, metric, f"{value:.3f}")
                for metric, value in (("circles_s", statistics.median(ours)), ("baseline_s", statistics.median(theirs)),
                                      ("statements_per_delivery", statistics.median(statements)))
            ])
        finally:
            await fed.close()
            await db.disconnect()
    finally:
        receiver.terminate()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--no-shared-inboxes", dest="shared", action="store_false")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", default=None,
                        help="a URL, or postgres (a database of our own); default a temporary SQLite file")
    parser.add_argument("--csv", default=None, help="append the figures to this CSV file")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile Circles' last round (printed, and written to $TMPDIR/circles-fanout.prof)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
