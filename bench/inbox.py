"""How fast does the shared inbox take signed activities, against a ceiling?

    python bench/inbox.py [--count 500] [--clients 4] [--database-url URL]

Two servers on loopback, each started and stopped by this script:

* the ceiling: a bare Quart app on hypercorn whose only endpoint verifies the
  draft-cavage signature (federation.signatures.verify_request, the public key
  held in memory) and answers 202;
* a real `circles serve` (its worker inside, as by default), with a user and
  an open circle. A remote member, served by a small loopback peer, joins the
  circle; then it POSTs N signed Create(Note) activities (distinct ids) into
  the circle through the shared inbox /inbox.

Both get the same number of requests from the same few concurrent clients,
signed beforehand (so client-side signing is not measured). Printed: the
rates (activities/s), their ratio (target >= 0.5), median and p95 latency,
and how long Circles' worker took to turn the activities into posts.

Uses a temporary SQLite database unless --database-url is given (the
database is migrated; the names used are random, so a shared one is fine).
Nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.common import load as load_average
from bench.common import own_postgres, percentile, wait_healthy, write_rows
from federation import signatures

CIRCLES = Path(sys.executable).parent / "circles"
if not CIRCLES.exists():
    CIRCLES = Path(shutil.which("circles") or "circles")
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the remote member: a loopback peer serving its actor document ---------------


class Peer:
    """Serves one actor (with its public key) and takes deliveries with 202."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.actor = f"{self.base}/users/bench"
        self.key_id = f"{self.actor}#main-key"
        self.delivered = 0
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor, "type": "Person", "preferredUsername": "bench", "name": "Bench",
            "inbox": f"{self.actor}/inbox", "outbox": f"{self.actor}/outbox",
            "followers": f"{self.actor}/followers", "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.actor,
                          "publicKeyPem": signatures.public_key_to_pem(self.key.public_key())},
        }
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16  # one write per response (no Nagle/delayed-ACK stalls)
            disable_nagle_algorithm = True

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.split("#")[0] == "/users/bench":
                    self._answer(200, document)
                else:
                    self._answer(404, {"error": "not found"})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                peer.delivered += 1
                self._answer(202, {})

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def signed(self, url: str, activity: dict) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json"}
        headers |= signatures.sign_cavage("POST", url, headers, body, self.key_id, self.key)
        return body, headers


# --- the servers under test -------------------------------------------------------


