"""Speaking to the in-process app as a browser does: forms with this
session's CSRF token, and logged-in clients."""

from __future__ import annotations

from tests.conftest import csrf_from
from tests.factories import PASSWORD


async def text(response) -> str:
    return await response.get_data(as_text=True)


async def submit(client, path: str, *, address: str | None = None, **fields):
    """POST a form with the CSRF token of this client's session; `address`
    sets the client's IP address (for rate limits)."""
    token = csrf_from(await text(await client.get("/login")))
    extra = {"scope_base": {"client": (address, 40000)}} if address else {}
    return await client.post(path, form={"csrf_token": token, **fields}, **extra)


async def logged_in(app, account):
    """A new client of `app`, logged in as `account`."""
    client = app.test_client()
    response = await submit(client, "/login", login=account.actor.username, password=PASSWORD)
    assert response.status_code == 302
    return client


OUR_SCRIPT = '<script src="/static/live.js" defer></script>'


def without_our_script(page: str) -> str:
    """The page without the one script of our own (web/static/live.js, on signed-in
    pages), for tests that no script got in."""
    return page.replace(OUR_SCRIPT, "", 1)
