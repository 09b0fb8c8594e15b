"""What the server says about itself to apps: /api/v1/instance and
/api/v2/instance (limits from our services), peers, rules, custom emojis,
and NodeInfo still served beside them."""

from __future__ import annotations

import re

import pytest

from models.federation import RemoteHost
from models.services import media, posts, remote_polls
from tests import factories


async def test_v2_instance_has_mastodons_shape_and_our_limits(client, instance):
    response = await client.get("/api/v2/instance")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["domain"] == instance.domain
    assert re.fullmatch(r"4\.3\.0 \(compatible; Circles [\w.+-]+\)", body["version"])
    assert body["api_versions"] == {"mastodon": 2}
    config = body["configuration"]
    assert config["statuses"]["max_characters"] == posts.BODY_MAX
    assert config["polls"]["max_options"] == remote_polls.MAX_OPTIONS
    assert config["polls"]["max_characters_per_option"] == remote_polls.OPTION_MAX
    assert config["media_attachments"]["image_size_limit"] == media.MAX_UPLOAD_BYTES
    assert config["media_attachments"]["description_limit"] == media.ALT_MAX
    assert "image/jpeg" in config["media_attachments"]["supported_mime_types"]
    assert config["urls"]["streaming"] == f"ws://{instance.domain}"  # the tests' instance speaks http
    assert body["registrations"]["enabled"] is True and body["registrations"]["approval_required"] is False
    assert body["rules"] == [] and "en" in body["languages"]
    assert body["usage"]["users"]["active_month"] >= 0


async def test_v1_instance_has_mastodons_shape(client, instance, alice):
    response = await client.get("/api/v1/instance")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["uri"] == instance.domain
    assert body["version"].startswith("4.3.0 (compatible; Circles ")
    assert body["urls"] == {"streaming_api": f"ws://{instance.domain}"}
    assert body["stats"]["user_count"] == 1
    assert body["registrations"] is True and body["approval_required"] is False
    assert body["configuration"]["statuses"]["max_characters"] == posts.BODY_MAX
    assert body["contact_account"] is None  # no admin yet


async def test_the_contact_is_the_first_admin(client, instance, alice):
    admin = await factories.account(instance, "ada", is_admin=True)
    await factories.account(instance, "later", is_admin=True)
    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert v2["contact"]["account"]["id"] == str(admin.actor_id)
    assert v2["contact"]["account"]["username"] == "ada"
    v1 = await (await client.get("/api/v1/instance")).get_json()
    assert v1["contact_account"]["username"] == "ada"


@pytest.mark.parametrize(
    ("mode", "enabled", "approval"),
    [("open", True, False), ("approval", True, True), ("invite", False, False), ("closed", False, False)],
)
async def test_registrations_follow_our_setting(make_app, mode, enabled, approval):
    client = make_app(registration=mode).test_client()
    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert v2["registrations"]["enabled"] is enabled
    assert v2["registrations"]["approval_required"] is approval
    v1 = await (await client.get("/api/v1/instance")).get_json()
    assert v1["registrations"] is enabled and v1["approval_required"] is approval
    assert v1["invites_enabled"] is (mode == "invite")


async def test_https_instances_stream_over_wss(make_app):
    client = make_app(scheme="https").test_client()
    v2 = await (await client.get("/api/v2/instance")).get_json()
    assert v2["configuration"]["urls"]["streaming"].startswith("wss://")


async def test_peers_are_the_known_hosts_without_the_blocked(client, database):
    from models import clock

    await RemoteHost.create(host="b.example")
    await RemoteHost.create(host="a.example")
    await RemoteHost.create(host="blocked.example", blocked_at=clock.now())
    response = await client.get("/api/v1/instance/peers")
    assert response.status_code == 200
    assert await response.get_json() == ["a.example", "b.example"]


async def test_rules_and_custom_emojis_are_empty_lists(client, database):
    for path in ("/api/v1/instance/rules", "/api/v1/custom_emojis"):
        response = await client.get(path)
        assert response.status_code == 200 and await response.get_json() == []


async def test_instance_answers_with_a_token_too(api):
    response = await api.get("/api/v2/instance")
    assert response.status_code == 200


async def test_nodeinfo_still_works(client, database):
    links = await (await client.get("/.well-known/nodeinfo")).get_json()
    assert links["links"][0]["href"].endswith("/nodeinfo/2.0")
    response = await client.get("/nodeinfo/2.1")
    assert response.status_code == 200
    assert (await response.get_json())["software"]["name"] == "circles"


async def test_instance_costs_a_fixed_number_of_queries(client, instance, count_queries):
    await factories.account(instance, "ada", is_admin=True)
    with count_queries() as first:
        await client.get("/api/v2/instance")
    for n in range(3):
        await factories.account(instance, f"p{n}", is_admin=True)
        await RemoteHost.create(host=f"h{n}.example")
    with count_queries() as later:
        await client.get("/api/v2/instance")
    with count_queries() as peers:
        await client.get("/api/v1/instance/peers")
    assert len(later) == len(first)
    assert len(peers) <= 3, peers.report()  # the hosts in one query, whatever their count; and the rate limit's two


async def test_a_trailing_slash_is_the_same_path(client, database):
    # Rails ignores it, and Mastodon.py asks for /api/v1/instance/ and /api/v2/instance/.
    for path in ("/api/v1/instance/", "/api/v2/instance/", "/api/v1/custom_emojis/"):
        assert (await client.get(path)).status_code == 200
