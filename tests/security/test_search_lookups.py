"""Looking up a web address typed on the search page (web/html/people.py,
`_find_address`) goes through the same private-address guard as every other
fetch: a private address is refused, and the canary (conftest) proves
nothing connected to it."""

from __future__ import annotations

from models.actors import Actor
from tests.integration.webforms import logged_in, submit, text


async def test_a_private_address_typed_in_search_is_never_fetched(app, alice, canary, canary6):
    client = await logged_in(app, alice)
    for address in (canary.url("/users/mallory"), canary6.url("/notes/1"), "http://169.254.169.254/latest/meta-data/",
                    f"http://localhost:{canary.port}/users/mallory", "http://10.0.0.1/users/x"):
        response = await submit(client, "/search", handle=address)
        assert response.status_code == 400, address
        assert "Could not reach" in await text(response)
    assert not await Actor.filter(local=False).exists()
