"""Sister circles across two real instances: a circle on A follows a circle on
B by its handle; B accepts the circle as a sister (no member); B's posts of
the chosen kinds show in the sister feed on A."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_a_circle_follows_a_sister_elsewhere_and_reads_its_questions(two_instances):
    a, b = two_instances
    servers = (a, b)
    b_domain = httpx.URL(b.base_url).netloc.decode()
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles/new", "/circles/new", handle="lyon", name="Lyon gardeners",
                                      join_mode="approval"), "/c/lyon")
        await sign_up(ann, "ann")
        redirected_to(await post_form(ann, "/circles/new", "/circles/new", handle="oslo", name="Oslo gardeners",
                                      join_mode="open"), "/c/oslo")

        # Ann, facilitator on A, makes Lyon a sister of Oslo, showing only questions.
        response = await post_form(ann, "/c/oslo/sisters", "/c/oslo/sisters", handle=f"@lyon@{b_domain}",
                                   kinds="question")
        redirected_to(response, "/c/oslo/sisters")
        assert "waiting for the circle to answer" in (await ann.get("/c/oslo/sisters")).text
        await eventually(lambda: page_has(ann, "/c/oslo/sisters", "accepted: its posts show below"),
                         "B accepting the sister follow", servers)
        # On B the sister is no member: Lyon still has only Bea.
        members = (await bea.get("/c/lyon/members")).text
        assert "oslo" not in members and "1 member<" in members

        # Bea posts a discussion, then a question, in Lyon on B.
        redirected_to(await post_form(bea, "/c/lyon/posts/new", "/c/lyon/posts/new", title="Weather chat",
                                      body="Sunny today."), re.compile(r"/posts/\d+"))
        redirected_to(await post_form(bea, "/c/lyon/questions/new", "/c/lyon/questions/new",
                                      title="When to sow leeks?", body="Our soil is heavy."), re.compile(r"/posts/\d+"))

        # A keeps both (its circle follows Lyon), but Oslo's sister feed shows only the question.
        await eventually(lambda: page_has(ann, f"/c/lyon@{b_domain}", "Weather chat"), "the discussion reaching A",
                         servers)
        await eventually(lambda: page_has(ann, "/c/oslo/sisters", "When to sow leeks?"),
                         "the question in the sister feed on A", servers)
        page = (await ann.get("/c/oslo/sisters")).text
        assert "Weather chat" not in page and "Lyon gardeners" in page
        question = re.search(r'href="(/posts/\d+)">When to sow leeks\?', page)
        assert question and "Our soil is heavy." in (await ann.get(question.group(1))).text
