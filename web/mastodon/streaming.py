"""The streaming API, over server-sent events and WebSocket, fed by the web UI's live updates (https://docs.joinmastodon.org/methods/streaming/)."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_streaming", __name__)
