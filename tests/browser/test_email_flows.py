"""Email end to end: `circles serve` (its worker inside) sends through a real
SMTP server on loopback (aiosmtpd, tests/mail_server.py), and chromium
follows the links in the messages it received: confirming the address given
at sign-up, and setting a new password after "Forgot your password?"."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.factories import PASSWORD
from tests.mail_server import MailServer

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"https?://[^/\s]+(/\S+)")
MAIL_WAIT = 20.0  # seconds: the worker polls every 2 s, and sends at once when woken


@pytest.fixture(scope="module")
def mail() -> MailServer:
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server_settings(mail) -> dict[str, str]:
    return {"CIRCLES_SMTP_URL": mail.url, "CIRCLES_EMAIL_FROM": "Circles <circles@circles.test>"}


def wait_for_mail(mail: MailServer, address: str, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + MAIL_WAIT
    while len(mail.to(address)) < count:
        assert time.monotonic() < deadline, f"no email #{count} to {address} within {MAIL_WAIT} s: {mail.envelopes}"
        time.sleep(0.2)
    return mail.to(address)


def link_in(message: EmailMessage) -> str:
    """The path of the one link in the message's plain-text part."""
    [path] = LINK.findall(message.get_body(("plain",)).get_content())
    return path


def test_sign_up_confirm_the_address_then_reset_a_forgotten_password(new_context, mail, screenshots):
    page: Page = new_context().new_page()
    ui.sign_up(page, "dora")
    [confirm] = wait_for_mail(mail, "dora@example.org", 1)
    assert "Confirm" in confirm["Subject"], confirm["Subject"]
    page.goto(link_in(confirm))
    page.get_by_role("button", name="Confirm this address").click()
    ui.flash(page, "@dora's email address is now dora@example.org, confirmed.")
    ui.log_out(page)

    # Forgot the password: an unknown address gets the same answer and no email.
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address or account name").fill("nobody@example.org")
    page.get_by_role("button", name="Send me a link").click()
    answer = page.get_by_role("status").text_content()
    page.goto("/password-reset")
    page.get_by_label("Email address or account name").fill("dora@example.org")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_have_text(answer)
    page.screenshot(path=screenshots / "forgot-password-sent.png")

    reset = wait_for_mail(mail, "dora@example.org", 2)[1]
    assert "new password" in reset["Subject"], reset["Subject"]
    assert not mail.to("nobody@example.org"), "an address without an account got an email"
    path = link_in(reset)
    page.goto(path)
    page.get_by_label("New password").first.fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    ui.flash(page, "Your new password is set")

    ui.log_in(page, "dora", PASSWORD)
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)  # the old password no longer works
    ui.log_in(page, "dora", NEW_PASSWORD)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    response = page.goto(path)  # the link works once
    assert response.status == 404
    expect(page.get_by_text("not valid")).to_be_visible()
