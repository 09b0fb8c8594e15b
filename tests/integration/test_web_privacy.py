"""A person's privacy choices (settings, "Privacy"), and what admins can do to
accounts: decline a sign-up, make or unmake admins, give a password reset link."""

from __future__ import annotations

import datetime as dt
import re

from models import clock
from models.accounts import Account, PasswordReset
from models.actors import Actor
from models.federation import OutboxEvent
from models.services import accounts as account_service
from tests import factories
from tests.factories import PASSWORD
from tests.integration.webforms import logged_in, submit, text

ACTIVITY_JSON = {"Accept": "application/activity+json"}


# --- privacy choices ------------------------------------------------------------------------

async def test_a_new_person_is_neither_discoverable_nor_indexable_until_they_choose(app, alice):
    document = await (await app.test_client().get("/users/alice", headers=ACTIVITY_JSON)).get_json()
    assert document["discoverable"] is False and document["indexable"] is False
    page = await text(await app.test_client().get("/users/alice"))
    assert '<meta name="robots" content="noindex">' in page

    client = await logged_in(app, alice)
    settings = await text(await client.get("/settings"))
    assert 'id="f-discoverable" name="discoverable" value="1" aria-describedby' in settings  # unchecked
    response = await submit(client, "/settings/privacy", discoverable="1", indexable="1",
                            shows_circles="1", shows_posts="1")
    assert response.status_code == 302
    document = await (await app.test_client().get("/users/alice", headers=ACTIVITY_JSON)).get_json()
    assert document["discoverable"] is True and document["indexable"] is True
    assert "noindex" not in await text(await app.test_client().get("/users/alice"))
    # Their followers' servers hear of it, once.
    assert await OutboxEvent.filter(kind="actor.updated", subject_id=alice.actor_id).count() == 1


async def test_the_profile_page_shows_only_what_the_person_chose(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", name="Slow Readers")
    await factories.post(instance, alice, circle, "A thought about chapter two", title="Chapter two")
    client = await logged_in(app, alice)
    await submit(client, "/settings/privacy")  # every box unticked
    assert await OutboxEvent.filter(kind="actor.updated").count() == 0  # nothing federated changed

    others = await text(await (await logged_in(app, bob)).get("/users/alice"))
    anonymous = await text(await app.test_client().get("/users/alice"))
    for page in (others, anonymous):
        assert "Slow Readers" not in page and "Chapter two" not in page
        assert "keeps their circles off this page" in page
        assert "keeps their posts off this page" in page
    own = await text(await client.get("/users/alice"))
    assert "Slow Readers" in own and "Chapter two" in own


# --- admins and accounts --------------------------------------------------------------------

async def test_an_admin_declines_a_sign_up_and_the_handle_is_free_again(make_app, instance):
    app = make_app(registration="approval")
    boss = await factories.account(instance, "boss", is_admin=True)
    await submit(app.test_client(), "/signup", username="newbie", email="n@example.org",
                 password=PASSWORD, application_text="I teach chemistry")
    admin = await logged_in(app, boss)
    response = await submit(admin, "/admin/accounts/newbie/decline")
    assert response.status_code == 302
    assert not await Account.filter(actor__username="newbie").exists()
    assert not await Actor.filter(username="newbie").exists()
    again = await submit(app.test_client(), "/signup", username="newbie", email="n@example.org",
                         password=PASSWORD, application_text="Please")
    assert again.status_code == 302


async def test_only_a_waiting_sign_up_can_be_declined(app, instance):
    boss = await factories.account(instance, "boss", is_admin=True)
    await factories.account(instance, "member")
    response = await submit(await logged_in(app, boss), "/admin/accounts/member/decline")
    assert response.status_code == 409
    assert await Account.filter(actor__username="member").exists()


async def test_admins_make_and_unmake_admins_but_not_themselves_and_members_cannot(app, instance, alice):
    boss = await factories.account(instance, "boss", is_admin=True)
    admin = await logged_in(app, boss)
    assert (await submit(admin, "/admin/accounts/alice/make-admin")).status_code == 302
    assert (await Account.get(id=alice.id)).is_admin
    assert (await submit(admin, "/admin/accounts/alice/unmake-admin")).status_code == 302
    assert not (await Account.get(id=alice.id)).is_admin
    assert (await submit(admin, "/admin/accounts/boss/unmake-admin")).status_code == 409
    assert (await Account.get(id=boss.id)).is_admin
    refused = await submit(await logged_in(app, alice), "/admin/accounts/alice/make-admin")
    assert refused.status_code in (302, 403)  # not an admin: sent away or refused
    assert not (await Account.get(id=alice.id)).is_admin


async def _reset_link(app, boss, username: str) -> str:
    page = await text(await submit(await logged_in(app, boss), f"/admin/accounts/{username}/password-reset"))
    return re.search(r'value="http://[^/"]+(/password-reset/[^"]+)"', page).group(1)


async def test_a_password_reset_link_works_once_and_ends_every_session(app, instance, alice):
    boss = await factories.account(instance, "boss", is_admin=True)
    old_session = await logged_in(app, alice)
    path = await _reset_link(app, boss, "alice")
    assert await PasswordReset.filter(account=alice).values_list("token_hash", flat=True) != [path.rsplit("/", 1)[1]]

    person = app.test_client()
    assert "Set a new password for @alice" in await text(await person.get(path))
    mismatch = await submit(person, path, new_password="a brand new passphrase", confirm_password="other")
    assert mismatch.status_code == 400
    assert (await submit(person, path, new_password="a brand new passphrase",
                         confirm_password="a brand new passphrase")).status_code == 302
    assert (await submit(person, "/login", login="alice", password="a brand new passphrase")).status_code == 302
    assert (await submit(app.test_client(), "/login", login="alice", password=PASSWORD)).status_code == 401
    assert "/login" in (await old_session.get("/settings")).location  # the old session ended
    used = await app.test_client().get(path)
    assert used.status_code == 404 and "Ask for a new one" in await text(used)


async def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, instance, alice):
    boss = await factories.account(instance, "boss", is_admin=True)
    first = await _reset_link(app, boss, "alice")
    second = await _reset_link(app, boss, "alice")
    assert (await app.test_client().get(first)).status_code == 404
    clock.freeze(clock.now() + account_service.RESET_VALID + dt.timedelta(seconds=1))
    try:
        assert (await app.test_client().get(second)).status_code == 404
    finally:
        clock.freeze(None)
    assert (await app.test_client().get("/password-reset/not-a-token")).status_code == 404
