"""Inviting one person by handle into an (invite-only) circle: someone here
hears of it in their notifications and joins through a link only they can
use; someone elsewhere is sent an Invite (and, on Mastodon, a direct
message) and joins by following the circle."""

from __future__ import annotations

import pytest

from federation import fanout, handlers
from models.actors import Actor, ActorKind, Follow, FollowState
from models.circle_invites import CircleInvite
from models.circles import Circle, JoinMode, Membership, MembershipState
from models.federation import Delivery, OutboxEvent
from models.notifications import Notification
from models.services import follows, remote
from tests import factories
from tests.integration.webforms import logged_in, submit, text


@pytest.fixture
async def closed(instance, alice):
    circle = await factories.circle(instance, alice, "closed", name="Closed Study")
    await Circle.filter(id=circle.id).update(join_mode=JoinMode.INVITE)
    return await Circle.get(id=circle.id).select_related("actor")


async def remote_person(username: str, domain: str = "elsewhere.example") -> Actor:
    return await remote.upsert_actor(remote.RemoteActorInput(
        uri=f"https://{domain}/users/{username}", kind=ActorKind.PERSON, username=username, domain=domain,
        inbox_url=f"https://{domain}/users/{username}/inbox", shared_inbox_url=f"https://{domain}/inbox",
    ))


async def test_someone_here_is_invited_by_name_and_only_they_can_use_it(app, instance, alice, bob, closed):
    carol = await factories.account(instance, "carol")
    owner = await logged_in(app, alice)
    response = await submit(owner, "/c/closed/invites/person", handle="bob")
    assert response.status_code == 302 and response.headers["Location"] == "/c/closed/invites"
    page = await text(await owner.get("/c/closed/invites"))
    assert "bob is invited: they will find it in their notifications." in page
    assert ">bob</a>" in page  # listed among the invitations, as for him

    [note] = await Notification.filter(recipient=bob)
    assert note.kind == "circle.invited" and note.text == "alice invites you to join Closed Study."
    assert note.url.startswith("/invite/")
    assert not await OutboxEvent.filter(kind="circle.invited").exists()  # nothing leaves this server

    someone_else = await submit(await logged_in(app, carol), note.url)
    assert someone_else.status_code == 403 and "This invitation is for someone else" in await text(someone_else)
    joined = await submit(await logged_in(app, bob), note.url)
    assert joined.status_code == 302 and joined.headers["Location"] == "/c/closed"
    assert await Membership.filter(circle=closed, actor=bob.actor, state=MembershipState.ACTIVE).exists()
    assert not await Membership.filter(circle=closed, actor=carol.actor).exists()


async def test_inviting_is_for_facilitators_and_each_mistake_says_what_to_do(app, instance, alice, bob, closed):
    carol = await factories.account(instance, "carol")
    owner = await logged_in(app, alice)
    for handle, status, reason in [
        ("nobody", 400, "Nobody here is called nobody@"),
        ("not a handle!", 400, "Write a handle as @name@example.org."),
        ("alice", 409, "alice is a member already."),
        ("closed", 404, "There is no such person to invite."),  # a circle is no person
    ]:
        response = await submit(owner, "/c/closed/invites/person", handle=handle)
        assert response.status_code == status, (handle, await text(response))
        assert reason in await text(response), handle
    assert (await submit(owner, "/c/closed/invites/person", handle="@bob")).status_code == 302
    again = await submit(owner, "/c/closed/invites/person", handle="bob")
    assert again.status_code == 409 and "bob has an invitation already." in await text(again)
    await Membership.create(circle=closed, actor=carol.actor, state=MembershipState.ACTIVE)
    not_facilitator = await submit(await logged_in(app, carol), "/c/closed/invites/person", handle="alice")
    assert not_facilitator.status_code == 403
    assert await CircleInvite.all().count() == 1


