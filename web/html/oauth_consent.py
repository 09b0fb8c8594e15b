"""The page where a person lets an app act for them: OAuth's authorization
endpoint (GET and POST /oauth/authorize), a web page with the session and
CSRF checks of every other form."""

from __future__ import annotations

from quart import Blueprint

bp = Blueprint("oauth_consent", __name__)
