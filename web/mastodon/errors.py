"""How the client API reports errors: Mastodon's `{"error": "..."}` bodies,
with 422 for invalid parameters (web/errors.py calls these for API paths)."""

from __future__ import annotations

import datetime as dt

from quart import request

from models.errors import DomainError, InvalidInput, RateLimited
from web.i18n import N_

# Paths that answer apps, not browsers: the API and OAuth's token endpoints.
API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke")

# Mastodon's body for any record it cannot find or may not show (app/controllers/api/base_controller.rb).
RECORD_NOT_FOUND = N_("Record not found")


class ApiError(Exception):
    """A refusal that only the API makes (a missing token, a scope not granted)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIXES)


def body_for(error: DomainError) -> dict:
    """Mastodon says what failed validation in `error` and names the field in `details`."""
    if isinstance(error, InvalidInput):
        body: dict = {"error": f"Validation failed: {error.message}"}
        if error.field:
            body["details"] = {error.field: [{"error": "ERR_INVALID", "description": error.message}]}
        return body
    return {"error": error.message}


def status_for(error: DomainError, page_status: int) -> int:
    """The API's status: 422 where a page would say 400 (Mastodon's choice for invalid parameters)."""
    return 422 if isinstance(error, InvalidInput) else page_status


def headers_for(error: DomainError) -> dict[str, str]:
    """A 429's headers: the limit it ran into, none left, when it refills
    (rack-attack's throttled_responder in config/initializers/rack_attack.rb)."""
    if not isinstance(error, RateLimited):
        return {}
    return {"Retry-After": str(error.retry_after), **rate_limit_headers(error.allowed, 0, error.resets_at)}


def rate_limit_headers(allowed: int, remaining: int, resets_at: dt.datetime) -> dict[str, str]:
    # Mastodon's `iso8601(6)`: microseconds and a Z (Mastodon.py reads it to wait for the reset).
    return {"X-RateLimit-Limit": str(allowed), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": resets_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