async def test_someone_elsewhere_gets_an_invite_and_their_follow_is_their_yes(app, fed, alice, closed):
    """The Invite has Mobilizon's shape (lib/federation/activity_pub/actions/invite.ex:
    `"actor" => actor_url, "object" => group_url, "target" => target_actor_url`)."""
    ana = await remote_person("ana")
    uninvited = await remote_person("uma")
    # The stored handle is the remote one; the lookup of someone we know needs no network.
    response = await submit(await logged_in(app, alice), "/c/closed/invites/person", handle="@ana@elsewhere.example")
    assert response.status_code == 302, await text(response)
    await fanout.fan_out_pending(fed)
    [sent] = await Delivery.all()
    assert sent.inbox_url == ana.inbox_url
    invite = sent.payload
    assert (invite["type"], invite["actor"], invite["object"], invite["target"]) == (
        "Invite", alice.actor.uri, closed.actor.uri, ana.uri
    )
    assert invite["to"] == [ana.uri]

    refused = await follows.receive_follow(uninvited, closed.actor, "https://elsewhere.example/follows/1")
    assert refused.state is FollowState.REJECTED  # an invite-only circle, and Uma has no invitation
    taken = await follows.receive_follow(ana, closed.actor, "https://elsewhere.example/follows/2")
    assert taken.state is FollowState.ACCEPTED
    assert await Membership.filter(circle=closed, actor=ana, state=MembershipState.ACTIVE).exists()
    assert (await CircleInvite.get(invitee=ana)).uses == 1
    # Used up: after leaving, the same Follow is refused again.
    await follows.undo_follow(ana, closed.actor, instance=fed.instance)
    again = await follows.receive_follow(ana, closed.actor, "https://elsewhere.example/follows/3")
    assert again.state is FollowState.REJECTED


async def test_a_mobilizon_accept_of_the_invite_is_a_yes_too(app, fed, alice, closed):
    """Mobilizon answers an Invite with an Accept of the membership it made,
    whose id is our Invite's (lib/federation/activity_pub/actions/accept.ex,
    `accept_invite`). The invitee joins, and follows the circle, so its posts
    reach them; an Accept from anyone else, or of no invitation, does nothing."""
    mo = await remote_person("mo", "mobilizon.example")
    uma = await remote_person("uma", "mobilizon.example")
    assert (await submit(await logged_in(app, alice), "/c/closed/invites/person",
                         handle="@mo@mobilizon.example")).status_code == 302
    await fanout.fan_out_pending(fed)
    invite_id = (await Delivery.get()).payload["id"]

    def accept(actor: Actor, n: int) -> dict:
        return {"id": f"https://mobilizon.example/accept/invite/member/{n}", "type": "Accept", "actor": actor.uri,
                "object": {"type": "Member", "id": invite_id, "actor": actor.uri, "object": closed.actor.uri,
                           "role": "member"}}

    assert not await handlers.on_accept(fed, uma, accept(uma, 1))  # the invitation is Mo's
    assert await handlers.on_accept(fed, mo, accept(mo, 2))
    assert await Membership.filter(circle=closed, actor=mo, state=MembershipState.ACTIVE).exists()
    assert await Follow.filter(follower=mo, target=closed.actor, state=FollowState.ACCEPTED).exists()
    assert not await Membership.filter(circle=closed, actor=uma).exists()
    assert (await CircleInvite.get(invitee=mo)).uses == 1


async def test_an_invite_from_elsewhere_reaches_our_person_only_from_the_circles_own_server(fed, instance, bob):
    inviter = await remote_person("ida", "circles.example")
    group = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://circles.example/c/bakers", kind=ActorKind.GROUP, username="bakers", domain="circles.example",
        inbox_url="https://circles.example/c/bakers/inbox", display_name="Bakers",
    ))
    activity = {"id": "https://circles.example/c/bakers#invites/1", "type": "Invite", "actor": inviter.uri,
                "object": group.uri, "target": bob.actor.uri}
    assert await handlers.on_invite(fed, inviter, activity)
    [note] = await Notification.filter(recipient=bob)
    assert note.text == "ida invites you to join Bakers (bakers@circles.example)."
    assert note.url == "/c/bakers@circles.example"

    stranger = await remote_person("sam", "other.example")
    with pytest.raises(Exception, match="circle's own server"):
        await handlers.on_invite(fed, stranger, {**activity, "id": "https://other.example/i/1", "actor": stranger.uri})
    assert await Notification.filter(recipient=bob).count() == 1
