"""The footer's language menu: a visitor's choice, kept in a cookie, for the pages they
read (a signed-in person's own choice, in Settings, comes first; web/i18n.py)."""

from __future__ import annotations

from quart import Blueprint, redirect, request

from web import i18n, security

bp = Blueprint("language", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.get("/language")
async def choose():
    """Remember `lang` (one of the site's languages; anything else forgets the choice, so
    the browser's Accept-Language applies again) and go back to the page at `next`."""
    response = redirect(security.safe_next(request.args.get("next")))
    chosen = request.args.get("lang", "")
    if chosen in i18n.available_locales():
        response.set_cookie(
            i18n.LANGUAGE_COOKIE, chosen, max_age=ONE_YEAR, httponly=True, samesite="Lax", secure=request.is_secure,
        )
    else:
        response.delete_cookie(i18n.LANGUAGE_COOKIE)
    return response
