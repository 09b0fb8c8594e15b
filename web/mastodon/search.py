"""Search: accounts, statuses and hashtags, resolving remote handles and URLs (https://docs.joinmastodon.org/methods/search/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_search", __name__)
