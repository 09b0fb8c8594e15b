"""The `circles` command, run for real as a subprocess against the test's database.

The test process opens the ORM only after a command has finished, to check
what the command did.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from models import db
from models.accounts import Account, AccountState, Invite, RegistrationMode
from models.circles import Circle
from models.errors import NotFound, PermissionDenied
from models.instance import Instance
from models.services import accounts as account_service
from server.wording import plural
from tests.conftest import POSTGRES_URL

CIRCLES = Path(sys.executable).parent / "circles"
if not CIRCLES.exists():
    CIRCLES = Path(shutil.which("circles") or "circles")

PASSWORD = "correct horse battery"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


def clean_environment() -> dict[str, str]:
    """The process environment without any CIRCLES_* setting of the developer's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}


def run_circles(cwd: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    done = subprocess.run(
        [str(CIRCLES), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


class Circles:
    """Runs `circles` in tmp_path on one database, with overridable settings."""

    def __init__(self, cwd: Path, database_url: str) -> None:
        self.cwd = cwd
        self.env = {
            **clean_environment(),
            "CIRCLES_DATABASE_URL": database_url,
            "CIRCLES_DATA_DIR": str(cwd / "data"),
        }

    def __call__(self, *args: str, stdin: str | None = None, **settings: str) -> Result:
        env = {**self.env, **{f"CIRCLES_{k.upper()}": v for k, v in settings.items()}}
        return run_circles(self.cwd, env, *args, stdin=stdin)

    def ok(self, *args: str, stdin: str | None = None, **settings: str) -> str:
        result = self(*args, stdin=stdin, **settings)
        assert result.code == 0, str(result)
        assert "Traceback" not in result.err, str(result)
        return result.out

    def create_user(self, name: str, *, admin: bool = False, password: str = PASSWORD) -> Result:
        args = ["user", "create", name, "--email", f"{name}@example.org", "--password-stdin"]
        return self(*args, *(["--admin"] if admin else []), stdin=password + "\n")


@pytest.fixture
async def circles(database_url, tmp_path) -> Circles:
    return Circles(tmp_path, database_url)


@pytest.fixture
def fresh_sqlite(tmp_path) -> str:
    """A SQLite database that does not exist yet, in a folder that does not either."""
    return f"sqlite://{tmp_path / 'fresh' / 'circles.sqlite3'}"


def assert_one_line_error(result: Result, code: int, *needles: str) -> str:
    assert result.code == code, str(result)
    assert "Traceback" not in result.err, str(result)
    lines = result.err.splitlines()
    assert len(lines) == 1, str(result)
    assert lines[0].startswith("error: "), str(result)
    for needle in needles:
        assert needle in lines[0], str(result)
    return lines[0]


class OpenDatabase:
    """The ORM on a database, for checking after a command has run."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> None:
        await db.connect(self.url)

    async def __aexit__(self, *exc) -> None:
        await db.disconnect()


# --- check-config and configuration errors ----------------------------------------


async def test_check_config_prints_the_settings_without_secrets(circles, tmp_path):
    key = "K3y-" + "z" * 40
    out = circles.ok(
        "check-config",
        secret_key=key,
        database_url="postgres://circles:Tr0ub4dor@db.example.org:5432/circles",
        domain="learn.example.org",
    )
    lines = dict(line.split(" = ", 1) for line in out.splitlines())
    assert set(lines) >= {
        "domain", "scheme", "bind", "data_dir", "database_url", "secret_key", "registration",
        "media_dir", "allow_private_addresses", "run_worker", "trusted_proxies",
        "trusted_proxy_addresses", "log_level",
    }
    assert lines["domain"] == "learn.example.org"
    assert lines["data_dir"] == str(tmp_path / "data")
    assert lines["secret_key"] == f"(set, {len(key)} characters)"
    assert lines["database_url"] == "postgres://circles:***@db.example.org:5432/circles"
    assert key not in out
    assert "Tr0ub4dor" not in out


async def test_check_config_does_not_create_a_secret_key(circles, tmp_path):
    out = circles.ok("check-config")
    assert f"secret_key = (not set: generated into {tmp_path / 'data' / 'secret_key'}" in out
    assert not (tmp_path / "data" / "secret_key").exists()


async def test_check_config_shows_an_existing_key_as_set(circles, tmp_path):
    circles.ok("migrate")  # migrate and serve create the key (other commands need none)
    key = (tmp_path / "data" / "secret_key").read_text().strip()
    out = circles.ok("check-config")
    assert f"secret_key = (set, {len(key)} characters)" in out
    assert key not in out


@pytest.mark.parametrize(
    "command", [["check-config"], ["migrate"], ["user", "list"], ["circle", "list"], ["serve"]]
)
async def test_an_invalid_setting_stops_every_command(circles, command):
    result = circles(*command, scheme="ftp")
    line = assert_one_line_error(result, 2, "CIRCLES_SCHEME", "Fix: use https")
    assert "ftp" in line
    assert result.out == ""


async def test_an_unknown_key_in_the_config_file_is_named(circles, tmp_path):
    (tmp_path / "circles.toml").write_text('domain = "ok.example"\nlisten = "0.0.0.0:80"\n')
    assert_one_line_error(circles("check-config"), 2, "CIRCLES_CONFIG", "listen")


async def test_circles_toml_in_the_working_directory_is_used(circles, tmp_path):
    (tmp_path / "circles.toml").write_text('domain = "from-file.example"\nregistration = "closed"\n')
    out = circles.ok("check-config")
    assert "domain = from-file.example" in out
    assert "registration = closed" in out


# --- migrate ----------------------------------------------------------------------


async def test_migrate_is_idempotent(circles, fresh_sqlite):
    first = circles.ok("migrate", database_url=fresh_sqlite)
    assert first.startswith(f"New database {fresh_sqlite.removeprefix('sqlite://')} for https://localhost:8000 ")
    assert "Applying" in first
    assert "0001_initial" in first
    assert first.rstrip().endswith("Database is up to date.")

    second = circles.ok("migrate", database_url=fresh_sqlite)
    assert second == "Database is up to date.\n"

    assert await db.pending_migrations(fresh_sqlite) == []


async def test_migrate_on_the_migrated_test_database_is_up_to_date(circles):
    assert circles.ok("migrate") == "Database is up to date.\n"


@pytest.mark.parametrize("command", [["user", "list"], ["circle", "list"], ["invite", "create"]])
async def test_a_command_before_migrating_says_to_migrate(circles, fresh_sqlite, command):
    result = circles(*command, database_url=fresh_sqlite)
    assert_one_line_error(result, 2, "circles migrate")


async def test_user_create_before_migrating_says_to_migrate(circles, fresh_sqlite):
    result = circles(
        "user", "create", "alice", "--email", "a@example.org", "--password-stdin",
        stdin=PASSWORD + "\n", database_url=fresh_sqlite,
    )
    assert_one_line_error(result, 2, "circles migrate")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [["migrate"], ["user", "list"]])
async def test_an_unreachable_database_is_reported_as_such(circles, command):
    url = f"postgres://circles:Tr0ub4dor@127.0.0.1:{closed_port()}/circles"
    line = assert_one_line_error(circles(*command, database_url=url), 2, "CIRCLES_DATABASE_URL", "cannot reach")
    assert "migrate" not in line, "an unreachable database is not one that needs migrating"
    assert "Tr0ub4dor" not in line


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (CIRCLES_TEST_DATABASE_URL)")
@pytest.mark.parametrize("command", [["migrate"], ["user", "list"]])
async def test_a_refused_postgres_login_is_one_line(circles, database_url, command):
    url = re.sub(r"://[^@/]*@", "://circles_no_such_role:Tr0ub4dor@", database_url, count=1)
    if "@" not in url:
        url = url.replace("://", "://circles_no_such_role:Tr0ub4dor@", 1)
    line = assert_one_line_error(circles(*command, database_url=url), 2, "CIRCLES_DATABASE_URL")
    assert "Tr0ub4dor" not in line


# --- users --------------------------------------------------------------------------


async def test_user_create_then_list(circles, database_url):
    assert circles.ok("user", "list") == "No accounts yet.\n"

    result = circles.create_user("alice", admin=True)
    assert result.code == 0, str(result)
    assert result.out == "Created admin @alice@localhost:8000.\n"
    assert circles.create_user("bob").out == "Created user @bob@localhost:8000.\n"

    rows = [line.split("\t") for line in circles.ok("user", "list").splitlines()]
    assert sorted(rows) == [
        ["alice", "alice@example.org", "active admin"],
        ["bob", "bob@example.org", "active"],
    ]

    async with OpenDatabase(database_url):
        alice = await account_service.authenticate("alice", PASSWORD, client_address="test")
        assert alice.is_admin
        bob = await account_service.authenticate("bob@example.org", PASSWORD, client_address="test")
        assert not bob.is_admin


async def test_user_create_uses_the_configured_domain(circles, database_url):
    result = circles(
        "user", "create", "dave", "--email", "dave@example.org", "--password-stdin",
        stdin=PASSWORD + "\n", domain="learn.example.org", scheme="http",
    )
    assert result.out == "Created user @dave@learn.example.org.\n", str(result)
    async with OpenDatabase(database_url):
        dave = await Account.get(email="dave@example.org").prefetch_related("actor")
        assert dave.actor.uri == "http://learn.example.org/users/dave"


async def test_password_stdin_takes_only_the_first_line(circles, database_url):
    result = circles(
        "user", "create", "erin", "--email", "erin@example.org", "--password-stdin",
        stdin="first line pass\r\nsecond line\n",
    )
    assert result.code == 0, str(result)
    async with OpenDatabase(database_url):
        await account_service.authenticate("erin", "first line pass", client_address="test")


USER_REFUSALS = [
    # (what is wrong, username, email, password, a word the error must contain)
    ("duplicate username", "alice", "other@example.org", PASSWORD, "alice"),
    ("duplicate email", "alicia", "alice@example.org", PASSWORD, "email"),
    ("invalid username", "Not Valid", "nv@example.org", PASSWORD, "handle"),
    ("long username", "x" * 200, "long@example.org", PASSWORD, "handle"),
    ("invalid email", "frank", "not-an-email", PASSWORD, "email"),
    ("short password", "frank", "frank@example.org", "short", "8 characters"),
    ("empty password", "frank", "frank@example.org", "", "8 characters"),
]


async def test_user_create_refusals(circles):
    # One test for all cases: each `circles` run costs most of a second.
    assert circles.create_user("alice").code == 0
    for case, name, email, password, needle in USER_REFUSALS:
        result = circles("user", "create", name, "--email", email, "--password-stdin", stdin=password + "\n")
        assert result.code == 1, f"{case}: {result}"
        assert_one_line_error(result, 1, needle)
        assert result.out == "", case
    assert [line.split("\t")[0] for line in circles.ok("user", "list").splitlines()] == ["alice"]


async def test_user_create_without_a_password_source(circles):
    result = circles("user", "create", "gina", "--email", "gina@example.org")  # stdin is not a terminal
    assert_one_line_error(result, 2, "--password-stdin")
    assert circles.ok("user", "list") == "No accounts yet.\n"


async def test_user_disable_and_enable(circles, database_url):
    assert circles.create_user("henry").code == 0
    assert circles.ok("user", "disable", "henry") == "@henry is now disabled.\n"
    assert circles.ok("user", "list") == "henry\thenry@example.org\tdisabled\n"

    async with OpenDatabase(database_url):
        account = await Account.get(email="henry@example.org")
        assert account.state is AccountState.DISABLED
        with pytest.raises(PermissionDenied, match="disabled"):
            await account_service.authenticate("henry", PASSWORD, client_address="test")

    assert circles.ok("user", "enable", "henry") == "@henry is now active.\n"
    assert circles.ok("user", "list") == "henry\thenry@example.org\tactive\n"


async def test_user_disable_unknown(circles):
    assert_one_line_error(circles("user", "disable", "nobody"), 1, "nobody")


# --- circles ----------------------------------------------------------------------


async def test_circle_create_then_list(circles, database_url):
    assert circles.create_user("ivy").code == 0
    assert circles.ok("circle", "list") == "No circles yet.\n"

    out = circles.ok("circle", "create", "readers", "--name", "Readers Club", "--owner", "ivy", "--join", "approval")
    assert out == "Created circle @readers@localhost:8000 (approval).\n"
    out = circles.ok("circle", "create", "walkers", "--name", "Walkers", "--owner", "ivy", "--purpose", "Walk.")
    assert out == "Created circle @walkers@localhost:8000 (open).\n"

    rows = sorted(line.split("\t") for line in circles.ok("circle", "list").splitlines())
    assert rows == [
        ["readers", "Readers Club", "approval", "1 member"],
        ["walkers", "Walkers", "open", "1 member"],
    ]

    async with OpenDatabase(database_url):
        readers = await Circle.get(name="Readers Club")
        assert readers.member_count == 1


async def test_circle_create_unknown_owner(circles):
    result = circles("circle", "create", "readers", "--name", "Readers", "--owner", "nobody")
    assert_one_line_error(result, 1, "nobody")
    assert result.out == ""
    assert circles.ok("circle", "list") == "No circles yet.\n"


async def test_circle_create_refusals(circles):
    assert circles.create_user("jack").code == 0
    circles.ok("circle", "create", "readers", "--name", "Readers", "--owner", "jack")
    again = circles("circle", "create", "readers", "--name", "Other", "--owner", "jack")
    assert_one_line_error(again, 1, "readers")
    # a circle cannot take a handle a person already has
    assert_one_line_error(circles("circle", "create", "jack", "--name", "Jack's", "--owner", "jack"), 1, "jack")
    assert_one_line_error(circles("circle", "create", "Bad Handle", "--name", "X", "--owner", "jack"), 1)
    bad_mode = circles("circle", "create", "other", "--name", "X", "--owner", "jack", "--join", "anyone")
    assert bad_mode.code == 2, str(bad_mode)
    assert "Traceback" not in bad_mode.err
    assert [line.split("\t")[0] for line in circles.ok("circle", "list").splitlines()] == ["readers"]


# --- invites ------------------------------------------------------------------------


async def test_invite_create_prints_a_working_signup_url(circles, database_url):
    out = circles.ok("invite", "create", "--uses", "2", domain="learn.example.org", scheme="http")
    match = re.fullmatch(r"http://learn\.example\.org/signup\?invite=([A-Za-z0-9_-]+)\n", out)
    assert match, out
    code = match.group(1)

    async with OpenDatabase(database_url):
        invite = await Invite.get(code=code)
        assert invite.max_uses == 2
        instance = Instance(domain="learn.example.org", scheme="http")
        account = await account_service.sign_up(
            instance, RegistrationMode.INVITE, username="kim", email="kim@example.org",
            password=PASSWORD, invite_code=code,
        )
        assert account.state is AccountState.ACTIVE


async def test_invite_create_default_url(circles):
    out = circles.ok("invite", "create")
    assert re.fullmatch(r"https://localhost:8000/signup\?invite=\S+\n", out), out
    assert out != circles.ok("invite", "create"), "each invite has its own code"


# --- serve --------------------------------------------------------------------------


async def test_serve_on_an_address_in_use_is_one_line(circles):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = circles("serve", "--bind", f"127.0.0.1:{port}")
    assert result.code == 2, str(result)
    assert "Traceback" not in result.err, str(result)
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: cannot listen on"), str(result)
    assert str(port) in last


async def test_serve_on_an_address_this_machine_does_not_have(circles):
    result = circles("serve", "--bind", "192.0.2.1:8000")  # TEST-NET-1: never a local address
    assert result.code == 2, str(result)
    assert "Traceback" not in result.err, str(result)
    assert result.err.strip().splitlines()[-1].startswith("error: cannot listen on 192.0.2.1:8000"), str(result)


@pytest.mark.parametrize("bind", ["nonsense", "127.0.0.1:99999", "127.0.0.1:"])
async def test_serve_with_a_malformed_bind(circles, bind):
    assert_one_line_error(circles("serve", "--bind", bind), 2, "--bind", bind, "127.0.0.1:8000")


async def test_user_reset_password_prints_a_link_that_works_once(circles, database_url):
    assert circles.create_user("alice").code == 0
    result = circles("user", "reset-password", "alice")
    assert result.code == 0, str(result)
    link = result.out.strip()
    assert re.fullmatch(r"https://localhost:8000/password-reset/[\w-]{40,}", link), link
    assert "works once, for 24 hours (until " in result.err
    async with OpenDatabase(database_url):
        token = link.rsplit("/", 1)[1]
        account = await account_service.account_for_reset(token)
        assert account.actor.username == "alice"
        await account_service.reset_password(token, "a brand new passphrase")
        with pytest.raises(NotFound):
            await account_service.account_for_reset(token)


async def test_user_password_link_is_the_old_name_of_reset_password(circles, database_url):
    assert circles.create_user("alice").code == 0
    first = circles.ok("user", "password-link", "alice").strip()
    second = circles.ok("user", "reset-password", "alice").strip()
    assert first.startswith("https://localhost:8000/password-reset/") and first != second
    async with OpenDatabase(database_url):
        with pytest.raises(NotFound):  # the newer link replaced it
            await account_service.account_for_reset(first.rsplit("/", 1)[1])
    assert "password-link" not in circles.ok("user", "--help")


@pytest.mark.parametrize("command", ["reset-password", "password-link"])
async def test_user_reset_password_names_an_unknown_account(circles, command):
    assert_one_line_error(circles("user", command, "nobody"), 1, "nobody")


def test_plural_says_one_member_and_two_members():
    assert [plural(n, "member") for n in (0, 1, 2)] == ["0 members", "1 member", "2 members"]
    assert plural(1, "media file") == "1 media file" and plural(3, "person", "people") == "3 people"


def test_user_help_reads_well(circles):
    out = circles.ok("user", "--help")
    assert "Approve a pending account" in out and "approve a pending an" not in out.lower()
    assert "Disable an account" in out and "Re-enable a disabled account" in out
    assert "The circle's name" in circles.ok("circle", "create", "--help")
    assert "Print a sign-up link with a new invite code." in circles.ok("invite", "--help")
