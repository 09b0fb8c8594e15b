import pytest


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """Every integration test also fails if any of its requests ended in a 500."""
    yield
    assert not [r for r in caplog.records if r.name == "web.errors"], "a request ended in a 500"
