import pytest
from tortoise import connections

from models.actors import Actor, ActorKind
from models.circles import Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import tutoring as svc
from models.tutoring import Pairing, Skill, TutoringMessage
from tests import factories


async def _circle(instance, *names):
    """A circle owned by the first name, with the others as members."""
    accounts = [await factories.account(instance, name) for name in names]
    circle = await factories.circle(instance, accounts[0], "learners")
    for account in accounts[1:]:
        await factories.member(circle, account)
    return circle, [account.actor for account in accounts]


# Skills


async def test_skills_are_normalised_and_replaced(database, instance):
    circle, (alice,) = await _circle(instance, "alice")
    lists = await svc.set_skills(circle, alice, offers=["  Python ", "python", "Public   Speaking"], wants=["Go-lang"])
    assert lists == svc.SkillLists(offers=["python", "public speaking"], wants=["go-lang"])
    await svc.set_skills(circle, alice, offers=["Rust"], wants=[])
    assert await svc.skills_of(circle, alice) == svc.SkillLists(offers=["rust"], wants=[])
    assert await Skill.all().count() == 1


@pytest.mark.parametrize(
    "bad", ["<script>", "c++", "a" * 41, "-", "under_score", "emoji 🙂", "x\x00y"]
)
async def test_bad_skill_names_are_refused_with_the_field(database, instance, bad):
    circle, (alice,) = await _circle(instance, "alice")
    await svc.set_skills(circle, alice, offers=["kept"], wants=[])
    with pytest.raises(InvalidInput) as error:
        await svc.set_skills(circle, alice, offers=["ok"], wants=[bad])
    assert error.value.field == "wants" and "letters, digits, spaces and hyphens" in error.value.message
    assert await svc.skills_of(circle, alice) == svc.SkillLists(offers=["kept"], wants=[])


async def test_at_most_twenty_skills_each_way(database, instance):
    circle, (alice,) = await _circle(instance, "alice")
    twenty = [f"skill {n}" for n in range(20)]
    await svc.set_skills(circle, alice, offers=twenty, wants=twenty)
    with pytest.raises(InvalidInput) as error:
        await svc.set_skills(circle, alice, offers=[*twenty, "one more"], wants=[])
    assert error.value.field == "offers" and "at most 20" in error.value.message
    with pytest.raises(InvalidInput):
        await svc.set_skills(circle, alice, offers=["x"] * 1000, wants=[])
    assert await Skill.all().count() == 40


async def test_only_active_members_list_skills(database, instance):
    circle, _ = await _circle(instance, "alice")
    outsider = (await factories.account(instance, "olga")).actor
    with pytest.raises(PermissionDenied):
        await svc.set_skills(circle, outsider, offers=["python"], wants=[])
    assert not await Skill.exists()


def test_split_list_reads_comma_separated_text():
    assert svc.split_list("python, ,  data science,", "offers", label="x") == ["python", "  data science"]
    with pytest.raises(InvalidInput):
        svc.split_list("a," * 2000, "offers", label="x")


# Suggestions


async def test_suggestions_match_wants_to_offers_without_self_pairs(database, instance):
    circle, (alice, bob, carol) = await _circle(instance, "alice", "bob", "carol")
    await svc.set_skills(circle, alice, offers=["python"], wants=["python", "sql"])
    await svc.set_skills(circle, bob, offers=["sql"], wants=["python"])
    await svc.set_skills(circle, carol, offers=[], wants=["drawing"])
    found = {(s.helper.username, s.learner.username, s.skill) for s in await svc.suggest_pairs(circle)}
    assert found == {("alice", "bob", "python"), ("bob", "alice", "sql")}
    mine = await svc.suggestions_for(bob, circle)
    assert {(s.helper.username, s.learner.username) for s in mine} == {("alice", "bob"), ("bob", "alice")}
    assert await svc.suggestions_for(carol, circle) == []


