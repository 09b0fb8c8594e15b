"""Timelines: home (the home page's feeds), public and tag, paged by id with
Link headers, each showing only what the person may read on the web."""

from __future__ import annotations

import re

import pytest

from models.person_blocks import BlockKind
from models.services import follows, person_blocks
from tests import factories


def ids(response) -> list[str]:
    assert response.status_code == 200, response
    return [status["id"] for status in response._json]


async def get_json(api, path: str, **kwargs):
    response = await api.get(path, **kwargs)
    response._json = await response.get_json()
    return response


@pytest.fixture
async def world(instance, alice):
    """Alice in "open" (public) and "club" (members-only); Bob writes in
    both; Carol writes in "elsewhere", which Alice is not in, and Alice follows her."""
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    open_circle = await factories.circle(instance, bob, "open")
    club = await factories.circle(instance, bob, "club", visibility="members")
    elsewhere = await factories.circle(instance, carol, "elsewhere")
    hidden = await factories.circle(instance, carol, "hidden", visibility="members")
    for circle in (open_circle, club):
        await factories.member(circle, alice)
    await follows.follow_local(alice.actor, carol.actor)
    posts = {
        "open": await factories.post(instance, bob, open_circle, "In the open #Rust"),
        "club": await factories.post(instance, bob, club, "Members only #rust"),
        "carol": await factories.post(instance, carol, elsewhere, "Carol's own #rustacean"),
        "hidden": await factories.post(instance, carol, hidden, "Carol, members only"),
    }
    return {"bob": bob, "carol": carol, "posts": posts, "club": club, "open": open_circle}


async def test_home_is_the_home_page_feeds(api, world):
    posts = world["posts"]
    got = ids(await get_json(api, "/api/v1/timelines/home"))
    assert got == [str(posts[k].id) for k in ("carol", "club", "open")]  # newest first; not "hidden"
    status = (await (await api.get("/api/v1/timelines/home")).get_json())[0]
    assert status["account"]["username"] == "carol" and "Carol" in status["content"]


async def test_home_leaves_out_replies_as_the_home_page_does(api, instance, world):
    from models.services import posts as post_service

    await post_service.reply(instance, world["bob"].actor, world["posts"]["club"], body="A reply")
    assert len(ids(await get_json(api, "/api/v1/timelines/home"))) == 3


async def test_home_leaves_out_muted_people(api, alice, world):
    await person_blocks.set_block(alice.actor, world["bob"].actor, BlockKind.MUTE)
    assert ids(await get_json(api, "/api/v1/timelines/home")) == [str(world["posts"]["carol"].id)]


async def test_home_needs_a_token_and_the_scope(make_api, alice, world):
    assert (await (await make_api(None)).get("/api/v1/timelines/home")).status_code == 401
    writer = await make_api(alice, scopes="write")
    assert (await writer.get("/api/v1/timelines/home")).status_code == 403
    reader = await make_api(alice, scopes="read:statuses")
    assert (await reader.get("/api/v1/timelines/home")).status_code == 200


async def test_public_shows_public_circles_only_even_to_members(api, make_api, world):
    posts = world["posts"]
    expected = [str(posts["carol"].id), str(posts["open"].id)]
    assert ids(await get_json(api, "/api/v1/timelines/public")) == expected
    anonymous = await make_api(None)
    assert ids(await get_json(anonymous, "/api/v1/timelines/public")) == expected
    assert ids(await get_json(anonymous, "/api/v1/timelines/public?local=true")) == expected
    assert ids(await get_json(anonymous, "/api/v1/timelines/public?remote=true")) == []
    assert ids(await get_json(anonymous, "/api/v1/timelines/public?remote=false")) == expected
    assert ids(await get_json(anonymous, "/api/v1/timelines/public?remote=1&local=1")) == expected
    assert ids(await get_json(anonymous, "/api/v1/timelines/public?only_media=true")) == []


