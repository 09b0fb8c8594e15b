"""Sign-up, login, logout and password change."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.accounts import AccountState
from models.errors import DomainError, InvalidInput
from models.services import account_email
from models.services import accounts as account_service
from web import security
from web.html.forms import form_error
from web.i18n import _
from web.site import email_enabled, site

bp = Blueprint("auth", __name__)


@bp.get("/signup")
async def signup():
    return await render_template(
        "auth/signup.html", values={"invite": request.args.get("invite", "")}, errors={}
    )


@bp.post("/signup")
async def signup_post():
    form = await request.form
    try:
        account = await account_service.sign_up(
            site().instance,
            site().registration,
            username=form.get("username", ""),
            email=form.get("email", ""),
            password=form.get("password", ""),
            invite_code=form.get("invite", ""),
            application_text=form.get("application_text", ""),
        )
    except DomainError as error:
        return await form_error("auth/signup.html", error, form)
    if email_enabled():  # the account may be used at once; confirming the address lets us email it
        await account_email.send_verification(site().instance, account)
        await flash(_("We have sent a link to %(address)s: follow it to confirm your address.", address=account.email))
    if account.state is AccountState.PENDING:
        await flash(_("Thank you! An admin will look at your sign-up; you can log in once it is approved."))
        return redirect(url_for("home.index"))
    security.log_in(account)
    await flash(_("Welcome, @%(username)s! Find a circle to join, or start one.", username=account.actor.username))
    return redirect(url_for("circles.directory"))


@bp.get("/login")
async def login():
    return await render_template(
        "auth/login.html", values={"next": request.args.get("next", "")}, errors={}
    )


@bp.post("/login")
async def login_post():
    form = await request.form
    try:
        account = await account_service.authenticate(
            form.get("login", ""), form.get("password", ""), client_address=request.remote_addr or "unknown"
        )
    except DomainError as error:
        return await form_error("auth/login.html", error, form)
    security.log_in(account)
    return redirect(security.safe_next(form.get("next")))


@bp.post("/logout")
async def logout():
    security.log_out()
    await flash(_("You have logged out."))
    return redirect(url_for("home.index"))


@bp.get("/settings/password")
@security.login_required
async def password():
    return await render_template("auth/password.html", values={}, errors={})


@bp.post("/settings/password")
@security.login_required
async def password_post():
    form = await request.form
    account = security.current_account()
    if form.get("new_password", "") != form.get("confirm_password", ""):
        return await form_error(
            "auth/password.html",
            InvalidInput("The two new passwords are not the same.", field="confirm_password"),
            form,
        )
    try:
        await account_service.change_password(
            account, current=form.get("current_password", ""), new=form.get("new_password", "")
        )
    except DomainError as error:
        return await form_error("auth/password.html", error, form)
    security.log_in(account)  # stay signed in here with the new epoch; other sessions end
    await flash(_("Your password has been changed. Other sessions have been logged out."))
    return redirect(url_for("home.index"))


# A password reset link: emailed (“Forgot your password?”, web/html/account_email.py), or made by an admin.
@bp.get("/password-reset/<token>")
async def password_reset(token: str):
    account = await account_service.account_for_reset(token)
    return await render_template("auth/reset.html", token=token, account=account, values={}, errors={})


@bp.post("/password-reset/<token>")
async def password_reset_post(token: str):
    form = await request.form
    account = await account_service.account_for_reset(token)
    try:
        if form.get("new_password", "") != form.get("confirm_password", ""):
            raise InvalidInput("The two new passwords are not the same.", field="confirm_password")
        account = await account_service.reset_password(token, form.get("new_password", ""))
    except DomainError as error:
        return await form_error("auth/reset.html", error, form, token=token, account=account)
    security.log_out()  # whoever was signed in on this browser, the link's owner now logs in anew
    await flash(_("Your new password is set, and every session of @%(username)s has ended. Log in with it.",
                  username=account.actor.username))
    return redirect(url_for("auth.login"))
