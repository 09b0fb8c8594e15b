"""Tutoring with members on other servers: skills by direct message, pairings
whose messages travel as direct Notes, and replies mapped into the thread."""

import pytest

from models.actors import Actor, ActorKind
from models.circles import Circle, Membership, MembershipState
from models.errors import NotFound, PermissionDenied
from models.federation import OutboxEvent
from models.posts import Post
from models.services import tutoring as svc
from models.tutoring import Pairing, Skill, TutoringMessage
from tests import factories

ELSEWHERE = "https://elsewhere.example"


async def _remote(name: str, circle: Circle | None = None, *, member: bool = True) -> Actor:
    actor = await Actor.create(
        uri=f"{ELSEWHERE}/users/{name}", kind=ActorKind.PERSON, local=False, username=name,
        domain="elsewhere.example", inbox_url=f"{ELSEWHERE}/users/{name}/inbox", shared_inbox_url=f"{ELSEWHERE}/inbox",
        followers_url=f"{ELSEWHERE}/users/{name}/followers",
    )
    if circle is not None and member:
        await Membership.create(circle=circle, actor=actor, state=MembershipState.ACTIVE)
    return actor


async def _setup(instance):
    """alice (here, offers python) and rita (elsewhere, wants python) in one circle."""
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "learners", name="Learners")
    rita = await _remote("rita", circle)
    await svc.set_skills(circle, alice.actor, offers=["python"], wants=[])
    await svc.set_skills(circle, rita, offers=[], wants=["python"])
    return circle, alice.actor, rita


def _note(uri: str, to: list[str], *, in_reply_to=None, content="<p>Thanks!</p>", **fields) -> svc.RemoteNoteInput:
    return svc.RemoteNoteInput(uri=uri, content_html=content, in_reply_to_uri=in_reply_to,
                               addressees=frozenset(to), **fields)


# Skills by direct message


@pytest.mark.parametrize(
    ("content", "offers", "wants"),
    [
        ("<p>@learners offers: Python, public speaking<br>wants: statistics</p>", ["Python", "public speaking"],
         ["statistics"]),
        ('<p><span class="h-card"><a href="x" class="u-url mention">@<span>learners</span></a></span> '
         '<a href="x/tags/offers" class="mention hashtag" rel="tag">#<span>offers</span></a> python, go '
         '<a href="x/tags/wants" class="mention hashtag" rel="tag">#<span>wants</span></a> #statistics</p>',
         ["python", "go"], ["statistics"]),
        ("<p>Wants:</p>", None, []),
        ("<p>offers: cooking</p><p>offers: baking</p>", ["cooking", "baking"], None),
    ],
)
def test_skill_messages_are_read_from_lines_or_hashtags(content, offers, wants):
    assert svc.parse_skill_message(content) == svc.SkillMessage(offers=offers, wants=wants)


@pytest.mark.parametrize("content", ["<p>Hello circle!</p>", "<p>she wants a book, he offers tea</p>", ""])
def test_messages_without_skill_lines_are_not_skill_messages(content):
    assert svc.parse_skill_message(content) is None


async def test_a_remote_member_states_their_own_skills_by_direct_message(database, instance):
    circle, alice, rita = await _setup(instance)
    note = _note(f"{ELSEWHERE}/notes/1", [circle.actor.uri], content="<p>offers: Drawing<br>wants: go, python</p>")
    assert await svc.receive_skills(rita, note)
    assert await svc.skills_of(circle, rita) == svc.SkillLists(offers=["drawing"], wants=["go", "python"])
    assert await svc.skills_of(circle, alice) == svc.SkillLists(offers=["python"], wants=[])  # nobody else's
    answer = await OutboxEvent.get(kind="circle.direct_answer")
    assert answer.data["to"] == rita.uri and answer.data["in_reply_to"] == note.uri
    assert "you can help with drawing" in answer.data["text"]
    # Naming one direction keeps the other.
    assert await svc.receive_skills(rita, _note(f"{ELSEWHERE}/notes/2", [circle.actor.uri], content="<p>wants:</p>"))
    assert await svc.skills_of(circle, rita) == svc.SkillLists(offers=["drawing"], wants=[])
    assert not await Post.exists()


