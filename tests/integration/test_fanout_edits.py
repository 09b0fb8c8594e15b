"""An edit made here, in the shapes Mastodon and Lemmy act on (stubs on
loopback, as in test_fanout_shapes.py)."""

from __future__ import annotations

import datetime as dt

from models import clock
from models.federation import OutboxEvent
from models.services import post_edits, remote
from models.services import posts as post_service
from tests.integration import test_fanout_shapes as shapes

world = shapes.world  # the fixture: a circle followed on a Mastodon and on a Lemmy server
of_type, sent_to = shapes.of_type, shapes.sent_to


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_edited_answer_reaches_mastodon_as_the_authors_update_with_updated(fed, instance, world, bob):
    """Mastodon applies an Update of a status only from its author (cited in
    federation/post_fanout.py, `_author_plans`), and edits the status only
    when the object is a Note or Question whose `updated` (its edited_at) is
    newer than the last edit it saw; otherwise it only refreshes a poll
    (mastodon/mastodon 00f02645 app/services/activitypub/
    process_status_update_service.rb:21-28, with `expected_type?` and
    `already_updated_more_recently?`). So each edit is the author's Update of
    the Note, with `updated` set. (A top-level post is a Page, for Lemmy;
    Mastodon's `expected_type?` leaves its edits out: README says so.)"""
    circle, mastodon, lemmy, mo, _ = world
    question = await remote.store_post(remote.RemotePostInput(
        uri=mastodon.url("/users/mo/statuses/1"), author_uri=mo.uri, content_html="<p>Why None?</p>",
        circle_uri=circle.actor.uri,
    ), mo)
    answer = await post_service.reply(instance, bob.actor, question, body="You forgot `return`.")
    await sent_to(fed, mastodon)
    await sent_to(fed, lemmy)
    await OutboxEvent.all().delete()
    first_edit = clock.now() + dt.timedelta(minutes=5)
    clock.freeze(first_edit)
    try:
        await post_edits.edit_post(bob.actor, answer, body="You forgot **return**.")
        clock.freeze(first_edit + dt.timedelta(minutes=1))
        await post_edits.edit_post(bob.actor, answer, body="You forgot **return**, twice.")
    finally:
        clock.freeze(None)
    updates = of_type(await sent_to(fed, mastodon), "Update")
    assert [(u["actor"], u["object"]["id"], u["object"]["type"]) for u in updates] == [
        (bob.actor.uri, answer.uri, "Note")] * 2
    assert updates[0]["id"] != updates[1]["id"]  # one Update per edit, each its own id
    first, second = (u["object"] for u in updates)
    assert first["attributedTo"] == bob.actor.uri and mo.uri in first["cc"]
    # Both carry the latest text (each is built when sent), each `updated` later than `published`.
    assert "<strong>return</strong>, twice" in second["content"]
    assert _time(second["updated"]) > _time(second["published"])
    assert second["inReplyTo"] == question.uri
    # Lemmy gets the circle's Announce of each Update.
    announced = [a["object"] for a in of_type(await sent_to(fed, lemmy), "Announce")]
    assert [(u["actor"], u["object"]["id"]) for u in of_type(announced, "Update")] == [(bob.actor.uri, answer.uri)] * 2
