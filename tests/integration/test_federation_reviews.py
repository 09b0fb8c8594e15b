"""Peer review across two instances: work shared in a circle is found by a
member elsewhere, whose feedback reaches the author, who marks it helpful."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_feedback_from_elsewhere_reaches_the_author(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/writers@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        redirected_to(await post_form(ann, "/circles/new", "/circles/new", handle="writers", name="Writers",
                                      join_mode="open"), "/c/writers")
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@writers@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting Bea", servers)

        response = await post_form(ann, "/c/writers/reviews/new", "/c/writers/reviews/new",
                                   title="Chapter one draft", body="Does it hook you?")
        work = redirected_to(response, re.compile(r"/posts/\d+"))
        # B knows it as work shared for review (#peerreview), and offers the feedback form.
        await eventually(lambda: page_has(bea, f"{remote_circle}/reviews", "Chapter one draft"),
                         "the review request reaching B", servers)
        copy = re.search(r'href="(/posts/\d+)">Chapter one draft', (await bea.get(f"{remote_circle}/reviews")).text)
        assert "Give feedback" in (await bea.get(copy.group(1))).text
        response = await post_form(bea, copy.group(1), f"{copy.group(1)}/feedback",
                                   works="The first line!", suggestions="Name the town.")
        assert response.status_code == 302, response.text

        await eventually(lambda: page_has(ann, work, "Name the town."), "the feedback reaching A", servers)
        page = (await ann.get(work)).text
        reply = re.search(r'action="/posts/(\d+)/helpful"', page)
        response = await post_form(ann, work, f"/posts/{reply.group(1)}/helpful", helpful="1")
        assert response.status_code == 302
        assert "The author found this helpful" in (await ann.get(work)).text
