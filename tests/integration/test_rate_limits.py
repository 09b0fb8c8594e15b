"""Rate limits through the real app: writing, sign-up, login, lookups and the
inbox answer 429 with Retry-After past their limit, count in the database
(shared by every process), and let the subject in again once the window ends."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from models import clock
from models.posts import Post
from models.ratelimits import RateWindow
from models.services import ratelimits
from tests import factories
from tests.integration.test_inbox import follow_of, peer, post_signed  # noqa: F401 (peer is a fixture)
from tests.integration.webforms import logged_in, submit, text
from web.html import ratelimits as web_limits


def _wait_seconds(response) -> int:
    return int(response.headers["Retry-After"])


async def _fill(limit: ratelimits.Limit, subject: str) -> None:
    """Use up `limit` for `subject` in the current window, as that many earlier
    requests would have (the counting itself is tested through real requests)."""
    await RateWindow.create(
        key=limit.key(subject), started_at=ratelimits.window_start(limit, clock.now()), hits=limit.hits
    )


async def test_every_limited_endpoint_is_a_real_page(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(web_limits.BY_ENDPOINT) <= endpoints, set(web_limits.BY_ENDPOINT) - endpoints
    assert set(web_limits.READING_ENDPOINTS) <= endpoints, set(web_limits.READING_ENDPOINTS) - endpoints


async def test_writing_past_the_limit_is_refused_until_the_window_ends(app, instance, alice):
    await factories.circle(instance, alice, "readers")
    client = await logged_in(app, alice)
    clock.freeze(ratelimits.window_start(ratelimits.POSTING, clock.now()) + dt.timedelta(seconds=5))
    try:
        for n in range(ratelimits.POSTING.hits):
            response = await submit(client, "/c/readers/posts/new", title=f"Note {n}", body="A thought")
            assert response.status_code == 302, n
        refused = await submit(client, "/c/readers/posts/new", title="One too many", body="A thought")
        assert refused.status_code == 429
        assert 0 < _wait_seconds(refused) <= ratelimits.POSTING.seconds
        assert "Please wait 10 minutes" in await text(refused)
        assert not await Post.filter(title="One too many").exists()
        clock.freeze(clock.now() + dt.timedelta(seconds=_wait_seconds(refused)))
        again = await submit(client, "/c/readers/posts/new", title="Next window", body="A thought")
        assert again.status_code == 302
    finally:
        clock.freeze(None)


async def test_a_preview_does_not_spend_the_writing_limit(app, instance, alice):
    await factories.circle(instance, alice, "readers")
    client = await logged_in(app, alice)
    await _fill(ratelimits.POSTING, f"account:{alice.id}")
    preview = await submit(client, "/c/readers/posts/new", title="Draft", body="*Draft*", preview="1")
    assert preview.status_code == 200
    refused = await submit(client, "/c/readers/posts/new", title="Draft", body="*Draft*")
    assert refused.status_code == 429


async def test_the_writing_limit_is_per_account(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    await factories.member(circle, bob)
    await _fill(ratelimits.POSTING, f"account:{alice.id}")
    bobs = await logged_in(app, bob)
    assert (await submit(bobs, "/c/readers/posts/new", title="Mine", body="Fine")).status_code == 302


async def test_follows_likes_and_profile_pictures_are_capped_per_account(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers")
    post = await factories.post(instance, alice, circle, "Worth a like")
    client = await logged_in(app, alice)
    await _fill(ratelimits.ACTIONS, f"account:{alice.id}")
    for path in ("/users/bob/follow", "/users/bob/unfollow", f"/posts/{post.id}/like"):
        assert (await submit(client, path)).status_code == 429, path
    await _fill(ratelimits.PROFILE_PICTURE, f"account:{alice.id}")
    assert (await submit(client, "/settings/avatar")).status_code == 429
    assert (await submit(client, "/settings/avatar/remove")).status_code == 429
    bobs = await logged_in(app, bob)
    assert (await submit(bobs, "/users/alice/follow")).status_code == 302  # per account


async def test_sign_ups_from_one_address_are_capped_and_others_go_on(client):
    for n in range(ratelimits.SIGN_UP.hits):
        response = await submit(client, "/signup", username=f"learner{n}", email=f"l{n}@example.org",
                                password=factories.PASSWORD, address="198.51.100.7")
        assert response.status_code == 302, n
    refused = await submit(client, "/signup", username="onemore", email="m@example.org",
                           password=factories.PASSWORD, address="198.51.100.7")
    assert refused.status_code == 429 and _wait_seconds(refused) > 0
    elsewhere = await submit(client, "/signup", username="onemore", email="m@example.org",
                             password=factories.PASSWORD, address="198.51.100.8")
    assert elsewhere.status_code == 302


async def test_login_attempts_from_one_address_are_capped(client, alice):
    await _fill(ratelimits.LOGIN, "address:203.0.113.9")
    refused = await submit(client, "/login", login="alice", password=factories.PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429
    assert re.search(r"Please wait \d+ minutes", await text(refused))


async def test_lookups_are_capped_per_account(app, instance, alice):
    client = await logged_in(app, alice)
    handle = f"@alice@{instance.domain}"
    for _ in range(ratelimits.LOOKUP.hits):
        assert (await submit(client, "/search", handle=handle)).status_code == 302
    refused = await submit(client, "/search", handle=handle)
    assert refused.status_code == 429


async def test_searching_is_capped_per_address_when_signed_out(app, instance, alice):
    """Every search reads the full-text index and scans names, so a signed-out
    crawler gets 429 past a limit people never reach; other addresses go on."""
    await factories.circle(instance, alice, "readers")
    crawler = {"scope_base": {"client": ("198.51.100.20", 40000)}}
    client = app.test_client()
    clock.freeze(ratelimits.window_start(ratelimits.SEARCH, clock.now()) + dt.timedelta(seconds=5))
    try:
        for n in range(ratelimits.SEARCH.hits):
            assert (await client.get(f"/search?q=word{n}", **crawler)).status_code == 200, n
        refused = await client.get("/search?q=more", **crawler)
        assert refused.status_code == 429 and 0 < _wait_seconds(refused) <= ratelimits.SEARCH.seconds
        assert "That was a lot in a short time. Please wait 1 minutes" in await text(refused)
        assert (await client.get("/c/readers/search?q=more", **crawler)).status_code == 429
        elsewhere = await client.get("/search?q=more", scope_base={"client": ("198.51.100.21", 40000)})
        assert elsewhere.status_code == 200
    finally:
        clock.freeze(None)


async def test_the_inbox_answers_429_per_host_once_the_signature_holds(app, client, instance, peer):  # noqa: F811
    key, rita = peer
    await factories.account(instance, "alice")
    await _fill(ratelimits.INBOX_HOST, "host:remote.example")
    refused = await post_signed(client, "/inbox", follow_of(rita, instance.person_uri("alice")), key, f"{rita}#main-key")
    assert refused.status_code == 429
    assert _wait_seconds(refused) > 0
    assert "Too many" in (await refused.get_json())["error"]


FLOODER = {"scope_base": {"client": ("192.0.2.5", 40000)}}


async def test_an_unsigned_flood_is_capped_per_address_before_any_signature_work(client):
    await _fill(ratelimits.INBOX_ADDRESS, "address:192.0.2.5")
    refused = await client.post("/inbox", data=b"{}", headers={"Content-Type": "application/activity+json"}, **FLOODER)
    assert refused.status_code == 429 and _wait_seconds(refused) > 0


async def test_limits_can_be_switched_off_for_benchmarks(make_app, client, database):
    app = make_app(rate_limits=False)
    await _fill(ratelimits.INBOX_ADDRESS, "address:192.0.2.5")
    response = await app.test_client().post(
        "/inbox", data=b"{}", headers={"Content-Type": "application/activity+json"}, **FLOODER
    )
    assert response.status_code == 400  # past the limit, but limits are off: the body is read and refused


async def test_concurrent_first_hits_all_count(database):
    await asyncio.gather(*(ratelimits.spend(ratelimits.LOOKUP, "account:1") for _ in range(5)))
    assert await RateWindow.filter(key=ratelimits.LOOKUP.key("account:1")).values_list("hits", flat=True) == [5]


async def test_windows_past_are_forgotten(database):
    await ratelimits.spend(ratelimits.LOOKUP, "account:1")
    clock.freeze(clock.now() + ratelimits.KEEP + dt.timedelta(minutes=10))
    try:
        await ratelimits.spend(ratelimits.LOOKUP, "account:2")
        assert await ratelimits.forget_old() == 1
        assert await RateWindow.filter(key__startswith="lookup:").values_list("key", flat=True) == ["lookup:account:2"]
    finally:
        clock.freeze(None)
