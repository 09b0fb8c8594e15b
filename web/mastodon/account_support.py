"""What the accounts endpoints share (web/mastodon/accounts.py,
account_lists.py, account_relations.py): their blueprint, finding the
account an id names, and the viewer; and, from params.py and ratelimits.py,
reading parameters and spending rate limits."""

from __future__ import annotations

from quart import Blueprint
from tortoise.expressions import Q

from models.accounts import Account, AccountState
from models.actors import Actor, ActorKind
from web.mastodon import auth
from web.mastodon.errors import RECORD_NOT_FOUND, ApiError
# The accounts modules read these from here, with the rest they share.
from web.mastodon.params import boolean, limit, row_id, text  # noqa: F401
from web.mastodon.params import read as params  # noqa: F401
from web.mastodon.ratelimits import spend  # noqa: F401
from web.site import site

bp = Blueprint("mastodon_accounts", __name__)


def not_found() -> ApiError:
    return ApiError(404, RECORD_NOT_FOUND)


def viewer() -> Account | None:
    return auth.current_account()


def viewer_actor() -> Actor | None:
    account = auth.current_account()
    return account.actor if account is not None else None


def me() -> Account:
    """The person behind the token (endpoints guarded by `scoped` have one)."""
    account = auth.current_account()
    assert account is not None
    return account


async def find_account(raw_id: str) -> Actor:
    """The actor an id in the path names; 404 for a malformed or unknown one."""
    actor_id = row_id(raw_id)
    actor = await Actor.get_or_none(id=actor_id, deleted_at=None) if actor_id else None
    if actor is None or not await is_shown(actor):
        raise not_found()
    return actor


IDS_MAX = 80


async def actors_by_ids(raw_ids: list[str]) -> list[Actor]:
    """The accounts these ids name, in their order, once each; malformed,
    unknown and hidden ones left out, as Mastodon leaves them out of lists."""
    ids = list(dict.fromkeys(actor_id for actor_id in map(row_id, raw_ids[:IDS_MAX]) if actor_id is not None))
    if not ids:
        return []
    found = {actor.id: actor for actor in await Actor.filter(
        Q(local=False) | Q(kind=ActorKind.GROUP) | Q(account__state=AccountState.ACTIVE), id__in=ids, deleted_at=None,
    )}
    return [found[actor_id] for actor_id in ids if actor_id in found]


async def is_shown(actor: Actor) -> bool:
    """Not a person here whose account is not active (waiting for approval,
    disabled): Mastodon's `check_account_approval` answers 404 for those."""
    if not actor.local or actor.kind is ActorKind.GROUP:
        return True
    account = await Account.get_or_none(actor_id=actor.id)
    return account is not None and account.state is AccountState.ACTIVE


def instance():
    return site().instance
