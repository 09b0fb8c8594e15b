"""The search pages (web/html/search.py) and looking someone or something
up by its web address (web/html/people.py), through the real app."""

from __future__ import annotations

import pytest

from models.actors import Actor
from models.services import questions as question_service
from models.services import search as search_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text
from tests.querycount import count_queries


@pytest.fixture
async def garden(instance, alice, bob):
    circle = await factories.circle(instance, alice, "gardening", name="Gardening")
    await factories.member(circle, bob)
    return circle


async def lets_search_find(account) -> None:
    account.indexable = True
    await account.save(update_fields=["indexable"])


async def test_every_page_has_the_header_search_box(app):
    page = await text(await app.test_client().get("/circles"))
    assert '<form method="get" action="/search" role="search"' in page
    assert '<label for="header-search-q"' in page and 'id="header-search-q" name="q"' in page


async def test_words_find_posts_of_public_circles_with_the_words_marked(app, instance, alice, garden):
    await lets_search_find(alice)
    post = await factories.post(instance, alice, garden, "Turn the compost weekly", title="Compost basics")
    response = await app.test_client().get("/search?q=compost")
    page = await text(response)
    assert response.status_code == 200
    assert f'href="/posts/{post.id}"><mark>Compost</mark> basics</a>' in page
    assert "Turn the <mark>compost</mark> weekly" in page
    assert "Discussion" in page and "Gardening" in page and "Anyone on the web and the fediverse" in page


async def test_what_was_typed_and_found_is_escaped_before_it_is_marked(app, instance, alice, garden):
    await lets_search_find(alice)
    await factories.post(instance, alice, garden, "Is <b>compost</b> <script>alert(1)</script> safe?",
                         title="<i>compost</i> & more")
    page = await text(await app.test_client().get("/search?q=compost"))
    assert "<script>alert" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;i&gt;<mark>compost</mark>&lt;/i&gt; &amp; more" in page
    assert "&lt;b&gt;<mark>compost</mark>&lt;/b&gt;" in page
    typed = await text(await app.test_client().get("/search?q=%3Cscript%3Ecompost"))
    assert 'value="&lt;script&gt;compost"' in typed and "<script>compost" not in typed  # kept in the box, escaped


async def test_members_only_posts_are_found_by_members_only(app, instance, alice, bob, garden):
    private = await factories.circle(instance, alice, "secret", visibility="members", name="Secret")
    await factories.member(private, bob)
    await factories.post(instance, bob, private, "Hidden orchard plans")
    carol = await factories.account(instance, "carol")
    for client in (app.test_client(), await logged_in(app, carol)):
        page = await text(await client.get("/search?q=orchard"))
        assert "Hidden" not in page and "No posts match" in page
    assert "Hidden <mark>orchard</mark> plans" in await text(await (await logged_in(app, bob)).get("/search?q=orchard"))
    # the circle's own search page: the members-only check of every circle page
    assert (await (await logged_in(app, carol)).get("/c/secret/search?q=orchard")).status_code == 403
    assert "Hidden" in await text(await (await logged_in(app, bob)).get("/c/secret/search?q=orchard"))


async def test_outsiders_find_a_post_once_its_author_lets_search_find_it(app, instance, alice, bob, garden):
    await factories.post(instance, bob, garden, "Nettle tea, my recipe")
    carol = await factories.account(instance, "carol")  # not in the circle
    for client in (app.test_client(), await logged_in(app, carol)):
        assert "No posts match" in await text(await client.get("/search?q=nettle"))
        assert "No posts match" in await text(await client.get("/c/gardening/search?q=nettle"))
    member = await text(await (await logged_in(app, alice)).get("/search?q=nettle"))
    assert "<mark>Nettle</mark> tea" in member  # members search their circle's conversation
    await lets_search_find(bob)
    assert "<mark>Nettle</mark> tea" in await text(await app.test_client().get("/search?q=nettle"))


