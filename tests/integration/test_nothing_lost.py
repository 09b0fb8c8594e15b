"""Nothing lost when parts fail: a database connection killed in the middle
of a request's write is a 503 with Retry-After, leaves nothing half-written,
and the next request works without a restart (PostgreSQL: SQLite has no
connection to lose)."""

from __future__ import annotations

import pytest
from tortoise import connections

from models.circles import Circle
from models.federation import OutboxEvent
from models.posts import Post
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.integration.webforms import logged_in, submit

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs PostgreSQL (CIRCLES_TEST_DATABASE_URL): SQLite has no connection to lose"
)


async def test_a_connection_killed_mid_write_is_a_503_and_nothing_half_written(app, instance, alice, monkeypatch):
    circle = await factories.circle(instance, alice, "study")
    client = await logged_in(app, alice)
    write_event = OutboxEvent.create.__func__

    async def killed_midway(cls, **fields):
        # The post row is written in this transaction; now the server ends this very connection.
        await connections.get("default").execute_query("SELECT pg_terminate_backend(pg_backend_pid())")
        return await write_event(cls, **fields)

    monkeypatch.setattr(OutboxEvent, "create", classmethod(killed_midway))
    response = await submit(client, "/c/study/posts/new", title="Half", body="Written halfway")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "Nothing you sent was saved" in (await response.get_data(as_text=True))
    monkeypatch.undo()

    # Nothing of the post stayed, and the pool reconnects for the next request.
    assert not await Post.filter(title="Half").exists()
    assert (await Circle.get(id=circle.id)).post_count == 0
    response = await submit(client, "/c/study/posts/new", title="Whole", body="Written at once")
    assert response.status_code == 302
    post = await Post.get(title="Whole")
    assert await OutboxEvent.filter(kind="post.created", subject_id=post.id).exists()