async def test_people_who_have_not_paired_before_come_first(database, instance):
    circle, (alice, bob, carol, dan) = await _circle(instance, "alice", "bob", "carol", "dan")
    for helper in (alice, bob):
        await svc.set_skills(circle, helper, offers=["python", "go"], wants=[])
    await svc.set_skills(circle, carol, offers=[], wants=["python"])
    await svc.set_skills(circle, dan, offers=[], wants=["go"])
    # Carol learned from alice before (closed now); alice also helps dan (open).
    before = await svc.open_pairing(circle, carol, alice, "python", by_is_helper=False)
    await svc.close_pairing(before, carol)
    await svc.open_pairing(circle, dan, alice, "go", by_is_helper=False)
    ranked = [(s.helper.username, s.learner.username, s.paired_before) for s in await svc.suggest_pairs(circle)]
    # Bob has not paired with anyone and has no open pairing: his come first.
    assert ranked == [("bob", "dan", False), ("bob", "carol", False), ("alice", "carol", True)]
    # The open alice/dan pairing for go is not suggested again.
    mine = await svc.suggestions_for(carol, circle)
    assert [(s.helper.username, s.paired_before) for s in mine] == [("bob", False), ("alice", True)]


async def test_busy_helpers_come_after_free_ones(database, instance):
    circle, (alice, bob, carol, dan) = await _circle(instance, "alice", "bob", "carol", "dan")
    await svc.set_skills(circle, alice, offers=["art"], wants=[])
    await svc.set_skills(circle, bob, offers=["art", "math"], wants=[])
    await svc.set_skills(circle, carol, offers=[], wants=["art", "math"])
    await svc.set_skills(circle, dan, offers=[], wants=["math"])
    await svc.open_pairing(circle, dan, bob, "math", by_is_helper=False)  # bob now has one open pairing
    ranked = [(s.helper.username, s.skill, s.helper_open) for s in await svc.suggest_pairs(circle, limit=10)]
    assert ranked == [("alice", "art", 0), ("bob", "art", 1), ("bob", "math", 1)]


async def test_non_members_and_unreachable_remote_people_are_not_suggested(database, instance):
    circle, (alice, bob, carol) = await _circle(instance, "alice", "bob", "carol")
    await svc.set_skills(circle, alice, offers=["python"], wants=[])
    await svc.set_skills(circle, bob, offers=[], wants=["python"])
    await svc.set_skills(circle, carol, offers=[], wants=["python"])
    await Membership.filter(circle=circle, actor=carol).update(state=MembershipState.BANNED)
    remote = await _remote_member(circle)
    await Skill.create(circle=circle, actor=remote, name="python", direction="wants")
    found = [(s.helper.username, s.learner.username) for s in await svc.suggest_pairs(circle)]
    assert found == [("alice", "bob")]
    assert await svc.suggestions_for(carol, circle) == []


async def _remote_member(circle) -> Actor:
    remote = await Actor.create(
        uri="https://elsewhere.example/users/rita", kind=ActorKind.PERSON, local=False,
        username="rita", domain="elsewhere.example",
    )
    await Membership.create(circle=circle, actor=remote, state=MembershipState.ACTIVE)
    return remote


async def _count_queries(call) -> tuple[object, int]:
    connection = connections.get("default")
    original, queries = connection.execute_query, []

    async def counting(query, values=None):
        queries.append(query)
        return await original(query, values)

    connection.execute_query = counting
    try:
        result = await call()
    finally:
        connection.execute_query = original
    return result, len(queries)


async def test_suggestions_take_the_same_number_of_queries_for_many_members(database, instance):
    circle, people = await _circle(instance, "alice", "bob", "carol")
    await svc.set_skills(circle, people[0], offers=["python"], wants=[])
    for person in people[1:]:
        await svc.set_skills(circle, person, offers=[], wants=["python"])
    few, few_queries = await _count_queries(lambda: svc.suggest_pairs(circle))
    few_for, few_for_queries = await _count_queries(lambda: svc.suggestions_for(people[0], circle))
    for n in range(30):
        account = await factories.account(instance, f"m{n}")
        await factories.member(circle, account)
        person = account.actor
        await svc.set_skills(circle, person, offers=["python"] if n % 2 else [], wants=["python"])
    many, many_queries = await _count_queries(lambda: svc.suggest_pairs(circle, limit=50))
    many_for, many_for_queries = await _count_queries(lambda: svc.suggestions_for(people[0], circle, limit=50))
    assert (len(few), len(many), len(few_for), len(many_for)) == (2, 50, 2, 32)
    assert 0 < few_queries == many_queries <= 4
    assert 0 < few_for_queries == many_for_queries <= 5


