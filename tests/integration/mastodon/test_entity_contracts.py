"""Contract tests: each entity the API returns has every field Mastodon's API
documentation lists for it (https://docs.joinmastodon.org/entities/), with
the documented JSON type. Apps decode these with fixed schemas (Tusky's and
Mastodon.py's entity classes), so a missing field or a number where a string
belongs breaks them. The "nullable" fields may be null; the others may not.

Field lists: docs.joinmastodon.org/entities/{Account, Status, Poll,
Notification, Relationship, Application, Instance, Tag, Context, Marker,
Search, Token}.md, as of Mastodon 4.3.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import clock
from models.services import follows, governance, likes
from models.services import posts as post_service
from tests import factories

S, B, I, L, D = str, bool, int, list, dict
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # Account.last_status_at is a date only
IDS = {"id", "in_reply_to_id", "in_reply_to_account_id", "last_read_id"}

# field: (type, nullable)
ACCOUNT = {
    "id": (S, False), "username": (S, False), "acct": (S, False), "url": (S, False), "display_name": (S, False),
    "note": (S, False), "avatar": (S, False), "avatar_static": (S, False), "header": (S, False),
    "header_static": (S, False), "locked": (B, False), "fields": (L, False), "emojis": (L, False), "bot": (B, False),
    "group": (B, False), "discoverable": (B, True), "created_at": (S, False), "last_status_at": (S, True),
    "statuses_count": (I, False), "followers_count": (I, False), "following_count": (I, False),
}
CREDENTIAL_ACCOUNT = {**ACCOUNT, "source": (D, False)}
SOURCE = {"note": (S, False), "fields": (L, False), "privacy": (S, False), "sensitive": (B, False),
          "language": (S, True), "follow_requests_count": (I, False)}
STATUS = {
    "id": (S, False), "uri": (S, False), "created_at": (S, False), "account": (D, False), "content": (S, False),
    "visibility": (S, False), "sensitive": (B, False), "spoiler_text": (S, False), "media_attachments": (L, False),
    "mentions": (L, False), "tags": (L, False), "emojis": (L, False), "reblogs_count": (I, False),
    "favourites_count": (I, False), "replies_count": (I, False), "url": (S, True), "in_reply_to_id": (S, True),
    "in_reply_to_account_id": (S, True), "reblog": (D, True), "poll": (D, True), "card": (D, True),
    "language": (S, True), "edited_at": (S, True),
    # only for a signed-in viewer, as these tests are
    "favourited": (B, False), "reblogged": (B, False), "muted": (B, False), "bookmarked": (B, False),
}
POLL = {
    "id": (S, False), "expires_at": (S, True), "expired": (B, False), "multiple": (B, False),
    "votes_count": (I, False), "voters_count": (I, True), "options": (L, False), "emojis": (L, False),
    "voted": (B, False), "own_votes": (L, False),
}
POLL_OPTION = {"title": (S, False), "votes_count": (I, True)}
NOTIFICATION = {"id": (S, False), "type": (S, False), "created_at": (S, False), "account": (D, False)}
RELATIONSHIP = {
    "id": (S, False), "following": (B, False), "showing_reblogs": (B, False), "notifying": (B, False),
    "languages": (L, True), "followed_by": (B, False), "blocking": (B, False), "blocked_by": (B, False),
    "muting": (B, False), "muting_notifications": (B, False), "requested": (B, False), "requested_by": (B, False),
    "domain_blocking": (B, False), "endorsed": (B, False), "note": (S, False),
}
APPLICATION = {"name": (S, False), "website": (S, True), "client_id": (S, False), "client_secret": (S, False),
               "redirect_uris": (L, False), "scopes": (L, False)}
TOKEN = {"access_token": (S, False), "token_type": (S, False), "scope": (S, False), "created_at": (I, False)}
INSTANCE = {
    "domain": (S, False), "title": (S, False), "version": (S, False), "source_url": (S, False),
    "description": (S, False), "usage": (D, False), "thumbnail": (D, False), "languages": (L, False),
    "configuration": (D, False), "registrations": (D, False), "contact": (D, False), "rules": (L, False),
}
CONTEXT = {"ancestors": (L, False), "descendants": (L, False)}
MARKER = {"last_read_id": (S, False), "version": (I, False), "updated_at": (S, False)}
SEARCH = {"accounts": (L, False), "statuses": (L, False), "hashtags": (L, False)}
TAG = {"name": (S, False), "url": (S, False), "history": (L, False)}


def conforms(entity: dict, fields: dict, what: str) -> None:
    assert isinstance(entity, dict), f"{what}: {entity!r}"
    for name, (kind, nullable) in fields.items():
        assert name in entity, f"{what} has no {name!r}: {sorted(entity)}"
        value = entity[name]
        if value is None:
            assert nullable, f"{what}.{name} is null"
            continue
        # JSON has no bool/int distinction in Python's eyes: True is an int, so check bools strictly.
        assert isinstance(value, kind) and (kind is B or not isinstance(value, bool)), \
            f"{what}.{name} is {value!r}, not {kind.__name__}"
        if name.endswith("_at") and kind is S:
            shape = DAY if name == "last_status_at" else DATE
            assert shape.match(value), f"{what}.{name} is {value!r}, not ISO 8601 UTC"
        if name in IDS:
            assert value.isdigit(), f"{what}.{name} is {value!r}: ids are strings of digits"


@pytest.fixture
async def world(instance, alice):
    """Alice's circle with her post, Bob's reply and like, Carol's follow, and a proposal (a poll)."""
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    circle = await factories.circle(instance, alice, "readers", topics="#python")
    await factories.member(circle, bob)
    post = await factories.post(instance, alice, circle, "What is a monad? #python")
    await post_service.reply(instance, bob.actor, post, body="A burrito.")
    await likes.like(bob.actor, post)
    await follows.follow_local(carol.actor, alice.actor)
    proposal = await governance.propose(instance, alice.actor, circle, kind="free_text", title="Tuesdays",
                                        body="Meet on Tuesdays.", closes_at=clock.now() + dt.timedelta(days=2))
    return {"bob": bob, "circle": circle, "post": post, "proposal": proposal}


