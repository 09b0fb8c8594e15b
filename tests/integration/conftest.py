import pytest

from tests.servers import start_server


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """Every integration test also fails if any of its requests ended in a 500."""
    yield
    assert not [r for r in caplog.records if r.name == "web.errors"], "a request ended in a 500"


@pytest.fixture
async def two_instances(make_database, tmp_path):
    a = start_server(await make_database("a"), tmp_path / "a", host="127.0.0.1", CIRCLES_ALLOW_PRIVATE_ADDRESSES="true")
    b = start_server(await make_database("b"), tmp_path / "b", host="127.0.0.2", CIRCLES_ALLOW_PRIVATE_ADDRESSES="true")
    try:
        await a.wait_until_healthy()
        await b.wait_until_healthy()
        yield a, b
    finally:
        a.stop()
        b.stop()
