"""The same Circles app served by hypercorn (what `circles serve` uses) and by
uvicorn: requests per second and p95 on a page and on /healthz.

    python bench/servers.py [--posts 1000] [--clients 8] [--seconds 5] [--rounds 2] [--database sqlite|postgres|URL]

Builds the circle of bench/pages.py (N posts), then starts two child
processes on 127.0.0.1, each serving server.app.create_app (without its
worker, as a web process beside `circles worker`): one with hypercorn's
asyncio server, one with uvicorn's (whatever HTTP parser and loop it picks
by itself: h11 and asyncio unless httptools and uvloop are installed). Then,
for the circle page (anonymous) and /healthz, C concurrent clients for S
seconds on each server in turn, R rounds alternating. Printed: requests per
second and p95 for each, and

    ratio: uvicorn_vs_hypercorn_<page>_rps <uvicorn req/s / hypercorn req/s>   (above 1: uvicorn faster)
    ratio: uvicorn_vs_hypercorn_<page>_p95 <uvicorn p95 / hypercorn p95>       (below 1: uvicorn faster)

uvicorn is only a `bench` extra (pip install -e '.[bench]'); the default server does not change.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from bench.common import database, load, percentile, say, wait_healthy, write_rows
from bench.pages import bench_settings, build, free_port, release
from models import db
from models.instance import Instance


def serve(server: str, port: int, domain_port: int, database_url: str, folder: str) -> None:
    """(Child process) Circles (its ids on 127.0.0.1:domain_port) on 127.0.0.1:port with `server`."""
    from server.app import create_app

    settings = bench_settings(Path(folder), database_url, domain_port)
    app = create_app(settings)
    if server == "hypercorn":
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"127.0.0.1:{port}"]
        config.accesslog = None
        asyncio.run(hypercorn_serve(app, config))
    else:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")


async def hammer(base_url: str, path: str, clients: int, seconds: float) -> tuple[float, list[float]]:
    """`clients` loops asking `path` for `seconds`: (requests per second, latencies)."""
    times: list[float] = []
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=limits) as client:
        for _ in range(10):
            await client.get(path)
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{base_url}{path}: {response.status_code}")
                times.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return len(times) / elapsed, times


async def main(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="circles-bench-servers-"))
    children: list[subprocess.Popen] = []
    try:
        with database(args.database, "servers", folder) as database_url:
            kind = database_url.split("://")[0]
            ports = {"hypercorn": free_port(), "uvicorn": free_port()}
            say(f"building {args.posts} posts in one circle ({kind}) ...")
            await db.migrate(database_url)
            await db.connect(database_url)
            try:
                # Both servers' instance is the hypercorn one's domain: ids are only made here.
                handle, _ = await build(Instance(domain=f"127.0.0.1:{ports['hypercorn']}", scheme="http"),
                                        uuid.uuid4().hex[:6], 100, args.posts)
            finally:
                await db.disconnect()
            for name, port in ports.items():
                release(port)  # the child binds it
                children.append(subprocess.Popen([sys.executable, __file__, "--serve", name, "--port", str(port),
                                                  "--domain-port", str(ports["hypercorn"]),
                                                  "--database-url", database_url, "--folder", str(folder)]))
            for child, port in zip(children, ports.values(), strict=True):
                await wait_healthy(f"http://127.0.0.1:{port}", child, f"the server on port {port}")
            results: dict[tuple[str, str], list[tuple[float, list[float]]]] = {}
            for page, path in (("circle_page", f"/c/{handle}"), ("healthz", "/healthz")):
                for round_ in range(args.rounds):
                    order = list(ports.items()) if round_ % 2 == 0 else list(ports.items())[::-1]
                    for name, port in order:
                        say(f"  {page}: {name}, round {round_ + 1}/{args.rounds}, {args.clients} clients "
                            f"for {args.seconds} s ...")
                        results.setdefault((page, name), []).append(
                            await hammer(f"http://127.0.0.1:{port}", path, args.clients, args.seconds))
            print(f"servers benchmark: {args.posts} posts, {kind}, {args.clients} clients, {args.rounds} rounds of "
                  f"{args.seconds} s; {load()}")
            figures: dict[tuple[str, str], tuple[float, float]] = {}
            for (page, name), runs in results.items():
                rate = statistics.mean(rate for rate, _ in runs)
                p95 = statistics.mean(percentile(times, 0.95) for _, times in runs)
                figures[page, name] = rate, p95
                print(f"{page:12} {name:10} {rate:8.1f} req/s   p95 {p95 * 1000:7.2f} ms")
            rows = []
            for page in ("circle_page", "healthz"):
                (h_rate, h_p95), (u_rate, u_p95) = figures[page, "hypercorn"], figures[page, "uvicorn"]
                print(f"ratio: uvicorn_vs_hypercorn_{page}_rps {u_rate / h_rate:.2f}   (above 1: uvicorn faster)")
                print(f"ratio: uvicorn_vs_hypercorn_{page}_p95 {u_p95 / h_p95:.2f}   (below 1: uvicorn faster)")
                rows += [("servers", kind, args.posts, f"{page}_{name}_rps", f"{rate:.1f}")
                         for name, rate in (("hypercorn", h_rate), ("uvicorn", u_rate))]
            write_rows(args.csv, rows)
            for child in children:
                child.terminate()
                child.wait(10)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a database of our own) or a URL")
    parser.add_argument("--csv", default=None)
    parser.add_argument("--serve", choices=("hypercorn", "uvicorn"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--domain-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.port, arguments.domain_port, arguments.database_url, arguments.folder)
    else:
        sys.exit(asyncio.run(main(arguments)))
