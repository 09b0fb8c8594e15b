"""Settings: how a person hears of each kind of notification (on the web,
by email too, or not at all), and whether emails come one by one or as a
daily or weekly digest."""

from __future__ import annotations

from quart import Blueprint, flash, redirect, render_template, request, url_for

from models.accounts import EmailDigest
from models.errors import DomainError
from models.notifications import Channel
from models.services import notifications as notification_service
from web import security
from web.html.forms import form_error
from web.i18n import N_, _

bp = Blueprint("notification_settings", __name__)

# Each kind as the settings page names it (models/services/notifications.py KINDS
# lists them); a kind without a label here shows its code.
KIND_LABELS = {
    "post.reply": N_("Replies to my posts"),
    "post.mention": N_("Mentions of me"),
    "question.answer": N_("Answers to my questions"),
    "answer.accepted": N_("My answer was accepted"),
    "review.received": N_("Feedback on work I shared for review"),
    "post.liked": N_("Someone found my post helpful"),
    "person.followed": N_("New followers"),
    "question.revealed": N_("A steward looked up who asked my question through the circle"),
    "tutoring.paired": N_("Tutoring: someone asks for or offers help"),
    "tutoring.message": N_("Tutoring messages"),
    "proposal.new": N_("New proposals in my circles"),
    "proposal.decided": N_("Decisions on proposals in my circles"),
    "meeting.created": N_("New meetings in my circles"),
    "meeting.changed": N_("Meetings moved or changed"),
    "meeting.cancelled": N_("Meetings cancelled"),
    "meeting.reminder": N_("Reminders of my meetings"),
    "meeting.reflection": N_("Invitations to reflect after a meeting"),
    "circle.join_request": N_("Requests to join a circle I facilitate"),
    "circle.request_approved": N_("My request to join was approved"),
    "circle.request_declined": N_("My request to join was declined"),
    "circle.invited": N_("Invitations to join a circle"),
    "circle.needs_facilitator": N_("A circle has no facilitator any more"),
    "report.new": N_("Reports for me to look at (facilitators, moderators and admins)"),
}
CHANNEL_LABELS = (
    (Channel.WEB, N_("Here")),
    (Channel.EMAIL, N_("Here and by email")),
    (Channel.NONE, N_("Not at all")),
)
DIGEST_LABELS = (
    (EmailDigest.IMMEDIATELY, N_("One by one, as they happen")),
    (EmailDigest.DAILY, N_("Gathered in one email a day")),
    (EmailDigest.WEEKLY, N_("Gathered in one email a week")),
)
NOT_KINDS = {"csrf_token", "email_digest"}  # the form's other fields


async def _context() -> dict:
    account = security.current_account()
    return {
        "preferences": await notification_service.preferences_of(account),
        "digest": account.email_digest.value,
        "kind_labels": KIND_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "digest_labels": DIGEST_LABELS,
    }


@bp.get("/settings/notifications")
@security.login_required
async def index():
    return await render_template("settings/notifications.html", values={}, errors={}, **await _context())


@bp.post("/settings/notifications")
@security.login_required
async def save():
    form = await request.form
    choices = {key: value for key, value in form.items() if key not in NOT_KINDS}
    try:
        await notification_service.save_preferences(
            security.current_account(), choices, digest=form.get("email_digest")
        )
    except DomainError as error:
        return await form_error("settings/notifications.html", error, form, **await _context())
    await flash(_("Your notification choices are saved."))
    return redirect(url_for("notification_settings.index"))
