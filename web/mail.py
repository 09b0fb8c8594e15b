"""Writing the outbox's email (models/emails.py) in the recipient's language.

Each template is web/templates/email/<template>.txt (required; its first line
is `Subject: …`) and an optional <template>.html. They see the row's params,
`base_url`, `instance_name` and `account` (the recipient, or None); the
notification and digest templates see more (see CONTEXTS). Rendering happens in
a request context made for the purpose, with the recipient's language set, so
`_()`, `url_for` and the date filters work as on a page.

Notification and digest email carry RFC 8058 one-click unsubscribe headers
whose link holds an HMAC of the account and kind (`unsubscribe_token`), so no
row is needed to check it (web/html/unsubscribe.py).
"""

from __future__ import annotations

import hashlib
import hmac
from email.message import EmailMessage
from email.utils import format_datetime

from quart import Quart, g, render_template, url_for

from models import clock
from models.accounts import Account
from models.emails import OutgoingEmail
from models.errors import NotFound
from models.meetings import Meeting
from models.notifications import Notification
from models.services.mail import DIGEST
from web import i18n, ical
from web.html.notifications import text_of
from web.site import site

SUBJECT_PREFIX = "Subject:"
MEETING_REMINDER = "meeting.reminder"


def unsubscribe_token(secret: str, account_id: int, kind: str) -> str:
    """The proof in an unsubscribe link: only this server can make it."""
    if not secret:
        raise ValueError("no secret key: anyone could make unsubscribe links")
    message = f"unsubscribe:{account_id}:{kind}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def token_is_valid(secret: str, account_id: int, kind: str, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, account_id, kind).encode(), token.encode())


def unsubscribe_url(account_id: int, kind: str) -> str:
    from quart import current_app

    token = unsubscribe_token(current_app.config["SECRET_KEY"], account_id, kind)
    return site().instance.base_url + url_for("unsubscribe.confirm", account_id=account_id, kind=kind, token=token)


class Renderer:
    """Turns an OutgoingEmail into a message ready to send (server/mail.py calls it)."""

    def __init__(self, app: Quart, sender: str) -> None:
        self.app = app
        self.sender = sender

    async def __call__(self, email: OutgoingEmail) -> EmailMessage:
        async with self.app.test_request_context("/"):
            g.account = None
            g.locale = email.language if email.language in i18n.available_locales() else i18n.DEFAULT_LOCALE
            return await self._write(email)

    async def _write(self, email: OutgoingEmail) -> EmailMessage:
        account = await Account.get_or_none(id=email.account_id) if email.account_id else None
        context = {**email.params, "base_url": site().instance.base_url, "instance_name": site().name,
                   "account": account}
        extra = CONTEXTS.get(email.template)
        attachments: list[tuple[bytes, str, str, str]] = []
        kind = None
        if extra is not None:
            kind, more = await extra(email, attachments)
            context.update(more)
        if kind is not None and account is not None:
            context["unsubscribe_url"] = unsubscribe_url(account.id, kind)
        subject, text = _split_subject(await render_template(f"email/{email.template}.txt", **context))
        html = await _optional(f"email/{email.template}.html", context)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to_address
        message["Subject"] = subject
        message["Date"] = format_datetime(clock.now())
        message["Message-ID"] = email.message_id
        if "unsubscribe_url" in context:  # RFC 8058: mail clients may POST to it without asking
            message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        for body, maintype, subtype, filename in attachments:
            message.add_attachment(body, maintype=maintype, subtype=subtype, filename=filename)
        return message


def _split_subject(rendered: str) -> tuple[str, str]:
    first, _, rest = rendered.lstrip("\n").partition("\n")
    if not first.startswith(SUBJECT_PREFIX):
        raise ValueError("an email template's first line must be “Subject: …”")
    subject = " ".join(first.removeprefix(SUBJECT_PREFIX).split())  # one line: no header injection
    return subject, rest.lstrip("\n")


async def _optional(name: str, context: dict) -> str | None:
    from jinja2 import TemplateNotFound

    try:
        return await render_template(name, **context)
    except TemplateNotFound:
        return None


# --- what the notification and digest templates see ------------------------------------


async def _notification(email: OutgoingEmail, attachments: list) -> tuple[str, dict]:
    notification = await Notification.get_or_none(id=email.params.get("notification_id"))
    if notification is None:
        raise NotFound("The notification of this email is gone.")
    await Notification.fetch_for_list([notification], "subject__circle")
    if notification.kind == MEETING_REMINDER and notification.subject_id:
        meeting = await Meeting.get_or_none(post_id=notification.subject_id).select_related("post")
        if meeting is not None:
            attachments.append((_ics(meeting), "text", "calendar", "meeting.ics"))
    return notification.kind, {"notification": notification, "text": text_of(notification),
                               "url": _absolute(notification.url)}


async def _digest(email: OutgoingEmail, attachments: list) -> tuple[str, dict]:
    ids = email.params.get("notification_ids", [])
    rows = await Notification.filter(id__in=ids).order_by("id")
    if not rows:
        raise NotFound("The notifications of this digest are gone.")
    await Notification.fetch_for_list(rows, "subject__circle")
    items = [{"text": text_of(n), "url": _absolute(n.url), "at": n.created_at} for n in rows]
    return DIGEST, {"items": items, "notifications_url": _absolute(url_for("notifications.index"))}


CONTEXTS = {"notification": _notification, "digest": _digest}


def _absolute(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return site().instance.base_url + path


def _ics(meeting: Meeting) -> bytes:
    from web.html.meetings import _calendar_event  # the same event the meeting feeds carry

    return ical.calendar(meeting.post.title or "Meeting", [_calendar_event(meeting)]).encode()
