"""Helpers for tests that run two real Circles instances on loopback
(the `two_instances` fixture lives in tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.servers import csrf

WAIT = 20.0  # seconds a federated change may take to arrive


async def eventually(check, what: str, servers) -> None:
    """Poll `check()` until it is true, or fail with both servers' logs."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    logs = "\n\n".join(f"--- {s.base_url}\n{s.output()}" for s in servers)
    pytest.fail(f"{what} did not happen within {WAIT} s\n{logs}")


async def page_has(client: httpx.AsyncClient, path: str, text: str) -> bool:
    response = await client.get(path)
    return response.status_code == 200 and text in response.text


async def post_form(client: httpx.AsyncClient, form_page: str, action: str, **fields) -> httpx.Response:
    token = csrf(await client.get(form_page))
    return await client.post(action, data={"csrf_token": token, **fields})
