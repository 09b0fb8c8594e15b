"""Profiles through the web UI: a local person's page, a remote person's page,
finding people by handle (WebFinger against a stub server on loopback),
following them, and the settings page."""

from __future__ import annotations

import re

import pytest

from federation import fanout
from models import clock
from models.accounts import Account
from models.actors import Actor, ActorKind, Follow, FollowState
from models.federation import Delivery, OutboxEvent
from models.posts import Post
from models.services import remote
from tests import factories
from tests.integration.webforms import logged_in, submit, text, without_our_script

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>'


# --- a local person's page ------------------------------------------------------------


async def test_a_local_profile_shows_name_bio_circles_counts_and_posts(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", name="Slow Readers")
    await factories.post(instance, alice, circle, title="Chapter one", body="We start *now*.")
    client = await logged_in(app, alice)
    response = await submit(client, "/settings", display_name="Alice A.", bio=f"I read **slowly**. {HOSTILE}", language="")
    assert response.status_code == 302

    page = await text(await app.test_client().get("/users/alice"))
    assert "<h1>Alice A.</h1>" in page
    assert "@alice@" in page
    assert "<strong>slowly</strong>" in page
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page  # HTML typed into the bio shows as text
    assert "Slow Readers" in page
    assert "Chapter one" in page
    assert "0 followers" in page and "0 following" in page
    assert "<img" not in page.split("<main", 1)[1]  # no avatar: none was given


async def test_profile_posts_are_paged(app, instance, alice):
    circle = await factories.circle(instance, alice, "readers")
    for n in range(22):
        await factories.post(instance, alice, circle, title=f"Post number {n:02d}", body="Text")
    client = app.test_client()
    first = await text(await client.get("/users/alice"))
    assert "Post number 21" in first and "Post number 02" in first and "Post number 01" not in first
    older = re.search(r'href="(/users/alice\?before=\d+)"', first)
    assert older, first
    second = await text(await client.get(older.group(1)))
    assert "Post number 01" in second and "Post number 00" in second and "Post number 21" not in second


async def test_unknown_people_are_404(client):
    assert (await client.get("/users/nobody")).status_code == 404
    assert (await client.get("/people/nobody@elsewhere.example")).status_code == 404
    assert (await client.get("/people/no-handle-here")).status_code == 404


# --- a remote person's page -------------------------------------------------------------


async def remote_person(username: str = "ana", domain: str = "elsewhere.example", **extra) -> Actor:
    return await remote.upsert_actor(
        remote.RemoteActorInput(
            uri=f"https://{domain}/users/{username}", kind=ActorKind.PERSON, username=username, domain=domain,
            inbox_url=f"https://{domain}/users/{username}/inbox", display_name="Ana Remote",
            profile_url=f"https://{domain}/@{username}", followers_url=f"https://{domain}/users/{username}/followers",
            **extra,
        )
    )


async def test_a_remote_profile_is_sanitised_and_lists_what_we_have(app, instance, alice):
    ana = await remote_person(
        summary_html=f"<p>Learning <em>Rust</em>.</p>{HOSTILE}", avatar_url="https://elsewhere.example/ana.png"
    )
    circle = await factories.circle(instance, alice, "readers", name="Slow Readers")
    from models.circles import Membership, MembershipState

    await Membership.create(circle=circle, actor=ana, state=MembershipState.ACTIVE)
    await remote.store_followed_post(  # nobody follows her: not kept
        remote.RemotePostInput(uri="https://elsewhere.example/notes/0", author_uri=ana.uri, content_html="Lost"), ana
    )
    await Follow.create(follower=alice.actor, target=ana, state=FollowState.ACCEPTED)
    await remote.store_followed_post(
        remote.RemotePostInput(
            uri="https://elsewhere.example/notes/1", author_uri=ana.uri, content_html=f"<p>Hello {HOSTILE}</p>",
            url="https://elsewhere.example/@ana/1",
        ),
        ana,
    )

    page = await text(await app.test_client().get("/people/ana@elsewhere.example"))
    assert "<h1>Ana Remote</h1>" in page
    assert "@ana@elsewhere.example" in page
    assert "<em>Rust</em>" in page
    assert "<script" not in page and "onerror" not in page
    # Decorative: the name is beside it.
    assert re.search(r'<img class="avatar" src="https://elsewhere.example/ana.png" alt=""[^>]*loading="lazy"', page)
    assert 'href="https://elsewhere.example/@ana"' in page
    assert "Slow Readers" in page
    assert "Hello" in page and 'href="https://elsewhere.example/@ana/1"' in page
    assert "Lost" not in page
    assert "1 follower" in page
    assert not await Post.exists(uri="https://elsewhere.example/notes/0")
    # A post kept outside any circle has no thread page here.
    kept = await Post.get(uri="https://elsewhere.example/notes/1")
    assert (await app.test_client().get(f"/posts/{kept.id}")).status_code == 404


async def test_a_local_handle_on_the_people_route_goes_to_the_users_page(client, instance, alice):
    response = await client.get(f"/people/alice@{instance.domain}")
    assert response.status_code == 302 and response.location == "/users/alice"


# --- following a remote person ----------------------------------------------------------


async def test_follow_shows_requested_then_unfollow_sends_undo(app, fed, alice):
    ana = await remote_person()
    client = await logged_in(app, alice)
    page = await text(await client.get("/people/ana@elsewhere.example"))
    assert ">Follow</button>" in page

    response = await submit(client, "/people/ana@elsewhere.example/follow")
    assert response.status_code == 302
    follow = await Follow.get(follower=alice.actor, target=ana)
    assert follow.state is FollowState.PENDING
    assert "Requested" in await text(await client.get("/people/ana@elsewhere.example"))
    await fanout.fan_out_pending(fed)
    sent = await Delivery.get(activity_id=follow.uri)
    assert sent.payload["type"] == "Follow" and sent.payload["object"] == ana.uri
    assert sent.inbox_url == ana.inbox_url

    # Her server accepts (what the inbox does with an Accept).
    from models.services import follows

    assert await follows.answer_from_remote(alice.actor, ana, accepted=True)
    page = await text(await client.get("/people/ana@elsewhere.example"))
    assert "You follow Ana Remote." in page and ">Unfollow</button>" in page

    response = await submit(client, "/people/ana@elsewhere.example/unfollow")
    assert response.status_code == 302
    assert not await Follow.exists(follower=alice.actor, target=ana)
    await fanout.fan_out_pending(fed)
    undos = [d for d in await Delivery.all() if d.payload["type"] == "Undo"]
    assert len(undos) == 1 and undos[0].payload["object"]["id"] == follow.uri


async def test_follow_needs_csrf_and_login(app, client, alice):
    await remote_person()
    response = await submit(client, "/people/ana@elsewhere.example/follow")  # not logged in
    assert response.status_code == 302 and response.location.startswith("/login")
    logged = await logged_in(app, alice)
    response = await logged.post("/people/ana@elsewhere.example/follow", form={"csrf_token": "wrong"})
    assert response.status_code == 403
    assert not await Follow.exists()
    assert (await submit(logged, "/people/nobody@elsewhere.example/follow")).status_code == 404


# --- finding people by handle -----------------------------------------------------------


def _world(people: dict[str, dict], *, known_without_actor: tuple[str, ...] = ()):
    """A stub server answering WebFinger and actor documents for `people`."""
    def respond(request):
        host = request.headers["host"]
        if request.path.startswith("/.well-known/webfinger"):
            name = re.search(r"acct%3A([^%@]+)", request.path).group(1)
            if name in known_without_actor:
                return 200, {"subject": f"acct:{name}@{host}", "links": [{"rel": "profile-page", "href": "https://x"}]}
            if name not in people:
                return 404, {}
            return 200, {"subject": f"acct:{name}@{host}", "links": [
                {"rel": "self", "type": "application/activity+json", "href": f"http://{host}/users/{name}"}]}
        name = request.path.rsplit("/", 1)[-1]
        if name in people:
            uri = f"http://{host}/users/{name}"
            return 200, {"id": uri, "preferredUsername": name, "inbox": f"{uri}/inbox",
                         "followers": f"{uri}/followers", **people[name]}
        return 404, {}

    return respond


async def test_find_a_remote_person_by_handle(app, alice, stub):
    server = await stub(_world({"ana": {"type": "Person", "name": "Ana", "summary": f"Hi{HOSTILE}",
                                        "icon": {"type": "Image", "url": "javascript:alert(1)"}}}))
    client = await logged_in(app, alice)
    assert (await client.get("/search")).status_code == 200
    response = await submit(client, "/search", handle=f"@ana@{server.host}")
    assert response.status_code == 302, await text(response)
    assert response.location == f"/people/ana@{server.host}"
    page = await text(await client.get(response.location))
    assert "<h1>Ana</h1>" in page and "<script" not in without_our_script(page)
    assert "javascript:" not in page  # an unsafe avatar URL is dropped
    assert (await Actor.get(username="ana")).avatar_url is None


async def test_find_a_remote_circle_lands_on_its_page(app, alice, stub):
    server = await stub(_world({"rust": {"type": "Group", "name": "Rust learners"}}))
    client = await logged_in(app, alice)
    response = await submit(client, "/search", handle=f"rust@{server.host}")
    assert response.status_code == 302
    assert response.location == f"/c/rust@{server.host}"
    assert "Rust learners" in await text(await client.get(response.location))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("ana", "Write a handle as @name@example.org."),
        ("@nobody@{host}", "knows nobody called @nobody. Check the spelling"),
        ("@bot@{host}", "is not an ActivityPub account we can follow"),
        ("@ana@127.0.0.1:{closed}", "Could not reach 127.0.0.1:{closed}"),
        ("@nobody@{here}", "Nobody here is called @nobody@{here}"),
        ("x" * 301 + "@a.example", "That is too long for a handle."),
    ],
)
async def test_lookup_errors_say_what_to_do_and_keep_the_value(app, instance, alice, stub, typed, message):
    server = await stub(_world({}, known_without_actor=("bot",)))
    closed = await stub()
    closed_port = closed.port
    await closed.close()
    values = {"host": server.host, "closed": closed_port, "here": instance.domain}
    typed, message = typed.format(**values), message.format(**values)
    client = await logged_in(app, alice)
    response = await submit(client, "/search", handle=typed)
    page = await text(response)
    assert response.status_code == 400, page
    assert '<p class="error" id="f-handle-error">' in page and message in page
    assert f'value="{typed}"' in page
    assert not await Actor.filter(local=False).exists()


