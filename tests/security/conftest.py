"""The integration fixtures (the real app, stub servers, a signing peer), and
their guard that no request ends in a 500, for the hostile-peer suite."""

from tests.integration.conftest import alice, bob, fed, no_server_errors, stub  # noqa: F401 (fixtures)
from tests.integration.test_inbox import peer  # noqa: F401 (a fixture)
