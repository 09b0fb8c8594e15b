"""Rate limits on what people and servers may do how often.

A limit allows `hits` uses per fixed window of `seconds` for one subject: an
account, a client address or a remote host. Past the limit, `spend` raises
`RateLimited` with the seconds until the window ends, which the web layer and
the inbox answer as `429` with `Retry-After`. Counting happens in the
database (models/ratelimits.py), so several processes share one count.

Login *failures* have their own, stricter count (models/services/accounts.py);
the `LOGIN` limit here caps attempts of any outcome from one address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models import clock
from models.errors import RateLimited
from models.ratelimits import RateWindow
from models.translation import N_

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
KEEP = dt.timedelta(hours=1)  # the longest window: rows begun earlier have ended (`forget_old` deletes them)


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    seconds: int
    message: str  # English, with %(minutes)s; translated where it is shown

    def key(self, subject: str) -> str:
        return f"{self.name}:{subject}"[:300]


SLOW_DOWN = N_("That was a lot in a short time. Please wait %(minutes)s minutes and try again.")

# Writing in circles: posts, replies, questions, answers, resources, meetings,
# reviews, feedback, reflections, proposals, tutoring messages, reports.
POSTING = Limit("posting", 30, 600, N_(
    "You have written a lot in the last few minutes. Please wait %(minutes)s minutes and send it again: "
    "go back, and your text is still in the form."
))
SIGN_UP = Limit("signup", 10, 3600, N_(
    "Many accounts were made from your network in the last hour. Please try again in %(minutes)s minutes."
))
LOGIN = Limit("login", 30, 600, SLOW_DOWN)
# Asking for a password link by email ("Forgot your password?"): per client
# address, and per address or account name typed, whether or not it is an
# account's, so the answer tells nothing. Sending links to confirm an email
# address (again, or a new one): per account.
PASSWORD_HELP = Limit("password-help", 10, 3600, SLOW_DOWN)
PASSWORD_HELP_FOR = Limit("password-help-for", 5, 3600, SLOW_DOWN)
EMAIL_LINKS = Limit("email-links", 5, 3600, N_(
    "We have sent several links in the last hour. Please wait %(minutes)s minutes, and look for them in your mail."
))
# Finding people and circles elsewhere asks other servers, so it is capped per
# account (or address, when signed out).
LOOKUP = Limit("lookup", 30, 300, N_(
    "You have looked up many people and circles in the last few minutes. Please wait %(minutes)s minutes."
))
# Following, unfollowing and liking: each one can notify someone and send
# to other servers, however often it is toggled.
ACTIONS = Limit("actions", 60, 600, SLOW_DOWN)
# A new profile picture: decoding it is costly, and each one sends an Update
# to every follower's server.
PROFILE_PICTURE = Limit("profile-picture", 10, 3600, SLOW_DOWN)
# Searching reads the full-text index and scans names: generous for people,
# per account (or address, when signed out), not for a crawler.
SEARCH = Limit("search", 60, 60, SLOW_DOWN)
# The inbox, per client address before any signature work, and per remote
# host once the signature is verified. Mastodon retries a delivery answered
# 429 (app/workers/activitypub/delivery_worker.rb, `response_error_unsalvageable?`
# leaves out 401, 408 and 429).
# The client API (web/mastodon/ratelimits.py): every request, per token or,
# without one, per address, as Mastodon's rack-attack counts them
# (config/initializers/rack_attack.rb: 300 per 5 minutes); registering apps,
# which writes a row each, per address.
API = Limit("api", 300, 300, SLOW_DOWN)
API_APPS = Limit("api-apps", 30, 3600, SLOW_DOWN)
INBOX_ADDRESS = Limit("inbox-address", 3000, 60, SLOW_DOWN)
INBOX_HOST = Limit("inbox-host", 1200, 60, SLOW_DOWN)


def window_start(limit: Limit, now: dt.datetime) -> dt.datetime:
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + dt.timedelta(seconds=elapsed - elapsed % limit.seconds)


@dataclass(frozen=True)
class Usage:
    """How much of `limit` one subject has used in the current window."""

    limit: Limit
    hits: int
    resets_at: dt.datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit.hits - self.hits)


async def spend(limit: Limit, subject: str) -> Usage:
    """Count one use of `limit` by `subject`; RateLimited when it is past the limit."""
    now = clock.now()
    key, started = limit.key(subject), window_start(limit, now)
    hits = await _count(key, started)
    resets_at = started + dt.timedelta(seconds=limit.seconds)
    if hits > limit.hits:
        retry_after = max(1, int((resets_at - now).total_seconds()) + 1)
        raise RateLimited(limit.message, retry_after=retry_after, allowed=limit.hits, resets_at=resets_at,
                          minutes=max(1, -(-retry_after // 60)))
    return Usage(limit, hits, resets_at)


async def _count(key: str, started: dt.datetime) -> int:
    """One more hit in the window; the hits so far. Concurrent first hits meet
    at the unique (key, started_at) and the loser adds to the winner's row.
    Two statements whether or not the window is new (windows past are left to
    `forget_old`), so a request costs the same at any moment."""
    window = RateWindow.filter(key=key, started_at=started)
    if not await window.update(hits=F("hits") + 1):
        try:
            await RateWindow.create(key=key, started_at=started, hits=1)
            return 1
        except IntegrityError:
            await window.update(hits=F("hits") + 1)
    return await window.first().values_list("hits", flat=True) or 0


async def forget_old() -> int:
    """Delete the windows that have ended (the worker runs it hourly)."""
    return await RateWindow.filter(started_at__lt=clock.now() - KEEP).delete()
