"""Does a big fan-out slow the web down, and how soon does a post from the
web UI start federating?

    python bench/eventloop.py [--followers 2000] [--hosts 100] [--worker inside|apart]
                              [--database sqlite|postgres|URL] [--rounds 3]

Builds one circle followed by F people on H servers (ports of 127.0.0.1
answered by the bare receiver of bench/fanout.py, in a child process, which
notes when the first POST arrives). Then runs a real `circles serve`
(hypercorn on 127.0.0.1) with its worker inside (`--worker inside`, the
default) or with CIRCLES_RUN_WORKER=false and a `circles worker` process
beside it (`--worker apart`; on PostgreSQL, LISTEN/NOTIFY wakes it).

1. idle: /healthz is asked one request at a time (every 10 ms) for a few
   seconds, before the rounds and after them;
2. each round: the circle's owner, logged in, writes a post through the web
   UI (GET the form, POST it with its CSRF token, as a browser does), and
   /healthz is asked the same way until every server has its POST.

Printed: /healthz p95 idle and during the fan-out, the time from the form
POST's response to the first delivery POST arriving at a receiver (median of
the rounds), how long the whole fan-out took, and

    ratio: healthz_during_fanout_<db>_<mode> <p95 during / p95 idle>   (target <= 2)
    ratio: latency_to_federate_<db>_<mode> <median ms / 100>            (target <= 1)

PostgreSQL: a database of our own (createdb), dropped after. Nothing is sent
anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from bench.common import database, load, percentile, say, write_rows
from bench.fanout import _receive, build, free_ports
from bench.inbox import CIRCLES, CSRF_RE, Process, circles_env, free_port
from bench.pages import log_in

from models import db
from models.instance import Instance
from models.services import actors as actor_service


async def poll(client: httpx.AsyncClient, times: list[float], stop: asyncio.Event, interval: float) -> None:
    """Ask /healthz one request at a time until `stop` is set."""
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"/healthz answered {response.status_code}")
        await asyncio.sleep(interval)


async def idle(client: httpx.AsyncClient, seconds: float, interval: float) -> list[float]:
    times: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(poll(client, times, stop, interval))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return times


async def write_post(client: httpx.AsyncClient, handle: str, n: int) -> float:
    """The web UI's form, as a browser sends it; returns time.monotonic() at its response."""
    form = await client.get(f"/c/{handle}/posts/new")
    token = CSRF_RE.search(form.text)
    if form.status_code != 200 or not token:
        raise SystemExit(f"/c/{handle}/posts/new: {form.status_code}, no form")
    response = await client.post(f"/c/{handle}/posts/new", data={
        "csrf_token": token.group(1), "title": f"Week {n}", "body": f"Notes from week {n}: chapter {n + 2}."})
    answered = time.monotonic()
    if response.status_code not in (302, 303):
        raise SystemExit(f"writing the post failed: {response.status_code}\n{response.text[:500]}")
    return answered


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="circles-bench-eventloop-"))
    ports = free_ports(args.hosts)
    ready, counter = multiprocessing.Event(), multiprocessing.Value("q", 0)
    first = multiprocessing.Value("d", 0.0)
    receiver = multiprocessing.Process(target=_receive, args=(ports, ready, counter, first), daemon=True)
    receiver.start()
    processes: list[Process] = []
    try:
        with database(args.database, "eventloop", folder) as database_url:
            kind = database_url.split("://")[0]
            if not ready.wait(30):
                raise SystemExit("the receiving servers did not start")
            port = free_port()
            instance = Instance(domain=f"127.0.0.1:{port}", scheme="http")
            say(f"building: {args.followers} followers on {args.hosts} servers ({kind}) ...")
            await db.migrate(database_url)
            await db.connect(database_url)
            try:
                await actor_service.ensure_instance_actor(instance)
                owner, circle = await build(instance, ports, args.followers, shared=True)
                username, handle = owner.actor.username, circle.actor.username
            finally:
                await db.disconnect()
            env = circles_env(database_url, folder, port)
            env["CIRCLES_LOG_LEVEL"] = "WARNING"
            if args.worker == "apart":
                env["CIRCLES_RUN_WORKER"] = "false"
            say(f"starting `circles serve`, worker {args.worker} ...")
            serve = Process("circles serve", [str(CIRCLES), "serve", "--bind", f"127.0.0.1:{port}"], env,
                            folder / "serve.log", f"http://127.0.0.1:{port}")
            processes.append(serve)
            await serve.wait_healthy()
            if args.worker == "apart":
                processes.append(Process("circles worker", [str(CIRCLES), "worker"], env, folder / "worker.log", ""))
                await asyncio.sleep(2)  # its start: connecting, LISTEN
                if processes[-1].process.poll() is not None:
                    raise SystemExit(f"circles worker exited:\n{processes[-1].tail()}")
            async with httpx.AsyncClient(base_url=serve.base_url, timeout=30.0) as web, \
                    httpx.AsyncClient(base_url=serve.base_url, timeout=30.0) as probe:
                await log_in(web, username)
                for _ in range(20):
                    await probe.get("/healthz")
                say(f"idle: /healthz for {args.idle_seconds} s ...")
                quiet = await idle(probe, args.idle_seconds, args.interval)
                during: list[float] = []
                latencies, durations = [], []
                for round_ in range(args.rounds):
                    first.value, before = 0.0, counter.value
                    stop = asyncio.Event()
                    task = asyncio.create_task(poll(probe, during, stop, args.interval))
                    answered = await write_post(web, handle, round_ + 1)
                    deadline = time.monotonic() + args.timeout
                    while counter.value - before < args.hosts:
                        if time.monotonic() > deadline:
                            stop.set()
                            await task
                            tails = "\n".join(p.tail() for p in processes)
                            raise SystemExit(f"only {counter.value - before}/{args.hosts} POSTs in "
                                             f"{args.timeout} s:\n{tails}")
                        await asyncio.sleep(0.005)
                    finished = time.monotonic()
                    stop.set()
                    await task
                    latencies.append((first.value - answered) * 1000)
                    durations.append(finished - answered)
                    say(f"  round {round_ + 1}: first delivery {latencies[-1]:.1f} ms after the form's response,"
                        f" all {args.hosts} in {durations[-1]:.2f} s")
                    await asyncio.sleep(1.0)  # the worker quiet again (deliveries recorded)
                    extra = counter.value - before - args.hosts
                    if extra:
                        say(f"  note: {extra} more POSTs than servers")
                quiet += await idle(probe, args.idle_seconds, args.interval)
            name = f"{kind}_{args.worker}"
            p95_quiet, p95_during = percentile(quiet, 0.95), percentile(during, 0.95)
            latency = statistics.median(latencies)
            print(f"eventloop benchmark: {args.followers} followers on {args.hosts} servers, {kind}, worker "
                  f"{args.worker}, {args.rounds} posts; {load()}")
            print(f"/healthz idle:   median {statistics.median(quiet) * 1000:6.2f} ms  p95 {p95_quiet * 1000:6.2f} ms"
                  f"  ({len(quiet)} requests)")
            print(f"/healthz fan-out: median {statistics.median(during) * 1000:6.2f} ms  p95 {p95_during * 1000:6.2f} ms"
                  f"  ({len(during)} requests, max {max(during) * 1000:.1f} ms)")
            print(f"first delivery after the form's response: median {latency:.1f} ms "
                  f"(rounds: {', '.join(f'{x:.1f}' for x in latencies)}); whole fan-out median "
                  f"{statistics.median(durations):.2f} s")
            print(f"ratio: healthz_during_fanout_{name} {p95_during / p95_quiet:.2f}")
            print(f"ratio: latency_to_federate_{name} {latency / 100:.2f}")
            write_rows(args.csv, [
                ("eventloop", f"{kind}_{args.worker}", args.followers, "healthz_p95_idle_ms", f"{p95_quiet * 1000:.2f}"),
                ("eventloop", f"{kind}_{args.worker}", args.followers, "healthz_p95_fanout_ms", f"{p95_during * 1000:.2f}"),
                ("eventloop", f"{kind}_{args.worker}", args.followers, "latency_to_federate_ms", f"{latency:.1f}"),
            ])
            for process in processes:
                if "Traceback" in (log := process.tail(10**7)):
                    print(f"WARNING: the {process.name} log holds a traceback:\n" + log[log.index("Traceback"):][:3000])
                process.stop()
        return 0
    finally:
        for process in processes:
            process.stop()
        receiver.terminate()
        shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=2_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--worker", choices=("inside", "apart"), default="inside")
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a database of our own) or a URL")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between /healthz requests")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a fan-out")
    parser.add_argument("--csv", default=None, help="append the figures to this CSV file")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
