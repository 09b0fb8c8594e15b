"""Edits between two Circles instances on loopback: each edit reaches the
other side as the author's Update, which keeps the earlier version in the
post's history there too."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_edits_travel_both_ways_and_keep_their_history(two_instances):
    a, b = two_instances
    servers = (a, b)
    b_domain = httpx.URL(b.base_url).netloc.decode()
    remote_circle = f"/c/rust@{b_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(bea, "bea")
        redirected_to(
            await post_form(bea, "/circles/new", "/circles/new", handle="rust", name="Rust learners",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/rust",
        )
        await sign_up(ann, "ann")
        await post_form(ann, "/circles", "/circles/follow", handle=f"@rust@{b_domain}")
        await eventually(lambda: page_has(ann, remote_circle, "You are a member"), "B accepting the follow", servers)

        # Bea, on B, asks; the circle announces it to A, where Ann answers.
        response = await post_form(bea, "/c/rust/posts/new", "/c/rust/posts/new", title="Lifetimes?", body="Help me.")
        bea_path = redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(ann, remote_circle, "Lifetimes?"), "the post reaching A", servers)
        ann_copy = re.search(r'href="(/posts/\d+)">Lifetimes\?', (await ann.get(remote_circle)).text).group(1)
        response = await post_form(ann, ann_copy, f"{ann_copy}/reply", body="Read chapter *ten*.")
        ann_reply_id = re.search(r"#post-(\d+)", response.headers["location"]).group(1)
        await eventually(lambda: page_has(bea, bea_path, "chapter <em>ten</em>"), "Ann's reply reaching B", servers)

        # Ann edits her reply on A: B shows the new words, marked edited, and
        # keeps the old ones for Bea, who facilitates the circle there.
        edit = f"/posts/{ann_reply_id}/edit"
        response = await post_form(ann, edit, edit, body="Read chapter **ten**, then ask again.")
        assert response.status_code in (302, 303), response.text
        await eventually(lambda: page_has(bea, bea_path, "chapter <strong>ten</strong>, then ask again"),
                         "Ann's edit reaching B", servers)
        thread_on_b = (await bea.get(bea_path)).text
        assert "Edited <time" in thread_on_b and "chapter <em>ten</em>" not in thread_on_b
        history_link = re.search(r'href="(/posts/\d+/history)"', thread_on_b)
        assert history_link, thread_on_b
        history = (await bea.get(history_link.group(1))).text
        assert "chapter <em>ten</em>" in history and "chapter <strong>ten</strong>" in history

        # Bea edits her question on B: A shows the new title and text.
        edit = f"{bea_path}/edit"
        response = await post_form(bea, edit, edit, title="Lifetimes, explained?", body="Help me, please.")
        assert response.status_code in (302, 303), response.text
        await eventually(lambda: page_has(ann, ann_copy, "Lifetimes, explained?"), "Bea's edit reaching A", servers)
        assert "Help me, please." in (await ann.get(ann_copy)).text
