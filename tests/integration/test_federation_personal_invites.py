"""An invitation by handle between two real Circles instances on loopback:
Ann's invite-only circle on A invites Bea on B. Bea hears of it on B and
joins from there; Cai, on B too but not invited, is refused."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_someone_on_another_server_is_invited_and_joins_an_invite_only_circle(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    b_domain = httpx.URL(b.base_url).netloc.decode()
    remote_circle = f"/c/closed@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as cai,
    ):
        await sign_up(ann, "ann")
        await sign_up(bea, "bea")
        await sign_up(cai, "cai")
        redirected_to(await post_form(ann, "/circles/new", "/circles/new", handle="closed", name="Closed study",
                                      join_mode="invite"), "/c/closed")
        response = await post_form(ann, "/c/closed/invites", "/c/closed/invites/person", handle=f"@bea@{b_domain}")
        redirected_to(response, "/c/closed/invites")
        assert "their server, " in (await ann.get("/c/closed/invites")).text

        await eventually(lambda: page_has(bea, "/notifications", "ann invites you to join Closed study"),
                         "the Invite reaching Bea on B", servers)
        link = re.search(r'href="(/notifications/\d+/open)"', (await bea.get("/notifications")).text).group(1)
        assert (await bea.get(link)).headers["location"] == remote_circle  # opening it leads to the circle

        # Cai was not invited: A refuses his request to join.
        redirected_to(await post_form(cai, "/circles", "/circles/follow", handle=f"@closed@{a_domain}"), remote_circle)
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@closed@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting Bea", servers)
        await eventually(lambda: page_has(ann, "/c/closed/members", "bea"), "Bea among the members on A", servers)
        members = (await ann.get("/c/closed/members")).text
        assert "cai" not in members
        assert "You are a member" not in (await cai.get(remote_circle)).text

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
