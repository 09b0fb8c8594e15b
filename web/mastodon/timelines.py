"""Timelines: home, public and tag, paged by id (https://docs.joinmastodon.org/methods/timelines/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_timelines", __name__)
