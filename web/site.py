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
    """Whether this server sends email (an SMTP server is configured).
    Read defensively: `Settings.email_enabled` comes with the email sender's
    branch; until it is merged there is none, and email is off."""
    return bool(getattr(current_app.extensions["circles.settings"], "email_enabled", False))
