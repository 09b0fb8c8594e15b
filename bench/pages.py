"""How fast are the busiest pages with a lot of data, against a bare Quart app?

    python bench/pages.py [--posts 10000] [--members 1000] [--requests 200] [--database-url URL]

Builds a database with one circle of N members and M posts (a tenth of them
replies, a tenth of the rest questions), in bulk inserts, then serves two apps
with hypercorn on 127.0.0.1, in this process:

* Circles itself (server.app.create_app, without its federation worker), and
* the baseline: a bare Quart app over the same database whose two endpoints
  render a comparable Jinja template from a comparable query: the circle's
  latest 20 top-level posts with their authors, and a member's latest 20 posts
  across their circles (their memberships, then the posts).

A member logs in; then the circle page (/c/HANDLE) and the home page (/) are
requested R times each over real HTTP, one request at a time, alternating
with the baseline's counterpart so that drift in the machine's load hits
both alike. Printed for each: median and p95 time to the whole response,
the SQL statements per request (counted as the tests count them,
tests/querycount.py), and the ratio of the medians (Circles / baseline).

Uses a temporary SQLite database unless --database-url is given (migrated
first; the names used are random, so a shared database is fine). Nothing is
sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
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
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart, render_template_string
from tortoise import connections

from bench.common import database, timed_statements, write_rows
from bench.common import load as bench_load
from models import clock, db
from models.actors import Actor, ActorKind
from models.circles import Circle, Membership, MembershipState, Role
from models.instance import Instance
from models.posts import Post, PostKind
from models.resources import Resource
from models.services import accounts as account_service
from models.services import circles as circle_service
from models.text import render_markdown
from server.app import create_app
from server.config import Settings
from tests.querycount import count_queries

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BATCH = 500


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def progress(label: str, done: int, total: int) -> None:
    end = "\n" if done >= total else ""
    print(f"\r  {label}: {done}/{total}", end=end, file=sys.stderr, flush=True)


_RESERVED: dict[int, socket.socket] = {}


def free_port() -> int:
    """A port of 127.0.0.1 bound and listening now, kept for `Server` (which
    serves on this very socket): no other process on a busy machine can take
    it between choosing and serving."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(512)
    port = s.getsockname()[1]
    _RESERVED[port] = s
    return port


def release(port: int) -> None:
    """Give up a port `free_port` kept, for a child process to bind itself
    (another process could take it in between: rare, and the child says so)."""
    _RESERVED.pop(port).close()


# --- the data ----------------------------------------------------------------------------


async def build_circle(instance: Instance, tag: str, members: int) -> tuple[Circle, str, str, list[Actor]]:
    """One circle with `members` members, one of them a local account that
    logs in. Returns (circle, its handle, the login name, the members)."""
    owner = await account_service.create_account(
        instance, username=f"owner{tag}", email=f"owner{tag}@example.org", password=PASSWORD)
    reader = await account_service.create_account(
        instance, username=f"reader{tag}", email=f"reader{tag}@example.org", password=PASSWORD)
    handle = f"bench{tag}"
    circle = await circle_service.create_circle(
        instance, owner, handle=handle, name="Bench circle", purpose="Reading *together*.", topics="#python #rust")
    await circle_service.join(circle, reader.actor)

    # The other members: people on other servers, as most members of a federated circle would be.
    others = max(members - 2, 0)
    people: list[Actor] = [owner.actor, reader.actor]
    for start in range(0, others, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, others)):
            base = f"https://peer{n % 17}.example/users/m{tag}{n}"
            batch.append(Actor(
                uri=base, kind=ActorKind.PERSON, local=False, username=f"m{tag}{n}", domain=f"peer{n % 17}.example",
                display_name=f"Member {n}", profile_url=base, inbox_url=f"{base}/inbox",
                shared_inbox_url=f"https://peer{n % 17}.example/inbox", fetched_at=clock.now(),
            ))
        await Actor.bulk_create(batch)
        await Membership.bulk_create([
            Membership(circle_id=circle.id, actor_id=actor.id, role=Role.MEMBER, state=MembershipState.ACTIVE, updated_at=clock.now())
            for actor in batch
        ])
        people.extend(batch)
        progress("members", len(people), members)
    await Circle.filter(id=circle.id).update(member_count=len(people))
    return circle, handle, reader.actor.username, people


