"""Schemathesis against a served Circles: every operation that /api/openapi.json
describes gets generated and malformed input (path ids, query and form
parameters), with a signed-in person's token, and must never
answer 5xx. Operations run in turns until the fuzz budget is spent (at least
two turns: one of values the description allows, one of values it does not),
so a slow machine still covers each of them both ways."""

from __future__ import annotations

import time

import httpx
import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.fuzz.conftest import budget
from tests.servers import oauth_token, sign_up, start_server

# Turns: each operation gets this many examples per turn.
PER_TURN = settings(max_examples=8, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
async def served(database_url, tmp_path):
    # Without rate limits: the API allows 300 requests per token in 5 minutes, and the fuzzer
    # sends thousands; past the limit every answer would be a 429 and nothing else tested.
    server = start_server(database_url, tmp_path / "circles", CIRCLES_RATE_LIMITS="false")
    try:
        await server.wait_until_healthy()
        yield server
    finally:
        server.stop()


async def _signed_in(base_url: str) -> str:
    """Sign up on the web and let an app in; the app's access token."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as browser:
        await sign_up(browser, "fuzzer")
        token = await oauth_token(browser)
    async with httpx.AsyncClient(base_url=base_url, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as app:
        me = (await app.get("/api/v1/accounts/verify_credentials")).json()
        assert me["username"] == "fuzzer", me
    return token


def _fuzz(operation, mode: GenerationMode, base_url: str, session: requests.Session, failures: list[str]) -> None:
    @PER_TURN
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=10)
        if response.status_code >= 500:
            body = case.body if isinstance(case.body, (dict, list, str)) else ""
            failures.append(f"{case.method} {case.formatted_path} {case.query or ''} {body}"
                            f" → {response.status_code}: {response.text[:300]}")

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid input can be made"
        # nothing to get wrong: an operation without parameters has no invalid input


async def test_no_api_input_makes_a_server_error(served):
    token = await _signed_in(served.base_url)
    description = httpx.get(f"{served.base_url}/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(description)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the description lists the API's operations"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    failures: list[str] = []
    deadline, turns = time.monotonic() + budget() * 4, 0
    while turns < 2 or time.monotonic() < deadline:
        # Turns alternate: values the description allows, then values it does not (a letter for a number).
        mode = GenerationMode.POSITIVE if turns % 2 == 0 else GenerationMode.NEGATIVE
        for operation in operations:
            _fuzz(operation, mode, served.base_url, session, failures)
        turns += 1
    print(f"{len(operations)} operations, {turns} turn(s) of {PER_TURN.max_examples} examples each")
    assert not failures, "\n".join(failures[:20])
    assert "Traceback" not in served.output(tail=10**7), served.output()
