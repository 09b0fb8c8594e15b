import pytest

from models.actors import Actor
from models.circles import Circle, JoinMode, Membership, MembershipState, Role
from models.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from models.services import circles as svc
from tests import factories


async def test_create_circle_makes_a_group_with_its_owner_as_facilitator(database, instance):
    alice = await factories.account(instance, "alice")
    circle = await svc.create_circle(
        instance, alice, handle="rust_learners", name="Rust learners", purpose="Learn Rust",
        join_mode="approval", language="fr", location="Lyon", timezone="Europe/Paris",
    )
    actor = await Actor.get(id=circle.actor_id)
    assert actor.kind.value == "Group" and actor.uri == "http://circles.test/c/rust_learners"
    assert actor.manually_approves_followers
    member = await Membership.get(circle=circle)
    assert (member.role, member.state) == (Role.FACILITATOR, MembershipState.ACTIVE)
    assert circle.member_count == 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"handle": "Bad-Handle", "name": "x"}, "handle"),
        ({"handle": "ok", "name": ""}, "name"),
        ({"handle": "ok", "name": "n" * 101}, "name"),
        ({"handle": "ok", "name": "line\nbreak"}, "name"),
        ({"handle": "ok", "name": "x", "purpose": "p" * 2001}, "purpose"),
        ({"handle": "ok", "name": "x", "join_mode": "whoever"}, "join_mode"),
        ({"handle": "ok", "name": "x", "timezone": "Mars/Olympus"}, "timezone"),
        ({"handle": "ok", "name": "x", "language": "english please"}, "language"),
    ],
)
async def test_invalid_circle_input_changes_nothing(database, instance, fields, field):
    alice = await factories.account(instance, "alice")
    with pytest.raises(InvalidInput) as caught:
        await svc.create_circle(instance, alice, **fields)
    assert caught.value.field == field
    assert await Circle.all().count() == 0


async def test_circle_handles_share_the_namespace_with_people(database, instance):
    alice = await factories.account(instance, "alice")
    with pytest.raises(Conflict):
        await svc.create_circle(instance, alice, handle="alice", name="Alice's circle")
    await factories.circle(instance, alice, "readers")
    with pytest.raises(Conflict):
        await svc.create_circle(instance, alice, handle="readers", name="Again")
    assert await Circle.all().count() == 1


async def test_open_join_and_leave_keep_the_member_count(database, instance):
    alice, bob = await factories.account(instance), await factories.account(instance)
    circle = await factories.circle(instance, alice)
    member = await svc.join(circle, bob.actor)
    assert member.state is MembershipState.ACTIVE
    assert (await Circle.get(id=circle.id)).member_count == 2
    with pytest.raises(Conflict):
        await svc.join(circle, bob.actor)
    await svc.leave(circle, bob.actor, instance=instance)
    assert (await Circle.get(id=circle.id)).member_count == 1
    with pytest.raises(NotFound):
        await svc.leave(circle, bob.actor, instance=instance)


async def test_approval_join_waits_for_a_steward(database, instance):
    alice, bob, carol = [await factories.account(instance) for _ in range(3)]
    circle = await factories.circle(instance, alice, join_mode=JoinMode.APPROVAL.value)
    request = await svc.join(circle, bob.actor, request_text="I'd love to learn with you")
    assert request.state is MembershipState.PENDING
    assert (await Circle.get(id=circle.id)).member_count == 1
    with pytest.raises(PermissionDenied):
        await svc.approve(circle, carol.actor, request.id)
    approved = await svc.approve(circle, alice.actor, request.id)
    assert approved.state is MembershipState.ACTIVE
    assert (await Circle.get(id=circle.id)).member_count == 2
    with pytest.raises(NotFound):
        await svc.approve(circle, alice.actor, request.id)


async def test_rejecting_a_request_removes_it(database, instance):
    alice, bob = await factories.account(instance), await factories.account(instance)
    circle = await factories.circle(instance, alice, join_mode="approval")
    request = await svc.join(circle, bob.actor)
    await svc.reject(circle, alice.actor, request.id)
    assert await svc.membership(circle, bob.actor) is None


async def test_invite_only_circles_refuse_joins(database, instance):
    alice, bob = await factories.account(instance), await factories.account(instance)
    circle = await factories.circle(instance, alice, join_mode="invite")
    with pytest.raises(PermissionDenied):
        await svc.join(circle, bob.actor)
    assert await Membership.filter(circle=circle).count() == 1


async def test_the_only_facilitator_cannot_abandon_members(database, instance):
    alice, bob = await factories.account(instance), await factories.account(instance)
    circle = await factories.circle(instance, alice)
    await svc.join(circle, bob.actor)
    with pytest.raises(Conflict):
        await svc.leave(circle, alice.actor, instance=instance)
    await svc.leave(circle, bob.actor, instance=instance)
    await svc.leave(circle, alice.actor, instance=instance)  # alone, the facilitator may leave
    assert (await Circle.get(id=circle.id)).member_count == 0


async def test_directory_search(database, instance):
    alice = await factories.account(instance)
    await factories.circle(instance, alice, "rust", name="Rust learners")
    await factories.circle(instance, alice, "poetry", name="Poets", purpose="We read Rilke")
    assert [c.handle for c in await svc.list_circles(svc.DirectoryFilter(query="rust"))] == ["rust"]
    assert [c.handle for c in await svc.list_circles(svc.DirectoryFilter(query="RILKE"))] == ["poetry"]
    assert len(await svc.list_circles()) == 2


