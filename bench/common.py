"""Small things the benchmarks share: a PostgreSQL database of their own,
waiting for a served process to answer, percentiles, the machine's description, and the CSV rows bench/growth.py reads."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

PG_HOST, PG_USER = "127.0.0.1", "postgres"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def wait_healthy(base_url: str, process: subprocess.Popen, name: str, *, timeout: float = 30.0,
                       details: Callable[[], str] = lambda: "") -> None:
    """Ask `/healthz` until it answers 200; stop the benchmark, with `details()`
    (a log's tail), if the process exits or `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}:\n{details()}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{name} did not become healthy in {timeout} s:\n{details()}")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.95 for p95); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (5 min {five:.2f}), {os.cpu_count()} CPUs"


@contextlib.contextmanager
def own_postgres(tag: str) -> Iterator[str]:
    """A database of our own on the local PostgreSQL (never `test`): created
    here, dropped after. Yields its URL."""
    name = f"circles_bench_{tag}_{os.getpid()}"
    subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, name], check=True)
    try:
        yield f"postgres://{PG_USER}@{PG_HOST}:5432/{name}"
    finally:
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", name], check=False)


@contextlib.contextmanager
def database(kind: str, tag: str, folder: Path) -> Iterator[str]:
    """`sqlite` (a file in `folder`) or `postgres` (a database of our own); or a URL, used as given."""
    if kind == "postgres":
        with own_postgres(tag) as url:
            yield url
    elif kind == "sqlite":
        yield f"sqlite://{folder / 'bench.sqlite3'}"
    else:
        yield kind


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    postgres = "PostgreSQL not found"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        postgres = subprocess.run(["psql", "-h", PG_HOST, "-U", PG_USER, "-d", "postgres", "-tAc", "SHOW server_version"],
                                  check=True, capture_output=True, text=True).stdout.strip()
        postgres = f"PostgreSQL {postgres}"
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.1f} GiB memory, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres}")


def write_rows(path: str | None, rows: list[tuple]) -> None:
    """Append (benchmark, database, size, metric, value) rows to a CSV file (bench/growth.py)."""
    if not path:
        return
    new = not Path(path).exists()
    with open(path, "a", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(["benchmark", "database", "size", "metric", "value", "load1"])
        for row in rows:
            writer.writerow([*row, f"{os.getloadavg()[0]:.2f}"])


@contextlib.contextmanager
def timed_statements() -> Iterator[list[tuple[float, str]]]:
    """Every SQL statement sent inside the block with its time (seconds), for
    a profile of a slow page: the same execute_* methods tests/querycount.py
    counts, wrapped for the block only. Measure one request at a time."""
    import contextvars
    import functools
    import time

    from tests.querycount import CLIENT_CLASSES, METHODS

    records: list[tuple[float, str]] = []
    inside = contextvars.ContextVar("inside_timed_statement", default=False)
    saved = []

    def wrap(method):
        @functools.wraps(method)
        async def timed(self, query, *args, **kwargs):
            if inside.get():
                return await method(self, query, *args, **kwargs)
            token = inside.set(True)
            started = time.perf_counter()
            try:
                return await method(self, query, *args, **kwargs)
            finally:
                records.append((time.perf_counter() - started, " ".join(str(query).split())))
                inside.reset(token)
        return timed

    for cls in CLIENT_CLASSES:
        for name in METHODS:
            method = cls.__dict__.get(name)
            if method is not None:
                saved.append((cls, name, method))
                setattr(cls, name, wrap(method))
    try:
        yield records
    finally:
        for cls, name, method in saved:
            setattr(cls, name, method)
