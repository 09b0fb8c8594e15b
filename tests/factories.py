"""Factories for test data, going through the real services."""

from __future__ import annotations

import itertools

from models.accounts import Account
from models.circles import Circle
from models.instance import Instance
from models.posts import Post
from models.services import accounts as account_service
from models.services import circles as circle_service
from models.services import posts as post_service

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


async def account(instance: Instance, username: str | None = None, *, is_admin: bool = False) -> Account:
    username = username or f"user{next(_counter)}"
    return await account_service.create_account(
        instance, username=username, email=f"{username}@example.org", password=PASSWORD, is_admin=is_admin
    )


async def circle(instance: Instance, owner: Account, handle: str | None = None, **fields) -> Circle:
    handle = handle or f"circle{next(_counter)}"
    fields.setdefault("name", handle.replace("_", " ").title())
    return await circle_service.create_circle(instance, owner, handle=handle, **fields)


async def member(circle: Circle, account: Account) -> None:
    await circle_service.join(circle, account.actor)


async def post(instance: Instance, author: Account, circle: Circle, body: str = "Hello circle", **fields) -> Post:
    return await post_service.create_post(instance, author.actor, circle, body=body, **fields)
