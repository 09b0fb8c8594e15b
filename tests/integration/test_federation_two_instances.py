"""Two Circles instances on loopback, with different host names and ports,
federating for real: WebFinger, signed deliveries, FEP-1b12 announces."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_a_member_elsewhere_joins_posts_replies_deletes_and_leaves(two_instances):
    a, b = two_instances
    servers = (a, b)
    b_domain = httpx.URL(b.base_url).netloc.decode()
    remote_circle = f"/c/rust@{b_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0, headers={"Accept": "application/activity+json"}) as b_ap,
    ):
        await sign_up(bea, "bea")
        redirected_to(
            await post_form(bea, "/circles/new", "/circles/new", handle="rust", name="Rust learners",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/rust",
        )
        # A thread that exists before anyone from A joins.
        response = await post_form(bea, "/c/rust/posts/new", "/c/rust/posts/new", title="Old thread", body="From before.")
        old_thread_path = redirected_to(response, re.compile(r"/posts/\d+"))
        await sign_up(ann, "ann")

        # Ann, on A, follows the circle on B by its handle: B accepts, she is a member there.
        response = await post_form(ann, "/circles", "/circles/follow", handle=f"@rust@{b_domain}")
        redirected_to(response, remote_circle)
        await eventually(lambda: page_has(ann, remote_circle, "You are a member"), "B accepting the follow", servers)
        group = (await b_ap.get("/c/rust")).json()
        assert group["type"] == "Group"
        assert (await b_ap.get(group["followers"])).json()["totalItems"] == 1
        assert "ann" in (await bea.get("/c/rust/members")).text

        # Bea posts on B; the circle announces it to A.
        response = await post_form(bea, "/c/rust/posts/new", "/c/rust/posts/new", title="Ownership week", body="Read chapter 4.")
        bea_post_path = redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(ann, remote_circle, "Ownership week"), "the announce reaching A", servers)

        # A reply on B to the old thread reaches A, which fetches the missing parent from B.
        response = await post_form(bea, old_thread_path, f"{old_thread_path}/reply", body="Still relevant!")
        assert response.status_code in (302, 303), response.text
        await eventually(lambda: page_has(ann, remote_circle, "Old thread"), "the missing parent fetched by A", servers)
        old_copy = re.search(r'href="(/posts/\d+)">Old thread', (await ann.get(remote_circle)).text)
        assert old_copy, (await ann.get(remote_circle)).text
        await eventually(lambda: page_has(ann, old_copy.group(1), "Still relevant!"), "the reply stored on A", servers)

        # Ann posts into the circle from A; B stores it and shows it.
        response = await post_form(ann, f"{remote_circle}/posts/new", f"{remote_circle}/posts/new",
                                   title="Hello from A", body="Glad to *join*.")
        ann_post_path = redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(bea, "/c/rust", "Hello from A"), "Ann's post reaching B", servers)

        # Ann replies, on A, to Bea's post; the reply lands in B's thread.
        circle_page = (await ann.get(remote_circle)).text
        local_copy = re.search(r'href="(/posts/\d+)">Ownership week', circle_page)
        assert local_copy, circle_page
        response = await post_form(ann, local_copy.group(1), f"{local_copy.group(1)}/reply", body="Borrowing is hard!")
        assert response.status_code in (302, 303), response.text
        await eventually(lambda: page_has(bea, bea_post_path, "Borrowing is hard!"), "Ann's reply reaching B's thread", servers)

        # Ann deletes her post; it disappears on B.
        response = await post_form(ann, ann_post_path, f"{ann_post_path}/delete", confirm="yes")
        assert response.status_code in (302, 303), response.text

        async def gone_on_b() -> bool:
            return not await page_has(bea, "/c/rust", "Hello from A")

        await eventually(gone_on_b, "the Delete reaching B", servers)

        # Ann leaves: B forgets her membership.
        response = await post_form(ann, remote_circle, f"{remote_circle}/leave", confirm="yes")
        redirected_to(response, remote_circle)

        async def left_on_b() -> bool:
            return (await b_ap.get(group["followers"])).json()["totalItems"] == 0

        await eventually(left_on_b, "the Undo reaching B", servers)
        assert "ann" not in (await bea.get("/c/rust/members")).text

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
