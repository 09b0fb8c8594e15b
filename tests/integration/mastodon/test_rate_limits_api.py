"""The client API's rate limits and their headers, as Mastodon sends them:
300 requests per 5 minutes per token, or per address without one
(config/initializers/rack_attack.rb, `throttle_per_token_api` and
`throttle_unauthenticated_api`), the headers of the most spent limit the
request used (app/controllers/concerns/api/rate_limit_headers.rb), and a 429
with `X-RateLimit-Remaining: 0` past it (rack_attack.rb `throttled_responder`)."""

from __future__ import annotations

import datetime as dt

from models import clock
from models.oauth import OAuthApp
from models.ratelimits import RateWindow
from models.services import ratelimits
from tests.integration.mastodon.conftest import REDIRECT

RESET_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _reset(response) -> dt.datetime:
    return dt.datetime.strptime(response.headers["X-RateLimit-Reset"], RESET_FORMAT).replace(tzinfo=dt.UTC)


def _remaining(response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


async def _fill(limit: ratelimits.Limit, subject: str) -> None:
    """Use up `limit` for `subject` in this window, as that many earlier requests would have."""
    await RateWindow.create(key=limit.key(subject), started_at=ratelimits.window_start(limit, clock.now()),
                            hits=limit.hits)


async def test_each_request_spends_one_of_the_tokens_hits(api):
    first = await api.get("/api/v1/accounts/verify_credentials")
    second = await api.get("/api/v1/timelines/home")
    assert first.status_code == second.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == str(ratelimits.API.hits) == "300"
    assert _remaining(first) == 299 and _remaining(second) == 298
    # The end of the current 5-minute window, in Mastodon's iso8601(6).
    now = clock.now()
    assert now < _reset(first) <= now + dt.timedelta(seconds=ratelimits.API.seconds)
    assert _reset(first) == ratelimits.window_start(ratelimits.API, now) + dt.timedelta(seconds=300)


async def test_tokens_count_apart_and_anonymous_requests_by_address(make_api, alice):
    one, other, anonymous = await make_api(alice), await make_api(alice), await make_api(None)
    await one.get("/api/v1/accounts/verify_credentials")
    assert _remaining(await one.get("/api/v1/accounts/verify_credentials")) == 298
    assert _remaining(await other.get("/api/v1/accounts/verify_credentials")) == 299
    assert _remaining(await anonymous.get("/api/v1/instance")) == 299
    assert _remaining(await anonymous.get("/api/v1/timelines/public")) == 298


async def test_past_the_limit_a_429_says_when_to_come_back(api):
    first = await api.get("/api/v1/accounts/verify_credentials")  # makes the token's window
    assert first.status_code == 200
    await RateWindow.filter(key__startswith="api:token:").update(hits=ratelimits.API.hits)
    refused = await api.get("/api/v1/timelines/home")
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("application/json")
    assert "error" in await refused.get_json()
    assert refused.headers["X-RateLimit-Limit"] == "300" and _remaining(refused) == 0
    assert 0 < int(refused.headers["Retry-After"]) <= ratelimits.API.seconds
    assert _reset(refused) > clock.now()
    # The next window lets the token in again.
    clock.freeze(_reset(refused) + dt.timedelta(seconds=1))
    try:
        again = await api.get("/api/v1/timelines/home")
        assert again.status_code == 200 and _remaining(again) == 299
    finally:
        clock.freeze(None)


async def test_the_headers_show_the_most_spent_limit(api, alice, instance):
    """Posting spends the web's writing limit too (30 per 10 minutes), nearer its end than the API's."""
    from tests import factories

    await factories.circle(instance, alice, "readers")
    posted = await api.post("/api/v1/statuses", json={"status": "@readers@circles.test A thought"})
    assert posted.status_code == 200, await posted.get_data(as_text=True)
    assert posted.headers["X-RateLimit-Limit"] == str(ratelimits.POSTING.hits)
    assert _remaining(posted) == ratelimits.POSTING.hits - 1
    await RateWindow.filter(key=ratelimits.POSTING.key(f"account:{alice.id}")).update(hits=ratelimits.POSTING.hits)
    refused = await api.post("/api/v1/statuses", json={"status": "@readers@circles.test Another"})
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == str(ratelimits.POSTING.hits) and _remaining(refused) == 0


async def test_registering_apps_is_limited_per_address(client):
    await _fill(ratelimits.API_APPS, "address:203.0.113.9")
    before = await OAuthApp.all().count()
    form = {"client_name": "One more", "redirect_uris": REDIRECT}
    refused = await client.post("/api/v1/apps", json=form, scope_base={"client": ("203.0.113.9", 40000)})
    assert refused.status_code == 429, await refused.get_data(as_text=True)
    assert refused.headers["X-RateLimit-Limit"] == str(ratelimits.API_APPS.hits) and _remaining(refused) == 0
    assert await OAuthApp.all().count() == before
    elsewhere = await client.post("/api/v1/apps", json=form, scope_base={"client": ("198.51.100.8", 40000)})
    assert elsewhere.status_code == 200
    assert _remaining(elsewhere) == ratelimits.API_APPS.hits - 1


async def test_the_token_endpoint_spends_nothing(client):
    """Mastodon counts only paths under /api (Rack::Attack::Request#api_request?)."""
    response = await client.post("/oauth/token", data={"grant_type": "password"})
    assert response.status_code == 400
    assert "X-RateLimit-Limit" not in response.headers
    assert not await RateWindow.filter(key__startswith="api:").exists()


async def test_cors_lets_browser_apps_read_the_headers(api):
    response = await api.get("/api/v1/instance", headers={"Origin": "https://elk.example"})
    assert "X-RateLimit-Remaining" in response.headers["Access-Control-Expose-Headers"]


async def test_no_limits_no_headers(make_app, alice):
    from models.services import oauth

    client = make_app(rate_limits=False).test_client()
    app, _ = await oauth.register_app(name="Test app", redirect_uris=REDIRECT, scopes="read", website=None)
    _, secret = await oauth.issue_token(app, alice, oauth.parse_scopes("read"))
    response = await client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers
    assert not await RateWindow.all().exists()
