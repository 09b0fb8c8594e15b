"""npm packages that tests need (a Fedify peer, axe-core): installed with
`npm ci` from a committed package-lock.json, only when node_modules does not
already hold exactly what the lock pins. Without node/npm the test is skipped
with the reason printed; any npm failure fails it."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path

import pytest

NPM_TIMEOUT = 300


def _versions(packages: dict) -> dict[str, str | None]:
    return {path: entry.get("version") for path, entry in packages.items() if path}


def installed_matches_lock(folder: Path, required: Path) -> bool:
    """Whether folder/node_modules holds exactly what package-lock.json pins
    (npm writes node_modules/.package-lock.json on every install) and the
    file the test runs (`required`) is there."""
    hidden = folder / "node_modules" / ".package-lock.json"
    if not hidden.exists() or not required.exists():
        return False
    wanted = json.loads((folder / "package-lock.json").read_text())["packages"]
    have = json.loads(hidden.read_text())["packages"]
    return _versions(wanted) == _versions(have)


def ensure_npm_packages(folder: Path, required: Path, *, needed_by: str) -> None:
    """`npm ci` in `folder` unless its node_modules already matches the lock."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = ", ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        reason = f"{needed_by} needs node and npm on PATH ({missing} missing)"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    # .ci/run runs the SQLite and PostgreSQL suites at once in one checkout: one installs, the other waits.
    with (folder / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(folder, required, npm)


def _install(folder: Path, required: Path, npm: str) -> None:
    if installed_matches_lock(folder, required):
        return
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=False,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=NPM_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`npm ci` in {folder} took more than {NPM_TIMEOUT} s")
    if result.returncode != 0:
        pytest.fail(f"`npm ci` in {folder} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    if not installed_matches_lock(folder, required):
        pytest.fail(f"`npm ci` in {folder} did not install what package-lock.json pins")
