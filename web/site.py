"""What the web layer needs to know about this instance, given by server/app.py."""

from __future__ import annotations

from dataclasses import dataclass

from quart import current_app

from models.accounts import RegistrationMode
from models.instance import Instance


@dataclass(frozen=True)
class Site:
    instance: Instance
    registration: RegistrationMode
    name: str = "Circles"


def site() -> Site:
    return current_app.extensions["circles.site"]


def email_enabled() -> bool:
    """Whether this server sends email (an SMTP server is configured)."""
    return current_app.extensions["circles.settings"].email_enabled
