"""A block between two real Circles instances on loopback: Ann on A blocks
Bea on B, who followed her. B hears the Block: the follow ends there too and
Bea cannot follow Ann again until Ann's Undo reaches B."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_a_block_reaches_the_other_server_and_its_undo_lifts_it(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    b_domain = httpx.URL(b.base_url).netloc.decode()
    ann_at_b = f"/people/ann@{a_domain}"
    bea_at_a = f"/people/bea@{b_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/search", "/search", handle=f"ann@{a_domain}"), ann_at_b)
        redirected_to(await post_form(bea, ann_at_b, f"{ann_at_b}/follow"), ann_at_b)
        await eventually(lambda: page_has(bea, ann_at_b, "You follow ann."), "A accepting Bea's follow", servers)
        assert await page_has(ann, "/users/ann", "1 follower")

        # Ann blocks Bea from Bea's page on A.
        page = (await ann.get(bea_at_a)).text
        block_path = re.search(r'action="(/people/\d+/block)"', page).group(1)
        redirected_to(await post_form(ann, bea_at_a, block_path, kind="block"), bea_at_a)
        assert await page_has(ann, "/users/ann", "0 followers")
        await eventually(lambda: page_has(bea, ann_at_b, ">Follow</button>"), "the Block reaching B", servers)

        refused = await post_form(bea, ann_at_b, f"{ann_at_b}/follow")
        assert refused.status_code == 403 and "ann has blocked you, so you cannot follow them." in refused.text

        # Ann lifts the block: B hears the Undo and Bea may follow again.
        redirected_to(await post_form(ann, bea_at_a, block_path, kind="none"), bea_at_a)

        async def bea_can_follow() -> bool:
            return (await post_form(bea, ann_at_b, f"{ann_at_b}/follow")).status_code == 302

        await eventually(bea_can_follow, "the Undo(Block) reaching B", servers)
        await eventually(lambda: page_has(bea, ann_at_b, "You follow ann."), "A accepting Bea again", servers)

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
