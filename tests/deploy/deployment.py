"""The deploy/ files as tests read them: the environment file's settings and
the systemd units' command lines, so that what is tested is what is
documented; and `circles` processes started from them."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.servers import CIRCLES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LINE_RE = re.compile(r"([A-Z_][A-Z0-9_]*)=(.*)")


def env_file() -> dict[str, str]:
    """deploy/circles.env.example as systemd's EnvironmentFile reads it (no quotes in it)."""
    found = {}
    for line in (DEPLOY / "circles.env.example").read_text().splitlines():
        if match := LINE_RE.fullmatch(line.strip()):
            found[match[1]] = match[2]
    return found


def exec_start(unit: str) -> list[str]:
    """The arguments after `circles` in a unit's ExecStart, %i left as it is."""
    for line in (DEPLOY / unit).read_text().splitlines():
        if line.startswith("ExecStart="):
            argv = shlex.split(line.removeprefix("ExecStart="))
            assert Path(argv[0]).name == "circles", line
            return argv[1:]
    raise AssertionError(f"{unit} has no ExecStart")


def with_database(example_url: str, database_url: str) -> str:
    """This machine's database, with the example's query string (the pool's size)."""
    query = urlsplit(example_url).query
    return urlunsplit(urlsplit(database_url)._replace(query=query))


def through_pgbouncer(database_url: str, address: str) -> str:
    """The same database through PgBouncer at host:port, without asyncpg's
    prepared statement cache (transaction pooling cannot keep it)."""
    parts = urlsplit(database_url)
    netloc = parts.netloc.rpartition("@")[0] + "@" + address if "@" in parts.netloc else address
    query = "&".join(filter(None, [parts.query, "statement_cache_size=0"]))
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def production_env(folder: Path, database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of every process: deploy/circles.env.example with this
    machine's database, folders and a new secret key; then `overrides`."""
    settings = env_file()
    settings.update(
        CIRCLES_DATABASE_URL=with_database(settings["CIRCLES_DATABASE_URL"], database_url),
        CIRCLES_SECRET_KEY=secrets.token_hex(32),
        CIRCLES_DATA_DIR=str(folder / "data"),
        CIRCLES_MEDIA_DIR=str(folder / "data" / "media"),
        **overrides,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    return env | settings


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([str(CIRCLES), *args], cwd=log.parent, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)


def run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([str(CIRCLES), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"circles {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout
