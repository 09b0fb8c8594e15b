"""Instance-wide counts (NodeInfo usage)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models import clock
from models.accounts import Account, AccountState
from models.posts import Post


@dataclass(frozen=True)
class Usage:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def usage() -> Usage:
    now = clock.now()
    active = Account.filter(state=AccountState.ACTIVE)
    return Usage(
        users=await active.count(),
        active_month=await active.filter(last_login_at__gte=now - dt.timedelta(days=30)).count(),
        active_halfyear=await active.filter(last_login_at__gte=now - dt.timedelta(days=180)).count(),
        local_posts=await Post.filter(local=True, deleted_at=None, root_id=None).count(),
    )