class Process:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, base_url: str) -> None:
        self.name, self.log, self.base_url = name, log, base_url
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=log.parent)

    async def wait_healthy(self) -> None:
        await wait_healthy(self.base_url, self.process, self.name, timeout=START_TIMEOUT, details=self.tail)

    def tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def circles_env(database_url: str, folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    env.update(
        CIRCLES_DATABASE_URL=database_url, CIRCLES_DOMAIN=f"127.0.0.1:{port}", CIRCLES_SCHEME="http",
        CIRCLES_DATA_DIR=str(folder / "data"), CIRCLES_REGISTRATION="open",
        CIRCLES_ALLOW_PRIVATE_ADDRESSES="true",
        # One sender on one address floods by design here: the per-host and
        # per-address inbox limits would answer 429 within the first minute.
        CIRCLES_RATE_LIMITS="false",
    )
    return env


async def post_form(client: httpx.AsyncClient, page: str, action: str, **fields) -> httpx.Response:
    form = await client.get(page)
    match = CSRF_RE.search(form.text)
    if form.status_code != 200 or not match:
        raise SystemExit(f"{page}: {form.status_code}, no form\n{form.text[:500]}")
    return await client.post(action, data={"csrf_token": match.group(1), **fields})


async def prepare_circle(base_url: str, tag: str) -> tuple[str, str]:
    """A user and an open circle, made through the web UI: (circle id, handle)."""
    handle = f"bench{tag}"
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as web:
        response = await post_form(web, "/signup", "/signup", username=f"admin{tag}",
                                   email=f"admin{tag}@example.org", password="correct horse battery")
        if response.status_code not in (302, 303):
            raise SystemExit(f"sign-up failed: {response.status_code}\n{response.text[:500]}")
        response = await post_form(web, "/circles/new", "/circles/new", handle=handle, name="Bench circle",
                                   join_mode="open", language="en", timezone="UTC")
        if response.status_code not in (302, 303):
            raise SystemExit(f"creating the circle failed: {response.status_code}\n{response.text[:500]}")
        group = (await web.get(f"/c/{handle}", headers={"Accept": "application/activity+json"})).json()
    return group["id"], handle


async def count_posts(circle: str) -> int:
    async with httpx.AsyncClient(timeout=10.0, headers={"Accept": "application/activity+json"}) as ap:
        return int((await ap.get(f"{circle}/outbox")).json().get("totalItems", 0))


async def followers(circle_doc_url: str) -> int:
    async with httpx.AsyncClient(timeout=10.0, headers={"Accept": "application/activity+json"}) as ap:
        return int((await ap.get(f"{circle_doc_url}/followers")).json().get("totalItems", 0))


# --- the ceiling: a bare Quart app that verifies the signature --------------------------


def serve_baseline(bind: str, key_file: str) -> None:
    """(Subprocess) A Quart app on hypercorn: POST /inbox verifies, answers 202."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config
    from quart import Quart, request

    from models import clock

    public_key = signatures.load_public_key(Path(key_file).read_text())
    base_url = f"http://{bind}"
    app = Quart("baseline")

    async def lookup(key_id: str):
        return public_key

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.post("/inbox")
    async def inbox():
        body = await request.get_data(cache=False)
        try:
            await signatures.verify_request("POST", base_url + request.path, request.headers, body, lookup,
                                            now=clock.now())
        except signatures.SignatureError as error:
            return {"error": error.reason}, 401
        return {"status": "Accepted."}, 202

    config = Config()
    config.bind = [bind]
    asyncio.run(serve(app, config))


# --- the load ------------------------------------------------------------------------


def create_note(peer: Peer, circle: str, run: str, n: int) -> dict:
    note_id = f"{peer.actor}/notes/{run}-{n}"
    note = {
        "id": note_id, "type": "Note", "attributedTo": peer.actor,
        "content": f"<p>Bench note {n}: reading notes for week {n % 52}.</p>",
        "published": "2024-01-01T00:00:00Z",
        "to": [AS_PUBLIC], "cc": [circle, f"{peer.actor}/followers"], "audience": circle,
    }
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}/activity", "type": "Create",
            "actor": peer.actor, "to": [AS_PUBLIC], "cc": [circle], "object": note}


async def fire(url: str, requests: list[tuple[bytes, dict]], clients: int, label: str) -> tuple[float, list[float], dict]:
    """POST every request with `clients` concurrent clients; returns (seconds, latencies, statuses)."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    done = 0
    step = max(len(requests) // 10, 1)

    async def client_loop() -> None:
        nonlocal done
        async with httpx.AsyncClient(timeout=60.0) as client:
            while True:
                try:
                    body, headers = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                done += 1
                if done % step == 0 or done == len(requests):
                    print(f"\r  {label}: {done}/{len(requests)}", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    return elapsed, latencies, statuses


def describe(label: str, count: int, elapsed: float, latencies: list[float], statuses: dict) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"{label:9} {count / elapsed:8.1f} activities/s   median {statistics.median(ordered) * 1000:6.1f} ms   "
            f"p95 {p95 * 1000:6.1f} ms   p99 {percentile(ordered, 0.99) * 1000:6.1f} ms   ({count} in {elapsed:.2f} s, HTTP {dict(sorted(statuses.items()))})")


async def measure_baseline(args, peer: Peer, folder: Path, run: str, label: str) -> tuple[float, list[float], dict]:
    """Start the bare Quart app, warm it up, time `args.count` POSTs, stop it."""
    key_file = folder / "bench-key.pem"
    key_file.write_text(signatures.public_key_to_pem(peer.key.public_key()))
    port = free_port()
    baseline = Process("the baseline", [sys.executable, __file__, "--serve-baseline", f"127.0.0.1:{port}",
                                        "--key-file", str(key_file)],
                       dict(os.environ), folder / "baseline.log", f"http://127.0.0.1:{port}")
    try:
        await baseline.wait_healthy()
        url = f"{baseline.base_url}/inbox"
        nowhere = "http://127.0.0.1/c/none"
        warm = [peer.signed(url, create_note(peer, nowhere, f"{run}{label}w", n)) for n in range(args.warmup)]
        await fire(url, warm, args.clients, f"{label} warm-up")
        load = [peer.signed(url, create_note(peer, nowhere, f"{run}{label}", n)) for n in range(args.count)]
        return await fire(url, load, args.clients, label)
    finally:
        baseline.stop()


async def wait_stored(args, circle: str, before: int, expected: int) -> tuple[int, float]:
    """Wait until `expected` posts beyond `before` are in the circle (or the
    drain timeout); returns (posts stored, seconds waited)."""
    started = time.perf_counter()
    posts, shown = await count_posts(circle) - before, None
    while not args.no_worker and posts < expected and time.perf_counter() - started < args.drain_timeout:
        if posts != shown and (shown is None or posts - shown >= expected // 10):
            print(f"\r  worker: {posts}/{expected} posts stored", end="", file=sys.stderr, flush=True)
            shown = posts
        await asyncio.sleep(0.1)
        posts = await count_posts(circle) - before
    print(file=sys.stderr)
    return posts, time.perf_counter() - started


async def main(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="circles-bench-"))
    database_url = args.database_url or f"sqlite://{folder / 'bench.sqlite3'}"
    run = uuid.uuid4().hex[:8]
    peer = Peer()
    peer.start()
    circles: Process | None = None
    try:
        # The ceiling, measured before and after Circles (the mean is the reference,
        # so a machine whose load drifts during the run skews the ratio less).
        say("baseline: a bare Quart app verifying the signature (hypercorn, 127.0.0.1) ...")
        before_run = await measure_baseline(args, peer, folder, run, "baseline")

        say(f"circles: migrating the {database_url.split('://')[0]} database, starting `circles serve`"
            f"{' without its worker' if args.no_worker else ''} ...")
        port = free_port()
        env = circles_env(database_url, folder, port)
        if args.no_worker:
            env["CIRCLES_RUN_WORKER"] = "false"
        migrate = await asyncio.create_subprocess_exec(str(CIRCLES), "migrate", env=env, cwd=folder,
                                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = await migrate.communicate()
        if migrate.returncode != 0:
            raise SystemExit(f"circles migrate failed:\n{output.decode(errors='replace')}")
        circles = Process("circles serve", [str(CIRCLES), "serve", "--bind", f"127.0.0.1:{port}"], env,
                          folder / "serve.log", f"http://127.0.0.1:{port}")
        await circles.wait_healthy()
        circle, _handle = await prepare_circle(circles.base_url, run)
        url = f"{circles.base_url}/inbox"
        # The remote member joins the circle (Circles fetches its actor and key now, not while timed).
        follow = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor}/follows/{run}",
                  "type": "Follow", "actor": peer.actor, "object": circle}
        async with httpx.AsyncClient(timeout=30.0) as client:
            body, headers = peer.signed(url, follow)
            response = await client.post(url, content=body, headers=headers)
            if response.status_code != 202:
                raise SystemExit(f"the Follow was refused: {response.status_code} {response.text}")
        deadline = time.monotonic() + 20
        while not args.no_worker and await followers(circle) < 1:
            if time.monotonic() > deadline:
                raise SystemExit(f"the bench actor never became a member:\n{circles.tail()}")
            await asyncio.sleep(0.1)
        warm = [peer.signed(url, create_note(peer, circle, f"{run}w", n)) for n in range(args.warmup)]
        await fire(url, warm, args.clients, "circles warm-up")
        stored = args.warmup
        # Start from a quiet worker: the warm-up posts stored first.
        await wait_stored(args, circle, 0, stored)
        # Idle: a few requests from a few clients while nothing is queued.
        quiet = [peer.signed(url, create_note(peer, circle, f"{run}q", n)) for n in range(args.probe_count)]
        _, quiet_latencies, _ = await fire(url, quiet, args.probe_clients, "circles idle")
        stored += args.probe_count
        await wait_stored(args, circle, 0, stored)
        before = await count_posts(circle)
        # The load: N activities from C connections, faster than the worker turns them into posts.
        load = [peer.signed(url, create_note(peer, circle, run, n)) for n in range(args.count)]
        elapsed, latencies, statuses = await fire(url, load, args.clients, "circles")
        # While the worker drains that queue, new requests arrive as in the idle phase.
        drain_started = time.perf_counter()
        fresh = [peer.signed(url, create_note(peer, circle, f"{run}d", n)) for n in range(args.probe_count)]
        waiting = asyncio.create_task(wait_stored(args, circle, before, args.count + args.probe_count))
        _, drain_latencies, drain_statuses = await fire(url, fresh, args.probe_clients, "circles while draining")
        posts, drained = await waiting
        queued_behind = posts  # posts stored since the load began
        log = circles.tail(10**8)
        circles.stop()

        after_run = await measure_baseline(args, peer, folder, run, "baseline again")
        base_elapsed = (before_run[0] + after_run[0]) / 2
        base_rate, rate = args.count / base_elapsed, args.count / elapsed
        kind = database_url.split('://')[0]
        print()
        print(f"inbox benchmark: {args.count} signed Create(Note) into a circle, {args.clients} concurrent "
              f"clients, {kind}, {load_average()}{', circles serve WITHOUT its worker' if args.no_worker else ''}")
        print(describe("baseline", args.count, before_run[0], before_run[1], before_run[2]))
        print(describe("circles", args.count, elapsed, latencies, statuses))
        print(describe("baseline", args.count, after_run[0], after_run[1], after_run[2]))
        print(f"idle      {args.probe_count} requests from {args.probe_clients} clients: "
              f"p99 {percentile(quiet_latencies, 0.99) * 1000:6.1f} ms")
        print(f"draining  {args.probe_count} requests from {args.probe_clients} clients: "
              f"p99 {percentile(drain_latencies, 0.99) * 1000:6.1f} ms (HTTP {dict(sorted(drain_statuses.items()))})")
        print(f"ratio: inbox_rate_{kind} {base_rate / rate:.2f}   (mean baseline / circles activities/s; "
              "target <= 2, i.e. circles >= half the ceiling)")
        print(f"ratio: inbox_p99_{args.clients}_connections_{kind} "
              f"{percentile(latencies, 0.99) / percentile(before_run[1] + after_run[1], 0.99):.2f}"
              f"   (p99 {percentile(latencies, 0.99) * 1000:.1f} ms / the baseline's)")
        if args.no_worker:
            print("worker    not running (--no-worker): the activities stay queued")
        else:
            print(f"worker    {queued_behind}/{args.count + args.probe_count} posts stored {drained:.1f} s after the "
                  f"last 202 of the load: drain rate {queued_behind / drained:.1f} posts/s while new requests "
                  f"arrived; {peer.delivered} deliveries reached the member")
            print(f"ratio: inbox_p99_during_drain_{kind} "
                  f"{percentile(drain_latencies, 0.99) / percentile(quiet_latencies, 0.99):.2f}"
                  "   (p99 of new requests while the queue drains / idle; target <= 2)")
            write_rows(args.csv, [
                ("inbox", kind, args.count, "rate_per_s", f"{rate:.1f}"),
                ("inbox", kind, args.count, "baseline_rate_per_s", f"{base_rate:.1f}"),
                ("inbox", kind, args.count, "p99_ms", f"{percentile(latencies, 0.99) * 1000:.1f}"),
                ("inbox", kind, args.count, "drain_per_s", f"{queued_behind / drained:.1f}"),
                ("inbox", kind, args.count, "p99_during_drain_ms", f"{percentile(drain_latencies, 0.99) * 1000:.1f}"),
            ])
        if "Traceback" in log:
            print("WARNING: the circles log holds a traceback:\n" + log[log.index("Traceback"):][:3000])
        return 0
    finally:
        if circles is not None:
            circles.stop()
        peer.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            say(f"kept {folder}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="activities per server (default 500)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections of the load (default 32)")
    parser.add_argument("--probe-count", type=int, default=100,
                        help="requests sent idle, and again while the load drains (default 100)")
    parser.add_argument("--probe-clients", type=int, default=2, help="their concurrent clients (default 2)")
    parser.add_argument("--csv", default=None, help="append the figures to this CSV file")
    parser.add_argument("--warmup", type=int, default=20, help="untimed activities first (default 20)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite database")
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL database of our own (createdb)")
    parser.add_argument("--drain-timeout", type=float, default=60.0,
                        help="seconds to wait for the worker after the last POST (default 60)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    parser.add_argument("--no-worker", action="store_true",
                        help="run `circles serve` with CIRCLES_RUN_WORKER=false: the web process alone")
    parser.add_argument("--serve-baseline", metavar="HOST:PORT", help=argparse.SUPPRESS)
    parser.add_argument("--key-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve_baseline:
        serve_baseline(arguments.serve_baseline, arguments.key_file)
    elif arguments.postgres:
        with own_postgres("inbox") as arguments.database_url:
            sys.exit(asyncio.run(main(arguments)))
    else:
        sys.exit(asyncio.run(main(arguments)))
