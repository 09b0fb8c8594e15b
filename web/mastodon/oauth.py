"""OAuth 2 for apps: registering an app, the token and revoke endpoints, and the server's metadata (https://docs.joinmastodon.org/methods/apps/, /methods/oauth/). The consent page people see is in web/html/oauth_consent.py."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("mastodon_oauth", __name__)
