"""The settings page: one's profile and language, with links to the other
settings (password, data export, calendar link)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.errors import DomainError
from models.services import profiles
from web import i18n, security
from web.html.forms import form_error
from web.i18n import _

bp = Blueprint("settings", __name__)


def _context() -> dict:
    return {
        "languages": [(code, i18n.locale_name(code)) for code in i18n.available_locales()],
        "limits": {"display_name": profiles.DISPLAY_NAME_MAX, "bio": profiles.BIO_MAX},
    }


@bp.get("/settings")
@security.login_required
async def index():
    account = security.current_account()
    values = {"display_name": account.actor.display_name, "bio": account.bio, "language": account.language}
    return await render_template("settings/index.html", values=values, errors={}, **_context())


@bp.post("/settings")
@security.login_required
async def save():
    form = await request.form
    try:
        await profiles.update_profile(
            security.current_account(),
            display_name=form.get("display_name", ""), bio=form.get("bio", ""),
            language=form.get("language", ""), languages=i18n.available_locales(),
        )
    except DomainError as error:
        return await form_error("settings/index.html", error, form, **_context())
    await flash(_("Your profile is saved."))
    return redirect(url_for("settings.index"))
