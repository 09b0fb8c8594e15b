"""Look and feel: every main page, with a very long word and a long web address in a
post's title and body, fits a 360 px phone without scrolling sideways, is photographed
at 360 and 1280 px in the light and the dark scheme, and passes axe in both schemes, left-to-right
and right-to-left (in Arabic).
One server and one set of content for the whole module."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_accessibility import AXE_JS, OVERFLOWING_JS, _describe, scan, scan_right_to_left
from tests.npm import ensure_npm_packages
from tests.servers import CIRCLES

HANDLE, NAME = "longwords", "Long Words Club"
LONG_WORD = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz" * 2  # 126 letters, no break
LONG_URL = "https://example.org/" + "/".join(["a-rather-long-path-segment"] * 4) + "?q=" + "x" * 40
TITLE = f"{LONG_WORD[:90]} {LONG_URL[:100]}"
BODY = f"{LONG_WORD} and {LONG_URL}\n\n    {'code_that_does_not_wrap(' * 6}\n\n`{LONG_WORD}`"
SCHEMES = ("light", "dark")


@pytest.fixture(scope="module")
def axe_source() -> str:
    ensure_npm_packages(AXE_JS.parent.parent.parent, AXE_JS, needed_by="the accessibility scan (axe-core)")
    return AXE_JS.read_text()


def create_admin(server, module_database, folder: Path, username: str) -> None:
    """An instance admin, made as an operator would: with `circles user create --admin`."""
    env = {"CIRCLES_DATABASE_URL": module_database, "CIRCLES_DOMAIN": server.base_url.split("://", 1)[1],
           "CIRCLES_SCHEME": "http", "CIRCLES_DATA_DIR": str(folder), "PATH": "/usr/bin:/bin"}
    subprocess.run([str(CIRCLES), "user", "create", username, "--email", f"{username}@example.org", "--admin",
                    "--password-stdin"], input=f"{ui.PASSWORD}\n", text=True, env=env, check=True, cwd=folder)


@pytest.fixture(scope="module")
def pages(server, module_database, new_context, tmp_path_factory) -> dict[str, Callable[[Page], None]]:
    """Ada (an admin) in a circle with one of everything, long words in all of it; the
    main pages by name, each as how Ada gets there."""
    create_admin(server, module_database, tmp_path_factory.mktemp("look-cli"), "ada")
    page = new_context(bypass_csp=True).new_page()
    ui.log_in(page, "ada")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="@ada")).to_be_visible()
    ui.start_circle(page, HANDLE, NAME, purpose=f"We read {LONG_WORD} at {LONG_URL}.")
    thread = ui.new_post(page, HANDLE, TITLE, BODY)
    question = ui.ask(page, HANDLE, f"Why {LONG_WORD[:100]}?", BODY)
    ui.add_resource(page, HANDLE, TITLE[:150], LONG_URL)
    meeting = ui.schedule_meeting(page, HANDLE, f"Meet {LONG_WORD[:80]}")
    ui.write_reflection(page, HANDLE, BODY, share=True)
    proposal = ui.propose(page, HANDLE, f"Adopt {LONG_WORD[:80]}")

    bob = new_context().new_page()
    ui.sign_up(bob, "bob")
    ui.join(bob, HANDLE, NAME)
    ui.reply(bob, thread, BODY)  # a notification for Ada
    ui.reply(bob, question, f"{LONG_URL} {LONG_WORD}")

    paths = {
        "home": "/", "directory": "/circles", "thread": thread, "question": question, "meeting": meeting,
        "proposal": proposal, "profile": "/users/ada", "settings": "/settings", "notifications": "/notifications",
        "admin": "/admin",
    }
    tabs = {"circle": "", "questions": "/questions", "resources": "/resources", "meetings": "/meetings",
            "members": "/members", "about": "/about", "reviews": "/reviews", "reflections": "/reflections",
            "record": "/record", "tutoring": "/tutoring", "dashboard": "/dashboard", "decisions": "/decisions",
            "sisters": "/sisters"}
    paths.update({f"circle-{name}": f"/c/{HANDLE}{tail}" for name, tail in tabs.items()})
    return {"page": page, "paths": paths}


PAGE_NAMES = (
    "home", "directory", "circle-circle", "circle-questions", "circle-resources", "circle-meetings", "circle-members",
    "circle-about", "circle-reviews", "circle-reflections", "circle-record", "circle-tutoring", "circle-dashboard",
    "circle-decisions", "circle-sisters", "thread", "question", "meeting", "proposal", "profile", "settings",
    "notifications", "admin",
)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_fits_a_phone_and_reads_well_light_and_dark(name, pages, axe_source, screenshots):
    page: Page = pages["page"]
    page.set_viewport_size(PHONE)
    response = page.goto(pages["paths"][name])
    assert response.status == 200, f"{name}: {response.status} at {page.url}"
    layout = page.evaluate(OVERFLOWING_JS)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (
        f"{name} ({page.url}) scrolls sideways on a {PHONE['width']} px phone "
        f"(content {layout['scrollWidth']} px wide); too wide: {layout['out']}")

    blocking = []
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        for size, label in ((PHONE, "360"), (DESKTOP, "1280")):
            page.set_viewport_size(size)
            page.screenshot(path=screenshots / f"look-{name}-{label}-{scheme}.png", full_page=True)
        blocking += scan(page, axe_source, f"{name} ({scheme})")
    page.emulate_media(color_scheme="light")
    blocking += scan_right_to_left(page, axe_source, name)  # light and dark, in Arabic
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (
        f"{name} ({page.url}) scrolls sideways on a {PHONE['width']} px phone right-to-left")
    page.screenshot(path=screenshots / f"look-{name}-360-rtl.png", full_page=True)
    assert not blocking, f"{name} ({page.url}) has serious or critical accessibility violations:\n{_describe(blocking)}"


def test_the_long_content_is_really_there(pages):
    """The pages above are only a test of wrapping if the long word and address reach them."""
    page: Page = pages["page"]
    page.set_viewport_size(PHONE)
    page.goto(pages["paths"]["thread"])
    expect(page.get_by_role("heading", level=1)).to_contain_text(LONG_WORD[:90])
    expect(page.locator("main")).to_contain_text(LONG_URL)
    code = page.locator("main pre").first
    assert code.evaluate("el => el.scrollWidth <= el.clientWidth"), "the code block should wrap inside its box"
    assert code.evaluate("el => el.getClientRects().length > 0 && el.getBoundingClientRect().height > 40"), \
        "the long line of code should wrap onto several lines"
    page.goto("/")
    expect(page.locator(".post-card").first).to_contain_text(LONG_WORD[:40])


def test_a_right_to_left_page_is_mirrored(pages, screenshots):
    """Logical properties: with dir="rtl" (as an Arabic page sets) a card's kind stripe and the
    layout flip sides, and nothing scrolls sideways."""
    page: Page = pages["page"]
    page.set_viewport_size(PHONE)
    page.goto("/")
    card = page.locator(".post-card").first
    assert card.evaluate("el => getComputedStyle(el).borderLeftWidth") == "4px"
    page.evaluate("document.documentElement.dir = 'rtl'")
    assert card.evaluate("el => getComputedStyle(el).borderRightWidth") == "4px"
    assert card.evaluate("el => getComputedStyle(el).borderLeftWidth") == "1px"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=screenshots / "look-home-360-rtl.png", full_page=True)
    page.goto(pages["paths"]["circle-circle"])
    page.evaluate("document.documentElement.dir = 'rtl'")
    page.locator(".tabs summary").click()
    menu = page.locator(".tabs details ul")
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the More menu leaves the screen: {box}"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
