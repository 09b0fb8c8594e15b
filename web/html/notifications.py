"""The logged-in person's notifications."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.notifications import Notification
from models.services import notifications as notification_service
from web import security
from web.html.forms import page_param
from web.i18n import N_, _

bp = Blueprint("notifications", __name__)
# A notification's text is stored in English when it is made (models/services/meetings.py);
# the page writes the kinds it knows again in the reader's language, from the post it is about.
TEXTS = {
    "meeting.reminder": N_("Reminder: “%(title)s” in %(circle)s starts within a day."),
    "meeting.reflection": N_("How did “%(title)s” go? Write a short reflection for %(circle)s."),
}


def text_of(notification: Notification) -> str:
    subject = notification.subject
    if notification.kind in TEXTS and subject is not None:
        return _(TEXTS[notification.kind], title=subject.title, circle=subject.circle.name)
    return notification.text


@bp.get("/notifications")
@security.login_required
async def index():
    page = page_param(request.args.get("page"))
    rows = await notification_service.list_for(security.current_account(), page=page)
    size = notification_service.PAGE_SIZE
    rows, has_more = rows[:size], len(rows) > size
    await Notification.fetch_for_list(rows, "subject__circle")  # one query each, not one per row
    return await render_template(
        "notifications/index.html", notifications=rows, texts={n.id: text_of(n) for n in rows}, page=page,
        has_more=has_more,
    )


@bp.post("/notifications/read")
@security.login_required
async def mark_all_read():
    await notification_service.mark_all_read(security.current_account())
    await flash(_("All notifications are marked as read."))
    return redirect(url_for("notifications.index"))
