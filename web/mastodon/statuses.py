"""Statuses: posting (to a circle by mentioning it), reading, editing, deleting, favourites, bookmarks (https://docs.joinmastodon.org/methods/statuses/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_statuses", __name__)