async def test_lookup_needs_csrf_and_finds_local_people(app, alice, bob, instance):
    client = await logged_in(app, alice)
    response = await client.post("/search", form={"handle": "@bob@x.example", "csrf_token": "nope"})
    assert response.status_code == 403
    response = await submit(client, "/search", handle=f"@bob@{instance.domain}")
    assert response.status_code == 302 and response.location == "/users/bob"
    # Searching is for anyone (each finds what they may read); looking up elsewhere needs an account.
    visitor = app.test_client()
    assert 'name="handle"' not in await text(await visitor.get("/search"))
    response = await submit(visitor, "/search", handle=f"@bob@{instance.domain}")
    assert response.status_code == 302 and response.location.startswith("/login")


# --- settings -------------------------------------------------------------------------


async def test_settings_page_links_every_setting(app, alice):
    client = await logged_in(app, alice)
    page = await text(await client.get("/settings"))
    for link in ("/settings/password", "/settings/export.json", "/settings/export.md", "/meetings"):
        assert f'href="{link}"' in page, link
    assert 'for="f-display_name"' in page and 'for="f-bio"' in page and 'for="f-language"' in page
    assert 'href="/settings"' in await text(await client.get("/"))  # in the nav
    assert (await app.test_client().get("/settings")).status_code == 302


