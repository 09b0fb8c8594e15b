"""Email end to end, through a real SMTP server on loopback (tests/mail_server.py):
notification email in the reader's language with one-click unsubscribe headers,
digests, the unsubscribe page, retries while the SMTP server is down, permanent
refusals, and the meeting reminder's calendar file."""

from __future__ import annotations

import datetime as dt
import gettext
from email.message import EmailMessage

import pytest

from models import clock
from models.accounts import Account, EmailDigest
from models.emails import EmailState, OutgoingEmail
from models.meetings import Meeting
from models.notifications import Channel, Notification, NotificationPreference
from models.services import mail as mail_service
from models.services import notifications as notification_service
from server import worker
from server.mail import MAX_ATTEMPTS
from tests import factories
from tests.mail_server import free_port

FROM = "Circles <circles@circles.test>"
KIND = "circle.join_request"  # emailed at once by default
LEASE = dt.timedelta(minutes=5)


class Catalogue(gettext.NullTranslations):
    """A tiny translation for the test (the project has no catalogue yet)."""

    def __init__(self, table: dict[str, str]) -> None:
        super().__init__()
        self.table = table

    def gettext(self, message: str) -> str:
        return self.table.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        message = singular if n == 1 else plural
        return self.table.get(message, message)


@pytest.fixture(autouse=True)
def thaw():
    yield
    clock.freeze(None)


@pytest.fixture
def mail_app(make_app, smtp_server):
    return make_app(smtp_url=smtp_server.url, email_from=FROM)


@pytest.fixture
def postman(mail_app):
    return mail_app.extensions["circles.postman"]


async def _notify(account, text: str = "Someone asks to join.", kind: str = KIND, *, confirmed: bool = True,
                  **extra) -> Notification:
    if confirmed:  # notification email goes only to confirmed addresses
        await Account.filter(id=account.id, email_verified_at=None).update(email_verified_at=clock.now())
    made = await notification_service.notify([account.actor_id], kind, text, "/c/readers#requests", **extra)
    assert made == 1
    return await Notification.filter(recipient=account).order_by("-id").first()


async def test_a_notification_email_arrives_in_the_readers_language(mail_app, postman, smtp_server, instance, alice):
    mail_app.extensions["circles.translations"]["de"] = Catalogue({
        "You get this email from %(name)s because of your notification settings.":
            "Du bekommst diese E-Mail von %(name)s wegen deiner Einstellungen.",
    })
    alice.language = "de"
    await alice.save(update_fields=["language"])
    await _notify(alice, "@bob asks to join Readers.")
    row = await OutgoingEmail.get()
    assert row.language == "de" and row.state is EmailState.PENDING

    assert await postman.send_due(LEASE) == 1
    [message] = smtp_server.to("alice@example.org")
    assert message["Subject"] == "@bob asks to join Readers."
    assert message["From"] == FROM and message["Message-ID"] == (await OutgoingEmail.get()).message_id
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "@bob asks to join Readers." in text and "http://circles.test/c/readers#requests" in text
    assert "Du bekommst diese E-Mail von Circles" in text and "Du bekommst diese E-Mail" in html
    assert 'href="http://circles.test/c/readers#requests"' in html
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://circles.test/email/unsubscribe/") and KIND in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = await OutgoingEmail.get()
    assert row.state is EmailState.SENT and row.attempts == 1 and row.sent_at is not None
    assert await postman.send_due(LEASE) == 0 and len(smtp_server.messages) == 1, "sent once"


async def test_an_english_reader_gets_english(mail_app, postman, smtp_server, alice):
    mail_app.extensions["circles.translations"]["de"] = Catalogue({
        "You get this email from %(name)s because of your notification settings.": "Du bekommst",
    })
    await _notify(alice)
    await postman.send_due(LEASE)
    [message] = smtp_server.messages
    assert "You get this email from Circles" in message.get_body(("plain",)).get_content()


