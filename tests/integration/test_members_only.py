"""Members-only circles: chosen at creation; their content is shown only to
signed-in active members, sent to other servers only addressed to the
circle's followers (never Public), and served as ActivityPub only on a
signed fetch from a member's server."""

from __future__ import annotations

import json

import pytest

from federation import fanout, signatures, vocab
from models.circles import Circle, Membership, MembershipState, Visibility
from models.federation import Delivery
from models.actors import Actor, ActorKind, KeyAlgorithm
from models.services import follows, remote
from tests import factories
from tests.integration.stubs import follower_on, nodeinfo_server
from tests.integration.test_inbox import remote_key, remote_person
from tests.integration.webforms import logged_in, submit, text

SECRET = "I still do not understand fractions"
AP = {"Accept": "application/activity+json"}


@pytest.fixture
async def private(instance, alice, bob):
    """Alice's members-only circle with a post; Bob is a member."""
    circle = await factories.circle(instance, alice, "quiet", visibility="members", name="Quiet Corner")
    await factories.member(circle, bob)
    post = await factories.post(instance, alice, circle, SECRET, title="Fractions")
    return circle, post


async def test_the_creator_chooses_who_can_see_the_circle(app, alice):
    client = await logged_in(app, alice)
    form = await text(await client.get("/circles/new"))
    assert "Who can see what this circle says" in form and 'value="public" checked' in form
    await submit(client, "/circles/new", name="Open", handle="open_one")
    await submit(client, "/circles/new", name="Closed", handle="closed_one", visibility="members")
    assert (await Circle.get(actor__username="open_one")).visibility is Visibility.PUBLIC
    assert (await Circle.get(actor__username="closed_one")).visibility is Visibility.MEMBERS
    refused = await submit(client, "/circles/new", name="Odd", handle="odd_one", visibility="secret")
    assert refused.status_code == 400 and not await Circle.filter(actor__username="odd_one").exists()


CONTENT_PAGES = ["/c/quiet", "/c/quiet/questions", "/c/quiet/resources", "/c/quiet/meetings", "/c/quiet/members",
                 "/c/quiet/dashboard", "/c/quiet/decisions", "/c/quiet/reflections", "/c/quiet/reviews"]


async def test_only_active_members_see_a_members_only_circles_content(app, instance, private, bob):
    circle, post = private
    carol = await factories.account(instance, "carol")
    dora = await factories.account(instance, "dora")
    await Membership.create(circle=circle, actor=dora.actor, state=MembershipState.PENDING)
    outsiders = {"anonymous": app.test_client(), "carol": await logged_in(app, carol),
                 "pending dora": await logged_in(app, dora)}
    for who, client in outsiders.items():
        for path in [*CONTENT_PAGES, f"/posts/{post.id}"]:
            response = await client.get(path)
            page = await text(response)
            assert response.status_code == 403, (who, path, response.status_code)
            assert SECRET not in page and "Fractions" not in page, (who, path)
            assert "Only members of Quiet Corner can see this" in page
        about = await client.get("/c/quiet/about")
        assert about.status_code == 200 and SECRET not in await text(about)
    member = await logged_in(app, bob)
    assert SECRET in await text(await member.get(f"/posts/{post.id}"))
    for path in CONTENT_PAGES:
        assert (await member.get(path)).status_code == 200, path


async def test_people_pages_and_the_directory_keep_members_only_circles_to_their_members(app, instance, private, alice, bob):
    carol = await factories.account(instance, "carol")
    outsider = await text(await (await logged_in(app, carol)).get("/users/alice"))
    assert "Quiet Corner" not in outsider and "Fractions" not in outsider
    member = await text(await (await logged_in(app, bob)).get("/users/alice"))
    assert "Quiet Corner" in member and "Fractions" in member
    directory = await text(await app.test_client().get("/circles"))
    assert "Quiet Corner" in directory and "Members only" in directory and SECRET not in directory