async def test_leaving_twice_at_once_counts_once(database, instance):
    import asyncio

    alice, bob = await factories.account(instance), await factories.account(instance)
    circle = await factories.circle(instance, alice)
    await svc.join(circle, bob.actor)
    member = await svc.membership(circle, bob.actor)
    from models.services.memberships import end_membership

    results = await asyncio.gather(end_membership(member), end_membership(member))
    assert sorted(results) == [False, True]
    assert (await Circle.get(id=circle.id)).member_count == 1


# Profiles


async def test_a_steward_edits_the_profile_and_the_group_hears_of_it(database, instance):
    from models.federation import OutboxEvent

    alice, bob = await factories.account(instance, "alice"), await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "datasci", topics="#Python, data_science")
    assert await svc.topics_of(circle) == ["python", "data_science"]
    await factories.member(circle, bob)
    fields = dict(name="Data science", purpose="Learn together", rules="Be kind\nCite sources",
                  join_mode="approval", topics="#stats #python", meeting_cadence="Tuesdays 18:00",
                  size_limit="12", timezone="Europe/Lisbon", location="Porto")
    with pytest.raises(PermissionDenied):
        await svc.update_profile(circle, bob.actor, **fields)
    await OutboxEvent.all().delete()

    await svc.update_profile(circle, alice.actor, **fields)
    stored = await Circle.get(id=circle.id).select_related("actor")
    assert (stored.name, stored.size_limit, stored.meeting_cadence) == ("Data science", 12, "Tuesdays 18:00")
    assert stored.actor.display_name == "Data science" and stored.actor.manually_approves_followers
    assert await svc.topics_of(stored) == ["stats", "python"]
    assert [e.kind for e in await OutboxEvent.all()] == ["actor.updated"]


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"topics": "#" + "t" * 41}, "topics"),
        ({"topics": "c++"}, "topics"),
        ({"topics": " ".join(f"t{n}" for n in range(11))}, "topics"),
        ({"size_limit": "1"}, "size_limit"),
        ({"size_limit": "ten"}, "size_limit"),
        ({"meeting_cadence": "m" * 121}, "meeting_cadence"),
    ],
)
async def test_invalid_profile_changes_nothing(database, instance, fields, field):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "datasci", topics="python")
    with pytest.raises(InvalidInput) as caught:
        await svc.update_profile(circle, alice.actor, name="Changed", **fields)
    assert caught.value.field == field
    stored = await Circle.get(id=circle.id)
    assert stored.name == "Datasci" and await svc.topics_of(stored) == ["python"]


async def test_an_adopted_charter_changes_only_by_decision(database, instance):
    alice = await factories.account(instance, "alice")
    circle = await factories.circle(instance, alice, "datasci", rules="- Be kind\n- Cite sources")
    await svc.adopt_charter(circle, alice.actor)
    with pytest.raises(PermissionDenied) as caught:
        await svc.update_profile(circle, alice.actor, name="Datasci", rules="Anything goes")
    assert caught.value.field == "rules"
    await svc.update_profile(circle, alice.actor, name="Renamed", rules=circle.rules)  # other fields still edit
    await svc.set_rules_by_decision(circle, "Be kind\nShare what you learn")
    assert (await Circle.get(id=circle.id)).rules == "Be kind\nShare what you learn"
    with pytest.raises(Conflict):
        await svc.adopt_charter(circle, alice.actor)


def test_rules_are_numbered_one_per_line():
    assert svc.numbered_rules("- Be kind\n\n2) Cite sources\n  Ask freely  ") == (
        "1. Be kind\n2. Cite sources\n3. Ask freely"
    )
    assert svc.numbered_rules("") == ""


async def test_a_full_circle_takes_no_one_new(database, instance):
    alice, bob, cleo = [await factories.account(instance, name) for name in ("alice", "bob", "cleo")]
    circle = await factories.circle(instance, alice, "small", size_limit="2")
    await factories.member(circle, bob)
    circle = await Circle.get(id=circle.id).select_related("actor")
    with pytest.raises(Conflict) as caught:
        await svc.join(circle, cleo.actor)
    assert "full" in caught.value.message
    assert await Membership.filter(circle=circle).count() == 2


async def test_the_directory_filters_by_topic_language_place_and_join_mode(database, instance):
    alice = await factories.account(instance, "alice")
    await factories.circle(instance, alice, "lisbon_py", topics="python", language="pt-PT", location="Lisbon")
    await factories.circle(instance, alice, "paris_stats", topics="stats", language="fr",
                           location="Paris", join_mode="approval")
    await factories.circle(instance, alice, "porto_py", topics="python #stats", language="pt", location="Porto")

    async def handles(**filters):
        return sorted(c.handle for c in await svc.list_circles(svc.DirectoryFilter(**filters)))

    assert await handles(topic="#Python") == ["lisbon_py", "porto_py"]
    assert await handles(language="pt") == ["lisbon_py", "porto_py"]
    assert await handles(place="paris") == ["paris_stats"]
    assert await handles(join_mode="approval") == ["paris_stats"]
    assert await handles(join_mode="nonsense") == []
    assert await handles(topic="stats", language="pt") == ["porto_py"]
    by_circle = await svc.topics_by_circle(await svc.list_circles())
    assert sorted(tags for tags in by_circle.values()) == [["python"], ["python", "stats"], ["stats"]]