async def test_public_with_a_token_needs_read_statuses(make_api, alice, world):
    writer = await make_api(alice, scopes="write")
    assert (await writer.get("/api/v1/timelines/public")).status_code == 403


async def test_public_leaves_out_replies(api, instance, world):
    from models.services import posts as post_service

    await post_service.reply(instance, world["bob"].actor, world["posts"]["open"], body="A reply")
    got = ids(await get_json(api, "/api/v1/timelines/public"))
    assert got == [str(world["posts"]["carol"].id), str(world["posts"]["open"].id)]


async def test_tag_matches_whole_hashtags_in_public_circles(make_api, world):
    anonymous = await make_api(None)
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/rust")) == [str(world["posts"]["open"].id)]
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/RUSTACEAN")) == [str(world["posts"]["carol"].id)]
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/nothing")) == []
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/no%20such")) == []


async def test_tag_pages_past_posts_that_only_contain_the_text(make_api, instance, world):
    for n in range(3):
        await factories.post(instance, world["bob"], world["open"], f"#rustacean {n}")
    anonymous = await make_api(None)
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?limit=1")) == [str(world["posts"]["open"].id)]


async def test_paging_by_id_with_link_headers(api, instance, alice, world):
    made = [await factories.post(instance, world["bob"], world["open"], f"Post {n}") for n in range(5)]
    newest = [str(p.id) for p in reversed(made)]
    first = await get_json(api, "/api/v1/timelines/public?limit=2&local=true")
    assert ids(first) == newest[:2]
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"]))
    assert f"max_id={newest[1]}" in links["next"] and "local=true" in links["next"]
    assert f"min_id={newest[0]}" in links["prev"]
    second = await get_json(api, links["next"].split("localhost", 1)[-1] if "localhost" in links["next"]
                             else "/api/v1/timelines/public?" + links["next"].split("?", 1)[1])
    assert ids(second) == newest[2:4]
    after = await get_json(api, f"/api/v1/timelines/public?min_id={newest[3]}&limit=2")
    assert ids(after) == newest[1:3]  # the oldest two after it, newest first
    since = await get_json(api, f"/api/v1/timelines/public?since_id={newest[3]}&limit=2")
    assert ids(since) == newest[:2]  # the newest two after it
    assert (await api.get("/api/v1/timelines/public?max_id=abc")).status_code == 422
    assert (await api.get("/api/v1/timelines/public?limit=x")).status_code == 422


async def test_no_lists(api):
    response = await api.get("/api/v1/lists")
    assert response.status_code == 200 and await response.get_json() == []
    missing = await api.get("/api/v1/timelines/list/1")
    assert missing.status_code == 404 and "error" in await missing.get_json()


async def test_home_costs_the_same_queries_for_more_posts(api, instance, world, count_queries):
    async def measure(limit: int) -> int:
        with count_queries() as queries:
            response = await api.get(f"/api/v1/timelines/home?limit={limit}")
        assert response.status_code == 200
        return len(queries)

    for n in range(6):
        await factories.post(instance, world["bob"], world["club"], f"More {n}")
    await measure(1)  # the token's first use of the hour writes its last_used_at once
    assert await measure(2) == await measure(9)


async def test_public_costs_the_same_queries_for_more_posts(make_api, instance, world, count_queries):
    anonymous = await make_api(None)
    for n in range(6):
        await factories.post(instance, world["bob"], world["open"], f"More {n}")

    async def measure(limit: int) -> int:
        with count_queries() as queries:
            assert (await anonymous.get(f"/api/v1/timelines/public?limit={limit}")).status_code == 200
        return len(queries)

    await measure(1)
    assert await measure(2) == await measure(8)


async def test_tag_finds_resources_by_their_tags(make_api, instance, world):
    from models.services import resources

    resource = await resources.add_resource(instance, world["bob"].actor, world["open"], title="A book",
                                            description="Read it #rust", link="https://example.org/book", tags="python")
    anonymous = await make_api(None)
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/python")) == [str(resource.post_id)]


