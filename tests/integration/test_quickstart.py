"""The README's quick start ("The two commands"), run as a new user would.

The commands are read out of README.md's code blocks, so this test fails when
the README and the behaviour part ways. `make run` runs for real, in a fresh
folder holding only the Makefile and a `.venv` link to this test run's
environment (`-o .venv/.installed`: nothing is installed); the port is chosen
with the `ADDRESS=` override the README documents. The second-shell commands
run with no CIRCLES_* variables, as in a new shell, and the password is typed
into a terminal when asked. Then, over HTTP, WebFinger must find the admin and
the circle with ids on the served domain and scheme, and there must be one
database.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import PASSWORD, Server, free_port

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
START_TIMEOUT = 90.0  # make run also migrates a new database
COMMAND_TIMEOUT = 60.0
# Make variables and settings of the shell this test runs in (`make test` sets
# MAKEFLAGS) that a new user's shell does not have.
NOT_IN_A_NEW_SHELL = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "ADDRESS", "VENV", "BIN", "PYTHON")

pytestmark = [
    pytest.mark.skipif(shutil.which("make") is None, reason="the quick start needs make"),
    pytest.mark.skipif(not (VENV / "bin" / "circles").is_file(), reason=f"no circles in {VENV}/bin (not a venv)"),
]


def quick_start() -> tuple[list[str], list[str], list[list[str]]]:
    """(`make run` as written, the documented way to choose its address, the
    second-shell commands) from README.md's "The two commands"."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## The two commands\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    make_run = [shlex.split(line, comments=True) for line in blocks[0].splitlines() if line.startswith("make run")]
    assert len(make_run) == 1, blocks[0]
    with_address = re.findall(r"`(make run ADDRESS=\S+)`", section)
    assert with_address, "the README says how to serve on another address"
    second_shell = [shlex.split(line, comments=True) for line in blocks[1].splitlines() if line.strip()]
    return make_run[0], shlex.split(with_address[0]), second_shell


def new_shell_environment() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_") and k not in NOT_IN_A_NEW_SHELL
    }


def run_in_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run a command on a new terminal, typing PASSWORD at each password prompt.
    Its own session, so it cannot open the terminal pytest may run in."""
    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=child_fd, stdout=child_fd, stderr=child_fd, start_new_session=True
    )
    os.close(child_fd)
    output, answered = b"", 0
    deadline = time.monotonic() + COMMAND_TIMEOUT
    try:
        while True:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"{shlex.join(argv)} did not finish:\n{output.decode(errors='replace')}")
            ready, _, _ = select.select([main_fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # EIO: every process on the terminal has closed it
                break
            if not chunk:
                break
            output += chunk
            # getpass turns echo off (dropping anything typed before) and only then
            # writes the prompt: answer once the whole prompt is there.
            prompts = len(re.findall(rb"(?:Password|Repeat for confirmation): ", output))
            for _ in range(prompts - answered):
                os.write(main_fd, PASSWORD.encode() + b"\n")
            answered = prompts
        code = process.wait(COMMAND_TIMEOUT)
    finally:
        os.close(main_fd)
    text = output.decode(errors="replace").replace("\r\n", "\n")
    assert PASSWORD not in text, "the password was echoed"
    return code, text


def stop_group(process: subprocess.Popen) -> None:
    """Stop make and the server it started (both in the process's own group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
            return
        except subprocess.TimeoutExpired:
            continue


def database_files(folder: Path) -> list[Path]:
    found = []
    for root, _dirs, files in os.walk(folder):  # does not follow the .venv link
        found += [Path(root, name) for name in files if name.endswith((".sqlite3", ".sqlite", ".db"))]
    return found


async def test_the_readme_quick_start_as_written(tmp_path):
    make_run, with_address, second_shell = quick_start()
    port = free_port()
    domain = f"127.0.0.1:{port}"
    base_url = f"http://{domain}"
    assert make_run == ["make", "run"]
    assert with_address[:2] == make_run and with_address[2].startswith("ADDRESS=")

    folder = tmp_path / "circles"
    folder.mkdir()
    shutil.copy(REPO / "Makefile", folder / "Makefile")
    (folder / ".venv").symlink_to(VENV, target_is_directory=True)
    env = new_shell_environment()

    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "-o", ".venv/.installed", *make_run[1:], f"ADDRESS={domain}"],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        await Server(make, log, base_url).wait_until_healthy()
        printed = log.read_text(errors="replace")
        assert f"Circles is serving {base_url} on {base_url}" in printed, printed
        assert f"Wrote circles.toml: serve on {base_url}" in printed, printed
        assert "Settings: circles.toml." in printed, printed
        assert f"  cd {shlex.quote(str(folder))}" in printed, printed
        hint = [line.strip() for line in printed.splitlines() if line.startswith("  .venv/bin/circles ")]
        # The hint and the README give the same commands (with NAME for alice).
        assert [shlex.split(line)[:3] for line in hint] == [argv[:3] for argv in second_shell], printed

        outputs = []
        for argv in second_shell:
            code, output = run_in_terminal(argv, folder, env)
            assert code == 0, f"{shlex.join(argv)} exited with {code}:\n{output}"
            outputs.append(output)
        admin, handle = second_shell[0][3], second_shell[1][3]  # whatever names the README uses
        assert f"Created admin @{admin}@{domain}." in outputs[0], outputs[0]
        assert f"Created circle @{handle}@{domain} " in outputs[1], outputs[1]

        with httpx.Client(base_url=base_url, timeout=10.0) as client:
            for name, path in ((admin, f"/users/{admin}"), (handle, f"/c/{handle}")):
                response = client.get("/.well-known/webfinger", params={"resource": f"acct:{name}@{domain}"})
                assert response.status_code == 200, f"{name}: {response.status_code} {response.text}"
                body = response.json()
                assert body["subject"] == f"acct:{name}@{domain}"
                selves = {link["href"] for link in body["links"] if link["rel"] == "self"}
                assert selves == {base_url + path}, body
                actor = client.get(path, headers={"Accept": "application/activity+json"})
                assert actor.status_code == 200, f"{path}: {actor.status_code}"
                assert actor.json()["id"] == base_url + path
    finally:
        stop_group(make)

    assert database_files(folder) == [folder / "data" / "circles.sqlite3"]
    assert sorted(p.name for p in folder.iterdir()) == [".venv", "Makefile", "circles.toml", "data"]
