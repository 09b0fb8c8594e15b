"""The logged-in person's notifications: the list (unread ones of one subject
gathered into one line), opening one (which marks it read), marking one or
all read."""

from __future__ import annotations

import datetime as dt

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.notifications import Notification
from models.services import notifications as notification_service
from models.services.notification_events import MESSAGES, message_key
from web import security
from web.html.forms import page_param
from web.i18n import N_, _, date_format, ngettext

bp = Blueprint("notifications", __name__)

# Each notification is written again in the reader's language from its `params`
# (models/services/notification_events.py MESSAGES holds the English). Meeting
# reminders and reflection prompts made before notifications had parameters are
# written from the meeting post they are about.
SUBJECT_TEXTS = {
    "meeting.reminder": N_("Reminder: “%(title)s” in %(circle)s starts within a day."),
    "meeting.reflection": N_("How did “%(title)s” go? Write a short reflection for %(circle)s."),
}

# Unread notifications of one group, as one line: how many, and about what.
GROUPED = {
    "post.reply": lambda n, p: ngettext(
        "%(num)d new reply to “%(title)s”.", "%(num)d new replies to “%(title)s”.", n, title=p["title"]),
    "question.answer": lambda n, p: ngettext(
        "%(num)d new answer to your question “%(title)s”.", "%(num)d new answers to your question “%(title)s”.", n,
        title=p["title"]),
    "review.received": lambda n, p: ngettext(
        "%(num)d new piece of feedback on “%(title)s”.", "%(num)d new pieces of feedback on “%(title)s”.", n,
        title=p["title"]),
    "post.liked": lambda n, p: ngettext(
        "%(num)d person found “%(title)s” helpful.", "%(num)d people found “%(title)s” helpful.", n, title=p["title"]),
    "person.followed": lambda n, p: ngettext("%(num)d new follower.", "%(num)d new followers.", n),
    "tutoring.message": lambda n, p: ngettext(
        "%(num)d new message about “%(skill)s”.", "%(num)d new messages about “%(skill)s”.", n, skill=p["skill"]),
    "proposal.new": lambda n, p: ngettext(
        "%(num)d new proposal in %(circle)s.", "%(num)d new proposals in %(circle)s.", n, circle=p["circle"]),
    "circle.join_request": lambda n, p: ngettext(
        "%(num)d person asks to join %(circle)s.", "%(num)d people ask to join %(circle)s.", n, circle=p["circle"]),
    "report.new": lambda n, p: ngettext(
        "%(num)d new report in %(circle)s waits for a steward.", "%(num)d new reports in %(circle)s wait for a steward.",
        n, circle=p["circle"]) if p.get("variant") == "circle" else ngettext(
        "%(num)d new report waits for an admin.", "%(num)d new reports wait for an admin.", n),
}


def _meeting_when(p: dict) -> str:
    starts = dt.datetime.fromisoformat(p["starts_at"])
    return date_format(starts, "weekday_datetime", p.get("timezone") or "UTC")


def _lead(minutes: int) -> str:
    """How long before the start a reminder goes out (meeting_reminders.lead_phrase, translated)."""
    if minutes == 24 * 60:
        return _("within a day")
    if minutes % (24 * 60) == 0:
        return ngettext("in %(num)d day", "in %(num)d days", minutes // (24 * 60))
    if minutes % 60 == 0:
        return ngettext("in %(num)d hour", "in %(num)d hours", minutes // 60)
    return ngettext("in %(num)d minute", "in %(num)d minutes", minutes)


# Meeting notices carry the start as a moment (models/services/meeting_notices.py):
# the reader sees it in their language's date format, in the meeting's zone.
MEETING_TEXTS = {
    "meeting.created": lambda p: _("New meeting in %(circle)s: “%(title)s”, %(when)s.", circle=p["circle"],
                                   title=p["title"], when=_meeting_when(p)),
    "meeting.changed": lambda p: _("“%(title)s” in %(circle)s changed: now %(when)s, %(place)s.", title=p["title"],
                                   circle=p["circle"], when=_meeting_when(p), place=p["place"]) if p.get("place")
    else _("“%(title)s” in %(circle)s changed: now %(when)s.", title=p["title"], circle=p["circle"],
           when=_meeting_when(p)),
    "meeting.cancelled": lambda p: _("“%(title)s” in %(circle)s, %(when)s, was cancelled.", title=p["title"],
                                     circle=p["circle"], when=_meeting_when(p)),
    "meeting.reminder": lambda p: _("Reminder: “%(title)s” in %(circle)s starts %(lead)s.", title=p["title"],
                                    circle=p["circle"], lead=_lead(int(p["lead_minutes"]))),
    "meeting.reflection": lambda p: _(SUBJECT_TEXTS["meeting.reflection"], title=p["title"], circle=p["circle"]),
}


def text_of(notification: Notification, count: int = 1) -> str:
    """The notification (or `count` unread ones of its group) in the reader's
    language; its stored English when the page cannot write it again."""
    params = notification.params if isinstance(notification.params, dict) else {}
    kind = notification.kind
    try:
        if count > 1 and kind in GROUPED:
            return GROUPED[kind](count, params)
        if params and kind in MEETING_TEXTS:
            return MEETING_TEXTS[kind](params)
        key = message_key(kind, params)
        if params and key in MESSAGES:
            return _(MESSAGES[key], **params)
        if kind in SUBJECT_TEXTS and notification.subject_id is not None:  # its subject is loaded (index)
            subject = notification.subject
            return _(SUBJECT_TEXTS[kind], title=subject.title, circle=subject.circle.name)
    except (KeyError, TypeError, ValueError):  # parameters that do not fit the message (an older row)
        pass
    return notification.text


@bp.get("/notifications")
@security.login_required
async def index():
    page = page_param(request.args.get("page"))
    lines = await notification_service.list_for(security.current_account(), page=page)
    size = notification_service.PAGE_SIZE
    lines, has_more = lines[:size], len(lines) > size
    older = [line.notification for line in lines if line.notification.kind in SUBJECT_TEXTS]
    if older:
        await Notification.fetch_for_list(older, "subject__circle")  # one query each, not one per row
    return await render_template(
        "notifications/index.html", lines=lines, page=page, has_more=has_more,
        texts={line.notification.id: text_of(line.notification, line.count) for line in lines},
    )


@bp.get("/notifications/<int:notification_id>/open")
@security.login_required
async def open_one(notification_id: int):
    """Follow a notification's link: it is read now (with its group), then go
    where it leads, which is always a path on this site."""
    notification = await notification_service.mark_read(security.current_account(), notification_id)
    return redirect(security.safe_next(notification.url) if notification.url else url_for("notifications.index"))


@bp.post("/notifications/<int:notification_id>/read")
@security.login_required
async def mark_read(notification_id: int):
    await notification_service.mark_read(security.current_account(), notification_id)
    page = page_param(request.args.get("page"))
    return redirect(url_for("notifications.index", page=page if page > 1 else None))


@bp.post("/notifications/read")
@security.login_required
async def mark_all_read():
    await notification_service.mark_all_read(security.current_account())
    await flash(_("All notifications are marked as read."))
    return redirect(url_for("notifications.index"))
