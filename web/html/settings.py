"""The settings page: one's profile and language, with links to the other
settings (password, data export, calendar link)."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.errors import DomainError
from models.services import account_deletion, profiles
from models.services import accounts as account_service
from web import i18n, security
from web.html import media
from web.html.forms import form_error
from web.errors import headers_for, status_for
from web.i18n import N_, _, error_message
from web.site import site

bp = Blueprint("settings", __name__)


# The privacy checkboxes: (form name, label, hint), English marked for translation.
PRIVACY_CHOICES = (
    ("discoverable", N_("Suggest my profile to others"),
     N_("Servers that list or suggest people (Mastodon's “Explore”, directories) may show you.")),
    ("indexable", N_("Let search find my profile and public posts"),
     N_("Search engines and fediverse full-text search may index your profile page and your posts in public circles.")),
    ("shows_circles", N_("Show my circles on my profile page"),
     N_("Which circles you are in. Members-only circles are never shown to people outside them.")),
    ("shows_posts", N_("Show my recent posts on my profile page"),
     N_("Your posts stay where you wrote them, seen by whoever can see that circle.")),
)


def _context() -> dict:
    account = security.current_account()
    return {
        "languages": [(code, i18n.locale_name(code)) for code in i18n.available_locales()],
        "limits": {"display_name": profiles.DISPLAY_NAME_MAX, "bio": profiles.BIO_MAX},
        "privacy_choices": PRIVACY_CHOICES,
        "privacy": {
            "discoverable": account.discoverable, "indexable": account.indexable,
            "shows_circles": account.profile_shows_circles, "shows_posts": account.profile_shows_posts,
        },
    }


@bp.get("/settings")
@security.login_required
async def index():
    return await render_template("settings/index.html", errors={}, **_profile_values(security.current_account()),
                                 **_context())


def _profile_values(account) -> dict:
    return {"values": {"display_name": account.actor.display_name, "bio": account.bio, "language": account.language}}


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


@bp.post("/settings/avatar")
@security.login_required
async def upload_avatar():
    account = security.current_account()
    try:
        image = await media.uploaded_avatar()
        await profiles.set_avatar(account, site().instance, image, media.media_store())
    except DomainError as error:  # the page again, the reason beside the picture's field
        html = await render_template("settings/index.html", errors={error.field or "_form": error_message(error)},
                                     **_profile_values(account), **_context())
        return html, status_for(error), headers_for(error)
    await flash(_("Your profile picture is saved."))
    return redirect(url_for("settings.index") + "#avatar-heading")


@bp.post("/settings/avatar/remove")
@security.login_required
async def remove_avatar():
    if await profiles.remove_avatar(security.current_account(), media.media_store()):
        await flash(_("Your profile picture is removed."))
    return redirect(url_for("settings.index") + "#avatar-heading")


@bp.post("/settings/privacy")
@security.login_required
async def save_privacy():
    form = await request.form
    chosen = {name: form.get(name) == "1" for name, _label, _hint in PRIVACY_CHOICES}
    await profiles.update_privacy(
        security.current_account(), discoverable=chosen["discoverable"], indexable=chosen["indexable"],
        shows_circles=chosen["shows_circles"], shows_posts=chosen["shows_posts"],
    )
    await flash(_("Your privacy choices are saved."))
    return redirect(url_for("settings.index") + "#privacy-heading")


@bp.get("/settings/delete")
@security.login_required
async def delete_account():
    return await render_template("settings/delete.html", subject=security.current_account(), values={}, errors={})


@bp.post("/settings/delete")
@security.login_required
async def delete_account_post():
    form = await request.form
    account = security.current_account()
    try:
        await account_service.confirm_password(account, form.get("password", ""), field="password")
        await account_deletion.delete_account(account, by=account, instance=site().instance,
                                              media_store=media.media_store())
    except DomainError as error:
        return await form_error("settings/delete.html", error, form, subject=account)
    security.log_out()
    await flash(_("Your account is deleted. Thank you for learning with us."))
    return redirect(url_for("home.index"))
