"""The shipped languages in chromium: a French browser reads French and switches to
Spanish from the footer's menu (no JavaScript needed: plain links); a person who
chooses Arabic in Settings gets <html dir="rtl">, a mirrored layout, and pages that
axe-core finds clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.test_accessibility import AXE_JS, HERE, scan
from tests.conftest import repo_root
from tests.npm import ensure_npm_packages

HANDLE, NAME = "linguists", "Linguists"
ARABIC = repo_root() / "web" / "translations" / "ar" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def alice(new_context) -> tuple[Page, str]:
    """Alice (an English browser), in a circle with one thread; the thread's path."""
    page = new_context(bypass_csp=True).new_page()  # bypass: axe is injected as an inline script
    ui.sign_up(page, "alice")
    ui.start_circle(page, HANDLE, NAME)
    thread = ui.new_post(page, HANDLE, "False friends", "*Embarazada* is not *embarrassed*.")
    return page, thread


def _html(page: Page) -> tuple[str, str]:
    return page.locator("html").get_attribute("lang"), page.locator("html").get_attribute("dir")


def test_a_french_visitor_reads_french_and_switches_to_spanish(new_context, alice):
    page = new_context(locale="fr-CA").new_page()  # Accept-Language: fr-CA (no catalogue: French)
    page.goto(f"/c/{HANDLE}/about")
    assert _html(page) == ("fr", "ltr")
    main_menu = page.get_by_role("navigation", name="Principal")
    expect(main_menu.get_by_role("link", name="Se connecter")).to_be_visible()
    languages = page.get_by_role("navigation", name="Langue")
    expect(languages.get_by_role("link", name="Français")).to_have_attribute("aria-current", "true")
    expect(languages.get_by_role("link", name="Español")).to_have_attribute("lang", "es")

    languages.get_by_role("link", name="Español").click()
    expect(page).to_have_url(f"{page.url.split('/c/')[0]}/c/{HANDLE}/about")  # back where it was
    assert _html(page) == ("es", "ltr")
    expect(page.get_by_role("navigation", name="Principal").get_by_role("link", name="Iniciar sesión")).to_be_visible()
    page.goto("/circles")  # the choice stays (a cookie) over the browser's French
    expect(page.get_by_role("heading", level=1)).to_have_text("Círculos")


@pytest.fixture(scope="module")
def arabic(alice) -> tuple[Page, str]:
    if not ARABIC.exists():
        print(f"SKIPPED: no Arabic catalogue ships in this checkout ({ARABIC.relative_to(repo_root())})")
        pytest.skip("no Arabic catalogue ships in this checkout, so Arabic cannot be chosen")
    page, thread = alice
    page.goto("/settings")
    page.get_by_label("Language of this site").select_option("ar")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    return page, thread


def test_arabic_is_right_to_left_and_mirrored(arabic):
    page, _thread = arabic
    page.goto("/")
    assert _html(page) == ("ar", "rtl")
    width = page.viewport_size["width"]
    brand = page.locator(".site-header .brand").bounding_box()
    last_item = page.locator(".site-header nav li").last.bounding_box()
    # the header's first item starts at the right, and the menu runs leftwards from it
    assert brand["x"] + brand["width"] > width / 2, brand
    assert last_item["x"] < brand["x"], (last_item, brand)
    # nothing hidden off the left edge makes the page scroll sideways (the skip link did)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture(scope="module")
def axe_source() -> str:
    ensure_npm_packages(HERE, AXE_JS, needed_by="the accessibility scan (axe-core)")
    return AXE_JS.read_text()


@pytest.mark.parametrize("where", ["home", "circle", "thread"])
def test_arabic_pages_are_accessible(where, arabic, axe_source, screenshots):
    page, thread = arabic
    page.goto({"home": "/", "circle": f"/c/{HANDLE}", "thread": thread}[where])
    assert _html(page) == ("ar", "rtl")
    page.screenshot(path=screenshots / f"arabic-{where}.png", full_page=True)
    blocking = scan(page, axe_source, f"{where} (ar)")
    assert not blocking, blocking