async def test_the_worker_loop_sends_and_email_off_leaves_rows_waiting(make_app, smtp_server, fed, alice, caplog):
    off = make_app()  # no SMTP server set
    await _notify(alice)
    caplog.set_level("INFO", logger="server.mail")
    await worker.run_once(fed, off.extensions["circles.postman"])
    await worker.run_once(fed, off.extensions["circles.postman"])
    assert (await OutgoingEmail.get()).state is EmailState.PENDING and not smtp_server.messages
    assert sum("email is off" in r.getMessage() for r in caplog.records) == 1, "said once"

    on = make_app(smtp_url=smtp_server.url, email_from=FROM)
    await worker.run_once(fed, on.extensions["circles.postman"])
    assert len(smtp_server.messages) == 1 and (await OutgoingEmail.get()).state is EmailState.SENT


async def test_smtp_down_then_up_sends_each_once(make_app, smtp_server, alice, bob):
    port = free_port()  # nothing listens here yet
    down = make_app(smtp_url=f"smtp://127.0.0.1:{port}", email_from=FROM).extensions["circles.postman"]
    await _notify(alice)
    await _notify(bob)
    assert await down.send_due(LEASE) == 2
    rows = await OutgoingEmail.all().order_by("id")
    ids = {r.id: r.message_id for r in rows}
    for row in rows:
        assert row.state is EmailState.PENDING and row.attempts == 1 and row.last_error
        assert row.next_attempt_at > clock.now() + dt.timedelta(seconds=30) and row.locked_until is None
    assert await down.send_due(LEASE) == 0, "not due again before its backoff"

    clock.freeze(clock.now() + dt.timedelta(minutes=2))
    assert await down.send_due(LEASE) == 2
    assert {r.attempts for r in await OutgoingEmail.all()} == {2}

    smtp_server.stop()
    smtp_server.port = port
    smtp_server.start()  # the server comes up where the setting points
    clock.freeze(clock.now() + dt.timedelta(minutes=10))
    assert await down.send_due(LEASE) == 2
    assert await down.send_due(LEASE) == 0
    clock.freeze(clock.now() + dt.timedelta(days=2))
    assert await down.send_due(LEASE) == 0
    assert sorted(m["To"] for m in smtp_server.messages) == ["alice@example.org", "bob@example.org"]
    assert {m["Message-ID"] for m in smtp_server.messages} == set(ids.values()), "the id fixed at the first try"
    assert {r.state for r in await OutgoingEmail.all()} == {EmailState.SENT}


async def test_a_permanent_refusal_fails_and_too_many_attempts_give_up(postman, smtp_server, make_app, alice, bob):
    smtp_server.refuse_recipients = "550 5.1.1 No such user"
    await _notify(alice)
    await postman.send_due(LEASE)
    row = await OutgoingEmail.get()
    assert row.state is EmailState.FAILED and "550" in row.last_error and not smtp_server.messages

    smtp_server.refuse_recipients = "451 4.3.0 Try later"
    await _notify(bob)
    await postman.send_due(LEASE)
    row = await OutgoingEmail.get(to_address="bob@example.org")
    assert row.state is EmailState.PENDING and "451" in row.last_error, "a 4xx answer is retried"
    for _ in range(MAX_ATTEMPTS):
        clock.freeze(clock.now() + dt.timedelta(hours=8))  # past the longest wait: 6 h + 25% jitter
        await postman.send_due(LEASE)
    row = await OutgoingEmail.get(to_address="bob@example.org")
    assert row.state is EmailState.FAILED and row.attempts == MAX_ATTEMPTS and not smtp_server.messages


async def test_a_claimed_row_is_not_claimed_again(postman, alice):
    await _notify(alice)
    first = await postman.claim_due(10, LEASE)
    assert len(first) == 1 and first[0].message_id
    assert await postman.claim_due(10, LEASE) == [], "leased to the first worker"
    clock.freeze(clock.now() + LEASE + dt.timedelta(seconds=1))
    [again] = await postman.claim_due(10, LEASE)
    assert again.message_id == first[0].message_id, "the Message-ID stays across claims"


