"""Notifications through the client API: our kinds as Mastodon's types,
filters, paging, dismiss and clear, the unread count, and markers."""

from __future__ import annotations

import pytest

from models.notifications import Notification
from models.services import follows, likes
from models.services import notifications as notification_service
from models.services import posts as post_service
from tests import factories


@pytest.fixture
async def told(instance, alice):
    """Alice hears of Bob's reply (a mention), Bob's like (a favourite), Carol's
    follow, and a tutoring message (which only the web page shows)."""
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "open")
    await factories.member(circle, bob)
    post = await factories.post(instance, alice, circle, "What is a monad?")
    reply = await post_service.reply(instance, bob.actor, post, body="A burrito.")
    await likes.like(bob.actor, post)
    await follows.follow_local(carol.actor, alice.actor)
    await notification_service.notify([alice.actor_id], "tutoring.message", "A message", "/tutoring/1",
                                      actor_id=bob.actor_id)
    rows = {n.kind: n for n in await Notification.filter(recipient=alice)}
    return {"bob": bob, "carol": carol, "post": post, "reply": reply, "rows": rows, "circle": circle}


async def listed(api, query: str = "") -> list[dict]:
    response = await api.get(f"/api/v1/notifications{query}")
    assert response.status_code == 200, await response.get_data()
    return await response.get_json()


async def test_kinds_become_mastodon_types(api, told):
    got = await listed(api)
    assert [n["type"] for n in got] == ["follow", "favourite", "mention"]  # newest first; no tutoring
    follow, favourite, mention = got
    assert follow["account"]["username"] == "carol" and "status" not in follow
    assert favourite["account"]["username"] == "bob" and favourite["status"]["id"] == str(told["post"].id)
    assert mention["status"]["id"] == str(told["reply"].id) and mention["id"] == str(told["rows"]["post.reply"].id)
    assert mention["created_at"].endswith("Z") and mention["group_key"]


async def test_types_and_exclusions_as_mastodon_reads_them(api, told):
    assert [n["type"] for n in await listed(api, "?types[]=mention&types[]=follow")] == ["follow", "mention"]
    assert [n["type"] for n in await listed(api, "?exclude_types[]=follow")] == ["favourite", "mention"]
    assert await listed(api, "?types[]=nonsense") == []  # asked types that do not exist: nothing
    assert len(await listed(api, "?exclude_types[]=nonsense")) == 3
    bob = str(told["bob"].actor_id)
    assert [n["type"] for n in await listed(api, f"?account_id={bob}")] == ["favourite", "mention"]
    assert await listed(api, "?account_id=abc") == []


async def test_paging_with_link_headers(api, told):
    first = await api.get("/api/v1/notifications?limit=2")
    page = await first.get_json()
    assert [n["type"] for n in page] == ["follow", "favourite"]
    assert f'max_id={page[-1]["id"]}' in first.headers["Link"]
    older = await listed(api, f'?max_id={page[-1]["id"]}')
    assert [n["type"] for n in older] == ["mention"]
    assert (await api.get("/api/v1/notifications?max_id=x")).status_code == 422


async def test_one_notification_and_missing_ones(api, make_api, told, instance):
    row = told["rows"]["post.liked"]
    response = await api.get(f"/api/v1/notifications/{row.id}")
    assert response.status_code == 200 and (await response.get_json())["type"] == "favourite"
    for missing in ("abc", "1", str(told["rows"]["tutoring.message"].id), "9" * 30):
        assert (await api.get(f"/api/v1/notifications/{missing}")).status_code == 404
    bob_api = await make_api(told["bob"])
    assert (await bob_api.get(f"/api/v1/notifications/{row.id}")).status_code == 404  # not his


async def test_dismiss_and_clear(api, make_api, told):
    row = told["rows"]["post.liked"]
    bob_api = await make_api(told["bob"])
    assert (await bob_api.post(f"/api/v1/notifications/{row.id}/dismiss")).status_code == 404
    response = await api.post(f"/api/v1/notifications/{row.id}/dismiss")
    assert response.status_code == 200 and await response.get_json() == {}
    assert [n["type"] for n in await listed(api)] == ["follow", "mention"]
    assert (await api.post(f"/api/v1/notifications/{row.id}/dismiss")).status_code == 404
    assert (await api.post("/api/v1/notifications/clear")).status_code == 200
    assert await listed(api) == []
    kinds = await Notification.filter(recipient_id=told["rows"]["post.reply"].recipient_id).values_list("kind", flat=True)
    assert kinds == ["tutoring.message"]  # the web page's own kinds stay