REPLIES_PER_THREAD = 5


async def add_posts(instance: Instance, circle: Circle, people: list[Actor], start: int, count: int) -> int:
    """Posts number start .. start+count-1 of the circle, in time order (ids and
    times grow together, and on from earlier calls). The same shape at every
    size: of every ten, one is a reply (five to a thread, to the latest top-level
    posts of this call), one of the other nine a question, one a library
    resource. Returns the id of the newest thread with replies."""
    replies = count // 10
    top = count - replies
    content = render_markdown("Notes from this week's reading: **chapter 3**, with a question about lifetimes.")
    origin = clock.now() - dt.timedelta(minutes=1_000_000)
    made, roots = 0, []
    for first in range(0, top, BATCH):
        batch, resources = [], []
        for n in range(start + first, start + min(first + BATCH, top)):
            post_id = clock.new_id()
            kind = PostKind.QUESTION if n % 10 == 0 else PostKind.RESOURCE if n % 10 == 5 else PostKind.DISCUSSION
            batch.append(Post(
                # The member who logs in wrote one in fifty: a full profile page at every size.
                id=post_id, uri=instance.post_uri(post_id), circle_id=circle.id,
                author_id=people[1 if n % 50 == 1 else n % len(people)].id, kind=kind, title=f"Week {n % 52}, post {n}",
                source="Notes", content=content, language="en", local=True,
                published_at=origin + dt.timedelta(minutes=n),
            ))
            if kind is PostKind.RESOURCE:
                resources.append(Resource(post_id=post_id, link=f"https://books.example/{n}"))
        await Post.bulk_create(batch)
        if resources:
            await Resource.bulk_create(resources)
        roots.extend(batch)
        made += len(batch)
        progress("posts", made, count)
    threads: dict[int, int] = {}
    for first in range(0, replies, BATCH):
        batch = []
        for n in range(first, min(first + BATCH, replies)):
            parent = roots[-1 - (n // REPLIES_PER_THREAD) % len(roots)]
            threads[parent.id] = threads.get(parent.id, 0) + 1
            post_id = clock.new_id()
            batch.append(Post(
                id=post_id, uri=instance.post_uri(post_id), circle_id=circle.id, author_id=people[(n * 7) % len(people)].id,
                kind=PostKind.DISCUSSION, source="Agreed", content="<p>Agreed.</p>", language="en", local=True,
                in_reply_to_id=parent.id, root_id=parent.id, published_at=origin + dt.timedelta(minutes=start + top + n),
            ))
        await Post.bulk_create(batch)
        made += len(batch)
        progress("posts", made, count)
    for count_, ids in _group(threads).items():
        for chunk in range(0, len(ids), BATCH):
            await Post.filter(id__in=ids[chunk:chunk + BATCH]).update(reply_count=count_)
    await Circle.filter(id=circle.id).update(post_count=await Post.filter(circle_id=circle.id, root_id=None).count())
    return next(iter(threads)) if threads else roots[-1].id


def _group(threads: dict[int, int]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for post_id, count in threads.items():
        grouped.setdefault(count, []).append(post_id)
    return grouped


async def build(instance: Instance, tag: str, members: int, posts: int) -> tuple[str, str]:
    """One circle with `members` members (one of them a local account that
    logs in) and `posts` posts. Returns (circle handle, login name)."""
    circle, handle, reader, people = await build_circle(instance, tag, members)
    await add_posts(instance, circle, people, 0, posts)
    return handle, reader


async def analyze(database_url: str) -> None:
    """ANALYZE, as a live server's autovacuum (PostgreSQL) or `PRAGMA optimize`
    (SQLite) would have by now: else the planner works from an empty table's statistics."""
    await connections.get("default").execute_script("ANALYZE")


# --- the baseline: a bare Quart app ------------------------------------------------------

BASELINE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header><nav><a href="/">Circles</a></nav></header>
<main><h1>{{ title }}</h1>
{% for post in posts %}
<article class="post"><h2><a href="/posts/{{ post.id }}">{{ post.title }}</a></h2>
<p class="meta">by <a href="{{ post.author.profile_url or post.author.uri }}">{{ post.author.display_name or post.author.username }}</a>
{% if show_circle %}in {{ post.circle.name }}{% endif %}
· <time datetime="{{ post.published_at.isoformat() }}">{{ post.published_at.strftime('%d %b %Y %H:%M') }} UTC</time>
· {{ post.reply_count }} replies</p>
<div class="prose">{{ post.content | safe }}</div></article>
{% endfor %}
<nav class="pager"><a href="?before={{ posts[-1].id if posts else '' }}">Older posts</a></nav>
</main></body></html>"""


def baseline_app(reader_name: str) -> Quart:
    app = Quart("baseline")

    @app.get("/c/<handle>")
    async def circle_page(handle: str):
        circle = await Circle.filter(actor__username=handle, actor__local=True).select_related("actor").first()
        posts = await (
            Post.filter(circle=circle, root_id=None, deleted_at=None).select_related("author").order_by("-id").limit(20)
        )
        return await render_template_string(BASELINE_TEMPLATE, title=circle.name, posts=posts, show_circle=False)

    @app.get("/")
    async def home():
        actor = await Actor.get(username=reader_name, local=True)
        circle_ids = [m.circle_id for m in await Membership.filter(actor=actor, state=MembershipState.ACTIVE)]
        posts = await (
            Post.filter(circle_id__in=circle_ids, root_id=None, deleted_at=None)
            .select_related("author", "circle").order_by("-id").limit(20)
        )
        return await render_template_string(BASELINE_TEMPLATE, title="Home", posts=posts, show_circle=True)

    return app


# --- serving and measuring ---------------------------------------------------------------


class Server:
    """A Quart app on hypercorn in this event loop."""

    def __init__(self, app, port: int) -> None:
        self.app, self.port = app, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.stopping = asyncio.Event()
        config = Config()
        reserved = _RESERVED.pop(port, None)
        config.bind = [f"fd://{reserved.fileno()}" if reserved else f"127.0.0.1:{port}"]
        self.reserved = reserved  # open until the server stops
        config.accesslog = None
        self.task = asyncio.create_task(serve(app, config, shutdown_trigger=self.stopping.wait))

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.task.done():
                    self.task.result()
                try:
                    await client.get("/")
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise SystemExit(f"{self.base_url} did not answer in 20 s")

    async def stop(self) -> None:
        self.stopping.set()
        await self.task
        if self.reserved is not None:
            self.reserved.close()


class Sample:
    def __init__(self, label: str) -> None:
        self.label, self.times, self.queries, self.sizes = label, [], [], []

    def line(self) -> str:
        ordered = sorted(self.times)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        queries = sorted(set(self.queries))
        shown = str(queries[0]) if len(queries) == 1 else f"{queries[0]}-{queries[-1]}"
        return (f"{self.label:30} median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   "
                f"{shown:>5} queries   {statistics.median(self.sizes) / 1024:6.1f} KiB")

    @property
    def median(self) -> float:
        return statistics.median(self.times)


async def timed(client: httpx.AsyncClient, path: str, sample: Sample) -> None:
    with count_queries() as queries:
        started = time.perf_counter()
        response = await client.get(path)
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{sample.label}: GET {path} answered {response.status_code}\n{response.text[:1000]}")
    sample.times.append(elapsed)
    sample.queries.append(len(queries))
    sample.sizes.append(len(response.content))


async def compare(name: str, path: str, circles: httpx.AsyncClient, baseline: httpx.AsyncClient,
                  requests: int, warmup: int) -> tuple[Sample, Sample]:
    ours, theirs = Sample(f"{name}: circles"), Sample(f"{name}: baseline")
    for _ in range(warmup):
        await circles.get(path)
        await baseline.get(path)
    for n in range(requests):
        # Alternate which goes first, so neither always follows the other.
        pair = [(circles, ours), (baseline, theirs)]
        for client, sample in pair if n % 2 == 0 else pair[::-1]:
            await timed(client, path, sample)
        if (n + 1) % max(requests // 10, 1) == 0:
            progress(name, n + 1, requests)
    return ours, theirs


def bench_settings(folder: Path, database_url: str, port: int) -> Settings:
    """Circles on 127.0.0.1:port over `database_url`, without its federation worker,
    and without rate limits, which would answer a benchmark's thousands of
    requests with 429 (they cost the client API two statements per request)."""
    return Settings(
        domain=f"127.0.0.1:{port}", scheme="http", bind=f"127.0.0.1:{port}", data_dir=str(folder / "data"),
        database_url=database_url, secret_key="bench-" + "x" * 40, registration="open",
        media_dir=str(folder / "data" / "media"), run_worker=False, log_level="WARNING", rate_limits=False,
    )


async def log_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    token = CSRF_RE.search(form.text)
    if not token:
        raise SystemExit(f"/login has no form: {form.status_code}")
    response = await client.post("/login", data={"csrf_token": token.group(1), "login": username,
                                                 "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"logging in failed: {response.status_code}\n{response.text[:500]}")


async def time_alone(name: str, path: str, client: httpx.AsyncClient, requests: int, warmup: int) -> Sample:
    sample = Sample(name)
    for _ in range(warmup):
        await client.get(path)
    for _ in range(requests):
        await timed(client, path, sample)
    return sample


def p95(sample: Sample) -> float:
    ordered = sorted(sample.times)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


async def measure_size(args, handle: str, thread: int, reader: str, circles: httpx.AsyncClient,
                       baseline: httpx.AsyncClient) -> dict[str, Sample]:
    """Every page at the database's present size; the circle and home pages alternating with the baseline's."""
    samples: dict[str, Sample] = {}
    for page, path in (("circle", f"/c/{handle}"), ("home", "/")):
        ours, theirs = await compare(f"{page} page", path, circles, baseline, args.requests, args.warmup)
        samples[page], samples[f"{page}_baseline"] = ours, theirs
    for page, path in (("questions", f"/c/{handle}/questions"), ("library", f"/c/{handle}/resources"),
                       ("thread", f"/posts/{thread}"), ("profile", f"/users/{reader}")):
        samples[page] = await time_alone(f"{page} page: circles", path, circles, args.requests, args.warmup)
        progress(f"{page} page", args.requests, args.requests)
    return samples


PAGE_PATHS = {"circle": "/c/{handle}", "home": "/", "questions": "/c/{handle}/questions",
              "library": "/c/{handle}/resources", "thread": "/posts/{thread}", "profile": "/users/{reader}"}


async def profile_slow_pages(args, small, large, handle, thread, reader, base_url) -> None:
    """For each page over its target (flat, or home against its baseline): its
    slowest SQL statements, timed one request at a time."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        await log_in(client, reader)
        for page, template in PAGE_PATHS.items():
            over_baseline = page == "home" and large["home"].median / large["home_baseline"].median > 1.5
            if p95(large[page]) / p95(small[page]) <= 1.3 and not over_baseline:
                continue
            path = template.format(handle=handle, thread=thread, reader=reader)
            totals: dict[str, list[float]] = {}
            for _ in range(5):
                with timed_statements() as records:
                    await client.get(path)
                for seconds, statement in records:
                    totals.setdefault(statement, []).append(seconds)
            print(f"profile: {page} page ({path}), its slowest statements (median of 5 requests):")
            for statement, times in sorted(totals.items(), key=lambda item: -statistics.median(item[1]))[:3]:
                shown = statement[statement.find(" FROM "):] if " FROM " in statement else statement
                print(f"  {statistics.median(times) * 1000:7.2f} ms  SELECT ...{shown[:500]}")


async def main(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="circles-bench-pages-"))
    sizes = sorted(int(size) for size in args.sizes.split(","))
    servers: list[Server] = []
    try:
        with database(args.database, "pages", folder) as database_url:
            kind = database_url.split("://")[0]
            tag = uuid.uuid4().hex[:6]
            port = free_port()
            settings = bench_settings(folder, database_url, port)
            instance = Instance(domain=settings.domain, scheme=settings.scheme)
            say(f"migrating the {kind} database ...")
            await db.migrate(database_url)
            await db.connect(database_url)
            circle, handle, reader, people = await build_circle(instance, tag, args.members)
            circles_server = Server(create_app(settings, manage_database=False), port)
            baseline_server = Server(baseline_app(reader), free_port())
            servers = [circles_server, baseline_server]
            for server in servers:
                await server.wait_ready()
            results: dict[int, dict[str, Sample]] = {}
            async with (
                httpx.AsyncClient(base_url=circles_server.base_url, timeout=30.0) as circles,
                httpx.AsyncClient(base_url=baseline_server.base_url, timeout=30.0) as baseline,
            ):
                await log_in(circles, reader)
                made = 0
                for size in sizes:
                    say(f"building: {size - made} more posts ({size} in all), {args.members} members ...")
                    started = time.perf_counter()
                    thread = await add_posts(instance, circle, people, made, size - made)
                    made = size
                    await analyze(database_url)
                    say(f"  built in {time.perf_counter() - started:.1f} s; timing {args.requests} requests "
                        "of each page, logged in as a member ...")
                    results[size] = await measure_size(args, handle, thread, reader, circles, baseline)
            print()
            print(f"pages benchmark: {args.members} members in one circle, {kind}, {args.requests} requests each, "
                  f"one at a time; {bench_load()}")
            for size, samples in results.items():
                print(f"-- {size} posts")
                for sample in samples.values():
                    print(sample.line())
                for page in ("circle", "home"):
                    print(f"{'':30} ratio  {samples[page].median / samples[page + '_baseline'].median:5.2f}"
                          f"   ({page}: median, circles / baseline)")
                write_rows(args.csv, [("pages", kind, size, f"{page}_p95_ms", f"{p95(sample) * 1000:.2f}")
                                      for page, sample in samples.items()])
            small, large = results[sizes[0]], results[sizes[-1]]
            if len(sizes) > 1:
                for page in ("circle", "home", "questions", "library", "thread", "profile"):
                    print(f"ratio: pages_flat_{page}_{kind} {p95(large[page]) / p95(small[page]):.2f}"
                          f"   (p95 at {sizes[-1]} posts / at {sizes[0]}; target <= 1.3)")
            if args.profile and len(sizes) > 1:
                await profile_slow_pages(args, small, large, handle, thread, reader, circles_server.base_url)
            print(f"ratio: pages_home_vs_baseline_{kind} {large['home'].median / large['home_baseline'].median:.2f}"
                  f"   (median at {sizes[-1]} posts; target <= 1.5)")
            print(f"ratio: pages_circle_vs_baseline_{kind} "
                  f"{large['circle'].median / large['circle_baseline'].median:.2f}   (median at {sizes[-1]} posts)")
            for server in servers:
                await server.stop()
            servers = []
            await db.disconnect()
        return 0
    finally:
        for server in servers:
            await server.stop()
        await db.disconnect()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            say(f"kept {folder}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="posts in the circle, measured at each in turn (default 1000,100000)")
    parser.add_argument("--members", type=int, default=1_000, help="members of the circle (default 1000)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page and app (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first (default 10)")
    parser.add_argument("--database", default="sqlite", help="sqlite, postgres (a database of our own) or a URL")
    parser.add_argument("--csv", default=None, help="append the p95 figures to this CSV file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (the database)")
    parser.add_argument("--profile", action="store_true",
                        help="for each page over its target, print its slowest SQL statements")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