async def ok(response) -> dict | list:
    assert response.status_code == 200, await response.get_data()
    return await response.get_json()


async def test_accounts_and_relationships(api, world):
    me = await ok(await api.get("/api/v1/accounts/verify_credentials"))
    conforms(me, CREDENTIAL_ACCOUNT, "CredentialAccount")
    conforms(me["source"], SOURCE, "Source")
    circle = await ok(await api.get(f"/api/v1/accounts/{world['circle'].actor_id}"))
    conforms(circle, ACCOUNT, "Account (circle)")
    assert circle["group"] is True
    [relationship] = await ok(await api.get(f"/api/v1/accounts/relationships?id[]={world['bob'].actor_id}"))
    conforms(relationship, RELATIONSHIP, "Relationship")


async def test_statuses_polls_and_context(api, world):
    status = await ok(await api.get(f"/api/v1/statuses/{world['post'].id}"))
    conforms(status, STATUS, "Status")
    conforms(status["account"], ACCOUNT, "Status.account")
    for tag in status["tags"]:
        conforms(tag, {"name": (S, False), "url": (S, False)}, "Status.tags[]")
    for mention in status["mentions"]:
        conforms(mention, {"id": (S, False), "username": (S, False), "url": (S, False), "acct": (S, False)},
                 "Status.mentions[]")
    context = await ok(await api.get(f"/api/v1/statuses/{world['post'].id}/context"))
    conforms(context, CONTEXT, "Context")
    assert context["descendants"], "Bob's reply"
    conforms(context["descendants"][0], STATUS, "Context.descendants[]")
    poll = await ok(await api.get(f"/api/v1/polls/{world['proposal'].post_id}"))
    conforms(poll, POLL, "Poll")
    for option in poll["options"]:
        conforms(option, POLL_OPTION, "Poll.options[]")


async def test_notifications_markers_and_search(api, world):
    notifications = await ok(await api.get("/api/v1/notifications"))
    assert {n["type"] for n in notifications} >= {"mention", "favourite", "follow"}
    for notification in notifications:
        conforms(notification, NOTIFICATION, f"Notification ({notification['type']})")
        if notification["type"] in ("mention", "favourite", "status", "poll", "update"):
            conforms(notification["status"], STATUS, "Notification.status")
    await ok(await api.post("/api/v1/markers", form={"notifications[last_read_id]": notifications[0]["id"]}))
    markers = await ok(await api.get("/api/v1/markers?timeline[]=notifications"))
    conforms(markers["notifications"], MARKER, "Marker")
    found = await ok(await api.get("/api/v2/search?q=python"))
    conforms(found, SEARCH, "Search")
    assert found["hashtags"], "the circle's topic"
    conforms(found["hashtags"][0], TAG, "Tag")


async def test_apps_tokens_and_the_instance(client):
    registered = await client.post("/api/v1/apps", form={
        "client_name": "Contract", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"})
    application = await ok(registered)
    conforms(application, APPLICATION, "Application")
    token = await ok(await client.post("/oauth/token", form={
        "grant_type": "client_credentials", "client_id": application["client_id"],
        "client_secret": application["client_secret"], "scope": "read"}))
    conforms(token, TOKEN, "Token")
    instance = await ok(await client.get("/api/v2/instance"))
    conforms(instance, INSTANCE, "Instance")
    assert instance["configuration"]["statuses"]["max_characters"] > 0
