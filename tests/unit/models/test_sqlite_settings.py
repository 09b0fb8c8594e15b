"""SQLite is opened in WAL mode with synchronous=NORMAL (models/db.py): a
commit does not wait for the disk, which a fan-out's hundreds of small
writes felt (bench/fanout.py). An admin's own setting in the URL wins."""

from __future__ import annotations

import pytest
from tortoise import connections

from models import db
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="the synchronous pragma is SQLite's")


async def pragmas() -> tuple[str, int]:
    connection = connections.get("default")
    journal = (await connection.execute_query_dict("PRAGMA journal_mode"))[0]["journal_mode"]
    return journal, (await connection.execute_query_dict("PRAGMA synchronous"))[0]["synchronous"]


async def test_the_database_is_opened_in_wal_mode_with_normal_sync(database):
    assert await pragmas() == ("wal", 1)  # 1 is NORMAL, 2 FULL (SQLite's own default)


async def test_a_synchronous_setting_in_the_url_is_kept(tmp_path):
    await db.connect(f"sqlite://{tmp_path / 'full.sqlite3'}?synchronous=FULL")
    try:
        assert await pragmas() == ("wal", 2)
    finally:
        await db.disconnect()
