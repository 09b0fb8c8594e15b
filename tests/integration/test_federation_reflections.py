"""A reflection shared in a circle reaches its members on another instance,
as a post carrying #reflection hashtags; a private one stays home."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_a_shared_reflection_reaches_a_member_on_another_instance(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/study@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0, headers={"Accept": "application/activity+json"}) as a_ap,
    ):
        await sign_up(ann, "ann")
        redirected_to(
            await post_form(ann, "/circles/new", "/circles/new", handle="study", name="Study group",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/study",
        )
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@study@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting the follow", servers)

        # Ann keeps one reflection private and shares another, on A.
        new = "/c/study/reflections/new"
        redirected_to(await post_form(ann, new, new, body="Private musing", value_cycle="immediate"), "/c/study/reflections")
        redirected_to(await post_form(ann, new, new, body="Pairing made *borrowing* click",
                                      value_cycle="applied", share="on"), "/c/study/reflections")
        await eventually(lambda: page_has(bea, remote_circle, "Pairing made borrowing click"),
                         "the shared reflection reaching B", servers)
        assert "Private musing" not in (await bea.get(remote_circle)).text

        # On A, the post is served with its hashtags.
        post_path = re.search(r'href="(/posts/\d+)">\d+ repl', (await ann.get("/c/study/reflections")).text).group(1)
        document = (await a_ap.get(post_path)).json()
        assert [t["name"] for t in document["tag"]] == ["#reflection", "#appliedvalue"]
        assert document["audience"] == f"{a.base_url}/c/study"

        # Bea, a member from B, shares a reflection into A's circle from B.
        new_on_b = f"{remote_circle}/reflections/new"
        redirected_to(await post_form(bea, new_on_b, new_on_b, body="Reading together keeps me going", share="on"),
                      f"{remote_circle}/reflections")
        await eventually(lambda: page_has(ann, "/c/study", "Reading together keeps me going"),
                         "B's shared reflection reaching A", servers)

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
