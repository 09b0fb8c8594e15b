"""Questions across two real instances: a member elsewhere asks, an answer
is accepted on the asker's server and the circle's server follows; a safe
question reaches the other server as the circle's own."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up


async def test_a_question_from_elsewhere_is_answered_and_accepted(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/pyq@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        redirected_to(
            await post_form(ann, "/circles/new", "/circles/new", handle="pyq", name="Python questions",
                            join_mode="open", topics="#python"),
            "/c/pyq",
        )
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@pyq@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting Bea", servers)

        # Bea asks from B; A files it under the circle's open questions.
        response = await post_form(bea, f"{remote_circle}/questions/new", f"{remote_circle}/questions/new",
                                   title="What does yield do?", body="In a function, I mean.")
        bea_question = redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(ann, "/c/pyq/questions", "What does yield do?"),
                         "the question listed on A", servers)

        # Ann answers on A; the answer reaches Bea's thread on B.
        a_question = re.search(r'href="(/posts/\d+)">What does yield do\?', (await ann.get("/c/pyq/questions")).text)
        response = await post_form(ann, a_question.group(1), f"{a_question.group(1)}/reply",
                                   body="It makes a generator.")
        assert response.status_code == 302, response.text
        await eventually(lambda: page_has(bea, bea_question, "It makes a generator."), "the answer on B", servers)

        # Bea accepts it on B; A records the accepted answer from her Update.
        page = (await bea.get(bea_question)).text
        answer_id = re.search(r'name="answer_id" value="(\d+)"', page)
        assert answer_id, page
        response = await post_form(bea, bea_question, f"{bea_question}/accept", answer_id=answer_id.group(1))
        assert response.status_code == 302, response.text
        await eventually(lambda: page_has(ann, "/c/pyq/questions?show=answered", "What does yield do?"),
                         "the acceptance reaching A", servers)
        assert "✅ Accepted answer" in (await ann.get(a_question.group(1))).text


async def test_a_safe_question_reaches_the_other_server_as_the_circles_own(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/safe@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as asa,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
    ):
        await sign_up(ann, "ann")
        redirected_to(await post_form(ann, "/circles/new", "/circles/new", handle="safe", name="Safe space",
                                      join_mode="open"), "/c/safe")
        await sign_up(asa, "asa")
        redirected_to(await post_form(asa, "/c/safe", "/c/safe/join"), "/c/safe")
        await sign_up(bea, "bea")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@safe@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting Bea", servers)

        response = await post_form(asa, "/c/safe/questions/new", "/c/safe/questions/new",
                                   title="Is it fine to start at 50?", body="Asking for me.", safe="1")
        redirected_to(response, re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(bea, f"{remote_circle}/questions", "Is it fine to start at 50?"),
                         "the safe question reaching B", servers)
        copy = re.search(r'href="(/posts/\d+)">Is it fine', (await bea.get(f"{remote_circle}/questions")).text)
        page = (await bea.get(copy.group(1))).text
        assert "Safe space" in page and "asa" not in page
