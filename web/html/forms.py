"""Showing a form again with its error next to the field and the values kept."""

from __future__ import annotations

from quart import render_template

from models.errors import DomainError
from models.services import validation
from web.errors import headers_for, status_for
from web.i18n import error_message


def _kept(form) -> dict[str, str]:
    """What was typed, to show again (never a password)."""
    return {key: value for key, value in form.items() if "password" not in key}


async def form_error(template: str, error: DomainError, form, **context):
    """Render `template` with the error beside its field and what was typed,
    with the status code the error maps to."""
    html = await render_template(
        template,
        errors={error.field or "_form": error_message(error)},
        values=_kept(form),
        **context,
    )
    return html, status_for(error), headers_for(error)


PREVIEW_BUTTON = "preview"  # the name of every form's Preview button (macros.html: submit)


class PreviewValues(dict):
    """The typed values of a form sent with its Preview button: the
    `textarea(..., markdown=True)` macro shows each one rendered above its field."""

    previewing = True


def wants_preview(form) -> bool:
    return PREVIEW_BUTTON in form


async def preview(template: str, form, **context) -> str:
    """The same form again, values kept, with its Markdown rendered (through
    the one sanitiser) above each Markdown field. Nothing is saved; the CSRF
    token was checked like any other POST (web/html/__init__.py)."""
    return await render_template(template, errors={}, values=PreviewValues(_kept(form)), **context)


MAX_PAGE = 10_000  # keeps OFFSET within the database's integer range


def page_param(raw: str | None) -> int:
    """A 1-based page number from the query string: 1 when absent or malformed."""
    return min(max(page_number(raw) or 1, 1), MAX_PAGE)


page_number = validation.whole_number  # a `before` cursor from the query string, or None