# Pairings


async def test_either_side_opens_and_closes_a_pairing(database, instance):
    circle, (alice, bob) = await _circle(instance, "alice", "bob")
    await svc.set_skills(circle, alice, offers=["python"], wants=[])
    await svc.set_skills(circle, bob, offers=[], wants=["python"])
    asked = await svc.open_pairing(circle, bob, alice, "Python", by_is_helper=False)
    assert (asked.helper_id, asked.learner_id, asked.skill) == (alice.id, bob.id, "python")
    with pytest.raises(Conflict):  # the same two people and skill, from the other side
        await svc.open_pairing(circle, alice, bob, "python", by_is_helper=True)
    assert await svc.close_pairing(asked, alice) is True
    assert await svc.close_pairing(asked, bob) is False
    offered = await svc.open_pairing(circle, alice, bob, "python", by_is_helper=True)
    assert (offered.helper_id, offered.learner_id) == (alice.id, bob.id)
    assert await Pairing.all().count() == 2
    assert [p.id for p in await svc.open_pairings_of(circle, bob)] == [offered.id]
    await svc.close_pairing(offered, bob)
    newest, older = await svc.closed_pairings_of(circle, bob)
    assert (newest.id, older.id) == (offered.id, asked.id)
    assert [p.id for p in await svc.closed_pairings_of(circle, alice, before_id=offered.id)] == [asked.id]


async def test_opening_needs_the_other_to_list_the_skill_and_be_a_reachable_member(database, instance):
    circle, (alice, bob) = await _circle(instance, "alice", "bob")
    outsider = (await factories.account(instance, "olga")).actor
    remote = await _remote_member(circle)
    await svc.set_skills(circle, alice, offers=["python"], wants=[])
    with pytest.raises(Conflict, match="does not list"):  # alice does not want help with python
        await svc.open_pairing(circle, bob, alice, "python", by_is_helper=True)
    with pytest.raises(InvalidInput):
        await svc.open_pairing(circle, alice, alice, "python", by_is_helper=False)
    with pytest.raises(PermissionDenied):  # not a member
        await svc.open_pairing(circle, outsider, alice, "python", by_is_helper=False)
    with pytest.raises(PermissionDenied, match="is gone"):  # a remote member with no inbox any more
        await svc.open_pairing(circle, bob, remote, "python", by_is_helper=False)
    with pytest.raises(InvalidInput):
        await svc.open_pairing(circle, bob, alice, "<b>python</b>", by_is_helper=False)
    await Membership.filter(circle=circle, actor=alice).update(state=MembershipState.BANNED)
    with pytest.raises(PermissionDenied, match="not an active member"):
        await svc.open_pairing(circle, bob, alice, "python", by_is_helper=False)
    assert not await Pairing.exists()


async def test_open_pairings_are_capped_per_person(database, instance):
    names = ["alice", *(f"l{n}" for n in range(svc.OPEN_PAIRINGS_MAX + 1))]
    circle, (alice, *learners) = await _circle(instance, *names)
    await svc.set_skills(circle, alice, offers=["python"], wants=[])
    for learner in learners[:-1]:
        await svc.open_pairing(circle, learner, alice, "python", by_is_helper=False)
    with pytest.raises(Conflict, match="alice has 10 open pairings"):
        await svc.open_pairing(circle, learners[-1], alice, "python", by_is_helper=False)
    # Someone with no room for another pairing is not suggested.
    await svc.set_skills(circle, learners[-1], offers=[], wants=["python"])
    assert await svc.suggestions_for(learners[-1], circle) == []
    assert await svc.suggest_pairs(circle) == []


# The private thread


