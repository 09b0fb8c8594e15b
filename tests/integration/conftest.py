from collections.abc import Callable

import pytest

from federation.runtime import Federation
from tests import factories
from tests.integration.stubs import Answer, Received, StubInbox
from tests.servers import two_served_instances


@pytest.fixture
async def alice(instance):
    return await factories.account(instance, "alice")


@pytest.fixture
async def bob(instance):
    return await factories.account(instance, "bob")


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    """Every integration test also fails if any of its requests ended in a 500."""
    yield
    assert not [r for r in caplog.records if r.name == "web.errors"], "a request ended in a 500"


@pytest.fixture
async def two_instances(make_database, tmp_path):
    async with two_served_instances(make_database, tmp_path) as servers:
        yield servers


@pytest.fixture
async def fed(database, instance, settings):
    federation = Federation.start(instance, allow_private_addresses=settings.allow_private_addresses, version="test")
    yield federation
    await federation.close()


@pytest.fixture
def stub_port():
    """The port of a test's n-th stub server: any free one (tests/security
    overrides it with the only ports its guard allows)."""
    return lambda n: 0


@pytest.fixture
async def stub(stub_port):
    """A factory of started stub inboxes, all closed at the end of the test."""
    made: list[StubInbox] = []

    async def make(respond: Callable[[Received], Answer] = lambda request: 202) -> StubInbox:
        inbox = await StubInbox(respond=respond, port=stub_port(len(made))).start()
        made.append(inbox)
        return inbox

    yield make
    for inbox in made:
        await inbox.close()
