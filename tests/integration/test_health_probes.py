"""/healthz says the process is alive (200 whatever the database does);
/readyz says it can serve: the database reachable and every migration applied
(200), else 503 naming what is missing."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg
import pytest

from models import db
from tests.conftest import POSTGRES_URL, _postgres_admin_url
from tests.migration_state import migrate_to, new_database


async def test_readyz_is_200_on_a_migrated_reachable_database(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ready", "database": True, "migrations": "current"}


async def test_readyz_is_503_naming_the_pending_migration(make_app, tmp_path):
    *earlier, last = db.migration_names()
    async with new_database(tmp_path, "behind") as url:
        await migrate_to(url, earlier[-1])
        await db.disconnect()
        await db.connect(url)
        try:
            client = make_app().test_client()
            response = await client.get("/readyz")
            assert response.status_code == 503
            assert await response.get_json() == {"status": "not ready", "database": True,
                                                 "migrations": f"pending: {last}"}
            assert (await client.get("/healthz")).status_code == 200  # alive all the same
        finally:
            await db.disconnect()


async def test_an_unreachable_database_is_alive_but_not_ready(make_app, tmp_path):
    await db.disconnect()
    await db.connect(f"sqlite://{tmp_path}/missing/dir/x.sqlite3")  # a database that cannot open
    client = make_app().test_client()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert await response.get_json() == {"status": "not ready", "database": False, "migrations": "unknown"}
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "degraded", "database": False}


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (CIRCLES_TEST_DATABASE_URL)")
async def test_a_database_that_goes_away_and_comes_back(make_app, make_database):
    """A served database stops taking connections (its open ones cut, as in a
    restart or failover): the process stays alive, is not ready, and is ready
    again once the database is back, without a restart."""
    url = await make_database("goes_away")
    name = urlsplit(url).path.lstrip("/")
    await db.disconnect()
    await db.connect(url)
    admin = await asyncpg.connect(_postgres_admin_url(POSTGRES_URL))
    try:
        client = make_app().test_client()
        assert (await client.get("/readyz")).status_code == 200
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)

        response = await client.get("/healthz")
        assert response.status_code == 200
        assert await response.get_json() == {"status": "degraded", "database": False}
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert await response.get_json() == {"status": "not ready", "database": False, "migrations": "unknown"}

        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        response = await client.get("/readyz")
        assert response.status_code == 200, await response.get_data(as_text=True)
        assert await response.get_json() == {"status": "ready", "database": True, "migrations": "current"}
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
        await db.disconnect()
