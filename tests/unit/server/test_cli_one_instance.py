"""The `circles` command and the server act on one instance: `init-config`
writes the settings every command in the folder reads.

Each `circles` run costs most of a second, so tests combine related cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import LOCAL_ADDRESS
from tests.unit.server.test_cli import (
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
