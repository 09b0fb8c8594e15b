"""A members-only circle between two real instances: the other server learns
that it is members-only from its Group document (manuallyApprovesFollowers),
keeps its followers-only posts for the circle's members there, shows them to
no one else, and its members' own posts go back addressed to followers."""

from __future__ import annotations

import re

import httpx

from tests.integration.federated import eventually, page_has, post_form
from tests.servers import redirected_to, sign_up

SECRET = "I never understood long division"


async def test_a_members_only_circle_stays_with_its_members_on_the_other_server(two_instances):
    a, b = two_instances
    servers = (a, b)
    a_domain = httpx.URL(a.base_url).netloc.decode()
    remote_circle = f"/c/quiet@{a_domain}"
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10.0) as ann,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as bea,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as cai,
        httpx.AsyncClient(base_url=b.base_url, timeout=10.0) as anonymous,
    ):
        await sign_up(ann, "ann")
        redirected_to(await post_form(ann, "/circles/new", "/circles/new", handle="quiet", name="Quiet maths",
                                      join_mode="open", visibility="members"), "/c/quiet")
        await sign_up(bea, "bea")
        await sign_up(cai, "cai")
        redirected_to(await post_form(bea, "/circles", "/circles/follow", handle=f"@quiet@{a_domain}"), remote_circle)
        await eventually(lambda: page_has(bea, remote_circle, "You are a member"), "A accepting Bea", servers)
        assert "Members of this circle" in (await bea.get(f"{remote_circle}/about")).text

        # Ann's post reaches Bea on B (addressed to the circle's followers), and only her.
        redirected_to(await post_form(ann, "/c/quiet/posts/new", "/c/quiet/posts/new", title="Stuck", body=SECRET),
                      re.compile(r"/posts/\d+"))
        await eventually(lambda: page_has(bea, remote_circle, "Stuck"), "the post reaching Bea on B", servers)
        thread = re.search(r'href="(/posts/\d+)">Stuck', (await bea.get(remote_circle)).text).group(1)
        assert SECRET in (await bea.get(thread)).text
        for outsider in (cai, anonymous):
            for path in (remote_circle, thread, "/users/bea"):
                response = await outsider.get(path)
                assert SECRET not in response.text and "Stuck" not in response.text, path
            assert (await outsider.get(thread)).status_code == 403

        # Bea replies on B: addressed to followers, A takes it into the circle.
        response = await post_form(bea, thread, f"{thread}/reply", body="Me neither, let us practise together.")
        assert response.status_code == 302, response.text
        a_thread = re.search(r'href="(/posts/\d+)">Stuck', (await ann.get("/c/quiet")).text).group(1)
        await eventually(lambda: page_has(ann, a_thread, "let us practise together"), "Bea's reply on A", servers)