async def test_bad_skill_messages_change_nothing_and_are_answered(database, instance):
    circle, _, rita = await _setup(instance)
    note = _note(f"{ELSEWHERE}/notes/1", [circle.actor.uri], content="<p>offers: <b>c++</b>, ok</p>")
    assert await svc.receive_skills(rita, note)
    assert await svc.skills_of(circle, rita) == svc.SkillLists(offers=[], wants=["python"])
    answer = await OutboxEvent.get(kind="circle.direct_answer")
    assert answer.data["text"].startswith("Nothing was changed") and "“c++” is not a skill name" in answer.data["text"]


async def test_skill_messages_must_be_direct_to_one_circle_from_a_member(database, instance):
    circle, _, rita = await _setup(instance)
    public = _note(f"{ELSEWHERE}/notes/1", [circle.actor.uri], content="<p>offers: go</p>", direct=False)
    assert not await svc.receive_skills(rita, public)
    olga = await _remote("olga", circle, member=False)
    with pytest.raises(PermissionDenied):
        await svc.receive_skills(olga, _note(f"{ELSEWHERE}/notes/2", [circle.actor.uri], content="<p>offers: go</p>"))
    assert not await svc.receive_skills(rita, _note(f"{ELSEWHERE}/notes/3", [rita.uri], content="<p>offers: go</p>"))
    assert not await Skill.filter(name="go").exists() and not await OutboxEvent.filter(kind__startswith="tutoring").exists()


# Suggestions and opening


async def test_remote_members_are_suggested_but_never_two_remote_people_together(database, instance):
    circle, alice, rita = await _setup(instance)
    sam = await _remote("sam", circle)
    await svc.set_skills(circle, sam, offers=["python"], wants=[])
    pairs = {(s.helper.username, s.learner.username) for s in await svc.suggest_pairs(circle)}
    assert pairs == {("alice", "rita")}  # sam offers, rita wants: both elsewhere, nobody here could open it
    assert [(s.helper.username, s.learner.username) for s in await svc.suggestions_for(alice, circle)] == [
        ("alice", "rita")
    ]


async def test_opening_with_a_remote_member_sends_them_the_first_message(database, instance):
    circle, alice, rita = await _setup(instance)
    pairing = await svc.open_pairing(circle, alice, rita, "python", by_is_helper=True)
    assert pairing.accepted_at is None and not pairing.opened_remotely
    message = await TutoringMessage.get(pairing=pairing)
    assert message.author_id == alice.id and message.uri == f"{alice.uri}/tutoring/{message.id}"
    assert "“python”" in message.content and "“Learners”" in message.content and "Reply to this message" in message.content
    event = await OutboxEvent.get(kind="tutoring.message")
    assert event.subject_id == message.id and event.data == {"in_reply_to": None}


async def test_a_remote_member_with_no_inbox_left_cannot_be_paired(database, instance):
    circle, alice, rita = await _setup(instance)
    await Actor.filter(id=rita.id).update(inbox_url=None)
    with pytest.raises(PermissionDenied, match="is gone"):
        await svc.open_pairing(circle, alice, await Actor.get(id=rita.id), "python", by_is_helper=True)
    assert not await Pairing.exists() and not await OutboxEvent.filter(kind="tutoring.message").exists()


# The thread across servers


async def _opened(instance):
    circle, alice, rita = await _setup(instance)
    pairing = await svc.open_pairing(circle, alice, rita, "python", by_is_helper=True)
    first = await TutoringMessage.get(pairing=pairing)
    return circle, alice, rita, await svc.get_pairing(pairing.id, alice), first


async def test_the_partners_reply_joins_the_thread_and_accepts_the_pairing(database, instance):
    circle, alice, rita, pairing, first = await _opened(instance)
    reply = _note(f"{ELSEWHERE}/notes/9", [alice.uri], in_reply_to=first.uri,
                  content='<p>Yes please! <script>alert(1)</script><a href="javascript:x()">x</a></p>')
    assert await svc.is_tutoring_note(reply)
    received = await svc.receive_message(rita, reply)
    assert received is not None and received.author_id == rita.id and received.uri == reply.uri
    assert "script" not in received.content and "javascript" not in received.content
    assert (await Pairing.get(id=pairing.id)).accepted_at is not None
    assert await svc.receive_message(rita, reply) == received  # the same Note twice: one message
    # Alice answers: in reply to rita's Note, and it goes to rita alone.
    sent = await svc.send_message(await svc.get_pairing(pairing.id, alice), alice, "Great, *Tuesday*?")
    event = await OutboxEvent.get(kind="tutoring.message", subject_id=sent.id)
    assert event.data == {"in_reply_to": reply.uri}
    assert [m.id for m in await svc.messages(pairing, alice)] == [sent.id, received.id, first.id]
    assert not await Post.exists()


