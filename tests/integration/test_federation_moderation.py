"""Moderation between two real Circles instances on loopback: a report
forwarded as a Flag lands in the other server's report queue, and a circle's
ban of a member elsewhere reaches their server as a Block."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_a_forwarded_report_and_a_ban_cross_servers(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    b_domain = httpx.URL(b.base_url).netloc.decode()
    remote_circle = f"/c/rust@{b_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as cy,
    ):
        await sign_up(bea, "bea")
        redirected_to(
            await post_form(bea, "/circles/new", "/circles/new", handle="rust", name="Rust learners",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/rust",
        )
        await sign_up(ann, "ann")
        await post_form(ann, "/circles", "/circles/follow", handle=f"@rust@{b_domain}")
        await eventually(lambda: page_has(ann, remote_circle, "You are a member"), "B accepting Ann", servers)

        # Cy posts on B; Ann, on A, reports the post and sends the report on to B.
        await sign_up(cy, "cy")
        redirected_to(await post_form(cy, "/c/rust", "/c/rust/join"), "/c/rust")
        response = await post_form(cy, "/c/rust/posts/new", "/c/rust/posts/new", title="Cheap pills", body="Buy now.")
        redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(ann, remote_circle, "Cheap pills"), "the announce reaching A", servers)
        copy = re.search(r'href="(/posts/\d+)">Cheap pills', (await ann.get(remote_circle)).text).group(1)
        form = (await ann.get(f"{copy}/report")).text
        assert f"Also send the report to their server ({b_domain})" in form
        response = await post_form(ann, f"{copy}/report", f"{copy}/report", category="spam",
                                   comment="Looks like an advert", forward="1")
        redirected_to(response, copy)
        # B stores the Flag as a report about its circle's post: Bea, its facilitator, sees it.
        await eventually(lambda: page_has(bea, "/c/rust/moderation", "Looks like an advert"), "the Flag reaching B", servers)
        assert "ann" not in (await bea.get("/c/rust/moderation")).text.split("Open reports")[1].split("Ban someone")[0]

        # Ann posts into the circle from A; then Bea bans her on B.
        response = await post_form(ann, f"{remote_circle}/posts/new", f"{remote_circle}/posts/new",
                                   title="Hello from A", body="Before the ban.")
        await eventually(lambda: page_has(bea, "/c/rust", "Hello from A"), "Ann's post reaching B", servers)
        page = (await bea.get("/c/rust/moderation")).text
        ann_id = re.search(rf'<option value="(\d+)">[^<]*\(@ann@{re.escape(a_domain)}\)</option>', page).group(1)
        response = await post_form(bea, "/c/rust/moderation", "/c/rust/moderation/ban", actor_id=ann_id,
                                   reason="Reporting in bad faith", confirm="yes")
        redirected_to(response, "/c/rust/moderation")
        assert "Reporting in bad faith" in (await bea.get("/c/rust/moderation/log")).text

        # The Block reaches A: Ann is no member there any more, and her next post is refused.
        await eventually(lambda: page_has(ann, remote_circle, "You are banned from this circle, so"), "the Block reaching A", servers)
        response = await post_form(ann, f"{remote_circle}/posts/new", f"{remote_circle}/posts/new",
                                   title="After the ban", body="Let me back in.")
        assert response.status_code == 403
        assert "After the ban" not in (await bea.get("/c/rust")).text
        assert "ann" not in (await bea.get("/c/rust/members")).text

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
