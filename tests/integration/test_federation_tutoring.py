"""Tutoring between two real Circles instances: a member of a circle on A whose
account is on B lists skills from B, is paired from A, and the two talk
through each side's web UI. The messages are direct Notes between the two
people alone, never on a circle's or a public page."""

from __future__ import annotations

import json
import re
import sqlite3

import asyncpg
import httpx
import pytest

from federation import vocab
from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up, start_server, two_peer_addresses

OPENING = "I can help you with “python”"


async def _rows(database_url: str, sql: str) -> list[tuple]:
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url.removeprefix("sqlite://")) as connection:
            return connection.execute(sql).fetchall()
    connection = await asyncpg.connect(database_url)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture
async def two_with_databases(make_database, tmp_path):
    """Like `two_instances`, with each one's database URL (to read what was sent)."""
    urls = (await make_database("a"), await make_database("b"))
    port_a, port_b, peers = two_peer_addresses()
    a = start_server(urls[0], tmp_path / "a", host="127.0.0.1", port=port_a, CIRCLES_ALLOW_PRIVATE_ADDRESSES=peers)
    b = start_server(urls[1], tmp_path / "b", host="127.0.0.2", port=port_b, CIRCLES_ALLOW_PRIVATE_ADDRESSES=peers)
    try:
        await a.wait_until_healthy()
        await b.wait_until_healthy()
        yield (a, urls[0]), (b, urls[1])
    finally:
        a.stop()
        b.stop()


async def test_a_member_on_another_instance_is_paired_and_both_talk_through_their_pages(two_with_databases):
    (a, a_db), (b, b_db) = two_with_databases
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/study@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as carl,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as visitor_b,
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as visitor_a,
    ):
        await sign_up(ann, "ann")
        redirected_to(
            await post_form(ann, "/circles/new", "/circles/new", handle="study", name="Study group",
                            join_mode="open", language="en", timezone="UTC"),
            "/c/study",
        )
        redirected_to(await post_form(ann, "/c/study/tutoring", "/c/study/tutoring/skills", offers="Python", wants=""),
                      "/c/study/tutoring")
        await sign_up(carl, "carl")
        await post_form(carl, "/c/study", "/c/study/join")
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@study@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting the follow", servers)

        # Bea lists her skills on B; B sends them to the circle on A as a direct message.
        tutoring_b = f"{remote_circle}/tutoring"
        saved = await post_form(bea, tutoring_b, f"{tutoring_b}/skills", offers="", wants="python")
        redirected_to(saved, tutoring_b)
        await eventually(lambda: page_has(ann, "/c/study/tutoring", "would like help with <strong>python</strong>"),
                         "bea's skills reaching A", servers)
        page = (await ann.get("/c/study/tutoring")).text
        assert "bea is on another server" in page and "the admins of that server can read them" in page
        bea_on_a = re.search(r'name="other" value="(\d+)"', page).group(1)

        # Ann offers help from A: the opening message goes to bea alone.
        opened = await post_form(ann, "/c/study/tutoring", "/c/study/tutoring/open", other=bea_on_a, skill="python",
                                 role="offer")
        thread_a = redirected_to(opened, re.compile(r"/tutoring/\d+$"))
        thread_a = httpx.URL(thread_a).path
        assert "Waiting for a reply: bea accepts the pairing by replying." in (await ann.get(thread_a)).text

        await eventually(lambda: page_has(bea, tutoring_b, "new: reply to accept"), "the pairing reaching B", servers)
        thread_b = re.search(r'href="(/tutoring/\d+)"', (await bea.get(tutoring_b)).text).group(1)
        page = (await bea.get(thread_b)).text
        assert OPENING in page and "ann opened this pairing from their server. Reply to accept it." in page
        assert "python: ann helps you" in page

        # What A sent: one Create(Note) to bea's own inbox, for her alone.
        deliveries = [(inbox, _json(payload)) for inbox, payload in
                      await _rows(a_db, "SELECT inbox_url, payload FROM deliveries")
                      if _json(payload).get("object", {}).get("tutoring")]
        assert len(deliveries) == 1
        inbox, create = deliveries[0]
        bea_uri = f"{b.base_url}/users/bea"
        assert inbox == f"{bea_uri}/inbox"
        for doc in (create, create["object"]):
            assert doc["to"] == [bea_uri] and doc["cc"] == []
            assert not set(doc["to"]) & vocab.PUBLIC_ALIASES and "audience" not in doc
        assert create["object"]["tag"] == [{"type": "Mention", "href": bea_uri, "name": f"@bea@{httpx.URL(b.base_url).netloc.decode()}"}]

        # Nobody else sees it: not the circle's pages on either side, not a third member, not B's visitors.
        for client, path in ((bea, remote_circle), (visitor_b, "/"), (visitor_b, remote_circle),
                             (ann, "/c/study"), (visitor_a, "/c/study"), (carl, "/c/study")):
            assert "help you with" not in (await client.get(path)).text, path
        assert (await carl.get(thread_a)).status_code == 404
        assert not await _rows(b_db, "SELECT id FROM posts WHERE content LIKE '%help you with%'")

        # Bea replies on B; it reaches ann's thread on A, and accepts the pairing.
        redirected_to(await post_form(bea, thread_b, f"{thread_b}/messages", body="Yes please, *thank you*!"),
                      re.compile(re.escape(thread_b) + "#reply"))
        assert "new: reply to accept" not in (await bea.get(tutoring_b)).text
        await eventually(lambda: page_has(ann, thread_a, "Yes please, <em>thank you</em>!"), "bea's reply on A", servers)
        assert "Waiting for a reply" not in (await ann.get(thread_a)).text

        # Ann answers on A; it reaches bea's thread on B.
        await post_form(ann, thread_a, f"{thread_a}/messages", body="Great: Tuesday at five?")
        await eventually(lambda: page_has(bea, thread_b, "Great: Tuesday at five?"), "ann's answer on B", servers)

        for client, path in ((ann, "/c/study"), (carl, "/c/study"), (bea, remote_circle), (visitor_b, remote_circle)):
            text = (await client.get(path)).text
            assert "Yes please" not in text and "Tuesday at five" not in text, path
        assert not await _rows(a_db, "SELECT id FROM posts WHERE content LIKE '%Yes please%'")

        # Bea closes the pairing on B: ann gets her last message, and it is closed on A too.
        await post_form(bea, thread_b, f"{thread_b}/close")
        assert "This pairing was closed" in (await bea.get(thread_b)).text
        await eventually(lambda: page_has(ann, thread_a, "This pairing was closed"), "the closing reaching A", servers)
        assert "closed our tutoring pairing for “python”" in (await ann.get(thread_a)).text

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