# --- any[], all[] and none[] (app/models/tag_feed.rb) ------------------------------------


@pytest.fixture
async def tagged(instance, world):
    """Public posts with #rust and #python in their mixes, and one with #pythonista only."""
    made = {}
    for key, body in (("both", "Both #rust and #Python"), ("python", "Just #python"),
                      ("pythonista", "A #rust #pythonista"), ("neither", "Neither #go")):
        made[key] = await factories.post(instance, world["bob"], world["open"], body)
    return {**made, "rust": world["posts"]["open"]}


def expect(*posts) -> list[str]:
    return [str(post.id) for post in sorted(posts, key=lambda post: -post.id)]


async def test_tag_with_any_shows_posts_with_either_tag(make_api, tagged):
    anonymous = await make_api(None)
    got = ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?any[]=python"))
    assert got == expect(tagged["rust"], tagged["both"], tagged["python"], tagged["pythonista"])
    alone = ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?any=%23Python"))  # one value, as Array() reads it
    assert alone == got


async def test_tag_with_all_shows_posts_with_every_tag(make_api, tagged):
    anonymous = await make_api(None)
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?all[]=python")) == expect(tagged["both"])
    assert ids(await get_json(anonymous, "/api/v1/timelines/tag/python?all[]=rust&all[]=go")) == []


async def test_tag_with_none_leaves_out_posts_with_those_tags_as_whole_words(make_api, tagged):
    anonymous = await make_api(None)
    got = ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?none[]=python"))
    assert got == expect(tagged["rust"], tagged["pythonista"])  # #pythonista is not #python
    mixed = await get_json(anonymous, "/api/v1/timelines/tag/go?any[]=python&none[]=rust")
    assert ids(mixed) == expect(tagged["python"], tagged["neither"])


async def test_tag_modes_count_resources_tags(make_api, instance, tagged, world):
    from models.services import resources

    resource = await resources.add_resource(instance, world["bob"].actor, world["open"], title="A book",
                                            description="Read it #rust", link="https://example.org/book", tags="python")
    anonymous = await make_api(None)
    got = ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?all[]=python"))
    assert str(resource.post_id) in got
    assert str(resource.post_id) not in ids(await get_json(anonymous, "/api/v1/timelines/tag/rust?none[]=python"))


async def test_tag_modes_refuse_bad_lists_naming_the_field(make_api, world):
    anonymous = await make_api(None)
    five = "&".join(f"any[]=t{n}" for n in range(5))
    too_many = await anonymous.get(f"/api/v1/timelines/tag/rust?{five}")
    assert too_many.status_code == 422 and "any" in (await too_many.get_json())["details"]
    for query in ("none[]=no%20such", "all[]=%23", "any[]=" + "x" * 101):
        refused = await anonymous.get(f"/api/v1/timelines/tag/rust?{query}")
        assert refused.status_code == 422, query
        assert query.split("[", 1)[0] in (await refused.get_json())["details"]
    four = "&".join(f"any[]=t{n}" for n in range(4))
    assert (await anonymous.get(f"/api/v1/timelines/tag/rust?{four}&all[]=&none[]=go")).status_code == 200


async def test_tag_modes_cost_the_same_queries_for_more_tags(make_api, tagged, count_queries):
    anonymous = await make_api(None)

    async def measure(query: str) -> int:
        with count_queries() as queries:
            assert (await anonymous.get(f"/api/v1/timelines/tag/rust?{query}")).status_code == 200
        return len(queries)

    await measure("")
    one = await measure("any[]=python&all[]=rust&none[]=go")
    many = await measure("any[]=python&any[]=a&any[]=b&any[]=c&all[]=rust&all[]=%23Rust&none[]=go&none[]=d&none[]=e")
    assert one == many