async def test_two_workers_send_each_email_once(make_app, smtp_server, instance):
    import asyncio

    people = [await factories.account(instance) for _ in range(8)]
    for person in people:
        await _notify(person)
    postmen = [make_app(smtp_url=smtp_server.url, email_from=FROM).extensions["circles.postman"] for _ in range(3)]
    tried = await asyncio.gather(*(p.send_due(LEASE, limit=4) for p in postmen))
    tried += await asyncio.gather(*(p.send_due(LEASE, limit=4) for p in postmen))
    assert sum(tried) == 8
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(p.email for p in people)


async def test_a_daily_digest_gathers_notifications_once(postman, smtp_server, alice, bob):
    alice.email_digest = EmailDigest.DAILY
    await alice.save(update_fields=["email_digest"])
    await NotificationPreference.create(account=alice, kind="circle.invited", channel=Channel.WEB)
    for n in range(3):
        await _notify(alice, f"Person {n} asks to join.")
    await _notify(alice, "You are invited to Quiet.", kind="circle.invited")  # web only for alice
    await _notify(bob, "Bob hears at once.")
    assert await OutgoingEmail.filter(account=alice).count() == 0, "a digest reader gets nothing at once"

    assert await mail_service.queue_digests(clock.now()) == 1
    assert await mail_service.queue_digests(clock.now()) == 0, "at most one a day"
    await postman.send_due(LEASE)
    [digest] = smtp_server.to("alice@example.org")
    text = digest.get_body(("plain",)).get_content()
    assert digest["Subject"] == "3 new notifications on Circles"
    assert all(f"Person {n} asks to join." in text for n in range(3)) and "Quiet" not in text
    assert text.index("Person 0") < text.index("Person 2"), "oldest first"
    assert "/email/unsubscribe/" in digest["List-Unsubscribe"] and "digest" in digest["List-Unsubscribe"]
    assert await Notification.filter(recipient=alice, emailed_at=None).count() == 1  # the web-only one

    await _notify(alice, "Person 9 asks to join.")
    clock.freeze(clock.now() + dt.timedelta(hours=23))
    assert await mail_service.queue_digests(clock.now()) == 0, "not a day yet"
    clock.freeze(clock.now() + dt.timedelta(hours=2))
    assert await mail_service.queue_digests(clock.now()) == 1
    await postman.send_due(LEASE)
    later = smtp_server.to("alice@example.org")[1]
    assert later["Subject"] == "1 new notification on Circles"
    assert "Person 9" in later.get_body(("plain",)).get_content()
    assert "Person 0" not in later.get_body(("plain",)).get_content(), "nothing twice"


async def test_two_workers_queue_one_digest(database, alice):
    import asyncio

    alice.email_digest = EmailDigest.WEEKLY
    await alice.save(update_fields=["email_digest"])
    await _notify(alice)
    now = clock.now()
    assert sum(await asyncio.gather(*(mail_service.queue_digests(now) for _ in range(4)))) == 1
    assert await OutgoingEmail.filter(account=alice, template="digest").count() == 1
    clock.freeze(now + dt.timedelta(days=6))
    await _notify(alice)
    assert await mail_service.queue_digests(clock.now()) == 0, "a week between weekly digests"


async def test_an_email_whose_notification_is_gone_fails(postman, smtp_server, alice):
    notification = await _notify(alice)
    await notification.delete()  # the row's params point at nothing now
    await OutgoingEmail.all().update(params={"notification_id": notification.id})
    await postman.send_due(LEASE)
    row = await OutgoingEmail.get()
    assert row.state is EmailState.FAILED and "cannot be written" in row.last_error and not smtp_server.messages


