"""Hostile HTML from other servers never reaches a page live: a post, a
library resource, a meeting and a profile summary, each rendered."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models.actors import Actor
from models.meetings import Meeting
from models.posts import Post
from models.resources import Resource
from models.services import remote
from tests import factories
from tests.integration.test_inbox import REMOTE, follow_of, peer, post_signed, process  # noqa: F401 (peer is a fixture)
from tests.integration.webforms import text, without_our_script

HOSTILE = (
    '<p onclick="steal()">Hello <b onmouseover="x()">there</b><script>alert("s1")</script>'
    '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">j</a> <a href="JaVaScRiPt&#58;alert(4)">k</a>'
    '<a href=" javascript:alert(5)">l</a><style>body{display:none}</style>'
    '<span style="position:fixed;top:0">cover</span><iframe src="https://evil.example/"></iframe>'
    '<svg onload="alert(6)"><circle/></svg><form action="https://evil.example/"><input name=p></form>'
    '<object data="x.swf"></object><math><mi xlink:href="javascript:alert(7)">m</mi></math>'
    '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example/">'
    '<a href="data:text/html,<script>alert(8)</script>">d</a></p>'
)


def assert_nothing_hostile(page: str) -> None:
    lowered = without_our_script(page).lower()
    for tag in ("<script", "<img", "<iframe", "<svg", "<object", "<math", "<base", "<meta http-equiv", "<style",
                'action="https://evil'):
        assert tag not in lowered, tag
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page, re.I), "an on* attribute survived"
    assert not re.search(r"<[^>]*\sstyle\s*=", page, re.I), "a style attribute survived"
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*(javascript|data|vbscript):""", page, re.I)
    assert "javascript:" not in lowered
    assert 'alert("s1")' not in page  # a script's text is dropped with it


@pytest.fixture
async def setup(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "readers")
    await post_signed(client, "/inbox", follow_of(rita, circle.actor.uri), key, f"{rita}#main-key")
    await process(app)

    async def deliver(obj: dict, n: int) -> None:
        obj = {"attributedTo": rita, "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [circle.actor.uri], "audience": circle.actor.uri, **obj}
        create = {"id": f"{REMOTE}/activities/{n}", "type": "Create", "actor": rita, "object": obj, "to": obj["to"]}
        assert (await post_signed(client, "/inbox", create, key, f"{rita}#main-key")).status_code == 202
        await process(app)

    return deliver


async def test_a_hostile_remote_post_is_shown_harmless(client, setup):
    await setup({"id": f"{REMOTE}/notes/1", "type": "Note", "content": HOSTILE,
                 "attachment": [{"type": "Document", "mediaType": "image/png", "url": "https://remote.example/a.png",
                                 "name": '" onerror="alert(9)'}]}, 1)
    post = await Post.get(uri=f"{REMOTE}/notes/1")
    page = await text(await client.get(f"/posts/{post.id}"))
    assert "Hello <b>there</b>" in page  # the harmless part stays
    assert_nothing_hostile(page.replace('<img src="https://remote.example/a.png"', "", 1))
    assert 'alt="&#34; onerror=&#34;alert(9)"' in page  # the image's description is text


async def test_a_hostile_remote_resource_is_shown_harmless(client, setup):
    await setup({"id": f"{REMOTE}/post/2", "type": "Page", "name": "A <i>link</i>", "content": HOSTILE,
                 "attachment": [{"type": "Link", "href": "https://example.com/article"}]}, 2)
    resource = await Resource.get().select_related("post")
    assert resource.link == "https://example.com/article"
    for path in ("/c/readers/resources", f"/posts/{resource.post_id}"):
        page = await text(await client.get(path))
        assert "https://example.com/article" in page
        assert_nothing_hostile(page)


async def test_a_hostile_remote_meeting_is_shown_harmless(client, setup):
    starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).replace(microsecond=0)
    await setup({"id": f"{REMOTE}/events/3", "type": "Event", "name": "Meet <script>x</script>", "content": HOSTILE,
                 "startTime": starts.isoformat(), "endTime": (starts + dt.timedelta(hours=1)).isoformat(),
                 "location": {"type": "Place", "name": '<img src=x onerror="alert(1)">Library'}}, 3)
    meeting = await Meeting.get()
    for path in (f"/meetings/{meeting.post_id}", "/c/readers/meetings"):
        page = await text(await client.get(path))
        assert "Meet" in page
        assert_nothing_hostile(page)


async def test_a_hostile_profile_summary_is_shown_harmless(app, client, instance, peer):  # noqa: F811
    _, rita = peer
    # A remote profile is cleaned as it is stored…
    await remote.upsert_actor(remote.RemoteActorInput(
        uri=rita, kind=(await Actor.get(uri=rita)).kind, username="rita", domain="remote.example",
        inbox_url=f"{rita}/inbox", summary_html=HOSTILE,
    ))
    stored = (await Actor.get(uri=rita)).summary
    assert "Hello" in stored
    assert_nothing_hostile(stored)
    # …and a profile page cleans what it shows, whoever wrote the row.
    bea = await factories.account(instance, "bea")
    await Actor.filter(id=bea.actor_id).update(summary=HOSTILE)
    page = await text(await client.get("/users/bea"))
    assert "Hello <b>there</b>" in page
    assert_nothing_hostile(page)
