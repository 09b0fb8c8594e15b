"""Every event that concerns a person makes its notification, for the right
people and never for who caused it: one test per kind, through the services
the web forms call. (Events arriving from other servers: test_notifications_inbox.py.)"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from models import clock
from models.accounts import Account
from models.actors import ActorKind, Follow, FollowState
from models.emails import OutgoingEmail
from models.notifications import Notification
from models.person_blocks import BlockKind
from models.services import circle_invites, follows, governance, likes, moderation, notifications, person_blocks
from models.services import circles as circle_service
from models.services import posts as post_service
from models.services import questions, remote, reviews, roles, tutoring
from tests import factories


@pytest.fixture
async def w(database, instance):
    """alice facilitates "Readers"; bob and carol are members."""
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "readers", name="Readers")
    await factories.member(circle, bob)
    await factories.member(circle, carol)
    return SimpleNamespace(instance=instance, alice=alice, bob=bob, carol=carol, circle=circle)


async def of(account: Account, kind: str | None = None) -> list[Notification]:
    rows = Notification.filter(recipient=account)
    return await (rows.filter(kind=kind) if kind else rows).order_by("id")


async def only(account: Account, kind: str) -> Notification:
    """The one notification `account` has; it must be of `kind`."""
    rows = await of(account)
    assert [n.kind for n in rows] == [kind], [(n.kind, n.text) for n in rows]
    return rows[0]


async def test_a_reply_tells_the_author_of_what_it_answers(w):
    post = await factories.post(w.instance, w.alice, w.circle, "How do we start?", title="Starting")
    reply = await post_service.reply(w.instance, w.bob.actor, post, body="With chapter one.")
    note = await only(w.alice, "post.reply")
    assert (note.actor_id, note.circle_id, note.subject_id) == (w.bob.actor.id, w.circle.id, reply.id)
    assert note.params == {"name": "bob", "title": "Starting"} and note.text == "bob replied to “Starting”."
    assert note.group_key == f"post.reply:{post.id}" and note.url == f"/posts/{reply.id}#post-{reply.id}"
    assert not await of(w.bob)
    # A reply to bob's reply tells bob, not alice again.
    await post_service.reply(w.instance, w.carol.actor, reply, body="Agreed.")
    assert (await only(w.bob, "post.reply")).params == {"name": "carol", "title": "With chapter one."}
    assert len(await of(w.alice)) == 1


async def test_a_mention_tells_the_people_named_here_once(w):
    post = await factories.post(w.instance, w.alice, w.circle, "Plans", title="Plans")
    await post_service.reply(w.instance, w.bob.actor, post,
                             body="@alice what do you think, @carol@circles.test? (@nobody, @bob, @dan@elsewhere.example)")
    note = await only(w.carol, "post.mention")
    assert note.actor_id == w.bob.actor.id and note.params["name"] == "bob"
    await only(w.alice, "post.reply")  # named in a reply to her: told once, as a reply
    assert not await of(w.bob)  # naming oneself tells nobody
    await factories.post(w.instance, w.carol, w.circle, "Thanks @bob!")
    assert (await only(w.bob, "post.mention")).params["title"] == "Thanks @bob!"


async def test_a_mention_in_a_members_only_circle_tells_only_members(w, instance):
    dan = await factories.account(instance, "dan")
    closed = await factories.circle(instance, w.alice, "closed", visibility="members")
    await factories.post(instance, w.alice, closed, "@dan and @bob, look")
    assert not await of(dan) and not await of(w.bob)  # bob is no member of this one either


async def test_an_answer_tells_the_asker_even_of_a_safe_question(w):
    question = await questions.ask(w.instance, w.alice.actor, w.circle, title="Why?", body="Tell me")
    await post_service.reply(w.instance, w.bob.actor, question, body="Because.")
    note = await only(w.alice, "question.answer")
    assert note.params == {"name": "bob", "title": "Why?"} and note.group_key == f"question.answer:{question.id}"
    safe = await questions.ask(w.instance, w.carol.actor, w.circle, title="Is it ok?", body="?", safe=True)
    await post_service.reply(w.instance, w.bob.actor, safe, body="Yes.")
    assert (await only(w.carol, "question.answer")).params["title"] == "Is it ok?"


async def test_an_accepted_answer_tells_its_author_but_never_who_asked_safely(w):
    question = await questions.ask(w.instance, w.alice.actor, w.circle, title="Why?", body="Tell me")
    answer = await post_service.reply(w.instance, w.bob.actor, question, body="Because.")
    await questions.accept_answer(w.instance, w.alice.actor, question, answer)
    note = await only(w.bob, "answer.accepted")
    assert note.actor_id == w.alice.actor.id and note.text == "Your answer to “Why?” was accepted."
    safe = await questions.ask(w.instance, w.carol.actor, w.circle, title="Secret?", body="?", safe=True)
    answer = await post_service.reply(w.instance, w.alice.actor, safe, body="No.")
    await questions.accept_answer(w.instance, w.carol.actor, safe, answer)
    [note] = await of(w.alice, "answer.accepted")
    assert note.actor_id is None and "carol" not in note.text and "carol" not in str(note.params)
    assert not await of(w.carol, "answer.accepted")


async def test_a_like_tells_the_author_once(w):
    post = await factories.post(w.instance, w.alice, w.circle, "A tip", title="Tip")
    await likes.like(w.bob.actor, post)
    await likes.like(w.bob.actor, post)  # twice: one like
    await likes.like(w.alice.actor, post)  # her own: nobody
    note = await only(w.alice, "post.liked")
    assert note.actor_id == w.bob.actor.id and note.group_key == f"post.liked:{post.id}"


async def test_feedback_on_shared_work_tells_its_author(w):
    work = await reviews.request_review(w.instance, w.alice.actor, w.circle, title="My essay", body="Is it clear?")
    await reviews.give_feedback(w.instance, w.bob.actor, work, works="The start.")
    note = await only(w.alice, "review.received")
    assert note.params == {"name": "bob", "title": "My essay"} and note.group_key == f"review.received:{work.id}"


async def test_a_proposal_tells_the_other_members_and_its_decision_everyone(w):
    proposal = await governance.propose(w.instance, w.bob.actor, w.circle, kind="free_text", title="Tuesdays",
                                        body="Meet on Tuesdays.", closes_at=clock.now() + dt.timedelta(days=1))
    assert not await of(w.bob)
    for person in (w.alice, w.carol):
        note = await only(person, "proposal.new")
        assert note.params == {"name": "bob", "title": "Tuesdays", "circle": "Readers"}
        assert note.url == f"/proposals/{proposal.post_id}" and note.group_key == f"proposal.new:{w.circle.id}"
    for person in (w.alice, w.bob, w.carol):  # everyone voted: decided at once
        await governance.vote(w.instance, proposal, person.actor, "yes")
    for person in (w.alice, w.bob, w.carol):
        [note] = await of(person, "proposal.decided")
        assert note.text == "The proposal “Tuesdays” in Readers passed."


async def test_tutoring_pairing_and_messages_tell_the_other_person(w):
    await tutoring.set_skills(w.circle, w.alice.actor, offers=["python"], wants=[])
    pairing = await tutoring.open_pairing(w.circle, w.bob.actor, w.alice.actor, "python", by_is_helper=False)
    note = await only(w.alice, "tutoring.paired")
    assert note.text == "bob asks for your help with “python” in Readers." and note.url == f"/tutoring/{pairing.id}"
    await tutoring.send_message(pairing, w.bob.actor, "Hi!")
    await tutoring.send_message(pairing, w.alice.actor, "Hello")
    [message] = await of(w.alice, "tutoring.message")
    assert message.group_key == f"tutoring.message:{pairing.id}" and message.actor_id == w.bob.actor.id
    assert (await only(w.bob, "tutoring.message")).params == {"name": "alice", "skill": "python"}


async def test_a_report_tells_stewards_and_admins_but_not_reporter_or_reported(w, instance):
    boss = await factories.account(instance, "boss", is_admin=True)
    await Account.filter(id__in=[w.alice.id, w.bob.id, w.carol.id]).update(is_admin=False)
    post = await factories.post(w.instance, w.bob, w.circle, "Buy now")
    await moderation.report_post(w.carol.actor, post, category="spam")
    steward = await only(w.alice, "report.new")
    assert steward.url == "/c/readers/moderation" and steward.actor_id is None  # who reported is on that page
    assert steward.text == "A new report in Readers waits for a steward."
    assert (await only(boss, "report.new")).url == "/admin/reports"
    assert not await of(w.bob) and not await of(w.carol)
    await moderation.report_actor(w.alice.actor, w.carol.actor, category="other")  # to the admins only
    assert len(await of(boss, "report.new")) == 2 and len(await of(w.alice)) == 1


async def test_a_revealed_safe_question_tells_its_asker_but_not_who_looked(w):
    safe = await questions.ask(w.instance, w.carol.actor, w.circle, title="Is it ok?", body="?", safe=True)
    await questions.reveal_asker(w.circle, safe, w.alice.actor, reason="A complaint")
    note = await only(w.carol, "question.revealed")
    assert note.actor_id is None and "alice" not in note.text and "alice" not in str(note.params)
    assert note.text == "A steward of Readers looked up who asked “Is it ok?”: they know it was you."
    assert not await of(w.alice)


async def test_a_new_follower_tells_the_person_once(w):
    rita = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://remote.example/users/rita", kind=ActorKind.PERSON, username="rita", domain="remote.example",
        inbox_url="https://remote.example/users/rita/inbox"))
    await follows.receive_follow(rita, w.alice.actor, "https://remote.example/follows/1")
    await follows.receive_follow(rita, w.alice.actor, "https://remote.example/follows/1")  # sent again
    note = await only(w.alice, "person.followed")
    assert note.actor_id == rita.id and note.url == "/people/rita@remote.example" and note.group_key == "person.followed"


async def test_a_mention_in_a_followed_persons_post_links_to_their_page(w):
    # Such a post belongs to no circle, so it has no page of its own: it shows on its author's profile.
    rita = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://remote.example/users/rita", kind=ActorKind.PERSON, username="rita", domain="remote.example",
        inbox_url="https://remote.example/users/rita/inbox"))
    await Follow.create(follower=w.alice.actor, target=rita, state=FollowState.ACCEPTED, uri="https://x/f/1")
    await remote.store_followed_post(remote.RemotePostInput(
        uri="https://remote.example/notes/1", author_uri=rita.uri, content_html="<p>Thanks @alice!</p>",
        mentions=(w.alice.actor.uri,)), rita)
    note = await only(w.alice, "post.mention")
    assert note.url == "/people/rita@remote.example" and note.actor_id == rita.id


async def test_joining_inviting_and_facilitation_carry_who_where_and_parameters(w, instance):
    dan = await factories.account(instance, "dan")
    closed = await factories.circle(instance, w.alice, "closed", name="Closed", join_mode="approval")
    member = await circle_service.join(closed, dan.actor, request_text="Hi")
    request = await only(w.alice, "circle.join_request")
    assert (request.actor_id, request.circle_id, request.params) == (dan.actor.id, closed.id,
                                                                     {"handle": dan.actor.handle, "circle": "Closed"})
    await circle_service.approve(closed, w.alice.actor, member.id)
    approved = await only(dan, "circle.request_approved")
    assert approved.circle_id == closed.id and approved.params == {"circle": "Closed"}
    eve = await factories.account(instance, "eve")
    await circle_invites.invite_person(closed, w.alice.actor, eve.actor)
    invited = await only(eve, "circle.invited")
    assert invited.actor_id == w.alice.actor.id and invited.params == {"name": "alice", "circle": "Closed"}
    await roles.after_facilitators_left([w.circle.id])  # alice still facilitates: nothing
    assert not await of(w.bob, "circle.needs_facilitator")


async def test_a_declined_request_is_told_with_its_circle(w, instance):
    dan = await factories.account(instance, "dan")
    closed = await factories.circle(instance, w.alice, "closed", name="Closed", join_mode="approval")
    member = await circle_service.join(closed, dan.actor)
    await circle_service.reject(closed, w.alice.actor, member.id)
    assert (await only(dan, "circle.request_declined")).text == "Your request to join Closed was declined."


async def test_a_muted_persons_reply_and_like_tell_nothing(w):
    post = await factories.post(w.instance, w.alice, w.circle, "Quiet please", title="Quiet")
    await person_blocks.set_block(w.alice.actor, w.bob.actor, BlockKind.MUTE)
    await post_service.reply(w.instance, w.bob.actor, post, body="Noise @alice")
    await likes.like(w.bob.actor, post)
    assert not await of(w.alice)
    await post_service.reply(w.instance, w.carol.actor, post, body="Sorry")
    await only(w.alice, "post.reply")


async def test_a_kind_set_to_none_is_not_made_and_email_queues_a_message(w):
    post = await factories.post(w.instance, w.alice, w.circle, "Tips", title="Tips")
    await notifications.save_preferences(w.alice, {"post.liked": "none", "post.reply": "email"})
    await Account.filter(id=w.alice.id).update(email_verified_at=clock.now())  # email goes to confirmed addresses
    await likes.like(w.bob.actor, post)
    assert not await of(w.alice)
    await post_service.reply(w.instance, w.bob.actor, post, body="Here is one.")
    note = await only(w.alice, "post.reply")
    [email] = await OutgoingEmail.filter(account_id=w.alice.id)
    assert email.to_address == "alice@example.org" and email.params == {"notification_id": note.id}
    await notifications.save_preferences(w.alice, {"post.reply": "web"})
    await post_service.reply(w.instance, w.carol.actor, post, body="And another.")
    assert len(await of(w.alice, "post.reply")) == 2 and await OutgoingEmail.all().count() == 1


async def test_the_circles_own_notes_tell_nobody(w):
    question = await questions.ask(w.instance, w.alice.actor, w.circle, title="Why?", body="Tell me")
    answer = await post_service.reply(w.instance, w.bob.actor, question, body="Because.")
    await Notification.all().delete()
    await questions.accept_answer(w.instance, w.alice.actor, question, answer)  # the circle's "✅" reply
    assert [n.kind for n in await Notification.all()] == ["answer.accepted"]


async def test_a_pairing_opened_from_another_circles_server_tells_the_person_here(w):
    rita = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://remote.example/users/rita", kind=ActorKind.PERSON, username="rita", domain="remote.example",
        inbox_url="https://remote.example/users/rita/inbox"))
    await follows.receive_follow(rita, w.circle.actor, "https://remote.example/follows/1")  # joins the open circle
    await tutoring.set_skills(w.circle, w.alice.actor, offers=["python"], wants=[])
    opening = tutoring.RemoteNoteInput(
        uri="https://remote.example/notes/1", content_html="<p>Could you help me?</p>",
        addressees=frozenset({w.alice.actor.uri}),
        pairing=tutoring.RemotePairingInput(circle_uri=w.circle.actor.uri, skill="python",
                                            helper_uri=w.alice.actor.uri, learner_uri=rita.uri))
    await tutoring.receive_message(rita, opening)
    note = await only(w.alice, "tutoring.paired")
    assert note.actor_id == rita.id and note.text == "rita asks for your help with “python” in Readers."
    follow_up = tutoring.RemoteNoteInput(uri="https://remote.example/notes/2", content_html="<p>Thanks</p>",
                                         in_reply_to_uri=opening.uri, addressees=frozenset({w.alice.actor.uri}))
    await tutoring.receive_message(rita, follow_up)
    assert [n.kind for n in await of(w.alice)] == ["tutoring.paired", "tutoring.message"]
