"""One's email address: “Forgot your password?”, confirming the address, and
changing it (models/services/account_email.py). Without email on this
server, the first says to ask an admin, and a change applies at once."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.errors import DomainError
from models.services import account_email
from models.services import accounts as account_service
from models.services import ratelimits as limits
from web import security
from web.html import ratelimits
from web.html.forms import form_error
from web.i18n import _
from web.site import email_enabled, site

bp = Blueprint("account_email", __name__)
bp.add_app_template_global(email_enabled, "email_enabled")


# --- Forgot your password? -------------------------------------------------------------------

@bp.get("/password-reset")
async def forgot():
    return await render_template("auth/forgot.html", sent=False, values={}, errors={})


@bp.post("/password-reset")
async def forgot_post():
    form = await request.form
    if not email_enabled():  # the page says so, with no form
        return await render_template("auth/forgot.html", sent=False, values={}, errors={})
    try:
        login = account_email.normalised_login(form.get("login"))
        # Counted for what was typed, account or not, so a refusal tells nothing either.
        await ratelimits.spend(limits.PASSWORD_HELP_FOR, f"login:{login}")
        await account_email.request_password_reset(site().instance, login)
    except DomainError as error:
        return await form_error("auth/forgot.html", error, form, sent=False)
    # The same page whether or not an account matched: no telling who has one.
    hours = int(account_service.RESET_VALID.total_seconds() // 3600)
    return await render_template("auth/forgot.html", sent=True, hours=hours, values={}, errors={})


# --- the links sent to an address ------------------------------------------------------------

@bp.get("/email/confirm/<token>")
async def confirm(token: str):
    """What the link does, and a button: a mail scanner that opens links spends nothing."""
    link = await account_email.link_for(token)
    return await render_template("settings/email_confirm.html", link=link, token=token)


@bp.post("/email/confirm/<token>")
async def confirm_post(token: str):
    link = await account_email.follow_link(token)
    await flash(_("@%(username)s's email address is now %(address)s, confirmed.",
                  username=link.account.actor.username, address=link.address))
    signed_in = security.current_account()
    return redirect(url_for("account_email.email") if signed_in else url_for("auth.login"))


# --- settings: the address -------------------------------------------------------------------

@bp.get("/settings/email")
@security.login_required
async def email():
    return await render_template("settings/email.html", values={}, errors={})


@bp.post("/settings/email")
@security.login_required
async def change_post():
    form = await request.form
    account = security.current_account()
    try:
        if email_enabled():
            new = await account_email.request_email_change(
                site().instance, account, email=form.get("email", ""), password=form.get("current_password", ""))
        else:
            await account_email.change_email_now(
                account, email=form.get("email", ""), password=form.get("current_password", ""))
    except DomainError as error:
        return await form_error("settings/email.html", error, form)
    if email_enabled():
        await flash(_("We have sent a link to %(address)s. Your address changes when you follow it.", address=new))
    else:
        await flash(_("Your email address is now %(address)s.", address=account.email))
    return redirect(url_for("account_email.email"))


@bp.post("/settings/email/verify")
@security.login_required
async def send_verification():
    if not email_enabled():
        return redirect(url_for("account_email.email"))
    account = security.current_account()
    await account_email.send_verification(site().instance, account)
    await flash(_("We have sent a link to %(address)s: follow it to confirm your address.", address=account.email))
    return redirect(url_for("account_email.email"))
