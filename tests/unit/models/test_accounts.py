import pytest

from models.accounts import Account, AccountState, Invite, LoginFailure, RegistrationMode
from models.actors import Actor, ActorKey
from models.errors import AuthenticationFailed, Conflict, InvalidInput, PermissionDenied, RateLimited
from models.services import accounts as svc
from tests import factories


async def test_create_account_makes_a_person_with_keys(database, instance):
    account = await factories.account(instance, "ada")
    actor = await Actor.get(id=account.actor_id)
    assert actor.uri == "http://circles.test/users/ada" and actor.local and actor.kind.value == "Person"
    keys = await ActorKey.filter(actor=actor).order_by("key_id")
    assert {k.algorithm.value for k in keys} == {"rsa", "ed25519"}
    assert all(k.private_pem.startswith("-----BEGIN PRIVATE KEY") for k in keys)
    assert account.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    "username, email, password, field",
    [
        ("Bad Name", "a@example.org", "long enough pw", "username"),
        ("x" * 31, "a@example.org", "long enough pw", "username"),
        ("admin", "a@example.org", "long enough pw", "username"),
        ("", "a@example.org", "long enough pw", "username"),
        ("okname", "not-an-email", "long enough pw", "email"),
        # A mail header would read these as two recipients (or a relay's local mailbox).
        ("okname", "root,me@example.org", "long enough pw", "email"),
        ("okname", "x;y@example.org", "long enough pw", "email"),
        ("okname", "Me <me@example.org>", "long enough pw", "email"),
        ("okname", "a@example.org", "short", "password"),
        ("okname", "a@example.org", "okname", "password"),
    ],
)
async def test_invalid_sign_up_input_is_refused_and_nothing_is_written(database, instance, username, email, password, field):
    with pytest.raises(InvalidInput) as caught:
        await svc.create_account(instance, username=username, email=email, password=password)
    assert caught.value.field == field
    assert await Account.all().count() == 0 and await Actor.all().count() == 0


async def test_taken_username_and_email_conflict(database, instance):
    await factories.account(instance, "ada")
    with pytest.raises(Conflict):
        await svc.create_account(instance, username="ada", email="other@example.org", password="long enough pw")
    with pytest.raises(Conflict):
        await svc.create_account(instance, username="other", email="ADA@example.org", password="long enough pw")
    assert await Account.all().count() == 1


async def test_registration_modes(database, instance):
    with pytest.raises(PermissionDenied):
        await svc.sign_up(instance, RegistrationMode.CLOSED, username="a1", email="a1@e.org", password="long enough pw")
    with pytest.raises(InvalidInput):
        await svc.sign_up(instance, RegistrationMode.INVITE, username="a2", email="a2@e.org", password="long enough pw")
    pending = await svc.sign_up(
        instance, RegistrationMode.APPROVAL, username="a3", email="a3@e.org", password="long enough pw",
        application_text="I run a reading group",
    )
    assert pending.state is AccountState.PENDING
    invite = await svc.create_invite(None, max_uses=1)
    invited = await svc.sign_up(
        instance, RegistrationMode.INVITE, username="a4", email="a4@e.org", password="long enough pw",
        invite_code=invite.code,
    )
    assert invited.state is AccountState.ACTIVE and invited.invite_code == invite.code
    assert (await Invite.get(id=invite.id)).uses == 1
    with pytest.raises(InvalidInput, match="used up"):
        await svc.sign_up(
            instance, RegistrationMode.INVITE, username="a5", email="a5@e.org", password="long enough pw",
            invite_code=invite.code,
        )
    assert await Account.filter(actor__username="a5").count() == 0


async def test_authenticate_by_username_or_email(database, instance):
    account = await factories.account(instance, "ada")
    assert (await svc.authenticate("ada", factories.PASSWORD, client_address="1.2.3.4")).id == account.id
    assert (await svc.authenticate("ADA@example.org", factories.PASSWORD, client_address="1.2.3.4")).id == account.id
    with pytest.raises(AuthenticationFailed):
        await svc.authenticate("ada", "wrong password", client_address="1.2.3.4")
    with pytest.raises(AuthenticationFailed):
        await svc.authenticate("nobody", "wrong password", client_address="1.2.3.4")


async def test_failed_logins_are_limited_per_account(database, instance):
    await factories.account(instance, "ada")
    for _ in range(svc.MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(AuthenticationFailed):
            await svc.authenticate("ada", "wrong password", client_address="10.0.0.1")
    # Even the right password is refused while the limit holds.
    with pytest.raises(RateLimited) as caught:
        await svc.authenticate("ada", factories.PASSWORD, client_address="10.0.0.2")
    assert caught.value.retry_after > 0


async def test_failed_logins_are_limited_per_address(database, instance):
    await factories.account(instance, "ada")
    for i in range(svc.MAX_FAILURES_PER_ADDRESS):
        with pytest.raises(AuthenticationFailed):
            await svc.authenticate(f"guess{i}", "wrong password", client_address="10.9.9.9")
    with pytest.raises(RateLimited):
        await svc.authenticate("ada", factories.PASSWORD, client_address="10.9.9.9")
    assert (await svc.authenticate("ada", factories.PASSWORD, client_address="10.9.9.8")).actor.username == "ada"


async def test_success_clears_the_account_failures(database, instance):
    await factories.account(instance, "ada")
    with pytest.raises(AuthenticationFailed):
        await svc.authenticate("ada", "wrong password", client_address="10.0.0.1")
    await svc.authenticate("ada", factories.PASSWORD, client_address="10.0.0.1")
    assert await LoginFailure.filter(key="account:ada").count() == 0


async def test_pending_and_disabled_accounts_cannot_log_in(database, instance):
    account = await factories.account(instance, "ada")
    await svc.set_state(account, AccountState.DISABLED)
    with pytest.raises(PermissionDenied, match="disabled"):
        await svc.authenticate("ada", factories.PASSWORD, client_address="1.1.1.1")
    assert await svc.account_for_session(account.id, account.session_epoch) is None


async def test_change_password_bumps_the_session_epoch(database, instance):
    account = await factories.account(instance, "ada")
    with pytest.raises(AuthenticationFailed):
        await svc.change_password(account, current="wrong", new="a new long password")
    await svc.change_password(account, current=factories.PASSWORD, new="a new long password")
    assert await svc.account_for_session(account.id, 0) is None
    assert await svc.account_for_session(account.id, 1) is not None
    assert (await svc.authenticate("ada", "a new long password", client_address="1.1.1.1")).id == account.id


async def test_state_transitions_are_checked(database, instance):
    account = await factories.account(instance, "ada")
    with pytest.raises(Conflict):
        await svc.set_state(account, AccountState.PENDING)
