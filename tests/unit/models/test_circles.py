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
    await svc.leave(circle, bob.actor)
    assert (await Circle.get(id=circle.id)).member_count == 1
    with pytest.raises(NotFound):
        await svc.leave(circle, bob.actor)


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
        await svc.leave(circle, alice.actor)
    await svc.leave(circle, bob.actor)
    await svc.leave(circle, alice.actor)  # alone, the facilitator may leave
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