async def test_a_circles_search_finds_only_its_own_posts(app, instance, alice, garden):
    await lets_search_find(alice)
    other = await factories.circle(instance, alice, "cooking", name="Cooking")
    await factories.post(instance, alice, garden, "Tomato plants")
    await factories.post(instance, alice, other, "Tomato soup")
    page = await text(await app.test_client().get("/c/gardening/search?q=tomato"))
    assert "<mark>Tomato</mark> plants" in page and "soup" not in page
    assert '<label for="circle-search-q">Search this circle</label>' in page
    circle_page = await text(await app.test_client().get("/c/gardening"))
    assert 'action="/c/gardening/search"' in circle_page  # its search box


async def test_a_safe_questions_asker_is_not_shown(app, instance, alice, bob, garden):
    await question_service.ask(instance, bob.actor, garden, title="Why do my beans wilt?", body="Help", safe=True)
    page = await text(await (await logged_in(app, alice)).get("/search?q=beans"))
    assert "<mark>beans</mark>" in page and "@bob" not in page and "/users/bob" not in page


@pytest.mark.parametrize("query", ['"', "*", "NEAR(a b)", "-", "a OR", "title:x", "(", "%", "\u202e"])
async def test_hostile_query_syntax_is_never_an_error(app, instance, alice, garden, query):
    await factories.post(instance, alice, garden, "a near b title x")
    response = await app.test_client().get("/search", query_string={"q": query})
    assert response.status_code == 200, await text(response)


async def test_empty_and_too_long_queries_say_so(app):
    client = app.test_client()
    empty = await client.get("/search?q=+++")
    assert empty.status_code == 200 and "Type a word or two to search for." in await text(empty)
    plain = await text(await client.get("/search"))
    assert "Type a word" not in plain and "No posts match" not in plain  # the form alone
    long = await client.get("/search", query_string={"q": "x" * (search_service.MAX_QUERY + 1)})
    assert long.status_code == 400 and "Search for at most 200 characters." in await text(long)
    assert (await client.get("/c/nowhere/search?q=x")).status_code == 404


async def test_people_and_circles_by_a_piece_of_their_name(app, instance, alice, bob, garden):
    bob.indexable = True
    await bob.save(update_fields=["indexable"])
    page = await text(await (await logged_in(app, alice)).get("/search?q=GARD"))
    assert '<a href="/c/gardening">Gardening</a>' in page
    page = await text(await app.test_client().get("/search?q=bo"))
    assert '<a href="/users/bob">bob</a>' in page
    assert "/users/alice" not in page  # alice did not let search find her


async def test_pages_of_results(app, instance, alice, garden, monkeypatch):
    await lets_search_find(alice)
    monkeypatch.setattr(search_service, "PAGE_SIZE", 2)
    for n in range(3):
        await factories.post(instance, alice, garden, f"Leek number {n}")
    first = await text(await app.test_client().get("/search?q=leek"))
    assert first.count("<mark>Leek</mark>") == 2 and 'href="/search?q=leek&amp;page=2"' in first
    second = await text(await app.test_client().get("/search?q=leek&page=2"))
    assert second.count("<mark>Leek</mark>") == 1 and 'href="/search?q=leek&amp;page=1"' in second


async def test_search_sends_the_same_queries_for_few_and_many_results(app, instance, alice, bob, garden):
    """One page of results costs a fixed number of statements, however many
    posts, authors and circles it shows (no query per result)."""
    client = await logged_in(app, alice)

    async def queries() -> int:
        await client.get("/search?q=kale")
        with count_queries() as counted:
            response = await client.get("/search?q=kale")
        assert response.status_code == 200
        return len(counted), (await text(response)).count("<mark>kale</mark>")

    await factories.post(instance, bob, garden, "kale one")
    few, shown_few = await queries()
    for n in range(4):
        other = await factories.circle(instance, alice, f"kale{n}", name=f"Kale {n}")
        person = await factories.account(instance, f"grower{n}")
        await factories.member(other, person)
        await factories.post(instance, person, other, f"kale in circle {n}")
    many, shown_many = await queries()
    assert shown_many == shown_few + 4
    assert many == few <= 12, (few, many)


# --- looking something up by its address --------------------------------------------