async def test_scopes(make_api, alice, told):
    assert (await (await make_api(None)).get("/api/v1/notifications")).status_code == 401
    reader = await make_api(alice, scopes="read:notifications")
    assert (await reader.get("/api/v1/notifications")).status_code == 200
    assert (await reader.post("/api/v1/notifications/clear")).status_code == 403
    statuses_only = await make_api(alice, scopes="read:statuses")
    assert (await statuses_only.get("/api/v1/notifications")).status_code == 403


async def test_unread_count_follows_the_web_read_state(api, alice, told):
    response = await api.get("/api/v1/notifications/unread_count")
    assert await response.get_json() == {"count": 3}
    assert await (await api.get("/api/v1/notifications/unread_count?limit=2")).get_json() == {"count": 2}
    await notification_service.mark_all_read(alice)
    assert await (await api.get("/api/v1/notifications/unread_count")).get_json() == {"count": 0}


async def test_a_members_only_post_goes_once_one_left_the_circle(api, instance, alice, told):
    from models.services import circles as circle_service

    club = await factories.circle(instance, told["bob"], "club", visibility="members")
    await factories.member(club, alice)
    post = await factories.post(instance, alice, club, "Members only")
    await post_service.reply(instance, told["bob"].actor, post, body="A reply")
    assert len(await listed(api, "?types[]=mention")) == 2
    await circle_service.leave(club, alice.actor, instance=instance)
    assert len(await listed(api, "?types[]=mention")) == 1


async def test_the_list_costs_the_same_queries_for_more_rows(api, instance, alice, told, count_queries):
    for n in range(6):
        reader = await factories.account(instance, f"reader{n}")
        await factories.member(told["circle"], reader)
        await post_service.reply(instance, reader.actor, told["post"], body=f"Reply {n}")

    async def measure(limit: int) -> int:
        with count_queries() as queries:
            assert (await api.get(f"/api/v1/notifications?limit={limit}")).status_code == 200
        return len(queries)

    await measure(1)
    assert await measure(2) == await measure(9)


async def markers(api, query: str = "?timeline[]=home&timeline[]=notifications") -> dict:
    response = await api.get(f"/api/v1/markers{query}")
    assert response.status_code == 200
    return await response.get_json()


async def test_markers_are_set_and_read_back(api, told):
    assert await markers(api) == {}
    response = await api.post("/api/v1/markers", form={"home[last_read_id]": "12345"})
    assert response.status_code == 200
    home = (await response.get_json())["home"]
    assert home["last_read_id"] == "12345" and home["version"] == 1 and home["updated_at"].endswith("Z")
    again = await api.post("/api/v1/markers", json={"home": {"last_read_id": "12346"}, "lists": {"last_read_id": "1"}})
    assert await again.get_json() == {"home": {**home, "last_read_id": "12346", "version": 2,
                                               "updated_at": (await again.get_json())["home"]["updated_at"]}}
    assert list(await markers(api, "?timeline[]=home")) == ["home"]


async def test_the_notifications_marker_is_the_web_read_state(api, alice, told):
    rows = told["rows"]
    assert await markers(api, "?timeline[]=notifications") == {}  # nothing read yet
    await notification_service.mark_read(alice, rows["post.reply"].id)
    got = await markers(api, "?timeline[]=notifications")
    assert got["notifications"]["last_read_id"] == str(rows["post.reply"].id)
    # The app read up to the like: the web counts it read, the follow stays unread.
    response = await api.post("/api/v1/markers", form={"notifications[last_read_id]": str(rows["post.liked"].id)})
    assert (await response.get_json())["notifications"]["last_read_id"] == str(rows["post.liked"].id)
    assert await (await api.get("/api/v1/notifications/unread_count")).get_json() == {"count": 1}
    newest = rows["tutoring.message"].id
    await api.post("/api/v1/markers", form={"notifications[last_read_id]": str(newest)})
    assert await (await api.get("/api/v1/notifications/unread_count")).get_json() == {"count": 0}
    assert await Notification.filter(id=newest, read_at=None).exists()  # the app never showed it: still unread


async def test_markers_refuse_bad_ids_and_need_their_scopes(api, make_api, alice):
    response = await api.post("/api/v1/markers", form={"home[last_read_id]": "soon"})
    assert response.status_code == 422 and "home[last_read_id]" in (await response.get_json())["details"]
    reader = await make_api(alice, scopes="read:statuses")
    assert (await reader.get("/api/v1/markers?timeline[]=home")).status_code == 200
    assert (await reader.post("/api/v1/markers", form={"home[last_read_id]": "1"})).status_code == 403
