"""Accounts: the signed-in person, profiles, follows (following a circle is joining it), relationships, blocks and mutes (https://docs.joinmastodon.org/methods/accounts/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_accounts", __name__)
