"""Destructive actions ask first, in chromium without any script of ours:
leaving a circle and cancelling a meeting go through the confirmation page
(web/templates/confirm.html), reached and answered with the keyboard; "No, go
back" changes nothing; axe finds nothing serious on the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.test_accessibility import AXE_JS, HERE, _describe, scan, scan_right_to_left
from tests.npm import ensure_npm_packages

HANDLE, NAME = "weavers", "Basket Weavers"


@pytest.fixture(scope="module")
def people(new_context) -> tuple[Page, Page]:
    alice = new_context(java_script_enabled=False).new_page()  # works without JavaScript
    ui.sign_up(alice, "alice")
    ui.start_circle(alice, HANDLE, NAME)
    bob = new_context(java_script_enabled=False).new_page()
    ui.sign_up(bob, "bob")
    ui.join(bob, HANDLE, NAME)
    return alice, bob


def test_leaving_asks_first_and_going_back_changes_nothing(people):
    _alice, bob = people
    bob.goto(f"/c/{HANDLE}")
    bob.get_by_role("button", name="Leave circle").click()
    expect(bob.get_by_role("heading", level=1)).to_have_text(f"Leave {NAME}?")
    expect(bob.get_by_text("The circle's members see that you are no longer among them")).to_be_visible()
    bob.get_by_role("link", name="No, go back").click()
    expect(bob).to_have_url(re.compile(rf"/c/{HANDLE}$"))
    expect(bob.get_by_role("button", name="Leave circle")).to_be_visible()  # still a member

    bob.get_by_role("button", name="Leave circle").click()
    bob.get_by_role("button", name="Yes, leave the circle").focus()
    bob.keyboard.press("Enter")  # the keyboard answers it as well as a click
    ui.flash(bob, f"You have left {NAME}.")
    expect(bob.get_by_role("button", name="Join circle")).to_be_visible()


def test_cancelling_a_meeting_through_the_confirmation_page(people):
    alice, _bob = people
    meeting = ui.schedule_meeting(alice, HANDLE, "Willow baskets")
    alice.get_by_role("button", name="Cancel this meeting").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Cancel this meeting?")
    ui.tab_to(alice, "button", "Yes, cancel the meeting")  # reachable by Tab
    alice.keyboard.press("Enter")
    expect(alice).to_have_url(re.compile(rf"{meeting}$"))
    expect(alice.locator(".flash")).to_contain_text("The meeting is cancelled")
    expect(alice.get_by_text("This meeting is cancelled.")).to_be_visible()


def test_the_confirmation_page_is_accessible(people, new_context):
    ensure_npm_packages(HERE, AXE_JS, needed_by="the accessibility scan (axe-core)")
    page = new_context(bypass_csp=True).new_page()  # axe is injected inline
    ui.log_in(page, "alice")
    thread = ui.new_post(page, HANDLE, "Rush or willow?", "Which is easier to start with?")
    page.goto(thread)
    page.get_by_role("button", name="Delete this post").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete this post?")
    blocking = scan(page, AXE_JS.read_text(), "confirmation page")
    page.emulate_media(color_scheme="dark")
    blocking += scan(page, AXE_JS.read_text(), "confirmation page (dark)")
    page.emulate_media(color_scheme="light")
    page.goto(thread)  # in English; the button then asks again, answered in Arabic
    blocking += scan_right_to_left(page, AXE_JS.read_text(), "confirmation page",
                                   redo=lambda p: p.get_by_role("button", name="Delete this post").click())
    assert not blocking, _describe(blocking)