async def test_saving_the_profile_tells_followers_servers(app, alice):
    ana = await remote_person()
    await Follow.create(follower=ana, target=alice.actor, state=FollowState.ACCEPTED)
    client = await logged_in(app, alice)
    response = await submit(client, "/settings", display_name="Alice <b>Bold</b>", bio="Hi", language="en")
    assert response.status_code == 302 and response.location == "/settings"
    account = await Account.get(id=alice.id).select_related("actor")
    assert (account.actor.display_name, account.bio, account.language) == ("Alice <b>Bold</b>", "Hi", "en")
    assert account.actor.summary == "<p>Hi</p>\n"
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=alice.actor.id).count() == 1
    page = await text(await client.get("/users/alice"))
    assert "Alice &lt;b&gt;Bold&lt;/b&gt;" in page  # a name is text
    # Saving the same again federates nothing new.
    await submit(client, "/settings", display_name="Alice <b>Bold</b>", bio="Hi", language="en")
    assert await OutboxEvent.filter(kind="actor.updated").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"display_name": "N" * 101}, "display_name", "Display name is too long: 101 characters, at most 100."),
        ({"display_name": "two\nlines"}, "display_name", "Display name must fit on one line."),
        ({"bio": "b" * 2001}, "bio", "About you is too long: 2001 characters, at most 2000."),
        ({"language": "xx"}, "language", "Choose one of the languages in the list."),
    ],
)
async def test_bad_settings_are_refused_beside_the_field(app, alice, fields, field, message):
    client = await logged_in(app, alice)
    form = {"display_name": "Kept name", "bio": "Kept <script>bio</script>", "language": "", **fields}
    response = await submit(client, "/settings", **form)
    page = await text(response)
    assert response.status_code == 400
    assert f'<p class="error" id="f-{field}-error">{message}' in page
    assert "Kept name" in page or field == "display_name"
    assert "Kept &lt;script&gt;bio&lt;/script&gt;" in page or field == "bio"
    account = await Account.get(id=alice.id).select_related("actor")
    assert (account.actor.display_name, account.bio) == ("", "")
    assert not await OutboxEvent.filter(kind="actor.updated").exists()


async def test_settings_need_csrf(app, alice):
    client = await logged_in(app, alice)
    response = await client.post("/settings", form={"display_name": "Evil", "csrf_token": "x"})
    assert response.status_code == 403
    assert (await Actor.get(id=alice.actor.id)).display_name == ""


