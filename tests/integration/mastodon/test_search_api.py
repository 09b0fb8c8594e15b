"""GET /api/v2/search as Mastodon answers it (app/controllers/api/v2/search_controller.rb,
app/services/search_service.rb), over the search the web page uses."""

from __future__ import annotations

import pytest

from models import clock
from models.actors import Actor
from models.circles import Visibility
from tests import factories


@pytest.fixture
async def garden(instance, alice):
    return await factories.circle(instance, alice, "gardening", name="Gardening", topics="#gardening #garlic")


async def lets_search_find(account) -> None:
    account.indexable = True
    await account.save(update_fields=["indexable"])


async def _search(client, status: int = 200, **params):
    response = await client.get("/api/v2/search", query_string=params)
    body = await response.get_json()
    assert response.status_code == status, body
    return body


async def test_statuses_accounts_and_hashtags(instance, alice, garden, api):
    await lets_search_find(alice)
    post = await factories.post(instance, alice, garden, "Turn the compost weekly", title="Compost basics")
    found = await _search(api, q="compost")
    assert [s["id"] for s in found["statuses"]] == [str(post.id)]
    assert found["accounts"] == [] and found["hashtags"] == []
    people = await _search(api, q="alic")
    assert [a["acct"] for a in people["accounts"]] == ["alice"]
    circles = await _search(api, q="garden", type="accounts")
    assert [(a["acct"], a["group"]) for a in circles["accounts"]] == [("gardening", True)]
    tags = await _search(api, q="#gar", type="hashtags")
    assert tags["hashtags"] == [
        {"name": "gardening", "url": f"{instance.base_url}/circles?topic=gardening", "history": [], "following": False},
        {"name": "garlic", "url": f"{instance.base_url}/circles?topic=garlic", "history": [], "following": False},
    ]
    assert tags["accounts"] == [] and tags["statuses"] == []
    # A query like a hashtag finds no people or posts; one with "@" no hashtags (SearchService's rules).
    assert (await _search(api, q="#garden"))["accounts"] == []
    assert (await _search(api, q="@gar"))["hashtags"] == []


async def test_members_only_posts_are_found_by_members_only(instance, alice, make_api):
    await lets_search_find(alice)
    private = await factories.circle(instance, alice, "secret", visibility=Visibility.MEMBERS.value)
    post = await factories.post(instance, alice, private, "Hidden orchard plans")
    stranger = await make_api(await factories.account(instance, "stranger"))
    assert (await _search(stranger, q="orchard"))["statuses"] == []
    member = await make_api(alice)
    assert [s["id"] for s in (await _search(member, q="orchard"))["statuses"]] == [str(post.id)]


async def test_paging_by_offset_and_limit_and_by_author(instance, alice, garden, api):
    bob = await factories.account(instance, "bob")
    await factories.member(garden, bob)
    await lets_search_find(alice)
    await lets_search_find(bob)
    posts = [await factories.post(instance, alice, garden, f"Seed number {n}") for n in range(5)]
    bobs = await factories.post(instance, bob, garden, "Seed from Bob")
    everything = await _search(api, q="seed", type="statuses", limit="40")
    assert len(everything["statuses"]) == 6
    ids = [s["id"] for s in everything["statuses"]]
    page = await _search(api, q="seed", type="statuses", limit="2", offset="2")
    assert [s["id"] for s in page["statuses"]] == ids[2:4]
    assert len((await _search(api, q="seed", type="statuses", limit="1000"))["statuses"]) == 6  # cut to 40
    assert (await _search(api, q="seed", limit="0"))["statuses"] == []
    # Without a type the offset is not applied (SearchService#call).
    assert [s["id"] for s in (await _search(api, q="seed", offset="4"))["statuses"]] == ids[:6]
    by_bob = await _search(api, q="seed", type="statuses", account_id=str(bob.actor_id))
    assert [s["id"] for s in by_bob["statuses"]] == [str(bobs.id)]
    assert {str(p.id) for p in posts} < set(ids)
    assert (await _search(api, q="gardening", type="accounts", offset="1"))["accounts"] == []


NEGATIVE = "Pagination values for `offset` and `limit` must be positive"


@pytest.mark.parametrize(("params", "status", "error"), [
    ({}, 400, "param is missing or the value is empty: q"),
    ({"q": "  "}, 400, "param is missing or the value is empty: q"),
    ({"q": "x", "limit": "-1"}, 400, NEGATIVE),
    ({"q": "x", "type": "statuses", "offset": "-5"}, 400, NEGATIVE),
    ({"q": "x", "limit": "ten"}, 422, None),
    ({"q": "x", "type": "statuses", "offset": "1.5"}, 422, None),
    ({"q": "x", "type": "statuses", "account_id": "bob"}, 422, None),
    ({"q": "x" * 201}, 422, None),
])
async def test_bad_input_is_refused_as_mastodon_refuses_it(api, params, status, error):
    body = await _search(api, status, **params)
    if error is not None:
        assert body == {"error": error}
    else:
        assert body["error"].startswith("Validation failed") and body["details"]


