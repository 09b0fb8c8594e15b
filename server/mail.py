"""Sending the email outbox (models/emails.py) over SMTP with aiosmtplib.

The worker claims due rows with a lease, as federation/delivery.py claims
deliveries, has the web layer write each one (web/mail.py), sends it, and marks
it sent. A refused-for-good message (a 5xx answer) or one that failed
MAX_ATTEMPTS times is marked failed; anything else is retried with backoff, so
nothing is lost while the SMTP server is down. Each row's Message-ID is fixed
when it is first claimed, so a retry after an uncertain send carries the same
id and the receiving side can tell the copies apart.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from jinja2 import TemplateError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import clock
from models.emails import EmailState, OutgoingEmail
from models.errors import NotFound

log = logging.getLogger(__name__)

FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=6)
MAX_ATTEMPTS = 16  # 1 + 2 + … + 256 minutes, then every 6 hours: about two days of retries
BATCH = 20
SMTP_TIMEOUT = 30  # seconds for each SMTP step

Render = Callable[[OutgoingEmail], Awaitable[EmailMessage]]


class PermanentFailure(Exception):
    """This message will never go out (the server refused it for good, or it cannot be written)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # TLS from the first byte (smtps://, port 465)
    start_tls: bool | None  # None: STARTTLS when the server offers it

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """smtp://user:password@host:587?starttls=true|false, or smtps://user:password@host:465.
        (server/config.py has checked the URL's form.)"""
        parts = urlsplit(url)
        use_tls = parts.scheme == "smtps"
        flag = parse_qs(parts.query).get("starttls", [""])[0].lower()
        start_tls = None if use_tls or flag not in ("true", "false", "1", "0") else flag in ("true", "1")
        return cls(
            host=parts.hostname or "", port=parts.port or (465 if use_tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls, start_tls=False if use_tls else start_tls,
        )

    async def send(self, message: EmailMessage, recipient: str) -> None:
        # The envelope's one recipient is the row's address, never whatever the
        # To header parses into (a header can name several).
        await aiosmtplib.send(
            message, recipients=[recipient], hostname=self.host, port=self.port, username=self.username, password=self.password,
            use_tls=self.use_tls, start_tls=self.start_tls, timeout=SMTP_TIMEOUT,
        )


def backoff(attempts: int) -> dt.timedelta:
    """Doubling from a minute up to six hours, with ±25% jitter."""
    base = min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 16)), MAX_RETRY)
    return base * random.uniform(0.75, 1.25)


class Postman:
    """The outbox's sender: one per process, made by server/app.py."""

    def __init__(self, smtp_url: str, domain: str, render: Render) -> None:
        self.server = SmtpServer.parse(smtp_url) if smtp_url else None
        self.domain = domain.split(":")[0]  # Message-IDs are <…@domain>
        self.render = render
        self._said_off = False

    async def send_due(self, lease: dt.timedelta, *, limit: int = BATCH) -> int:
        """Send the due rows; returns how many were tried. With no SMTP server
        set nothing is sent and the rows wait."""
        if self.server is None:
            if not self._said_off:
                self._said_off = True
                log.info("email is off (no CIRCLES_SMTP_URL): queued email waits in the outbox")
            return 0
        rows = await self.claim_due(limit, lease)
        for row in rows:
            await self.send_one(row, lease)
        return len(rows)

    async def claim_due(self, limit: int, lease: dt.timedelta) -> list[OutgoingEmail]:
        """Due rows leased to this worker. On PostgreSQL, concurrent workers skip
        each other's locked rows; elsewhere the conditional update of locked_until
        lets one of two workers win each row."""
        now = clock.now()
        claimed: list[OutgoingEmail] = []
        async with in_transaction():
            rows = await (
                OutgoingEmail.filter(state=EmailState.PENDING, next_attempt_at__lte=now)
                .filter(Q(locked_until=None) | Q(locked_until__lt=now))
                .order_by("next_attempt_at", "id").limit(limit).select_for_update(skip_locked=True)
            )
            for row in rows:
                values = {"locked_until": now + lease}
                if not row.message_id:  # fixed before the first try, kept for every retry
                    values["message_id"] = make_msgid(domain=self.domain)
                if await OutgoingEmail.filter(id=row.id, state=EmailState.PENDING,
                                              locked_until=row.locked_until).update(**values):
                    for name, value in values.items():
                        setattr(row, name, value)
                    claimed.append(row)
        return claimed

    async def _still_ours(self, row: OutgoingEmail, lease: dt.timedelta) -> bool:
        """Renew the lease just before sending, unless it ran out and another
        worker took the row (or sent it)."""
        until = clock.now() + lease
        renewed = await OutgoingEmail.filter(id=row.id, state=EmailState.PENDING,
                                             locked_until=row.locked_until).update(locked_until=until)
        row.locked_until = until
        return renewed == 1

    async def send_one(self, row: OutgoingEmail, lease: dt.timedelta) -> None:
        try:
            message = await self.render(row)
        except (NotFound, TemplateError, LookupError, ValueError) as broken:
            # What it reports is gone, or its template is missing or wrong: it never will be written.
            log.exception("email %s (%s) cannot be written", row.id, row.template)
            await self._record(row, failed=True, error=f"cannot be written: {type(broken).__name__}: {broken}")
            return
        except Exception as crash:  # worker loop: the database hiccuped, say; try again later
            log.exception("email %s (%s) failed to be written", row.id, row.template)
            await self._record(row, error=f"{type(crash).__name__}: {crash}")
            return
        if not await self._still_ours(row, lease):
            return
        try:
            await self.server.send(message, row.to_address)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            await self._record(row, failed=all(code >= 500 for code in codes), error=str(refused))
        except aiosmtplib.SMTPResponseException as answer:
            await self._record(row, failed=answer.code >= 500, error=f"SMTP {answer.code}: {answer.message}")
        except (aiosmtplib.SMTPException, OSError) as failure:  # down, unreachable, timed out, TLS
            await self._record(row, failed=False, error=f"{type(failure).__name__}: {failure}")
        else:
            await self._record(row, sent=True)

    async def _record(self, row: OutgoingEmail, *, sent: bool = False, failed: bool = False, error: str = "") -> None:
        now = clock.now()
        row.attempts += 1
        values: dict[str, object] = {"attempts": row.attempts, "locked_until": None, "last_error": error[:500]}
        if sent or failed or row.attempts >= MAX_ATTEMPTS:
            # A link's secret token has no use in a row that will not be sent again.
            values.update(state=EmailState.SENT if sent else EmailState.FAILED, params=_without_link(row.params))
            if sent:
                values["sent_at"] = now
        else:
            values.update(next_attempt_at=now + backoff(row.attempts))
        log.info("email %s (%s) to account %s: %s %s", row.id, row.template, row.account_id,
                 values.get("state", EmailState.PENDING).value, error[:200])
        await OutgoingEmail.filter(id=row.id, state=EmailState.PENDING).update(**values)


def _without_link(params: dict) -> dict:
    return {key: value for key, value in params.items() if key != "link"}