# --- home: from people you follow -------------------------------------------------------


async def test_home_shows_posts_from_followed_people_paged(app, alice):
    ana = await remote_person()
    await Follow.create(follower=alice.actor, target=ana, state=FollowState.ACCEPTED)
    for n in range(12):
        await remote.store_followed_post(
            remote.RemotePostInput(uri=f"https://elsewhere.example/notes/{n}", author_uri=ana.uri,
                                   content_html=f"<p>Note {n:02d}</p>"),
            ana,
        )
    client = await logged_in(app, alice)
    page = await text(await client.get("/"))
    assert "From people you follow" in page
    assert "Note 11" in page and "Note 02" in page and "Note 01" not in page
    older = re.search(r'href="(/\?followed_before=\d+)#followed"', page)
    assert older, page
    page = await text(await client.get(older.group(1)))
    assert "Note 01" in page and "Note 00" in page and "Note 11" not in page


# --- no query per row -------------------------------------------------------------------


async def _queries_for(client, path: str, caplog) -> int:
    caplog.clear()
    with caplog.at_level("DEBUG", logger="tortoise.db_client"):
        response = await client.get(path)
    assert response.status_code == 200
    return len([r for r in caplog.records if r.name == "tortoise.db_client"])


async def test_profile_and_home_pages_do_not_query_per_row(app, instance, alice, caplog):
    ana = await remote_person()
    await Follow.create(follower=alice.actor, target=ana, state=FollowState.ACCEPTED)
    circle = await factories.circle(instance, alice, "readers")
    client = await logged_in(app, alice)

    async def add(n: int) -> None:
        for i in range(n):
            await factories.post(instance, alice, circle, title=f"Mine {i}", body="Text")
            await remote.store_followed_post(
                remote.RemotePostInput(uri=f"https://elsewhere.example/n/{clock.new_id()}", author_uri=ana.uri,
                                       content_html="<p>Hers</p>"),
                ana,
            )

    await add(1)
    few = [await _queries_for(client, path, caplog) for path in ("/users/alice", "/people/ana@elsewhere.example", "/")]
    assert all(few), "no SQL was logged: the count proves nothing"
    await add(6)
    many = [await _queries_for(client, path, caplog) for path in ("/users/alice", "/people/ana@elsewhere.example", "/")]
    assert many == few


async def test_asking_again_after_a_refusal_sends_a_new_follow(app, alice):
    ana = await remote_person()
    client = await logged_in(app, alice)
    await submit(client, "/people/ana@elsewhere.example/follow")
    first = (await Follow.get(follower=alice.actor, target=ana)).uri
    from models.services import follows

    await follows.answer_from_remote(alice.actor, ana, accepted=False)
    assert "declined your last request" in await text(await client.get("/people/ana@elsewhere.example"))
    await submit(client, "/people/ana@elsewhere.example/follow")
    again = await Follow.get(follower=alice.actor, target=ana)
    assert again.state is FollowState.PENDING and again.uri != first
    assert await OutboxEvent.filter(kind="follow.requested").count() == 2


async def test_a_blocked_domain_is_neither_looked_up_nor_followed(app, instance, alice):
    from models.services import moderation

    admin = await factories.account(instance, "carla", is_admin=True)
    await moderation.block_domain(admin, instance, "blocked.example", reason="Spam")
    client = await logged_in(app, alice)
    response = await submit(client, "/search", handle="@spammer@blocked.example")
    assert response.status_code == 400
    assert "its admins blocked it" in await text(response) and 'value="@spammer@blocked.example"' in await text(response)
    await remote_person("spammer", "blocked.example")  # known from before the block
    response = await submit(client, "/people/spammer@blocked.example/follow")  # refused by follows.follow_remote
    assert response.status_code == 403 and "its admins blocked it" in await text(response)
    assert not await Follow.exists()


async def test_a_circle_elsewhere_opens_its_circle_page_and_a_look_writes_nothing(app, instance):
    from models.circles import Circle

    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://elsewhere.example/c/rust", kind=ActorKind.GROUP, username="rust", domain="elsewhere.example",
        inbox_url="https://elsewhere.example/c/rust/inbox",
    ))
    response = await app.test_client().get("/people/rust@elsewhere.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/c/rust@elsewhere.example")
    assert not await Circle.filter(actor=group).exists()


async def test_a_right_to_left_name_is_isolated_wherever_it_is_shown(app, instance, alice):
    sara = await remote_person("sara")
    await Actor.filter(id=sara.id).update(display_name="שרה")
    page = await text(await app.test_client().get("/people/sara@elsewhere.example"))
    assert "<h1>\u2068שרה\u2069</h1>" in page
    assert "<title>\u2068שרה\u2069" in page  # a title cannot hold <bdi>: the isolates are characters
