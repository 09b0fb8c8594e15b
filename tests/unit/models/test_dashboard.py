"""The participation dashboard: aggregate figures of a circle."""

from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.services import dashboard as svc
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import reflections as reflection_service
from tests import factories


@pytest.fixture(autouse=True)
def unfreeze():
    yield
    clock.freeze(None)


async def test_the_dashboard_counts_what_the_circle_did(database, instance):
    alice, bob, cleo = [await factories.account(instance, name) for name in ("alice", "bob", "cleo")]
    circle = await factories.circle(instance, alice, "pythonistas")
    for person in (bob, cleo):
        await factories.member(circle, person)
    await factories.account(instance, "dan")  # not a member: counts nowhere

    real_now = clock.now()
    clock.freeze(real_now - dt.timedelta(days=10))
    stale = await question_service.ask(instance, bob.actor, circle, title="Nobody answers this", body="?")
    answered = await question_service.ask(instance, bob.actor, circle, title="Why None?", body="?")
    clock.freeze(real_now - dt.timedelta(days=10) + dt.timedelta(hours=3))
    await post_service.reply(instance, bob.actor, answered, body="(bumping my own question)")
    clock.freeze(real_now - dt.timedelta(days=10) + dt.timedelta(hours=5))
    answer = await post_service.reply(instance, cleo.actor, answered, body="You forgot return.")
    await question_service.accept_answer(instance, bob.actor, answered, answer)
    # A meeting twenty days ago with two people going, and a cancelled one.
    clock.freeze(real_now - dt.timedelta(days=21))
    when = (real_now - dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    until = (real_now - dt.timedelta(days=20) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    held = await meeting_service.schedule(instance, alice.actor, circle, title="Session", agenda="",
                                          starts_local=when, ends_local=until)
    for person in (bob, cleo):
        await meeting_service.rsvp(person.actor, held, "going")
    dropped = await meeting_service.schedule(instance, alice.actor, circle, title="Dropped", agenda="",
                                             starts_local=when, ends_local=until)
    await meeting_service.cancel(alice.actor, await meeting_service.meeting_for_post(dropped.post_id))
    clock.freeze(None)

    fresh = await question_service.ask(instance, cleo.actor, circle, title="Asked today", body="?")
    await reflection_service.write(instance, alice.actor, circle, body="We learned a lot", share=True)
    await reflection_service.write(instance, bob.actor, circle, body="A private one")  # not counted

    figures = await svc.dashboard(circle)
    assert figures.members == 3
    assert figures.active_members == 3  # bob, cleo and alice (her shared reflection); not the circle's notes
    assert (figures.questions_asked, figures.questions_answered) == (3, 1)
    assert figures.median_hours_to_first_answer == 5.0  # the asker's own bump does not count
    assert figures.unanswered_over_7_days == 1 and stale.title == "Nobody answers this"
    assert figures.reflections_shared == 1
    assert figures.meetings_held == 1 and figures.average_attendance == 2.0
    assert fresh.id and dict(figures.as_rows())["questions_asked"] == 3
