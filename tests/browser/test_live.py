"""Live updates in chromium, with the Content-Security-Policy in force: the
header's unread count, and an open thread hearing of new replies, without a
reload and without moving the focus; axe finds nothing serious on the
updated page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.test_accessibility import AXE_JS, HERE, _describe, scan, scan_right_to_left
from tests.npm import ensure_npm_packages

HANDLE, NAME = "growers", "Seed Growers"
QUIET, QUIET_NAME = "quiet_growers", "Quiet Growers"
UNREAD = re.compile(r"^Notifications, (\d+) unread$")


@pytest.fixture(scope="module")
def people(new_context) -> tuple[Page, Page]:
    alice = new_context().new_page()
    ui.sign_up(alice, "alice")
    ui.start_circle(alice, HANDLE, NAME)
    ui.start_circle(alice, QUIET, QUIET_NAME, join="Anyone who asks, once a facilitator approves",
                    purpose="We swap seeds, by invitation.")
    bob = new_context().new_page()
    ui.sign_up(bob, "bob")
    ui.join(bob, HANDLE, NAME)
    return alice, bob


def notifications_link(page: Page):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Notifications"))


def unread(page: Page) -> int:
    """The unread count as a screen reader hears it in the header."""
    match = UNREAD.match(page.locator("[data-unread-label]").text_content().strip())
    return int(match.group(1)) if match else 0


def test_the_header_count_and_the_open_thread_update_without_a_reload(people, screenshots):
    alice, bob = people
    thread = ui.new_post(alice, HANDLE, "Tomato seeds", "Who has *San Marzano*?")
    expect(notifications_link(alice)).to_have_accessible_name("Notifications")  # nothing unread yet
    expect(alice.locator("[data-unread-count]")).to_be_hidden()
    alice.evaluate("() => { window.notReloaded = true; }")
    alice.get_by_label("Your reply").fill("A reply I am still writing")

    ui.reply(bob, thread, "I have some, and beans too.")
    status = alice.locator("[data-live-status]")
    expect(status).to_have_text("There are new replies in this thread.")
    load = alice.get_by_role("button", name="Show new replies")
    expect(load).to_be_visible()
    expect(alice.get_by_text("I have some, and beans too.")).to_have_count(0)

    load.focus()
    alice.keyboard.press("Enter")
    expect(alice.get_by_text("I have some, and beans too.")).to_be_visible()
    expect(alice.get_by_role("heading", name="1 reply")).to_be_visible()
    expect(status).to_have_text("The new replies are shown below.")
    assert alice.evaluate("() => document.activeElement.hasAttribute('data-live-load')"), "the focus moved"
    expect(alice.get_by_label("Your reply")).to_have_value("A reply I am still writing")

    before = unread(alice)
    bob.goto(f"/c/{QUIET}")
    bob.get_by_role("button", name="Ask to join").click()
    expect(notifications_link(alice)).to_have_accessible_name(re.compile(r"^Notifications, \d+ unread$"))
    assert unread(alice) == before + 1
    expect(alice.locator("[data-unread-count]")).to_have_text(str(before + 1))
    assert alice.evaluate("() => window.notReloaded === true"), "the page was reloaded"
    alice.screenshot(path=screenshots / "live-thread-updated-desktop.png", full_page=True)

    alice.goto("/")  # and every page, served with the count
    expect(notifications_link(alice)).to_have_accessible_name(f"Notifications, {before + 1} unread")


def test_the_updated_page_stays_accessible(people, new_context):
    _alice, bob = people
    ensure_npm_packages(HERE, AXE_JS, needed_by="the accessibility scan (axe-core)")
    page = new_context(bypass_csp=True).new_page()  # axe is injected inline
    ui.log_in(page, "alice")
    thread = ui.new_post(page, HANDLE, "Bean seeds", "Runner beans?")
    ui.reply(bob, thread, "Yes, purple ones.")
    page.goto(thread)
    ui.reply(bob, thread, "And some white ones.")
    expect(page.get_by_role("button", name="Show new replies")).to_be_visible()
    blocking = scan(page, AXE_JS.read_text(), "thread with new replies")
    page.emulate_media(color_scheme="dark")
    blocking += scan(page, AXE_JS.read_text(), "thread with new replies (dark)")
    page.emulate_media(color_scheme="light")
    # right-to-left as it is: fetching it again would show the new replies, not the button
    blocking += scan_right_to_left(page, AXE_JS.read_text(), "thread with new replies", flip=True)
    assert not blocking, _describe(blocking)