async def test_replies_from_anyone_else_or_not_to_our_person_are_dropped(database, instance):
    circle, alice, rita, pairing, first = await _opened(instance)
    olga = await _remote("olga", circle)
    assert await svc.receive_message(olga, _note(f"{ELSEWHERE}/notes/1", [alice.uri], in_reply_to=first.uri)) is None
    # Rita's reply addressed to someone else (not our person): not in the thread.
    assert await svc.receive_message(rita, _note(f"{ELSEWHERE}/notes/2", [olga.uri], in_reply_to=first.uri)) is None
    # Olga cannot take over rita's Note id either.
    await svc.receive_message(rita, _note(f"{ELSEWHERE}/notes/3", [alice.uri], in_reply_to=first.uri))
    assert await svc.receive_message(olga, _note(f"{ELSEWHERE}/notes/3", [alice.uri], in_reply_to=first.uri)) is None
    await svc.close_pairing(pairing, alice)
    assert await svc.receive_message(rita, _note(f"{ELSEWHERE}/notes/4", [alice.uri], in_reply_to=first.uri)) is None
    authors = await TutoringMessage.filter(pairing=pairing).order_by("id").values_list("author_id", flat=True)
    assert authors == [alice.id, rita.id, alice.id]  # opening, rita's note 3, alice's farewell
    assert (await Pairing.get(id=pairing.id)).accepted_at is not None  # by note 3, rita's


async def test_a_third_party_can_neither_read_nor_write(database, instance):
    circle, alice, rita, pairing, _ = await _opened(instance)
    bob = await factories.account(instance, "bob")
    await factories.member(circle, bob)
    with pytest.raises(NotFound):
        await svc.get_pairing(pairing.id, bob.actor)
    with pytest.raises(NotFound):
        await svc.messages(pairing, bob.actor)
    with pytest.raises(NotFound):
        await svc.send_message(pairing, bob.actor, "let me in")
    assert await OutboxEvent.filter(kind="tutoring.message").count() == 1


async def test_a_pairing_opened_on_another_circles_instance_gets_a_thread_here(database, instance):
    """Our person is a member of a circle elsewhere; a member there opens a
    pairing with them: the Note carries Circles' tutoring term."""
    bea = (await factories.account(instance, "bea")).actor
    group = await Actor.create(uri=f"{ELSEWHERE}/c/study", kind=ActorKind.GROUP, local=False, username="study",
                               domain="elsewhere.example", inbox_url=f"{ELSEWHERE}/c/study/inbox")
    circle = await Circle.create(actor=group, name="Study")
    await Membership.create(circle=circle, actor=bea, state=MembershipState.ACTIVE)
    ann = await _remote("ann")
    term = svc.RemotePairingInput(circle_uri=group.uri, skill="Python", helper_uri=bea.uri, learner_uri=ann.uri)
    opening = _note(f"{ann.uri}/tutoring/1", [bea.uri], content="<p>Could you help me?</p>", pairing=term)
    # Not direct, or naming someone else as the partner: no pairing.
    assert await svc.receive_message(ann, _note(f"{ann.uri}/tutoring/0", [bea.uri], pairing=term, direct=False)) is None
    olga_term = svc.RemotePairingInput(circle_uri=group.uri, skill="python", helper_uri=bea.uri,
                                       learner_uri=f"{ELSEWHERE}/users/olga")
    assert await svc.receive_message(ann, _note(f"{ann.uri}/tutoring/2", [bea.uri], pairing=olga_term)) is None
    # Bea has not said she can help with python: nobody may ask her about it.
    assert await svc.receive_message(ann, opening) is None
    # A server other than the circle's cannot speak for the circle's members.
    stranger = await Actor.create(uri="https://other.example/users/sam", kind=ActorKind.PERSON, local=False,
                                  username="sam", domain="other.example", inbox_url="https://other.example/inbox")
    sam_term = svc.RemotePairingInput(circle_uri=group.uri, skill="python", helper_uri=bea.uri,
                                      learner_uri=stranger.uri)
    await svc.set_skills(circle, bea, offers=["python"], wants=[])
    assert await svc.receive_message(stranger, _note(f"{stranger.uri}/t/1", [bea.uri], pairing=sam_term)) is None
    assert not await Pairing.exists()

    received = await svc.receive_message(ann, opening)
    pairing = await svc.get_pairing(received.pairing_id, bea)
    assert (pairing.helper_id, pairing.learner_id, pairing.skill) == (bea.id, ann.id, "python")
    assert pairing.opened_remotely and pairing.accepted_at is None
    # A second message names the same pairing: the same thread.
    again = await svc.receive_message(ann, _note(f"{ann.uri}/tutoring/3", [bea.uri], pairing=term))
    assert again.pairing_id == pairing.id and await Pairing.all().count() == 1
    answer = await svc.send_message(pairing, bea, "Happy to")
    assert (await Pairing.get(id=pairing.id)).accepted_at is not None
    event = await OutboxEvent.get(kind="tutoring.message", subject_id=answer.id)
    assert event.data == {"in_reply_to": f"{ann.uri}/tutoring/3"}


