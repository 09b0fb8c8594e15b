"""Issue 14's "done when": a learner uses Circles from the real Mastodon.py
library, over real HTTP, against two served instances on loopback.

The app side is Mastodon.py calls only; a browser (httpx with the forms'
CSRF tokens) does what apps cannot: signing up, the consent page, creating a
circle and making a proposal on the web. One test walks the whole flow, so
the two instances start once:
  A: ada creates a circle, signs in with Mastodon.py, posts to it by
     mentioning it, asks a #question, replies and reads the thread;
  B: bob resolves the circle on A by its handle, follows it (joins), and his
     home timeline shows what ada posts there next;
  a proposal made on the web is a poll ada votes in;
  carol (on A) replies to ada, who gets a "mention" and dismisses it;
  ada's home timeline pages through the Link header without gaps or repeats.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mastodon import Mastodon

from tests.integration.federated import eventually, post_form
from tests.servers import Server, press_authorize, redirected_to, sign_up, two_served_instances

CALLBACK = "http://127.0.0.1:9/callback"  # never reached: the code is read from the redirect
SCOPES = ["read", "write", "follow"]


@pytest.fixture
async def two_instances(make_database, tmp_path):
    """A on 127.0.0.1 and B on 127.0.0.2, each allowed to reach only the other."""
    async with two_served_instances(make_database, tmp_path) as servers:
        yield servers


async def mastodon_py(server: Server, browser: httpx.AsyncClient) -> Mastodon:
    """Mastodon.py registers an app and builds the authorize URL; the person
    logged in on `browser` presses Authorize; Mastodon.py exchanges the code."""
    client_id, client_secret = Mastodon.create_app(
        "Circles flow", scopes=SCOPES, redirect_uris=CALLBACK, api_base_url=server.base_url, request_timeout=10)
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url,
                 version_check_mode="created", request_timeout=10)
    url = m.auth_request_url(redirect_uris=CALLBACK, scopes=SCOPES, state="s", allow_http=True)
    answer = await press_authorize(browser, url)
    assert answer.status_code == 302, answer.text[:2000]
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    m.log_in(code=code, redirect_uri=CALLBACK, scopes=SCOPES, allow_http=True)
    return m


def in_two_days() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")  # the circle is on UTC


def text_of(status) -> str:
    return re.sub(r"<[^>]+>", "", status["content"])


def domain_of(server: Server) -> str:
    return urlsplit(server.base_url).netloc


async def test_a_learner_uses_circles_from_mastodon_py(two_instances):
    a, b = two_instances
    servers = (a, b)
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10) as ada_web,
        httpx.AsyncClient(base_url=a.base_url, timeout=10) as carol_web,
        httpx.AsyncClient(base_url=b.base_url, timeout=10) as bob_web,
    ):
        # 1. Ada signs up on A, creates a circle on the web, signs in with Mastodon.py.
        await sign_up(ada_web, "ada")
        redirected_to(await post_form(ada_web, "/circles/new", "/circles/new", handle="study", name="Study group",
                                      join_mode="open", language="en", timezone="UTC"), "/c/study")
        m = await mastodon_py(a, ada_web)
        assert m.account_verify_credentials()["username"] == "ada"

        # 2. Posting to the circle is mentioning it; #question asks; in_reply_to_id replies.
        hello = m.status_post("@study hello, circle!")
        assert "hello, circle!" in text_of(hello)
        question = m.status_post("@study How do closures capture variables? #question")
        assert [x["acct"] for x in hello["mentions"]] == ["study"]
        question_page = (await ada_web.get(f"/posts/{question['id']}")).text
        assert '<span class="badge">question</span>' in question_page  # a question on the web too
        assert "How do closures capture variables?" in question_page
        reply = m.status_post("They capture the variables, not their values.", in_reply_to_id=question)
        assert reply["in_reply_to_id"] == question["id"]
        context = m.status_context(question)
        assert [s["id"] for s in context["descendants"]] == [reply["id"]]
        assert m.status_context(reply)["ancestors"][0]["id"] == question["id"]

        # 3. Bob, on B, finds the circle on A by its handle, joins it, and reads it at home.
        await sign_up(bob_web, "bob")
        m_b = await mastodon_py(b, bob_web)
        handle = f"@study@{domain_of(a)}"
        [circle] = m_b.account_search(handle, resolve=True)
        assert circle["group"] is True and circle["acct"] == handle[1:]
        assert [x["id"] for x in m_b.search_v2(handle, resolve=True)["accounts"]] == [circle["id"]]
        m_b.account_follow(circle)

        async def joined() -> bool:
            return m_b.account_relationships(circle)[0]["following"]

        await eventually(joined, "A accepting bob's follow of the circle", servers)
        news = m.status_post("@study News: we meet on Thursday.")

        async def at_bobs_home() -> bool:
            return any("we meet on Thursday" in text_of(s) for s in m_b.timeline_home())

        await eventually(at_bobs_home, "ada's post reaching bob's home timeline on B", servers)
        [copy] = [s for s in m_b.timeline_home() if "we meet on Thursday" in text_of(s)]
        assert copy["account"]["acct"] == f"ada@{domain_of(a)}"
        assert copy["uri"] == news["uri"]

        # 4. A proposal made on the web is a status with a poll; ada votes in it from the app.
        response = await post_form(ada_web, "/c/study/proposals/new", "/c/study/proposals/new", kind="free_text",
                                   title="Meet on Tuesdays", body="Tuesdays suit most.", closes_at=in_two_days(),
                                   decision_rule="majority", quorum="0")
        post_id = redirected_to(response, re.compile(r"/proposals/\d+")).rsplit("/", 1)[1]
        proposal = m.status(post_id)
        poll = proposal["poll"]
        assert poll is not None and poll["voted"] is False, proposal
        m.poll_vote(poll["id"], [0])
        after = m.poll(poll["id"])
        assert after["voted"] is True and after["own_votes"] == [0]
        assert after["options"][0] == {"title": "Yes", "votes_count": 1}
        assert "1 yes · 0 no" in (await ada_web.get(f"/proposals/{post_id}")).text  # counted as the web counts

        # 5. Carol, on A, replies to ada from her app; ada is notified of a mention and dismisses it.
        await sign_up(carol_web, "carol")
        m_c = await mastodon_py(a, carol_web)
        [local_circle] = m_c.account_search("@study", resolve=False)
        m_c.account_follow(local_circle)  # an open circle: she is a member at once
        assert m_c.account_relationships(local_circle)[0]["following"] is True
        carols = m_c.status_post("@ada welcome, thanks for starting this!", in_reply_to_id=hello)
        mentions = [n for n in m.notifications(types=["mention"]) if n["status"]["id"] == carols["id"]]
        assert len(mentions) == 1 and mentions[0]["account"]["username"] == "carol", m.notifications()
        m.notifications_dismiss(mentions[0])
        assert carols["id"] not in [n["status"]["id"] for n in m.notifications(types=["mention"])]

        # 6. Paging ada's home timeline through Link headers: newest first, nothing twice, nothing missed.
        made = [m.status_post(f"@study note {n}")["id"] for n in range(5)]
        seen: list[str] = []
        page = m.timeline_home(limit=2)
        while page:
            assert len(page) <= 2
            seen += [s["id"] for s in page]
            page = m.fetch_next(page)
        assert len(seen) == len(set(seen))
        assert seen == sorted(seen, key=int, reverse=True)
        assert set(made + [hello["id"], question["id"], news["id"], post_id]) <= set(seen)
        assert reply["id"] not in seen  # home shows top-level posts, as the web's feeds do

    for server in servers:
        assert "Traceback" not in server.output(tail=10**7), server.output()
