"""Errors the services raise. Their messages are safe to show to the person
who made the request; each entrance maps the classes to its own status codes
in one place (web/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `field` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The input breaks a validation rule (length, format, required)."""


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class Conflict(DomainError):
    """The request clashes with existing state (a taken handle, a double join)."""


class AuthenticationFailed(DomainError):
    pass


class RateLimited(DomainError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