async def test_anonymous_search_is_local_and_unpaged(instance, alice, garden, make_api):
    await lets_search_find(alice)
    await factories.post(instance, alice, garden, "Compost for everyone")
    anonymous = await make_api(None)
    found = await _search(anonymous, q="compost")
    assert found["statuses"] == []  # Mastodon searches statuses only for a signed-in person
    assert [a["acct"] for a in (await _search(anonymous, q="alice"))["accounts"]] == ["alice"]
    assert "following" not in (await _search(anonymous, q="#garden"))["hashtags"][0]
    body = await _search(anonymous, 401, q="compost", type="statuses", offset="20")
    assert body == {"error": "Search queries pagination is not supported without authentication"}
    body = await _search(anonymous, 401, q="@ana@elsewhere.example", resolve="true")
    assert body == {"error": "Search queries that resolve remote resources are not supported without authentication"}


async def test_scopes(alice, make_api):
    assert (await (await make_api(alice, scopes="write")).get("/api/v2/search?q=x")).status_code == 403
    assert (await (await make_api(alice, scopes="read:search")).get("/api/v2/search?q=x")).status_code == 200
    # Mastodon removed v1 search in 3.0.
    assert (await (await make_api(alice)).get("/api/v1/search?q=x")).status_code == 404


def _world(request):
    host = request.headers["host"]
    uri = f"http://{host}/users/ana"
    if request.path.startswith("/.well-known/webfinger") and "acct%3Aana%40" in request.path:
        return 200, {"subject": f"acct:ana@{host}", "links": [
            {"rel": "self", "type": "application/activity+json", "href": uri}]}
    if request.path == "/users/ana":
        return 200, {"id": uri, "type": "Person", "preferredUsername": "ana", "name": "Ana", "inbox": f"{uri}/inbox"}
    if request.path == "/notes/1":
        return 200, {"id": f"http://{host}/notes/1", "type": "Note", "attributedTo": uri, "content": "Hi",
                     "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    return 404, {}


async def test_resolve_looks_a_handle_up_where_it_lives(api, stub):
    server = await stub(_world)
    handle = f"@ana@{server.host}"
    assert (await _search(api, q=handle))["accounts"] == []  # not known here, and not asked for
    found = await _search(api, q=handle, resolve="true")
    assert [a["acct"] for a in found["accounts"]] == [f"ana@{server.host}"]
    assert await Actor.filter(username="ana", local=False).exists()
    # Not found where it should live: nothing, as Mastodon answers.
    assert (await _search(api, q=f"@nobody@{server.host}", resolve="true"))["accounts"] == []


async def test_resolve_finds_addresses_of_people_and_posts(instance, alice, garden, api, make_api, stub):
    server = await stub(_world)
    found = await _search(api, q=f"http://{server.host}/users/ana", resolve="true")
    assert [a["acct"] for a in found["accounts"]] == [f"ana@{server.host}"] and found["statuses"] == []
    # A post not kept here: its author, as the web page leads to.
    found = await _search(api, q=f"http://{server.host}/notes/1", resolve="true")
    assert [a["acct"] for a in found["accounts"]] == [f"ana@{server.host}"] and found["statuses"] == []
    # A post kept here, by its address, if the searcher may read it.
    private = await factories.circle(instance, alice, "secret", visibility=Visibility.MEMBERS.value)
    post = await factories.post(instance, alice, private, "Hidden")
    assert [s["id"] for s in (await _search(api, q=post.uri, resolve="true"))["statuses"]] == [str(post.id)]
    stranger = await make_api(await factories.account(instance, "stranger"))
    assert (await _search(stranger, q=post.uri, resolve="true"))["statuses"] == []
    assert (await _search(api, q=f"http://{server.host}/nothing", resolve="true")) == {
        "accounts": [], "statuses": [], "hashtags": []}


@pytest.fixture
def still_clock():
    """One moment throughout: no rate window or token use turns over between the measures."""
    clock.freeze(clock.now())
    yield
    clock.freeze(None)


async def test_the_same_queries_for_few_and_many_results(instance, alice, garden, api, count_queries, still_clock):
    await lets_search_find(alice)

    async def measure() -> tuple[int, dict]:
        with count_queries() as queries:
            found = await _search(api, q="tomato")
        return len(queries), found

    await factories.post(instance, alice, garden, "tomato one")
    await lets_search_find(await factories.account(instance, "tomato"))
    await measure()  # the token's last use and the rate window's first hit are written once
    few, found = await measure()
    assert len(found["statuses"]) == 1 and len(found["accounts"]) == 1
    for n in range(6):
        author = await factories.account(instance, f"tomato{n}")
        await lets_search_find(author)
        await factories.member(garden, author)
        await factories.post(instance, author, garden, f"tomato {n}")
    many, found = await measure()
    assert len(found["statuses"]) == 7 and len(found["accounts"]) == 7
    assert many == few <= 30, (few, many)  # each kind of result costs a fixed number, however many
