"""Members here answering polls from other servers."""

from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.actors import ActorKind
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.polls import PollAnswer
from models.services import follows, remote
from models.services import remote_polls as svc
from tests import factories

GROUP = "https://elsewhere.example/c/readers"


async def remote_poll_in_followed_circle(instance, options=("Yes", "No"), **poll):
    """A circle elsewhere that bob joined, and a poll it announced."""
    bob = await factories.account(instance, "bob")
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri=GROUP, kind=ActorKind.GROUP, username="readers", domain="elsewhere.example", inbox_url=f"{GROUP}/inbox"))
    rita = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, username="rita",
        domain="elsewhere.example", inbox_url="https://elsewhere.example/users/rita/inbox"))
    await follows.follow_remote(bob.actor, group, instance_base_url=instance.base_url)
    await follows.answer_from_remote(bob.actor, group, accepted=True)
    data = remote.RemotePostInput(
        uri="https://elsewhere.example/posts/1", author_uri=rita.uri, content_html="<p>Tuesdays?</p>",
        title="Meet on Tuesdays", poll=svc.RemotePollInput(options=options, **poll))
    post = await remote.store_announced_post(data, rita, group)
    return bob, post


async def test_a_member_answers_once_and_the_vote_is_queued(database, instance):
    bob, post = await remote_poll_in_followed_circle(instance)
    await OutboxEvent.all().delete()
    with pytest.raises(InvalidInput):
        await svc.answer(bob.actor, post, "Maybe")
    answer = await svc.answer(bob.actor, post, "Yes")
    assert [(e.kind, e.subject_id) for e in await OutboxEvent.all()] == [("poll.answered", answer.id)]
    with pytest.raises(Conflict):
        await svc.answer(bob.actor, post, "No")
    assert await PollAnswer.all().count() == 1


async def test_closed_polls_and_outsiders_are_refused(database, instance):
    bob, post = await remote_poll_in_followed_circle(instance, closes_at=clock.now() - dt.timedelta(minutes=1))
    with pytest.raises(Conflict):
        await svc.answer(bob.actor, post, "Yes")
    outsider = await factories.account(instance, "dan")
    with pytest.raises(PermissionDenied):
        await svc.answer(outsider.actor, post, "Yes")
    local = await factories.post(instance, bob, await factories.circle(instance, bob, "mine"))
    with pytest.raises(NotFound):
        await svc.answer(bob.actor, local, "Yes")
    assert await PollAnswer.all().count() == 0
