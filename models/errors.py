"""Errors the services raise. Their messages are safe to show to the person
who made the request; each entrance maps the classes to its own status codes
in one place (web/errors.py).

A message is English, written as a literal with named placeholders and the values
beside it: `InvalidInput("At most %(max)d tags.", field="tags", max=10)`. The
literal is the message id translators see (`pybabel extract` finds it, see
babel.cfg); the web layer translates it when it shows the error
(web/i18n.error_message), and `message` is the English text for everyone else."""

from __future__ import annotations

import datetime as dt


class DomainError(Exception):
    """A rule said no. `field` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None, **params: object) -> None:
        self.template = message  # the English with %(name)s placeholders: the message id
        self.params = params
        self.message = message % params if params else message
        super().__init__(self.message)
        self.field = field


class InvalidInput(DomainError):
    """The input breaks a validation rule (length, format, required)."""


class NotFound(DomainError):
    pass


class Gone(NotFound):
    # It was here and was deleted for good (a deleted account): 410, which
    # tells other servers to stop asking and sending.
    pass


class PermissionDenied(DomainError):
    pass


class Conflict(DomainError):
    """The request clashes with existing state (a taken handle, a double join)."""


class AuthenticationFailed(DomainError):
    pass


class RateLimited(DomainError):
    """Past a limit of `allowed` uses, refilled at `resets_at`, `retry_after` seconds from now."""

    def __init__(self, message: str, *, retry_after: int, allowed: int = 0, resets_at: dt.datetime | None = None,
                 **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after, self.allowed = retry_after, allowed
        self.resets_at = resets_at or dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_after)
