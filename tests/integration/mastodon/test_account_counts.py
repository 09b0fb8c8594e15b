"""The counts the client API shows beside accounts and statuses, read from
stored counts and indexes rather than counted over every post: a circle's
statuses_count and last_status_at, and a status's replies_count.

Mastodon keeps an account's counts in account_stats (statuses_count, and
last_status_at set as a status is counted: app/models/account_stat.rb,
app/models/concerns/account/counters.rb) and shows last_status_at as a
date (app/serializers/rest/account_serializer.rb `last_status_at&.to_date`);
replies_count is the status's direct replies (app/models/status_stat.rb,
incremented for a reply's `thread` only in app/models/status.rb
`increment_counter_caches`)."""

from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.posts import Post
from models.services import posts as post_service
from tests import factories


@pytest.fixture
async def circle(instance, alice):
    return await factories.circle(instance, alice, "weavers", name="Weavers")


async def _published(post: Post, days_ago: int) -> None:
    await Post.filter(id=post.id).update(published_at=clock.now() - dt.timedelta(days=days_ago))


async def test_a_circle_counts_its_live_top_level_posts_and_dates_its_newest(api, instance, alice, circle):
    oldest = await factories.post(instance, alice, circle, "One")
    middle = await factories.post(instance, alice, circle, "Two")
    newest = await factories.post(instance, alice, circle, "Three")
    for post, days in ((oldest, 30), (middle, 20), (newest, 10)):
        await _published(post, days)
    reply = await post_service.reply(instance, alice.actor, oldest, body="A reply, newer than all")
    await _published(reply, 1)
    await post_service.delete_post(alice.actor, newest)

    group = await (await api.get(f"/api/v1/accounts/{circle.actor_id}")).get_json()

    assert group["statuses_count"] == 2  # neither the reply nor the deleted post
    expected = (clock.now() - dt.timedelta(days=20)).astimezone(dt.timezone.utc).date().isoformat()
    assert group["last_status_at"] == expected


async def test_a_circle_without_posts_has_no_last_status(api, circle):
    group = await (await api.get(f"/api/v1/accounts/{circle.actor_id}")).get_json()
    assert (group["statuses_count"], group["last_status_at"]) == (0, None)


async def test_replies_count_is_direct_replies_at_every_depth(api, instance, alice, circle):
    top = await factories.post(instance, alice, circle, "Top")
    first = await post_service.reply(instance, alice.actor, top, body="First")
    await post_service.reply(instance, alice.actor, first, body="Under the first")
    second = await post_service.reply(instance, alice.actor, first, body="Also under the first")
    await post_service.reply(instance, alice.actor, top, body="Second")
    await post_service.delete_post(alice.actor, second)

    shown = {s["id"]: s["replies_count"] for s in await (
        await api.get(f"/api/v1/accounts/{alice.actor_id}/statuses")).get_json()}

    assert shown[str(top.id)] == 2
    assert shown[str(first.id)] == 1  # the deleted one does not count
