"""The `circles` command and the server act on one instance: `init-config`
writes the settings every command in the folder reads, and commands that need
an instance refuse, creating nothing, when theirs is missing or is another's.

Each `circles` run costs most of a second, so tests combine related cases.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from server.config import LOCAL_ADDRESS
from tests.unit.server.test_cli import (
    CIRCLES,
    PASSWORD,
    Circles,
    Result,
    assert_one_line_error,
    clean_environment,
    run_circles,
)


class Bare:
    """`circles` in an empty folder with no CIRCLES_* variables: what a new
    user's shell has. Keyword settings become CIRCLES_* variables."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, stdin: str | None = None, **settings: str) -> Result:
        env = {**clean_environment(), **{f"CIRCLES_{k.upper()}": v for k, v in settings.items()}}
        return run_circles(self.cwd, env, *args, stdin=stdin)

    def ok(self, *args: str, **settings: str) -> str:
        result = self(*args, **settings)
        assert result.code == 0, str(result)
        assert result.err == "", str(result)
        return result.out

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.cwd)) for p in self.cwd.rglob("*"))


@pytest.fixture
def bare(tmp_path) -> Bare:
    folder = tmp_path / "instance"
    folder.mkdir()
    return Bare(folder)


def effective(out: str) -> dict[str, str]:
    return dict(line.split(" = ", 1) for line in out.splitlines())


# --- init-config --------------------------------------------------------------------


def test_init_config_writes_the_local_settings_every_command_then_reads(bare):
    out = bare.ok("init-config")
    assert out.startswith(f"Wrote circles.toml: serve on http://{LOCAL_ADDRESS}"), out
    assert bare.files() == ["circles.toml"]

    view = effective(bare.ok("check-config"))
    assert view["domain"] == view["bind"] == LOCAL_ADDRESS
    assert view["scheme"] == "http"
    assert view["data_dir"] == "data"
    assert view["config_file"] == "circles.toml"
    assert view["set_in_environment"] == "(none)"

    # Environment over the file, and check-config says which variables did it.
    view = effective(bare.ok("check-config", domain="env.example"))
    assert (view["domain"], view["scheme"]) == ("env.example", "http")
    assert view["set_in_environment"] == "CIRCLES_DOMAIN"


def test_init_config_never_writes_over_a_file(bare):
    bare.ok("init-config", "--address", "127.0.0.1:8123")
    written = (bare.cwd / "circles.toml").read_text()
    assert 'domain = "127.0.0.1:8123"' in written and 'bind = "127.0.0.1:8123"' in written

    assert_one_line_error(bare("init-config"), 1, "circles.toml already exists", "edit it")
    # What `make run` runs: an existing file is kept, with or without the same address ...
    assert bare.ok("init-config", "--keep-existing") == "Using the settings in circles.toml.\n"
    assert bare.ok("init-config", "--keep-existing", "--address", "127.0.0.1:8123").startswith("Using")
    # ... but asking for another one is not silently ignored.
    line = assert_one_line_error(
        bare("init-config", "--keep-existing", "--address", "127.0.0.1:9000"), 1, "127.0.0.1:8123", "edit"
    )
    assert "127.0.0.1:9000" in line
    assert (bare.cwd / "circles.toml").read_text() == written


def test_init_config_writes_where_circles_config_points(bare):
    named = bare.cwd / "conf" / "site.toml"
    named.parent.mkdir()
    assert bare.ok("init-config", config=str(named)).startswith(f"Wrote {named}:")
    assert not (bare.cwd / "circles.toml").exists()
    assert effective(bare.ok("check-config", config=str(named)))["config_file"] == str(named)


@pytest.mark.parametrize("address", ["nonsense", "127.0.0.1:99999", "[::1]:8000"])
def test_init_config_with_a_bad_address(bare, address):
    assert_one_line_error(bare("init-config", "--address", address), 2, "--address", address, LOCAL_ADDRESS)
    assert bare.files() == []


# --- no instance here: refuse, create nothing ---------------------------------------

NEEDS_AN_INSTANCE = [
    ["user", "create", "alice", "--email", "alice@example.org", "--admin", "--password-stdin"],
    ["user", "create", "alice", "--email", "alice@example.org", "--admin"],  # refused before asking
    ["circle", "create", "rust_learners", "--name", "Rust learners", "--owner", "alice"],
    ["user", "list"],
    ["invite", "create"],
    ["keys", "rotate", "alice"],
    ["worker"],
    ["serve"],
]