async def test_a_post_known_here_is_found_by_its_address(app, instance, alice, garden):
    post = await factories.post(instance, alice, garden, "Find me by my address")
    client = await logged_in(app, alice)
    response = await submit(client, "/search", handle=post.uri)
    assert response.status_code == 302 and response.location == f"/posts/{post.id}"
    response = await submit(client, "/search", handle=f"http://{instance.domain}/nothing/here")
    assert response.status_code == 400 and "Nothing here has that address." in await text(response)


async def test_a_remote_person_is_found_by_their_address(app, alice, stub):
    def respond(request):
        uri = f"http://{request.headers['host']}/users/ana"
        if request.path == "/users/ana":
            return 200, {"id": uri, "type": "Person", "preferredUsername": "ana", "name": "Ana", "inbox": f"{uri}/inbox"}
        return 404, {}

    server = await stub(respond)
    client = await logged_in(app, alice)
    offered = await text(await client.get(f"/search?q=http://{server.host}/users/ana"))
    assert f'value="http://{server.host}/users/ana"' in offered  # the look-up form, filled in
    response = await submit(client, "/search", handle=f"http://{server.host}/users/ana")
    assert response.status_code == 302, await text(response)
    assert response.location == f"/people/ana@{server.host}"
    assert await Actor.filter(username="ana", local=False).exists()


async def test_a_remote_post_not_kept_here_leads_to_its_author(app, alice, stub):
    def respond(request):
        host = request.headers["host"]
        uri = f"http://{host}/users/ana"
        if request.path == "/users/ana":
            return 200, {"id": uri, "type": "Person", "preferredUsername": "ana", "inbox": f"{uri}/inbox"}
        if request.path == "/notes/1":
            return 200, {"id": f"http://{host}/notes/1", "type": "Note", "attributedTo": uri, "content": "Hi",
                         "to": ["https://www.w3.org/ns/activitystreams#Public"]}
        return 404, {}

    server = await stub(respond)
    client = await logged_in(app, alice)
    response = await submit(client, "/search", handle=f"http://{server.host}/notes/1")
    assert response.status_code == 302 and response.location == f"/people/ana@{server.host}"
    assert "That post is not kept here" in await text(await client.get(response.location))


async def test_a_remote_posts_author_is_fetched_only_from_the_posts_own_server(app, alice, stub):
    """Mastodon trusts `attributedTo` only on the post's host
    (app/services/activitypub/fetch_remote_status_service.rb, `trustworthy_attribution?`,
    mastodon/mastodon@01613ce lines 15 and 25-27): a post naming an author
    elsewhere is refused, and that other server is never asked."""
    elsewhere = await stub(lambda request: (200, {"id": f"http://{request.headers['host']}/users/eve",
                                                  "type": "Person", "preferredUsername": "eve",
                                                  "inbox": f"http://{request.headers['host']}/users/eve/inbox"}))

    def respond(request):
        if request.path == "/notes/1":
            return 200, {"id": f"http://{request.headers['host']}/notes/1", "type": "Note", "content": "Hi",
                         "attributedTo": elsewhere.url("/users/eve"),
                         "to": ["https://www.w3.org/ns/activitystreams#Public"]}
        return 404, {}

    server = await stub(respond)
    response = await submit(await logged_in(app, alice), "/search", handle=f"http://{server.host}/notes/1")
    assert response.status_code == 400
    assert "That address is not a person, circle or post we can show." in await text(response)
    assert elsewhere.fetched == [] and elsewhere.received == []
    assert not await Actor.filter(local=False).exists()


async def test_an_address_that_answers_nothing_useful_says_so(app, alice, stub):
    server = await stub(lambda request: (200, {"id": f"http://{request.headers['host']}/x", "type": "Collection"}))
    client = await logged_in(app, alice)
    response = await submit(client, "/search", handle=f"http://{server.host}/x")
    assert response.status_code == 400
    assert "That address is not a person, circle or post we can show." in await text(response)
    closed = await stub()
    port = closed.port
    await closed.close()
    response = await submit(client, "/search", handle=f"http://127.0.0.1:{port}/users/x")
    assert response.status_code == 400 and "Could not reach" in await text(response)
