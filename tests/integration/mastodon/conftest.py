"""The client API's tests: the real app and database, requests made as an app
makes them (a bearer token, JSON or form bodies)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.accounts import Account
from models.services import oauth
from tests import factories

REDIRECT = "https://app.example/callback"


@dataclass
class ApiClient:
    """The app's test client with one person's (or no) token on every request."""

    client: object
    token: str | None
    account: Account | None = None

    def _headers(self, headers: dict | None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**merged, **(headers or {})}

    async def get(self, path: str, **kwargs):
        return await self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    async def post(self, path: str, **kwargs):
        return await self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    async def put(self, path: str, **kwargs):
        return await self.client.put(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    async def patch(self, path: str, **kwargs):
        return await self.client.patch(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    async def delete(self, path: str, **kwargs):
        return await self.client.delete(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


@pytest.fixture
def make_api(client):
    """`await make_api(account, scopes="read write follow")`: an ApiClient acting for
    `account` through a freshly registered app (None: no token at all)."""

    async def make(account: Account | None, scopes: str = "read write follow push") -> ApiClient:
        if account is None:
            return ApiClient(client, None)
        app, _ = await oauth.register_app(name="Test app", redirect_uris=REDIRECT, scopes=scopes, website=None)
        _, secret = await oauth.issue_token(app, account, oauth.parse_scopes(scopes))
        return ApiClient(client, secret, account)

    return make


@pytest.fixture
async def alice(database, instance) -> Account:
    return await factories.account(instance, "alice")


@pytest.fixture
async def api(make_api, alice) -> ApiClient:
    """Alice's app, with every scope a person can grant."""
    return await make_api(alice)
