"""Instance administration: approving sign-ups and making invites."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.accounts import AccountState
from models.errors import Conflict
from models.services import accounts as account_service
from web import security
from web.i18n import _
from web.labels import enum_label

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@security.admin_required
async def index():
    accounts = await account_service.list_accounts(limit=500)
    return await render_template(
        "admin/index.html",
        pending=[a for a in accounts if a.state is AccountState.PENDING],
        accounts=accounts,
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
    await flash(_("@%(username)s is now %(state)s.", username=username, state=enum_label(state)))
    return redirect(url_for("admin.index"))


@bp.post("/invites")
@security.admin_required
async def create_invite():
    invite = await account_service.create_invite(security.current_account())
    return redirect(url_for("admin.index", invite=invite.code))
