"""What the server says about itself to apps: /api/v1/instance, /api/v2/instance, peers, custom emojis, rules (https://docs.joinmastodon.org/methods/instance/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_instance", __name__)
