"""How fast is the client API's home timeline with a lot of data, against a bare Quart app?

    python bench/api.py [--posts 100000] [--members 1000] [--requests 200] [--seconds 10]
                        [--clients 8] [--database-url URL]

Builds the database bench/pages.py builds (one circle, N members, M posts),
then serves, with hypercorn on 127.0.0.1 in this process:

* Circles itself, asked for GET /api/v1/timelines/home with a member's bearer
  token, as a Mastodon app asks, and
* the baseline: a bare Quart app whose one endpoint does what any JSON home
  timeline must: checks a bearer token against a table (one query), reads
  the member's circles and their latest 20 top-level posts with authors, and
  returns them as JSON in Mastodon's shape (ids as strings, ISO times).

Two measurements, each alternating Circles and the baseline:
1. latency: R requests one at a time (median and p95);
2. throughput: C concurrent clients for S seconds (requests per second, p95).
Printed: each figure, and `ratio:` lines (Circles / baseline; for throughput
baseline / Circles, so that above 1 always means slower).
Nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
from quart import Quart, request
from tortoise import connections

from bench.pages import Sample, Server, bench_settings, build, compare, free_port, progress, say
from models import clock, db
from models.accounts import Account
from models.actors import Actor
from models.circles import Membership, MembershipState
from models.instance import Instance
from models.oauth import OAuthToken
from models.posts import Post
from models.services import oauth
from server.app import create_app

HOME = "/api/v1/timelines/home"


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def baseline_app() -> Quart:
    app = Quart("baseline")

    @app.get(HOME)
    async def home():
        secret = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = await OAuthToken.get_or_none(token_digest=clock.token_digest(secret)).select_related("account")
        if token is None:
            return {"error": "The access token is invalid"}, 401
        circle_ids = [m.circle_id for m in await Membership.filter(
            actor_id=token.account.actor_id, state=MembershipState.ACTIVE)]
        posts = await (
            Post.filter(circle_id__in=circle_ids, root_id=None, deleted_at=None)
            .select_related("author").order_by("-id").limit(20)
        )
        return [
            {
                "id": str(post.id), "uri": post.uri, "url": post.uri, "created_at": _iso(post.published_at),
                "content": post.content, "replies_count": post.reply_count, "language": post.language,
                "account": {"id": str(post.author.id), "username": post.author.username,
                            "acct": post.author.handle, "display_name": post.author.display_name,
                            "url": post.author.profile_url or post.author.uri},
            }
            for post in posts
        ]

    return app


async def token_for(username: str) -> str:
    account = await Account.get(actor=await Actor.get(username=username, local=True))
    app, _ = await oauth.register_app(name="Bench", redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                      scopes="read", website=None)
    _, secret = await oauth.issue_token(app, account, ("read",))
    return secret


async def throughput(client: httpx.AsyncClient, clients: int, seconds: float, label: str) -> Sample:
    """`clients` loops requesting the home timeline for `seconds`; the sample holds every request's time."""
    sample = Sample(label)
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(HOME)
            if response.status_code != 200:
                raise SystemExit(f"{label}: {response.status_code} {response.text[:500]}")
            sample.times.append(time.perf_counter() - started)
            sample.queries.append(0)
            sample.sizes.append(len(response.content))

    await asyncio.gather(*(loop() for _ in range(clients)))
    sample.rate = len(sample.times) / seconds
    return sample


def p95(sample: Sample) -> float:
    ordered = sorted(sample.times)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def measure(args, circles: httpx.AsyncClient, baseline: httpx.AsyncClient) -> None:
    say(f"timing {args.requests} home timeline requests of each, one at a time ...")
    ours, theirs = await compare("home timeline", HOME, circles, baseline, args.requests, args.warmup)
    rates: list[tuple[Sample, Sample]] = []
    for round_ in range(2):  # two rounds each, alternating, so that drift hits both
        say(f"throughput round {round_ + 1}/2: {args.clients} clients for {args.seconds} s each ...")
        rates.append((await throughput(circles, args.clients, args.seconds, "circles"),
                      await throughput(baseline, args.clients, args.seconds, "baseline")))
        progress("throughput rounds", round_ + 1, 2)
    ours_rate = statistics.mean(pair[0].rate for pair in rates)
    theirs_rate = statistics.mean(pair[1].rate for pair in rates)
    ours_p95 = statistics.mean(p95(pair[0]) for pair in rates)
    theirs_p95 = statistics.mean(p95(pair[1]) for pair in rates)
    print()
    print(f"api benchmark: {args.posts} posts, {args.members} members, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(theirs.line())
    print(ours.line())
    print(f"throughput with {args.clients} clients: circles {ours_rate:7.1f} req/s (p95 {ours_p95 * 1000:.1f} ms), "
          f"baseline {theirs_rate:7.1f} req/s (p95 {theirs_p95 * 1000:.1f} ms)")
    print(f"ratio: api_home_median {ours.median / theirs.median:.2f}")
    print(f"ratio: api_home_throughput {theirs_rate / ours_rate:.2f}")
    print(f"ratio: api_home_p95_under_load {ours_p95 / theirs_p95:.2f}")


async def main(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="circles-bench-api-"))
    database_url = args.database_url or f"sqlite://{folder / 'bench.sqlite3'}"
    port = free_port()
    settings = bench_settings(folder, database_url, port)
    instance = Instance(domain=settings.domain, scheme=settings.scheme)
    servers: list[Server] = []
    try:
        say(f"migrating the {database_url.split('://')[0]} database ...")
        await db.migrate(database_url)
        await db.connect(database_url)
        say(f"building {args.members} members and {args.posts} posts in one circle ...")
        started = time.perf_counter()
        _, reader = await build(instance, uuid.uuid4().hex[:6], args.members, args.posts)
        say(f"  built in {time.perf_counter() - started:.1f} s")
        if database_url.startswith("postgres"):
            # A live server's autovacuum analyses a table that grew this much within a
            # minute or so; measured before it has, PostgreSQL plans from a nearly empty
            # table's statistics (for both apps alike).
            await connections.get("default").execute_script("ANALYZE")
        headers = {"Authorization": f"Bearer {await token_for(reader)}"}
        servers = [Server(create_app(settings, manage_database=False), port), Server(baseline_app(), free_port())]
        for server in servers:
            await server.wait_ready()
        limits = httpx.Limits(max_connections=args.clients)
        async with (
            httpx.AsyncClient(base_url=servers[0].base_url, headers=headers, timeout=60.0, limits=limits) as circles,
            httpx.AsyncClient(base_url=servers[1].base_url, headers=headers, timeout=60.0, limits=limits) as baseline,
        ):
            await measure(args, circles, baseline)
        return 0
    finally:
        for server in servers:
            await server.stop()
        await db.disconnect()
        shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000, help="posts in the circle (default 100000)")
    parser.add_argument("--members", type=int, default=1_000, help="members of the circle (default 1000)")
    parser.add_argument("--requests", type=int, default=200, help="timed sequential requests each (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first (default 10)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each throughput round (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for throughput (default 8)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite database")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
