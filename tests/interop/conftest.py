import pytest

from tests.servers import start_server


@pytest.fixture
async def circles(database_url, tmp_path):
    """A real `circles serve` that may reach the loopback peers of these tests."""
    server = start_server(database_url, tmp_path / "circles", CIRCLES_ALLOW_PRIVATE_ADDRESSES="true")
    try:
        await server.wait_until_healthy()
        yield server
    finally:
        server.stop()
