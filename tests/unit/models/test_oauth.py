"""OAuth for apps: scopes, codes that work once, PKCE, tokens that can be revoked."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest

from models import clock
from models.accounts import AccountState
from models.errors import AuthenticationFailed, InvalidInput
from models.oauth import OAuthToken
from models.services import accounts as account_service
from models.services import oauth
from tests import factories

REDIRECT = "https://app.example/callback"


def test_top_level_scopes_cover_their_granular_ones():
    assert oauth.allows("read", "read:statuses")
    assert not oauth.allows("read", "write:statuses")
    assert oauth.allows("read:statuses write", "write:favourites")
    assert not oauth.allows("read:accounts", "read:statuses")
    assert oauth.allows("follow", "write:follows") and not oauth.allows("follow", "write:statuses")
    assert oauth.allows("read:accounts", "profile") and not oauth.allows("write", "profile")


def test_unknown_scopes_are_named():
    assert oauth.parse_scopes("read+write follow") == ("read", "write", "follow")
    assert oauth.parse_scopes("") == ("read",)
    with pytest.raises(InvalidInput) as refused:
        oauth.parse_scopes("read admin:everything")
    assert refused.value.field == "scopes" and "admin:everything" in refused.value.message


@pytest.fixture
async def alice(database, instance):
    return await factories.account(instance, "alice")


async def registered(scopes: str = "read write"):
    return await oauth.register_app(name="Tusky", redirect_uris=f"{REDIRECT}\n{oauth.OOB}", scopes=scopes, website=None)


async def test_a_code_works_once_and_only_for_its_app(alice):
    app, secret = await registered()
    other, other_secret = await registered()
    uri, scopes = oauth.check_authorization_request(app, redirect_uri=REDIRECT, scope="read", response_type="code")
    code = await oauth.grant(app, alice, redirect_uri=uri, scopes=scopes)
    with pytest.raises(AuthenticationFailed):
        await oauth.exchange_code(other, code=code, redirect_uri=REDIRECT, client_secret=other_secret, code_verifier=None)
    token, token_secret = await oauth.exchange_code(app, code=code, redirect_uri=REDIRECT, client_secret=secret,
                                                    code_verifier=None)
    assert token.scopes == "read" and token.account_id == alice.id
    found = await oauth.token_for(token_secret)
    assert found is not None and found.account.actor.username == "alice"
    with pytest.raises(AuthenticationFailed):
        await oauth.exchange_code(app, code=code, redirect_uri=REDIRECT, client_secret=secret, code_verifier=None)
    assert await OAuthToken.all().count() == 1


async def test_an_expired_code_is_refused(alice):
    app, secret = await registered()
    code = await oauth.grant(app, alice, redirect_uri=REDIRECT, scopes=("read",))
    clock.freeze(clock.now() + oauth.CODE_LIFETIME + dt.timedelta(seconds=1))
    try:
        with pytest.raises(AuthenticationFailed):
            await oauth.exchange_code(app, code=code, redirect_uri=REDIRECT, client_secret=secret, code_verifier=None)
    finally:
        clock.freeze(None)


async def test_pkce_lets_a_client_without_its_secret_exchange_the_code(alice):
    app, _ = await registered()
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = await oauth.grant(app, alice, redirect_uri=REDIRECT, scopes=("read",), code_challenge=challenge,
                             code_challenge_method="S256")
    with pytest.raises(AuthenticationFailed):
        await oauth.exchange_code(app, code=code, redirect_uri=REDIRECT, client_secret=None, code_verifier="w" * 50)
    token, _ = await oauth.exchange_code(app, code=code, redirect_uri=REDIRECT, client_secret=None,
                                         code_verifier=verifier)
    assert token.account_id == alice.id


async def test_asking_for_more_than_registered_or_another_redirect_is_refused(alice):
    app, _ = await registered(scopes="read")
    with pytest.raises(InvalidInput) as refused:
        oauth.check_authorization_request(app, redirect_uri=REDIRECT, scope="read write", response_type="code")
    assert refused.value.field == "scope"
    with pytest.raises(InvalidInput) as refused:
        oauth.check_authorization_request(app, redirect_uri="https://evil.example/", scope="read", response_type="code")
    assert refused.value.field == "redirect_uri"


async def test_revoked_tokens_and_disabled_accounts_open_nothing(alice):
    app, secret = await registered()
    _, first = await oauth.issue_token(app, alice, ("read",))
    _, second = await oauth.issue_token(app, alice, ("read",))
    await oauth.revoke(app, secret, first)
    assert await oauth.token_for(first) is None
    assert await oauth.token_for(second) is not None
    await account_service.set_state(alice, AccountState.DISABLED)
    assert await oauth.token_for(second) is None


async def test_redirect_uris_are_checked(database):
    for bad in ("not a uri", "javascript:alert(1)", "https://app.example/cb#frag", "https:///nohost"):
        with pytest.raises(InvalidInput) as refused:
            await oauth.register_app(name="x", redirect_uris=bad, scopes="read", website=None)
        assert refused.value.field == "redirect_uris", bad
    app, _ = await oauth.register_app(name="Tusky", redirect_uris="tusky://oauth", scopes="read", website=None)
    assert app.redirect_uris == "tusky://oauth"