async def test_other_servers_get_members_only_posts_addressed_to_followers_only(fed, instance, stub, alice, bob):
    circle = await factories.circle(instance, alice, "quiet", visibility="members")
    lemmy, mastodon = await stub(nodeinfo_server("lemmy")), await stub(nodeinfo_server("mastodon"))
    await follower_on(lemmy, circle, "lee")
    await follower_on(mastodon, circle, "mo")
    await fanout.fan_out_pending(fed)
    await Delivery.all().delete()
    post = await factories.post(instance, alice, circle, SECRET)
    await factories.post(instance, alice, circle, "a second")
    await fanout.fan_out_pending(fed)
    sent = await Delivery.all()
    assert sent and {d.host for d in sent} == {lemmy.host}  # Mastodon would refuse a non-public boost
    for delivery in sent:
        document = json.dumps(delivery.payload)
        assert vocab.PUBLIC not in document and "as:Public" not in document
        assert circle.actor.followers_url in delivery.payload["cc"] + delivery.payload["to"]
    assert any(d.payload["object"]["object"]["id"] == post.uri for d in sent)


async def _signed_get(client, path: str, key, key_id: str):
    url = f"http://circles.test{path}"
    headers = AP | signatures.sign_cavage("GET", url, AP, None, key_id, key)
    return await client.get(path, headers=headers)


async def test_a_members_only_post_is_served_only_on_a_signed_fetch_from_a_members_server(client, instance, private):
    circle, post = private
    rita_key, rita_pem = remote_key()
    rita = await remote_person("rita", rita_pem)  # on remote.example
    await follows.receive_follow(await Actor.get(uri=rita), circle.actor, f"{rita}/follows/1")  # joins
    eve_key, eve_pem = remote_key()
    eve = "https://elsewhere.example/users/eve"
    await remote.upsert_actor(remote.RemoteActorInput(
        uri=eve, kind=ActorKind.PERSON, username="eve", domain="elsewhere.example", inbox_url=f"{eve}/inbox",
        keys=(remote.RemoteKey(f"{eve}#main-key", KeyAlgorithm.RSA, eve_pem),),
    ))
    # Every ActivityPub collection and object of the circle (the Group itself aside).
    paths = (f"/posts/{post.id}", f"/posts/{post.id}/activity", f"/posts/{post.id}/replies", "/c/quiet/outbox",
             "/c/quiet/featured", "/c/quiet/moderators", f"/c/quiet/announces/{post.id}", f"/c/quiet/boosts/{post.id}")
    wrong = []
    for path in paths:
        unsigned = await client.get(path, headers=AP)
        stranger = await _signed_get(client, path, eve_key, f"{eve}#main-key")
        member_server = await _signed_get(client, path, rita_key, f"{rita}#main-key")
        got = (unsigned.status_code, stranger.status_code, member_server.status_code)
        if got != (401, 404, 200) or SECRET in await text(unsigned) + await text(stranger):
            wrong.append(f"{path}: unsigned, stranger, member's server = {got}")
    assert not wrong, "\n".join(wrong)
    # The follower and following lists give only their size, to anyone (routes.py): no member is named.
    for path in ("/c/quiet/followers", "/c/quiet/following"):
        listing = json.loads(await text(await client.get(path, headers=AP)))
        assert listing.get("items", []) == [] and "orderedItems" not in listing and rita not in json.dumps(listing)
    assert SECRET in await text(await _signed_get(client, f"/posts/{post.id}", rita_key, f"{rita}#main-key"))
    # The profile stays public.
    assert (await client.get("/c/quiet", headers=AP)).status_code == 200


async def test_a_public_circles_post_needs_no_signature(client, instance, alice):
    circle = await factories.circle(instance, alice, "open_one")
    post = await factories.post(instance, alice, circle, "Everyone may read this")
    assert (await client.get(f"/posts/{post.id}", headers=AP)).status_code == 200
