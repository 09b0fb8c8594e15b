"""Polls: how members vote on circle proposals and answer meeting RSVPs from apps (https://docs.joinmastodon.org/methods/polls/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_polls", __name__)