async def test_unsubscribe_page_one_click_and_bad_token(mail_app, postman, smtp_server, alice):
    await _notify(alice)
    await postman.send_due(LEASE)
    link = smtp_server.messages[0]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://circles.test")
    client = mail_app.test_client()

    page = await client.get(path)
    body = await page.get_data(as_text=True)
    assert page.status_code == 200 and '<form method="post"' in body and "<script" not in body
    assert await NotificationPreference.filter(account=alice).count() == 0, "GET changes nothing"

    # What a mail client sends (RFC 8058): no cookie, no CSRF token.
    done = await client.post(path, form={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200, await done.get_data(as_text=True)
    pref = await NotificationPreference.get(account=alice, kind=KIND)
    assert pref.channel is Channel.WEB
    await _notify(alice)
    assert await OutgoingEmail.filter(account=alice).count() == 1, "no email after unsubscribing"

    for bad in (path[:-1] + ("0" if path[-1] != "0" else "1"), path.replace(KIND, "circle.invited")):
        refused = await client.post(bad, form={"List-Unsubscribe": "One-Click"})
        assert refused.status_code == 404
        assert "unsubscribe link is not valid" in await refused.get_data(as_text=True)
    assert (await client.get(path.replace(str(alice.id), str(alice.id + 1)))).status_code == 404


async def test_other_posts_still_need_a_csrf_token(mail_app, alice):
    from tests.integration.webforms import logged_in

    await _notify(alice)
    client = await logged_in(mail_app, alice)
    response = await client.post("/notifications/read", form={})
    assert response.status_code == 403, "only the unsubscribe route is exempt"
    assert await Notification.filter(recipient=alice, read_at=None).count() == 1


async def test_the_digest_link_stops_every_email_kind(mail_app, alice):
    from web.mail import unsubscribe_token

    token = unsubscribe_token(mail_app.config["SECRET_KEY"], alice.id, mail_service.DIGEST)
    client = mail_app.test_client()
    response = await client.post(f"/email/unsubscribe/{alice.id}/digest/{token}")
    assert response.status_code == 200
    email_kinds = {k for k, c in notification_service.KINDS.items() if c is Channel.EMAIL}
    assert set(await NotificationPreference.filter(account=alice, channel=Channel.WEB)
               .values_list("kind", flat=True)) == email_kinds


async def test_a_meeting_reminder_carries_a_calendar_file(postman, smtp_server, instance, alice):
    from models.services import meetings as meeting_service

    circle = await factories.circle(instance, alice, "readers")
    starts = (clock.now() + dt.timedelta(hours=20)).replace(second=0, microsecond=0)
    meeting = await meeting_service.schedule(
        instance, alice.actor, circle, title="Chapter 3; part 2", agenda="Read it", timezone="UTC",
        starts_local=f"{starts:%Y-%m-%dT%H:%M}", ends_local=f"{starts + dt.timedelta(hours=1):%Y-%m-%dT%H:%M}",
        place="Library",
    )
    await _notify(alice, "Reminder: Chapter 3.", kind="meeting.reminder", subject_id=meeting.post_id)
    await postman.send_due(LEASE)
    [message] = smtp_server.messages
    assert message.get_body(("plain",)) is not None
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == "meeting.ics"
    ics = attachment.get_content()
    ics = ics.decode() if isinstance(ics, bytes) else ics
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "BEGIN:VEVENT" in lines and "END:VEVENT" in lines
    assert "SUMMARY:Chapter 3\\; part 2" in lines and "LOCATION:Library" in lines
    assert f"DTSTART:{starts:%Y%m%dT%H%M%SZ}" in lines
    assert any(line.startswith("UID:http://circles.test/") for line in lines)
    assert all(len(line.encode()) <= 75 for line in lines)


async def test_the_envelope_names_only_the_rows_address(postman, smtp_server):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = FROM, "root, reader@example.org", "Hello"
    await postman.server.send(message, "reader@example.org")
    assert smtp_server.envelopes == [("circles@circles.test", ["reader@example.org"])]


async def test_an_unconfirmed_address_gets_no_notification_email(postman, smtp_server, alice):
    await _notify(alice, confirmed=False)
    alice.email_digest = EmailDigest.DAILY
    await alice.save(update_fields=["email_digest"])
    await _notify(alice, confirmed=False)
    assert await mail_service.queue_digests(clock.now()) == 0
    await postman.send_due(LEASE)
    assert smtp_server.messages == [] and await OutgoingEmail.filter(account=alice).count() == 0


async def test_other_notifications_carry_no_calendar_file(postman, smtp_server, alice):
    await _notify(alice)
    await postman.send_due(LEASE)
    assert list(smtp_server.messages[0].iter_attachments()) == []