@pytest.mark.parametrize("command", NEEDS_AN_INSTANCE, ids=lambda c: " ".join(c[:2]))
def test_a_command_without_a_database_creates_nothing(bare, command):
    """Before the fix, `user create` here made ./data/ with an empty database and
    a key, and said to run `circles migrate`: a second instance."""
    result = bare(*command, stdin=PASSWORD + "\n")
    line = assert_one_line_error(result, 2, "no database at data/circles.sqlite3", "circles.toml", "circles migrate")
    assert "built-in defaults" in line, "says that no settings file was found"
    assert bare.files() == []


def test_a_command_on_an_empty_database_says_it_is_empty(bare):
    (bare.cwd / "data").mkdir()
    sqlite3.connect(bare.cwd / "data" / "circles.sqlite3").close()  # what older versions left behind
    (bare.cwd / "circles.toml").write_text('scheme = "http"\n')
    result = bare("user", "create", "alice", "--email", "a@example.org", "--password-stdin", stdin=PASSWORD + "\n")
    line = assert_one_line_error(result, 2, "data/circles.sqlite3 is empty", "circles migrate")
    assert "settings: circles.toml" in line
    assert bare.files() == ["circles.toml", "data", "data/circles.sqlite3"]


# --- another instance's database: refuse to mint ids on the wrong domain -----------


@pytest.fixture
async def circles(database_url, tmp_path) -> Circles:
    return Circles(tmp_path, database_url)


async def test_commands_refuse_a_database_whose_ids_are_on_another_domain(circles):
    assert circles.create_user("alice", admin=True).code == 0  # ids on https://localhost:8000

    for settings in ({"domain": "127.0.0.1:8000"}, {"scheme": "http"}):
        result = circles(
            "user", "create", "bob", "--email", "bob@example.org", "--password-stdin",
            stdin=PASSWORD + "\n", **settings,
        )
        line = assert_one_line_error(
            result, 2, "belongs to https://localhost:8000", "https://localhost:8000/users/alice",
            "CIRCLES_DOMAIN and CIRCLES_SCHEME",
        )
        assert "CIRCLES_" + next(iter(settings)).upper() in line, "names the variable that differs from the file"
    circle = circles("circle", "create", "readers", "--name", "Readers", "--owner", "alice", domain="other.example")
    assert_one_line_error(circle, 2, "belongs to https://localhost:8000", "https://other.example")
    assert_one_line_error(circles("serve", domain="other.example"), 2, "belongs to https://localhost:8000")

    assert circles.ok("user", "list") == "alice\talice@example.org\tactive admin\n"
    assert circles.ok("circle", "list") == "No circles yet.\n"


async def test_serve_names_the_settings_a_second_shell_must_share(circles, tmp_path):
    """`circles serve` prints how to reach the same instance from another shell
    (here it then fails to bind, which is enough to read what it printed)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = circles("serve", "--bind", f"127.0.0.1:{port}", domain=f"127.0.0.1:{port}", scheme="http")
    assert result.code == 2, str(result)
    lines = result.out.splitlines()
    assert lines[0] == f"Circles is serving http://127.0.0.1:{port} on http://127.0.0.1:{port}"
    assert "CIRCLES_DOMAIN" in lines[1] and "from the environment" in lines[1]
    assert f"  cd {tmp_path}" in lines
    (note,) = [line for line in lines if line.startswith("  # and set ")]
    assert note.endswith(" as in this shell")
    named = note.removeprefix("  # and set ").removesuffix(" as in this shell").split(", ")
    assert sorted(named) == ["CIRCLES_DATABASE_URL", "CIRCLES_DATA_DIR", "CIRCLES_DOMAIN", "CIRCLES_SCHEME"]
    assert any(line.strip().startswith(f"{CIRCLES} user create NAME") for line in lines), result.out
    assert any(line.strip().startswith(f"{CIRCLES} circle create HANDLE") for line in lines), result.out


def test_a_worker_that_sends_email_needs_the_webs_secret_key(bare):
    # Its unsubscribe links are signed with it; with none they would be forgeable (or dead on the web).
    result = bare("worker", smtp_url="smtp://127.0.0.1:2525", email_from="circles@example.org")
    assert_one_line_error(result, 2, "secret key", "CIRCLES_SECRET_KEY")
    assert bare.files() == []