async def test_closing_tells_the_remote_partner_and_their_closing_closes_it_here(database, instance):
    circle, alice, rita, pairing, first = await _opened(instance)
    assert await svc.close_pairing(pairing, alice)
    last = await TutoringMessage.filter(pairing=pairing).order_by("-id").first()
    assert last.author_id == alice.id and "closed our tutoring pairing" in last.content
    event = await OutboxEvent.get(kind="tutoring.message", subject_id=last.id)
    assert event.data == {"in_reply_to": first.uri, "closed": True}
    assert not await svc.close_pairing(pairing, alice)  # closed already: nothing sent again
    assert await OutboxEvent.filter(kind="tutoring.message").count() == 2
    # The other way round: rita's server closes a pairing with its last message.
    again = await svc.open_pairing(circle, alice, rita, "python", by_is_helper=True)
    opening = await TutoringMessage.get(pairing=again)
    term = svc.RemotePairingInput(circle_uri=circle.actor.uri, skill="python", helper_uri=alice.uri,
                                  learner_uri=rita.uri, closed=True)
    bye = await svc.receive_message(rita, _note(f"{ELSEWHERE}/notes/bye", [alice.uri], in_reply_to=opening.uri,
                                                pairing=term))
    assert bye.pairing_id == again.id and (await Pairing.get(id=again.id)).closed_at is not None


async def test_the_export_holds_the_persons_threads_whole(database, instance):
    circle, alice, rita, pairing, first = await _opened(instance)
    await svc.receive_message(rita, _note(f"{ELSEWHERE}/notes/1", [alice.uri], in_reply_to=first.uri,
                                          content="<p>Line one<br>line two</p>"))
    [thread] = await svc.export_threads(alice)
    assert (thread["skill"], thread["role"], thread["partner"], thread["circle"]) == (
        "python", "helper", "rita@elsewhere.example", "learners"
    )
    assert [m["mine"] for m in thread["messages"]] == [True, False]
    assert thread["messages"][1]["text"] == "Line one\nline two"
    bob = await factories.account(instance, "bob")
    assert await svc.export_threads(bob.actor) == []


async def test_a_member_who_left_can_no_longer_write_in_a_pairing(database, instance):
    circle, alice, rita = await _setup(instance)
    pairing = await svc.open_pairing(circle, alice, rita, "python", by_is_helper=True)
    [opening] = await TutoringMessage.filter(pairing=pairing)
    await Membership.filter(circle=circle, actor=rita).update(state=MembershipState.BANNED)
    reply = _note(f"{rita.uri}/statuses/1", [alice.uri], in_reply_to=opening.uri)
    assert await svc.receive_message(rita, reply) is None
    assert await TutoringMessage.filter(pairing=pairing).count() == 1
