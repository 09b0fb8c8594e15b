"""Two Circles instances on loopback: a person on A follows a person on B by
handle through A's web UI, sees B's posts on A's home and on B's person's
page at A, and unfollows; a profile edit on A reaches B as Update(Person)."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_people_follow_each_other_across_servers(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    b_domain = httpx.URL(b.base_url).netloc.decode()
    bea_at_a = f"/people/bea@{b_domain}"
    ann_at_b = f"/people/ann@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        await sign_up(bea, "bea")
        redirected_to(
            await post_form(bea, "/circles/new", "/circles/new", handle="rust", name="Rust learners",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/rust",
        )

        # Ann finds Bea by handle on A and follows her: "Requested" until B accepts.
        redirected_to(await post_form(ann, "/search", "/search", handle=f"@bea@{b_domain}"), bea_at_a)
        redirected_to(await post_form(ann, bea_at_a, f"{bea_at_a}/follow"), bea_at_a)
        await eventually(lambda: page_has(ann, bea_at_a, "You follow bea."), "B accepting Ann's follow", servers)
        assert await page_has(bea, "/users/bea", "1 follower")

        # Bea posts in her circle on B: it reaches Ann's home and Bea's page on A.
        response = await post_form(bea, "/c/rust/posts/new", "/c/rust/posts/new",
                                   title="Lifetimes explained", body="A *short* note. <script>alert(1)</script>")
        redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(ann, "/", "Lifetimes explained"), "Bea's post reaching Ann's home", servers)
        home = (await ann.get("/")).text
        assert "From people you follow" in home and "<script>alert" not in home
        bea_page = (await ann.get(bea_at_a)).text
        assert "Lifetimes explained" in bea_page and "<em>short</em>" in bea_page and "<script>alert" not in bea_page

        # Bea follows Ann back from B; then Ann renames herself on A: B hears of it.
        redirected_to(await post_form(bea, "/search", "/search", handle=f"ann@{a_domain}"), ann_at_b)
        redirected_to(await post_form(bea, ann_at_b, f"{ann_at_b}/follow"), ann_at_b)
        await eventually(lambda: page_has(bea, ann_at_b, "You follow ann."), "A accepting Bea's follow", servers)
        response = await post_form(ann, "/settings", "/settings", display_name="Ann from A",
                                   bio="Learning **Rust**.", language="")
        redirected_to(response, "/settings")
        await eventually(lambda: page_has(bea, ann_at_b, "<h1>Ann from A</h1>"), "the Update(Person) reaching B", servers)
        assert "<strong>Rust</strong>" in (await bea.get(ann_at_b)).text

        # Ann unfollows Bea: B forgets the follow.
        redirected_to(await post_form(ann, bea_at_a, f"{bea_at_a}/unfollow"), bea_at_a)
        assert ">Follow</button>" in (await ann.get(bea_at_a)).text
        await eventually(lambda: page_has(bea, "/users/bea", "0 followers"), "the Undo(Follow) reaching B", servers)

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
