"""Two Circles instances on loopback: a member on B who joined a circle on A
reshares a resource from a circle on B into it; it appears in A's library,
and a like on A comes back to B."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up

LINK = "https://doc.rust-lang.org/book/"


async def test_a_reshare_from_elsewhere_reaches_the_circle_library(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/python@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        redirected_to(
            await post_form(ann, "/circles/new", "/circles/new", handle="python", name="Python learners",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/python",
        )
        await sign_up(bea, "bea")
        redirected_to(
            await post_form(bea, "/circles/new", "/circles/new", handle="readers", name="Readers",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/readers",
        )
        response = await post_form(
            bea, "/c/readers/resources/new", "/c/readers/resources/new", title="The Rust book", link=LINK,
            description="Chapter 4 on *ownership*.", licence="cc-by", level="beginner", tags="rust, ownership",
        )
        resource_page = redirected_to(response, re.compile(r"/posts/\d+"))

        # Bea, on B, joins the circle on A.
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@python@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting the follow", servers)

        # She reshares her resource into it from its page on B.
        page = (await bea.get(resource_page)).text
        assert f'<option value="python@{a_domain}">Python learners</option>' in page, page
        resource_id = re.search(r'action="/resources/(\d+)/reshare"', page).group(1)
        response = await post_form(bea, resource_page, f"/resources/{resource_id}/reshare", circle=f"python@{a_domain}")
        copy_path = redirected_to(response, re.compile(r"/posts/\d+"))
        assert "Shared from" in (await bea.get(copy_path)).text

        # A stores it as a resource of its circle: it shows in A's library, tags and link kept.
        await eventually(lambda: page_has(ann, "/c/python/resources", "The Rust book"), "the reshare reaching A", servers)
        library = (await ann.get("/c/python/resources?tag=ownership")).text
        assert "The Rust book" in library and f'href="{LINK}" rel="noopener nofollow ugc"' in library
        a_copy = re.search(r'<h3><a href="(/posts/\d+)">The Rust book', library).group(1)

        # Ann finds it helpful on A; the Like reaches Bea's post on B.
        response = await post_form(ann, a_copy, f"{a_copy}/like", next="/c/python/resources")
        redirected_to(response, "/c/python/resources")
        assert "Helpful ✓ (1)" in (await ann.get("/c/python/resources")).text
        await eventually(lambda: page_has(bea, f"{remote_circle}/resources", "1 found it helpful"),
                         "the Like reaching B", servers)

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
