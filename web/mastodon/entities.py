"""Account entities shaped as Mastodon's API documentation and serializers
shape them (https://docs.joinmastodon.org/entities/Account/), and what every
entity shares: ids as strings, ISO 8601 times, HTML content. Each function takes many rows and loads what it needs in a
fixed number of queries, so a page of 40 statuses costs no more than one.
"""

from __future__ import annotations

import datetime as dt

from models.accounts import Account
from models.actors import Actor, ActorKind
from models.instance import Instance


def iso(moment: dt.datetime | None) -> str | None:
    """Mastodon's time format: UTC with milliseconds and a Z."""
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def acct(actor: Actor, instance: Instance) -> str:
    """`username` here, `username@domain` for everyone elsewhere."""
    return actor.username if actor.local else actor.handle


async def accounts(actors: list[Actor], *, instance: Instance, viewer: Account | None) -> list[dict]:
    """Account entities for these actors, in their order. (Fields beyond the
    basic ones, and the counts, are filled in by the accounts work.)"""
    return [
        {
            "id": str(actor.id),
            "username": actor.username,
            "acct": acct(actor, instance),
            "display_name": actor.display_name,
            "locked": actor.manually_approves_followers,
            "bot": actor.kind in (ActorKind.APPLICATION, ActorKind.SERVICE),
            "group": actor.kind is ActorKind.GROUP,
            "created_at": iso(actor.created_at),
            "note": actor.summary,
            "url": actor.profile_url or actor.uri,
            "uri": actor.uri,
            "avatar": actor.avatar_url or "",
            "avatar_static": actor.avatar_url or "",
            "header": "",
            "header_static": "",
            "emojis": [],
            "fields": [],
        }
        for actor in actors
    ]