async def test_messages_are_only_for_the_two_people(database, instance):
    circle, (alice, bob, carol) = await _circle(instance, "alice", "bob", "carol")
    admin_account = await factories.account(instance, "boss", is_admin=True)
    await factories.member(circle, admin_account)
    await Membership.filter(circle=circle, actor=carol).update(role=Role.MODERATOR)
    steward, admin = carol, admin_account.actor
    dave_account = await factories.account(instance, "dave")
    await factories.member(circle, dave_account)
    dave = dave_account.actor
    await svc.set_skills(circle, alice, offers=["python"], wants=[])
    pairing = await svc.open_pairing(circle, bob, alice, "python", by_is_helper=False)
    message = await svc.send_message(pairing, bob, "Can we look at *generators*? <script>x()</script>")
    assert "<em>generators</em>" in message.content and "<script>" not in message.content
    await svc.send_message(pairing, alice, "Sure")
    assert [m.source for m in await svc.messages(pairing, alice)] == ["Sure", message.source]
    assert (await svc.get_pairing(pairing.id, bob)).id == pairing.id
    for stranger in (dave, steward, admin):
        with pytest.raises(NotFound):
            await svc.get_pairing(pairing.id, stranger)
        with pytest.raises(NotFound):
            await svc.send_message(pairing, stranger, "hello")
        with pytest.raises(NotFound):
            await svc.messages(pairing, stranger)
        with pytest.raises(NotFound):
            await svc.close_pairing(pairing, stranger)
    with pytest.raises(NotFound):
        await svc.get_pairing(2**70, bob)
    assert await TutoringMessage.all().count() == 2


async def test_message_length_and_closed_pairings(database, instance):
    circle, (alice, bob) = await _circle(instance, "alice", "bob")
    await svc.set_skills(circle, alice, offers=["python"], wants=[])
    pairing = await svc.open_pairing(circle, bob, alice, "python", by_is_helper=False)
    await svc.send_message(pairing, bob, "x" * 5000)
    with pytest.raises(InvalidInput) as error:
        await svc.send_message(pairing, bob, "x" * 5001)
    assert error.value.field == "body"
    with pytest.raises(InvalidInput):
        await svc.send_message(pairing, bob, "   ")
    await svc.close_pairing(pairing, bob)
    with pytest.raises(Conflict, match="closed"):
        await svc.send_message(pairing, alice, "one more thing")
    assert await TutoringMessage.all().count() == 1


# Nudges toward open questions


async def test_questions_for_helper_finds_open_questions_in_their_skills(database, instance):
    accounts = [await factories.account(instance, name) for name in ("alice", "bob", "carol")]
    alice_account, bob_account, _ = accounts
    circle = await factories.circle(instance, alice_account, "learners")
    for account in accounts[1:]:
        await factories.member(circle, account)
    alice, bob, carol = (account.actor for account in accounts)
    await svc.set_skills(circle, alice, offers=["python", "data science"], wants=[])
    first = await question_service.ask(instance, bob, circle, title="Why is PYTHON slow?", body="Any ideas?")
    second = await question_service.ask(instance, bob, circle, title="A question", body="About Data Science here")
    answered = await question_service.ask(instance, bob, circle, title="python packaging?", body="Any ideas?")
    reply = await post_service.reply(instance, alice, answered, body="Use pip")
    await question_service.accept_answer(instance, bob, answered, reply)
    await question_service.ask(instance, bob, circle, title="Knitting?", body="Any ideas?")  # another skill
    await question_service.ask(instance, alice, circle, title="My own python question", body="Any ideas?")
    await question_service.ask(instance, alice, circle, title="My python, unnamed", body="Hm", safe=True)
    safe = await question_service.ask(instance, bob, circle, title="Asked safely: python?", body="Hm", safe=True)
    await factories.post(instance, bob_account, circle, body="python is fun")  # not a question
    deleted = await question_service.ask(instance, bob, circle, title="python deleted", body="Any ideas?")
    await post_service.mark_deleted(deleted, by=bob)
    found = await svc.questions_for_helper(alice, circle)
    assert [q.id for q in found] == [first.id, second.id, safe.id]
    assert await svc.questions_for_helper(carol, circle) == []
