"""Notifications and markers (https://docs.joinmastodon.org/methods/notifications/, /methods/markers/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_notifications", __name__)
