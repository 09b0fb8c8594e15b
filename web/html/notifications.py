"""The logged-in person's notifications."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.services import notifications as notification_service
from web import security
from web.html.forms import page_param
from web.i18n import _

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@security.login_required
async def index():
    page = page_param(request.args.get("page"))
    rows = await notification_service.list_for(security.current_account(), page=page)
    size = notification_service.PAGE_SIZE
    return await render_template(
        "notifications/index.html", notifications=rows[:size], page=page, has_more=len(rows) > size
    )


@bp.post("/notifications/read")
@security.login_required
async def mark_all_read():
    await notification_service.mark_all_read(security.current_account())
    await flash(_("All notifications are marked as read."))
    return redirect(url_for("notifications.index"))
