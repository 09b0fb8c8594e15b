"""Instance administration: approving sign-ups and making invites."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.accounts import AccountState
from models.errors import Conflict, DomainError
from models.services import account_deletion
from models.services import accounts as account_service
from models.services import moderation
from web import security
from web.html import media
from web.html.forms import form_error, page_param
from web.html.moderation import category_labels
from web.i18n import _
from web.labels import enum_label
from web.site import site

bp = Blueprint("admin", __name__, url_prefix="/admin")


PAGE_SIZE = 100


@bp.get("/")
@security.admin_required
async def index():
    page = page_param(request.args.get("page"))
    accounts = await account_service.list_accounts(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
    return await render_template(
        "admin/index.html",
        # The oldest waiting sign-ups first; approving some brings up the next.
        pending=await account_service.list_accounts(state=AccountState.PENDING, limit=PAGE_SIZE),
        accounts=accounts[:PAGE_SIZE],
        page=page,
        has_more=len(accounts) > PAGE_SIZE,
        invite=request.args.get("invite"),
    )


@bp.post("/accounts/<username>/<any(approve, disable, enable):action>")
@security.admin_required
async def account_action(username: str, action: str):
    account = await account_service.get_by_username(username)
    if account.id == security.current_account().id:
        raise Conflict("You cannot change your own account here.")
    state = AccountState.DISABLED if action == "disable" else AccountState.ACTIVE
    await account_service.set_state(account, state)
    await flash(_("The account of @%(username)s is now: %(state)s.", username=username, state=enum_label(state)))
    return redirect(url_for("admin.index"))


@bp.post("/accounts/<username>/decline")
@security.admin_required
async def decline(username: str):
    await account_service.decline_sign_up(await account_service.get_by_username(username))
    await flash(_("The sign-up of @%(username)s is declined and deleted; the handle is free again.", username=username))
    return redirect(url_for("admin.index"))


@bp.post("/accounts/<username>/<any('make-admin', 'unmake-admin'):action>")
@security.admin_required
async def admin_role(username: str, action: str):
    account = await account_service.get_by_username(username)
    await account_service.set_admin(account, by=security.current_account(), is_admin=action == "make-admin")
    if account.is_admin:
        await flash(_("@%(username)s is now an admin.", username=username))
    else:
        await flash(_("@%(username)s is no longer an admin.", username=username))
    return redirect(url_for("admin.index"))


@bp.post("/accounts/<username>/password-reset")
@security.admin_required
async def password_reset(username: str):
    """A reset link for someone who cannot log in, shown once to the admin to
    pass on (never through a redirect, so it stays out of logs and history)."""
    account = await account_service.get_by_username(username)
    token = await account_service.create_password_reset(account, by=security.current_account())
    link = site().instance.password_reset_url(token)
    return await render_template("admin/reset_link.html", account=account, link=link,
                                 hours=int(account_service.RESET_VALID.total_seconds() // 3600))


@bp.get("/accounts/<username>/delete")
@security.admin_required
async def delete_account(username: str):
    account = await account_service.get_by_username(username)
    return await render_template("settings/delete.html", subject=account, values={}, errors={})


@bp.post("/accounts/<username>/delete")
@security.admin_required
async def delete_account_post(username: str):
    account = await account_service.get_by_username(username)
    try:
        await account_deletion.delete_account(account, by=security.current_account(), instance=site().instance,
                                              media_store=media.media_store())
    except DomainError as error:
        return await form_error("settings/delete.html", error, await request.form, subject=account)
    await flash(_("The account of @%(username)s is deleted.", username=username))
    return redirect(url_for("admin.index"))


@bp.post("/invites")
@security.admin_required
async def create_invite():
    invite = await account_service.create_invite(security.current_account())
    return redirect(url_for("admin.index", invite=invite.code))


# --- moderation: reports, domain blocks, an overview ---------------------------------------


@bp.get("/reports")
@security.admin_required
async def reports():
    return await render_template("admin/reports.html", **await _reports_context(), values={}, errors={})


async def _reports_context() -> dict:
    return {
        "reports": await moderation.all_reports(security.current_account()),
        "labels": category_labels(),
    }


@bp.post("/reports/<int:report_id>")
@security.admin_required
async def decide_report(report_id: int):
    form = await request.form
    try:
        await moderation.decide_report_as_admin(
            security.current_account(), report_id, outcome=form.get("outcome", ""), note=form.get("note", "")
        )
    except DomainError as error:
        form_name = f"report-{report_id}"
        error.field = f"{form_name}-{error.field}" if error.field else form_name
        return await form_error("admin/reports.html", error, form, form_name=form_name, **await _reports_context())
    await flash(_("The report is closed."))
    return redirect(url_for("admin.reports"))


@bp.get("/domains")
@security.admin_required
async def domains():
    return await render_template("admin/domains.html", hosts=await moderation.blocked_hosts(), values={}, errors={})


@bp.post("/domains")
@security.admin_required
async def block_domain():
    form = await request.form
    try:
        blocked = await moderation.block_domain(
            security.current_account(), site().instance, form.get("host", ""), reason=form.get("reason", "")
        )
    except DomainError as error:
        return await form_error("admin/domains.html", error, form, hosts=await moderation.blocked_hosts())
    await flash(_("%(host)s is blocked.", host=blocked.host))
    return redirect(url_for("admin.domains"))


@bp.post("/domains/unblock")
@security.admin_required
async def unblock_domain():
    form = await request.form
    host = form.get("host", "")
    await moderation.unblock_domain(security.current_account(), host)
    await flash(_("%(host)s is no longer blocked.", host=host.strip().lower()[:255]))
    return redirect(url_for("admin.domains"))


@bp.get("/overview")
@security.admin_required
async def overview():
    return await render_template("admin/overview.html", overview=await moderation.overview(security.current_account()))
