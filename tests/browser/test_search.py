"""Search in chromium: words typed in the header's box (Enter, no script)
find a post with the words marked; the circle page's own box searches that
circle; axe finds nothing serious on the results, light or dark,
left-to-right or right-to-left (in Arabic)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_accessibility import AXE_JS, HERE, _describe, scan, scan_right_to_left
from tests.npm import ensure_npm_packages

HANDLE, NAME = "herbalists", "Herbalists"


@pytest.fixture(scope="module")
def alice(new_context) -> Page:
    page = new_context(bypass_csp=True).new_page()  # axe is injected inline
    ui.sign_up(page, "alice")
    ui.start_circle(page, HANDLE, NAME)
    ui.new_post(page, HANDLE, "Drying lavender", "Hang the *lavender* upside down in a dark room.")
    ui.new_post(page, HANDLE, "Mint everywhere", "It spreads; grow it in a pot.")
    return page


def test_typing_in_the_header_box_finds_posts(alice, screenshots):
    alice.goto("/circles")
    box = alice.get_by_role("search", name="Search the site").get_by_label("Search posts, people and circles")
    box.fill("lavender")
    box.press("Enter")  # a plain GET form: no script needed
    expect(alice).to_have_url(re.compile(r"/search\?q=lavender$"))
    results = alice.get_by_role("list").filter(has=alice.get_by_role("article"))
    expect(results.get_by_role("link", name="Drying lavender")).to_be_visible()
    expect(results.locator("mark").first).to_have_text(re.compile("lavender", re.IGNORECASE))
    expect(alice.get_by_text("Mint everywhere")).to_have_count(0)
    expect(alice.get_by_role("link", name=NAME).first).to_be_visible()  # the circle, by name
    alice.screenshot(path=screenshots / "search-results-desktop.png", full_page=True)
    alice.set_viewport_size(PHONE)
    assert alice.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), "wider than a phone"
    alice.screenshot(path=screenshots / "search-results-phone.png", full_page=True)
    alice.set_viewport_size(DESKTOP)

    results.get_by_role("link", name="Drying lavender").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Drying lavender")


def test_the_circle_page_searches_its_circle(alice):
    alice.goto(f"/c/{HANDLE}")
    alice.get_by_role("search", name="Search this circle").get_by_label("Search this circle").fill("pot")
    alice.get_by_role("search", name="Search this circle").get_by_role("button", name="Search").click()
    expect(alice).to_have_url(re.compile(rf"/c/{HANDLE}/search\?q=pot$"))
    expect(alice.get_by_role("link", name="Mint everywhere")).to_be_visible()


def test_search_pages_are_accessible(alice):
    ensure_npm_packages(HERE, AXE_JS, needed_by="the accessibility scan (axe-core)")
    axe = AXE_JS.read_text()
    blocking = []
    for path in ("/search?q=lavender", f"/c/{HANDLE}/search?q=mint", "/search?q=nothing+like+this", "/search"):
        alice.goto(path)
        blocking += scan(alice, axe, path)
        alice.emulate_media(color_scheme="dark")
        blocking += scan(alice, axe, f"{path} (dark)")
        alice.emulate_media(color_scheme="light")
        blocking += scan_right_to_left(alice, axe, path)
    assert not blocking, _describe(blocking)
