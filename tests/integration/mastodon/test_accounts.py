"""The accounts API (https://docs.joinmastodon.org/methods/accounts/): one's
own account, finding and showing accounts (people, and circles as groups),
their statuses, followers and following, following, blocking and muting."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from models.actors import Actor, ActorKind, Follow, FollowState
from models.circles import Membership, MembershipState
from models.person_blocks import BlockKind, PersonBlock
from models.services import circles as circle_service
from models.services import person_blocks, profiles
from tests import factories

ACCOUNT_FIELDS = {
    "id", "username", "acct", "url", "uri", "display_name", "note", "avatar", "avatar_static", "header",
    "header_static", "locked", "fields", "emojis", "bot", "group", "discoverable", "indexable", "created_at",
    "last_status_at", "statuses_count", "followers_count", "following_count", "hide_collections", "noindex", "roles",
}
RELATIONSHIP_FIELDS = {
    "id", "following", "showing_reblogs", "notifying", "languages", "followed_by", "blocking", "blocked_by",
    "muting", "muting_notifications", "requested", "requested_by", "domain_blocking", "endorsed", "note",
}


@pytest.fixture
async def bob(instance):
    account = await factories.account(instance, "bob")
    await profiles.update_privacy(account, discoverable=True, indexable=True, shows_circles=True, shows_posts=True)
    return account


@pytest.fixture
async def circle(instance, bob):
    return await factories.circle(instance, bob, "gardeners", name="Gardeners")


async def remote_person(username="carol", domain="remote.example") -> Actor:
    return await Actor.create(uri=f"https://{domain}/users/{username}", kind=ActorKind.PERSON, local=False,
                              username=username, domain=domain, inbox_url=f"https://{domain}/users/{username}/inbox")


# --- own account ------------------------------------------------------------------------------


async def test_verify_credentials(api, alice):
    response = await api.get("/api/v1/accounts/verify_credentials")
    assert response.status_code == 200
    body = await response.get_json()
    assert ACCOUNT_FIELDS <= set(body)
    assert body["id"] == str(alice.actor_id) and body["username"] == "alice" and body["acct"] == "alice"
    assert body["group"] is False and body["locked"] is False
    assert body["created_at"].endswith("T00:00:00.000Z")
    assert body["avatar"].endswith("/static/avatar-missing.png")
    assert body["source"]["privacy"] == "public" and body["source"]["follow_requests_count"] == 0
    assert body["role"]["id"] == "-99"


async def test_verify_credentials_needs_token_and_scope(make_api, alice):
    assert (await (await make_api(None)).get("/api/v1/accounts/verify_credentials")).status_code == 401
    pushing = await make_api(alice, scopes="push")
    assert (await pushing.get("/api/v1/accounts/verify_credentials")).status_code == 403
    profile_only = await make_api(alice, scopes="profile")
    assert (await profile_only.get("/api/v1/accounts/verify_credentials")).status_code == 200


async def test_update_credentials(api, alice):
    response = await api.patch("/api/v1/accounts/update_credentials", form={
        "display_name": "Alice A.", "note": "I *grow* tomatoes", "discoverable": "true", "locked": "false",
    })
    assert response.status_code == 200, await response.get_data()
    body = await response.get_json()
    assert body["display_name"] == "Alice A."
    assert "<em>grow</em>" in body["note"] and body["source"]["note"] == "I *grow* tomatoes"
    assert body["discoverable"] is True
    await alice.refresh_from_db()
    assert alice.discoverable is True and alice.bio == "I *grow* tomatoes"


async def test_update_credentials_json_and_partial(api, alice):
    response = await api.patch("/api/v1/accounts/update_credentials", json={"source": {"language": "fr"}})
    assert response.status_code == 200, await response.get_data()
    assert (await response.get_json())["source"]["language"] == "fr"
    await alice.fetch_related("actor")
    assert alice.actor.display_name == ""  # untouched


@pytest.mark.parametrize(("form", "field"), [
    ({"display_name": "x" * 101}, "display_name"),
    ({"note": "x" * 2001}, "note"),
    ({"locked": "true"}, "locked"),
    ({"bot": "maybe"}, "bot"),
    ({"bot": "true"}, "bot"),
    ({"hide_collections": "true"}, "hide_collections"),
    ({"fields_attributes[0][name]": "Site", "fields_attributes[0][value]": "x"}, "fields_attributes"),
    ({"source[privacy]": "private"}, "source[privacy]"),
    ({"source[language]": "xx"}, "source[language]"),
])
async def test_update_credentials_refuses_naming_the_field(api, alice, form, field):
    response = await api.patch("/api/v1/accounts/update_credentials", form=form)
    assert response.status_code == 422
    assert field in (await response.get_json())["details"]
    await alice.refresh_from_db()
    assert alice.bio == "" and alice.language == ""


def png(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_update_credentials_avatar(api, alice):
    from quart.datastructures import FileStorage

    files = {"avatar": FileStorage(io.BytesIO(png()), filename="me.png", content_type="image/png")}
    response = await api.patch("/api/v1/accounts/update_credentials", form={"display_name": "Al"}, files=files)
    assert response.status_code == 200, await response.get_data()
    body = await response.get_json()
    assert "/media/" in body["avatar"] and body["display_name"] == "Al"
    bad = {"avatar": FileStorage(io.BytesIO(b"not an image"), filename="x.png", content_type="image/png")}
    response = await api.patch("/api/v1/accounts/update_credentials", files=bad)
    assert response.status_code == 422
    assert "avatar" in (await response.get_json())["details"]


async def test_update_credentials_needs_write_scope(make_api, alice):
    reader = await make_api(alice, scopes="read")
    response = await reader.patch("/api/v1/accounts/update_credentials", form={"display_name": "X"})
    assert response.status_code == 403


# --- finding and showing ------------------------------------------------------------------------


async def test_show_person_and_circle(api, bob, circle, instance):
    await factories.post(instance, bob, circle, "Hello")
    person = await (await api.get(f"/api/v1/accounts/{bob.actor_id}")).get_json()
    assert person["username"] == "bob" and person["statuses_count"] == 1
    assert person["last_status_at"] is not None and len(person["last_status_at"]) == 10
    assert person["following_count"] == 1  # the circle bob is in
    group = await (await api.get(f"/api/v1/accounts/{circle.actor_id}")).get_json()
    assert group["group"] is True and group["followers_count"] == 1 and group["statuses_count"] == 1
    assert group["locked"] is False and group["display_name"] == "Gardeners"


async def test_show_anonymous_and_unknown(make_api, bob):
    anonymous = await make_api(None)
    assert (await anonymous.get(f"/api/v1/accounts/{bob.actor_id}")).status_code == 200
    for bad in ("999999", "abc", "-1", "99999999999999999999999"):
        response = await anonymous.get(f"/api/v1/accounts/{bad}")
        assert response.status_code == 404
        assert await response.get_json() == {"error": "Record not found"}


async def test_account_waiting_for_approval_is_not_found(api, instance):
    from models.accounts import AccountState
    from models.services import accounts as account_service

    waiting = await factories.account(instance, "waiting")
    await account_service.set_state(waiting, AccountState.DISABLED)
    assert (await api.get(f"/api/v1/accounts/{waiting.actor_id}")).status_code == 404
    assert (await api.get("/api/v1/accounts/lookup?acct=waiting")).status_code == 404


async def test_update_credentials_refuses_a_json_list(api):
    response = await api.patch("/api/v1/accounts/update_credentials", json=["display_name"])
    assert response.status_code == 422


async def test_nul_characters_refused(api):
    # PostgreSQL fails on a NUL in any query: a 422, never a 500, on both databases
    assert (await api.get("/api/v1/accounts/search?q=a%00b")).status_code == 422
    assert (await api.get("/api/v1/accounts/lookup?acct=a%00b")).status_code == 422
    response = await api.patch("/api/v1/accounts/update_credentials", json={"display_name": "a\u0000b"})
    assert response.status_code == 422
    response = await api.patch("/api/v1/accounts/update_credentials", json={"source": {"language": "\u0000"}})
    assert response.status_code == 422


async def test_locked_circle(api, instance, bob):
    circle = await factories.circle(instance, bob, "approvers", join_mode="approval")
    body = await (await api.get(f"/api/v1/accounts/{circle.actor_id}")).get_json()
    assert body["locked"] is True


async def test_lookup(api, bob, circle, instance):
    assert (await (await api.get("/api/v1/accounts/lookup?acct=bob")).get_json())["id"] == str(bob.actor_id)
    found = await api.get(f"/api/v1/accounts/lookup?acct=gardeners@{instance.domain}")
    assert (await found.get_json())["group"] is True
    carol = await remote_person()
    found = await api.get("/api/v1/accounts/lookup?acct=@carol@remote.example")
    assert (await found.get_json())["acct"] == "carol@remote.example" and carol
    for acct in ("nobody", "", "x@elsewhere.example"):
        assert (await api.get(f"/api/v1/accounts/lookup?acct={acct}")).status_code == 404


async def test_search(api, bob, circle):
    await circle.fetch_related("actor")
    response = await api.get("/api/v1/accounts/search?q=garden")
    assert [row["username"] for row in await response.get_json()] == ["gardeners"]
    response = await api.get("/api/v1/accounts/search?q=bob")
    assert [row["username"] for row in await response.get_json()] == ["bob"]
    assert (await api.get("/api/v1/accounts/search?q=bob&limit=x")).status_code == 422
    response = await api.get("/api/v1/accounts/search?q=bob&following=true")
    assert await response.get_json() == []
    response = await api.get(f"/api/v1/accounts/search?q=@gardeners@{circle.actor.domain}")
    assert [row["username"] for row in await response.get_json()] == ["gardeners"]


async def test_search_keeps_to_peoples_search_choice(api, alice, instance):
    # alice has not let search find her (indexable off): only her full handle does, as on the web
    assert await (await api.get("/api/v1/accounts/search?q=alice")).get_json() == []
    rows = await (await api.get(f"/api/v1/accounts/search?q=alice@{instance.domain}")).get_json()
    assert [row["username"] for row in rows] == ["alice"]


async def test_search_resolve_needs_a_token(make_api, bob):
    # Without a token nothing is fetched from elsewhere; the unknown handle finds nothing.
    anonymous = await make_api(None)
    response = await anonymous.get("/api/v1/accounts/search?q=someone@unreachable.invalid&resolve=true")
    assert response.status_code == 200 and await response.get_json() == []


def _world(name: str, document: dict):
    """A stub server answering WebFinger and the actor document of one account."""
    def respond(request):
        host = request.headers["host"]
        uri = f"http://{host}/users/{name}"
        if request.path.startswith("/.well-known/webfinger"):
            if f"acct%3A{name}%40" not in request.path:
                return 404, {}
            return 200, {"subject": f"acct:{name}@{host}", "links": [
                {"rel": "self", "type": "application/activity+json", "href": uri}]}
        if request.path == f"/users/{name}":
            return 200, {"id": uri, "preferredUsername": name, "inbox": f"{uri}/inbox", **document}
        return 404, {}

    return respond


async def test_search_resolves_a_handle_elsewhere(api, make_api, stub):
    server = await stub(_world("ana", {"type": "Person", "name": "Ana"}))
    anonymous = await make_api(None)
    response = await anonymous.get(f"/api/v1/accounts/search?q=ana@{server.host}&resolve=true")
    assert await response.get_json() == [] and not server.fetched  # no token: nothing fetched
    response = await api.get(f"/api/v1/accounts/search?q=ana@{server.host}")
    assert await response.get_json() == [] and not server.fetched  # not asked to resolve
    response = await api.get(f"/api/v1/accounts/search?q=@ana@{server.host}&resolve=true")
    [found] = await response.get_json()
    assert found["acct"] == f"ana@{server.host}" and found["display_name"] == "Ana" and found["group"] is False
    response = await api.get(f"/api/v1/accounts/search?q=nobody@{server.host}&resolve=true")
    assert response.status_code == 200 and await response.get_json() == []


async def test_featured_tags_and_lists(api, bob):
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/featured_tags")).get_json() == []
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/lists")).get_json() == []
    assert (await api.get("/api/v1/accounts/12345/lists")).status_code == 404


# --- statuses ----------------------------------------------------------------------------------


async def test_statuses_paged_with_link(api, bob, circle, instance):
    posts = [await factories.post(instance, bob, circle, f"Post {n}") for n in range(3)]
    response = await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?limit=2")
    body = await response.get_json()
    assert [row["id"] for row in body] == [str(posts[2].id), str(posts[1].id)]
    assert f"max_id={posts[1].id}" in response.headers["Link"]
    older = await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?max_id={posts[1].id}")).get_json()
    assert [row["id"] for row in older] == [str(posts[0].id)]
    group = await (await api.get(f"/api/v1/accounts/{circle.actor_id}/statuses")).get_json()
    assert len(group) == 3
    assert (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?max_id=x")).status_code == 422


async def test_statuses_of_members_only_circle_hidden_from_non_members(api, alice, bob, instance):
    private = await factories.circle(instance, bob, "secret", visibility="members")
    await factories.post(instance, bob, private, "Members only")
    public = await factories.circle(instance, bob, "open")
    await factories.post(instance, bob, public, "For all")
    mine = await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses")).get_json()
    assert len(mine) == 1 and "For all" in mine[0]["content"]
    assert await (await api.get(f"/api/v1/accounts/{private.actor_id}/statuses")).get_json() == []
    assert await (await api.get(f"/api/v1/accounts/{private.actor_id}/followers")).get_json() == []
    hidden = await (await api.get(f"/api/v1/accounts/{private.actor_id}")).get_json()
    assert hidden["hide_collections"] is True and hidden["indexable"] is False
    shown = await (await api.get(f"/api/v1/accounts/{bob.actor_id}")).get_json()
    assert shown["statuses_count"] == 1
    await factories.member(private, alice)
    assert len(await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses")).get_json()) == 2
    assert len(await (await api.get(f"/api/v1/accounts/{private.actor_id}/statuses")).get_json()) == 1
    members = await (await api.get(f"/api/v1/accounts/{private.actor_id}/followers")).get_json()
    assert {row["username"] for row in members} == {"alice", "bob"}


async def test_statuses_filters(api, bob, circle, instance):
    root = await factories.post(instance, bob, circle, "Root")
    from models.services import posts as post_service

    await post_service.reply(instance, bob.actor, root, body="A reply")
    everything = await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses")).get_json()
    assert len(everything) == 2
    roots = await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?exclude_replies=true")).get_json()
    assert [row["id"] for row in roots] == [str(root.id)]
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?pinned=true")).get_json() == []
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?only_media=true")).get_json() == []
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses?tagged=cats")).get_json() == []


async def test_statuses_hidden_when_profile_hides_them(api, bob, circle, instance):
    await factories.post(instance, bob, circle, "Hello")
    await profiles.update_privacy(bob, discoverable=True, indexable=True, shows_circles=True, shows_posts=False)
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses")).get_json() == []


# --- followers and following -------------------------------------------------------------------


async def test_followers_and_following(api, alice, bob, circle):
    assert (await api.post(f"/api/v1/accounts/{bob.actor_id}/follow")).status_code == 200
    followers = await (await api.get(f"/api/v1/accounts/{bob.actor_id}/followers")).get_json()
    assert [row["username"] for row in followers] == ["alice"]
    await factories.member(circle, alice)
    following = await (await api.get(f"/api/v1/accounts/{alice.actor_id}/following")).get_json()
    assert [row["username"] for row in following] == ["gardeners", "bob"]
    paged = await api.get(f"/api/v1/accounts/{alice.actor_id}/following?limit=1")
    assert [row["username"] for row in await paged.get_json()] == ["gardeners"]
    assert "rel=\"next\"" in paged.headers["Link"]
    members = await (await api.get(f"/api/v1/accounts/{circle.actor_id}/followers")).get_json()
    assert {row["username"] for row in members} == {"alice", "bob"}
    assert await (await api.get(f"/api/v1/accounts/{circle.actor_id}/following")).get_json() == []
    me = await (await api.get(f"/api/v1/accounts/{alice.actor_id}")).get_json()
    assert me["following_count"] == 2


async def test_following_hides_circles_as_the_profile_page_does(api, make_api, alice, bob, instance):
    private = await factories.circle(instance, bob, "hush", visibility="members")
    await factories.circle(instance, bob, "loud")
    outsider = [row["username"] for row in
                await (await api.get(f"/api/v1/accounts/{bob.actor_id}/following")).get_json()]
    assert outsider == ["loud"]  # alice is no member of the members-only circle
    bobs_app = await make_api(bob)
    own = await (await bobs_app.get(f"/api/v1/accounts/{bob.actor_id}/following")).get_json()
    assert {row["username"] for row in own} == {"hush", "loud"}
    await profiles.update_privacy(bob, discoverable=True, indexable=True, shows_circles=False, shows_posts=True)
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/following")).get_json() == []
    assert private


# --- follow, unfollow, relationships ----------------------------------------------------------


async def test_follow_person(api, alice, bob):
    response = await api.post(f"/api/v1/accounts/{bob.actor_id}/follow")
    body = await response.get_json()
    assert set(body) == RELATIONSHIP_FIELDS and body["following"] is True and body["requested"] is False
    assert await Follow.exists(follower_id=alice.actor_id, target_id=bob.actor_id, state=FollowState.ACCEPTED)
    again = await (await api.post(f"/api/v1/accounts/{bob.actor_id}/follow")).get_json()
    assert again["following"] is True
    gone = await (await api.post(f"/api/v1/accounts/{bob.actor_id}/unfollow")).get_json()
    assert gone["following"] is False
    assert not await Follow.exists(follower_id=alice.actor_id, target_id=bob.actor_id)


async def test_follow_yourself_and_unknown(api, alice):
    # Mastodon's FollowService raises RecordNotFound for oneself (following_not_possible?)
    response = await api.post(f"/api/v1/accounts/{alice.actor_id}/follow")
    assert response.status_code == 404
    assert (await api.post("/api/v1/accounts/nope/follow")).status_code == 404


async def test_follow_open_circle_joins(api, alice, circle):
    body = await (await api.post(f"/api/v1/accounts/{circle.actor_id}/follow")).get_json()
    assert body["following"] is True
    assert await circle_service.is_member(circle, alice.actor)
    body = await (await api.post(f"/api/v1/accounts/{circle.actor_id}/unfollow")).get_json()
    assert body["following"] is False and not await circle_service.is_member(circle, alice.actor)


async def test_follow_approval_circle_requests(api, alice, bob, instance):
    circle = await factories.circle(instance, bob, "askfirst", join_mode="approval")
    body = await (await api.post(f"/api/v1/accounts/{circle.actor_id}/follow")).get_json()
    assert body["requested"] is True and body["following"] is False
    member = await Membership.get(circle=circle, actor_id=alice.actor_id)
    assert member.state is MembershipState.PENDING
    again = await api.post(f"/api/v1/accounts/{circle.actor_id}/follow")
    assert again.status_code == 200 and (await again.get_json())["requested"] is True
    withdrawn = await (await api.post(f"/api/v1/accounts/{circle.actor_id}/unfollow")).get_json()
    assert withdrawn["requested"] is False


async def test_follow_circle_when_banned(api, alice, bob, circle):
    await factories.member(circle, alice)
    member = await Membership.get(circle=circle, actor_id=alice.actor_id)
    await circle_service.change_membership_state(member, MembershipState.BANNED)
    response = await api.post(f"/api/v1/accounts/{circle.actor_id}/follow")
    assert response.status_code == 403
    assert "banned" in (await response.get_json())["error"]
    rows = await (await api.get(f"/api/v1/accounts/relationships?id[]={circle.actor_id}")).get_json()
    assert rows[0]["blocked_by"] is True


async def test_follow_invite_only_circle_refused(api, bob, instance):
    circle = await factories.circle(instance, bob, "inviteonly", join_mode="invite")
    assert (await api.post(f"/api/v1/accounts/{circle.actor_id}/follow")).status_code == 403
    assert not await Membership.exists(circle=circle, actor__username="alice")


async def test_follow_blocked(api, alice, bob):
    await person_blocks.set_block(bob.actor, alice.actor, BlockKind.BLOCK)
    response = await api.post(f"/api/v1/accounts/{bob.actor_id}/follow")
    assert response.status_code == 403
    rows = await (await api.get(f"/api/v1/accounts/relationships?id[]={bob.actor_id}")).get_json()
    assert rows[0]["blocked_by"] is True and rows[0]["following"] is False
    # Mastodon shows a blocked viewer none of the blocker's statuses
    assert await (await api.get(f"/api/v1/accounts/{bob.actor_id}/statuses")).get_json() == []


async def test_follow_refusals_are_403_with_the_services_words(api, alice, bob, instance):
    """One rule, in follows.refuse_if_not_allowed, answered 403 as Mastodon's
    FollowService raises Mastodon::NotPermittedError (`following_not_allowed?`,
    app/services/follow_service.rb; app/controllers/concerns/api/error_handling.rb):
    a person you blocked, here or elsewhere, and anyone on a server the admins blocked."""
    from models.federation import OutboxEvent
    from models.services import moderation

    carol = await remote_person()
    for target in (bob.actor, carol):
        await person_blocks.set_block(alice.actor, target, BlockKind.BLOCK)
        response = await api.post(f"/api/v1/accounts/{target.id}/follow")
        assert response.status_code == 403
        assert "unblock them first" in (await response.get_json())["error"]
    admin = await factories.account(instance, "carla", is_admin=True)
    await moderation.block_domain(admin, instance, "blocked.example", reason="Spam")
    spammer = await remote_person("spammer", "blocked.example")
    response = await api.post(f"/api/v1/accounts/{spammer.id}/follow")
    assert response.status_code == 403
    assert (await response.get_json())["error"] == "This server does not talk to blocked.example: its admins blocked it."
    assert not await Follow.exists(follower_id=alice.actor_id)
    assert not await OutboxEvent.filter(kind="follow.requested").exists()


async def test_follow_remote_person_is_requested(api, alice):
    carol = await remote_person()
    body = await (await api.post(f"/api/v1/accounts/{carol.id}/follow")).get_json()
    assert body["requested"] is True and body["following"] is False
    gone = await (await api.post(f"/api/v1/accounts/{carol.id}/unfollow")).get_json()
    assert gone["requested"] is False


async def test_follow_spends_the_web_pages_rate_limit(api, alice, bob):
    from models import clock
    from models.ratelimits import RateWindow
    from models.services import ratelimits

    limit = ratelimits.ACTIONS
    started = ratelimits.window_start(limit, clock.now())
    clock.freeze(started + dt.timedelta(seconds=5))  # not at a window's edge
    try:
        await RateWindow.create(key=limit.key(f"account:{alice.id}"), hits=limit.hits, started_at=started)
        response = await api.post(f"/api/v1/accounts/{bob.actor_id}/follow")
    finally:
        clock.freeze(None)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert not await Follow.exists(follower_id=alice.actor_id)


async def test_follow_needs_follow_scope(make_api, alice, bob):
    reader = await make_api(alice, scopes="read")
    assert (await reader.post(f"/api/v1/accounts/{bob.actor_id}/follow")).status_code == 403
    granular = await make_api(alice, scopes="write:follows")
    assert (await granular.post(f"/api/v1/accounts/{bob.actor_id}/follow")).status_code == 200
    anonymous = await make_api(None)
    assert (await anonymous.post(f"/api/v1/accounts/{bob.actor_id}/follow")).status_code == 401


async def test_relationships(api, alice, bob, circle):
    carol = await remote_person()
    await Follow.create(follower_id=bob.actor_id, target_id=alice.actor_id, state=FollowState.ACCEPTED)
    query = f"id[]={bob.actor_id}&id[]={circle.actor_id}&id[]=999999&id[]=junk&id[]={carol.id}"
    rows = await (await api.get(f"/api/v1/accounts/relationships?{query}")).get_json()
    assert [row["id"] for row in rows] == [str(bob.actor_id), str(circle.actor_id), str(carol.id)]
    assert rows[0]["followed_by"] is True and rows[0]["following"] is False
    assert all(set(row) == RELATIONSHIP_FIELDS for row in rows)
    single = await (await api.get(f"/api/v1/accounts/relationships?id={bob.actor_id}")).get_json()
    assert single[0]["followed_by"] is True
    assert await (await api.get("/api/v1/accounts/relationships")).get_json() == []


async def test_many_accounts(make_api, bob, circle, instance):
    waiting = await factories.account(instance, "waiting")
    from models.accounts import AccountState
    from models.services import accounts as account_service

    await account_service.set_state(waiting, AccountState.DISABLED)
    anonymous = await make_api(None)
    query = f"id[]={circle.actor_id}&id[]=junk&id[]={waiting.actor_id}&id[]={bob.actor_id}&id[]={circle.actor_id}"
    rows = await (await anonymous.get(f"/api/v1/accounts?{query}")).get_json()
    assert [row["username"] for row in rows] == ["gardeners", "bob"]


async def test_familiar_followers(api, alice, bob, instance):
    carol, dave = await factories.account(instance, "carol"), await factories.account(instance, "dave")
    for follower, target in ((alice, carol), (carol, bob), (dave, bob), (alice, bob)):
        await Follow.create(follower_id=follower.actor_id, target_id=target.actor_id, state=FollowState.ACCEPTED)
    query = f"id[]={bob.actor_id}&id[]={dave.actor_id}"
    rows = await (await api.get(f"/api/v1/accounts/familiar_followers?{query}")).get_json()
    assert [(row["id"], [a["username"] for a in row["accounts"]]) for row in rows] == [
        (str(bob.actor_id), ["carol"]), (str(dave.actor_id), []),
    ]


# --- blocks and mutes ---------------------------------------------------------------------------


async def test_block_and_unblock(api, alice, bob):
    await api.post(f"/api/v1/accounts/{bob.actor_id}/follow")
    body = await (await api.post(f"/api/v1/accounts/{bob.actor_id}/block")).get_json()
    assert body["blocking"] is True and body["following"] is False
    blocked = await (await api.get("/api/v1/blocks")).get_json()
    assert [row["username"] for row in blocked] == ["bob"]
    assert await (await api.get("/api/v1/mutes")).get_json() == []
    assert (await (await api.post(f"/api/v1/accounts/{bob.actor_id}/unmute")).get_json())["blocking"] is True
    body = await (await api.post(f"/api/v1/accounts/{bob.actor_id}/unblock")).get_json()
    assert body["blocking"] is False
    assert not await PersonBlock.exists(owner_id=alice.actor_id)


async def test_mute_and_unmute(api, alice, bob):
    body = await (await api.post(f"/api/v1/accounts/{bob.actor_id}/mute", json={"notifications": True})).get_json()
    assert body["muting"] is True and body["muting_notifications"] is True and body["blocking"] is False
    assert [row["username"] for row in await (await api.get("/api/v1/mutes")).get_json()] == ["bob"]
    body = await (await api.post(f"/api/v1/accounts/{bob.actor_id}/unmute")).get_json()
    assert body["muting"] is False


async def test_mute_and_block_refusals(api, alice, circle):
    response = await api.post(f"/api/v1/accounts/{circle.actor_id}/block")
    assert response.status_code == 422
    response = await api.post(f"/api/v1/accounts/{alice.actor_id}/mute")
    assert response.status_code == 422
    bob = await Actor.get(username="bob")
    response = await api.post(f"/api/v1/accounts/{bob.id}/mute", form={"duration": "3600"})
    assert response.status_code == 422 and "duration" in (await response.get_json())["details"]


async def test_block_lists_need_scope(make_api, alice):
    follow_only = await make_api(alice, scopes="read:statuses")
    assert (await follow_only.get("/api/v1/blocks")).status_code == 403
    assert (await follow_only.get("/api/v1/mutes")).status_code == 403
    assert (await follow_only.get("/api/v1/follow_requests")).status_code == 403


async def test_follow_requests_empty(api, bob):
    assert await (await api.get("/api/v1/follow_requests")).get_json() == []
    response = await api.post(f"/api/v1/follow_requests/{bob.actor_id}/authorize")
    assert response.status_code == 404
    response = await api.post(f"/api/v1/follow_requests/{bob.actor_id}/reject")
    assert response.status_code == 404 and await response.get_json() == {"error": "Record not found"}


# --- queries ------------------------------------------------------------------------------------


async def test_accounts_page_in_fixed_queries(api, alice, bob, instance, count_queries):
    circle = await factories.circle(instance, bob, "busy")
    for n in range(3):
        person = await factories.account(instance, f"reader{n}")
        await factories.member(circle, person)
        await Follow.create(follower_id=person.actor_id, target_id=bob.actor_id, state=FollowState.ACCEPTED)
    await api.get("/api/v1/accounts/verify_credentials")  # the token's first use of the hour writes last_used_at
    with count_queries() as few:
        await api.get(f"/api/v1/accounts/{circle.actor_id}/followers")
    for n in range(6):
        person = await factories.account(instance, f"more{n}")
        await factories.member(circle, person)
        await factories.post(instance, person, circle, "Hi")
    with count_queries() as many:
        response = await api.get(f"/api/v1/accounts/{circle.actor_id}/followers")
    assert len(await response.get_json()) == 10
    assert len(many) == len(few), many.report()
    assert len(many) <= 12, many.report()  # 10, and the rate limit's two (web/mastodon/ratelimits.py)


async def test_statuses_page_in_fixed_queries(api, bob, instance, count_queries):
    circle = await factories.circle(instance, bob, "chatty")
    await factories.post(instance, bob, circle, "One")
    await api.get("/api/v1/accounts/verify_credentials")  # the token's first use of the hour writes last_used_at
    with count_queries() as few:
        await api.get(f"/api/v1/accounts/{circle.actor_id}/statuses")
    for n in range(8):
        writer = await factories.account(instance, f"writer{n}")
        await factories.member(circle, writer)
        await factories.post(instance, writer, circle, f"Post {n}")
    with count_queries() as many:
        response = await api.get(f"/api/v1/accounts/{circle.actor_id}/statuses")
    assert len(await response.get_json()) == 9
    assert len(many) == len(few), many.report()



async def test_counts_keep_the_profile_s_choices(make_api, api, instance, alice, bob, circle):
    """A person who hides their posts or circles on their profile shows none in
    their counts to others either (users/show.html's rule); they see their own."""
    await factories.member(circle, alice)
    await factories.post(instance, alice, circle, "Mine")
    alice.profile_shows_posts = alice.profile_shows_circles = False
    await alice.save(update_fields=["profile_shows_posts", "profile_shows_circles"])
    seen = await (await (await make_api(bob)).get(f"/api/v1/accounts/{alice.actor_id}")).get_json()
    assert (seen["statuses_count"], seen["following_count"], seen["last_status_at"]) == (0, 0, None)
    mine = await (await api.get("/api/v1/accounts/verify_credentials")).get_json()
    assert mine["statuses_count"] == 1 and mine["following_count"] == 1 and mine["last_status_at"]
