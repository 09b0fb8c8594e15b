"""Every main page, scanned by axe-core in chromium (no serious or critical
violation allowed) in the light and the dark scheme, and again in Arabic
(right-to-left) in both, photographed at desktop and phone widths, and checked
not to scroll sideways on a 360 px phone.

axe-core comes from npm (package-lock.json here, `npm ci` when needed) and is
injected as an inline script. The app's Content-Security-Policy forbids
inline scripts (script-src 'self'), so the scanning contexts bypass the CSP;
the flows in test_flows.py run with it in force.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import DESKTOP, PHONE
from tests.npm import ensure_npm_packages

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
HANDLE, NAME = "gardeners", "Community Gardeners"


@pytest.fixture(scope="module")
def axe_source() -> str:
    ensure_npm_packages(HERE, AXE_JS, needed_by="the accessibility scan (axe-core)")
    return AXE_JS.read_text()


@pytest.fixture(scope="module")
def member(new_context) -> Page:
    """Alice, in a scanning context, in a circle with one of everything."""
    return new_context(bypass_csp=True).new_page()


@pytest.fixture(scope="module")
def visitor(new_context) -> Page:
    return new_context(bypass_csp=True).new_page()


@pytest.fixture(scope="module")
def main_pages(member, visitor, new_context) -> dict[str, tuple[Page, Callable[[Page], None]]]:
    """The main pages by name: who looks at it, and how they get there."""
    page = member
    ui.sign_up(page, "alice")
    ui.start_circle(page, HANDLE, NAME)
    thread = ui.new_post(page, HANDLE, "Seed swap in spring", "Bring *labelled* seeds.\n\n- tomatoes\n- beans")
    question = ui.ask(page, HANDLE, "When do we sow beans?", "Our soil is heavy clay.")
    ui.add_resource(page, HANDLE, "A guide to clay soil", "https://example.org/clay")
    meeting = ui.schedule_meeting(page, HANDLE, "Planting day")
    ui.write_reflection(page, HANDLE, "Mulch keeps the *clay* from cracking.", share=True)
    proposal = ui.propose(page, HANDLE, "Meet every week in spring")

    bob = new_context().new_page()
    ui.sign_up(bob, "bob")
    ui.join(bob, HANDLE, NAME)
    ui.reply(bob, thread, "I will bring beans.")
    ui.reply(bob, question, "After the last frost, in April.")
    ui.vote(bob, proposal, "Yes")

    def go(path: str) -> Callable[[Page], None]:
        return lambda p: p.goto(path)

    def signup_with_errors(p: Page) -> None:
        p.goto("/signup")
        p.get_by_label("Username").fill("No Spaces Allowed")
        p.get_by_role("button", name="Create account").click()
        p.get_by_role("alert").wait_for()

    return {
        "home": (member, go("/")),
        "circle-directory": (member, go("/circles")),
        "circle": (member, go(f"/c/{HANDLE}")),
        "thread": (member, go(thread)),
        "question": (member, go(question)),
        "questions": (member, go(f"/c/{HANDLE}/questions")),
        "resources": (member, go(f"/c/{HANDLE}/resources")),
        "meetings": (member, go(f"/c/{HANDLE}/meetings")),
        "meeting": (member, go(meeting)),
        "reflections": (member, go(f"/c/{HANDLE}/reflections")),
        "decisions": (member, go(f"/c/{HANDLE}/decisions")),
        "proposal": (member, go(proposal)),
        "about": (member, go(f"/c/{HANDLE}/about")),
        "members": (member, go(f"/c/{HANDLE}/members")),
        "tutoring": (member, go(f"/c/{HANDLE}/tutoring")),
        "moderation": (member, go(f"/c/{HANDLE}/moderation")),
        "moderation-log": (member, go(f"/c/{HANDLE}/moderation/log")),
        "new-post": (member, go(f"/c/{HANDLE}/posts/new")),
        "profile": (member, go("/users/alice")),
        "settings": (member, go("/settings")),
        "someone-elses-profile": (member, go("/users/bob")),  # with the mute and block controls
        "muted-and-blocked": (member, go("/settings/blocks")),
        "search": (member, go("/search")),
        "notifications": (member, go("/notifications")),
        "start-a-circle": (member, go("/circles/new")),
        "signup": (visitor, go("/signup")),
        "login": (visitor, go("/login")),
        "signup-with-errors": (visitor, signup_with_errors),
    }


PAGE_NAMES = (
    "home", "circle-directory", "circle", "thread", "question", "questions", "resources", "meetings",
    "meeting", "reflections", "decisions", "proposal", "about", "members", "tutoring", "moderation", "moderation-log",
    "new-post", "profile", "settings", "someone-elses-profile", "muted-and-blocked", "search", "notifications", "start-a-circle", "signup", "login",
    "signup-with-errors",
)


# Pages whose state comes from posting a form: posted again (the form keeps its values) in Arabic.
POSTED_AGAIN = {"signup-with-errors": lambda p: p.get_by_role("button", name="Create account").click()}


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  {v['helpUrl']}")
        for node in v["nodes"][:10]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def scan(page: Page, axe_source: str, name: str) -> list[dict]:
    """axe-core's serious and critical violations on the page; minor ones are printed."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    minor = [v for v in results["violations"] if v["impact"] not in BLOCKING]
    if minor:
        print(f"{name}: minor axe findings (not failing):\n{_describe(minor)}")
    return [v for v in results["violations"] if v["impact"] in BLOCKING]


RTL_LANGUAGE = "ar"  # the shipped right-to-left language (web/translations/ar)


def scan_right_to_left(page: Page, axe_source: str, name: str, *, redo: Callable[[Page], object] | None = None,
                       flip: bool = False) -> list[dict]:
    """The page again as someone who reads Arabic sees it (the footer menu's language cookie,
    so <html dir="rtl"> and the Arabic catalogue), scanned by axe in the light and the dark
    scheme. The page is fetched again, or `redo` (run once the cookie is set) gets there,
    e.g. by posting its form again. `flip` only turns the page as it is right-to-left (a
    state that cannot be fetched again, like live updates). The cookie goes afterwards."""
    page.context.add_cookies([{"name": "lang", "value": RTL_LANGUAGE, "url": page.url}])
    try:
        if flip:
            page.evaluate("document.documentElement.dir = 'rtl'")
        else:
            (redo or (lambda p: p.goto(p.url)))(page)
            expect(page.locator("html")).to_have_attribute("lang", RTL_LANGUAGE)
        assert page.locator("html").get_attribute("dir") == "rtl", f"{name}: not right-to-left at {page.url}"
        blocking = []
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            blocking += scan(page, axe_source, f"{name} (rtl, {scheme})")
        page.emulate_media(color_scheme="light")
        return blocking
    finally:
        page.context.clear_cookies(name="lang")


def test_the_scan_finds_what_it_should(visitor, axe_source):
    # Without this, a scan that silently checked nothing would pass every page.
    visitor.set_content('<html><body><main><img src="/x.png"><p><a href="/"></a></p></main></body></html>')
    found = {v["id"]: v["impact"] for v in scan(visitor, axe_source, "broken page")}
    assert found.get("image-alt") == "critical" and found.get("link-name") == "serious", found


# Elements wider than the viewport (what makes a phone scroll sideways).
OVERFLOWING_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && (box.right > width + 1 || box.left < -1) && !el.closest('.skip-link, .visually-hidden')) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).trim().replace(/\\s+/g, '.') : '') + ` (${Math.round(box.left)}..${Math.round(box.right)})`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, out: out.slice(0, 15)};
}"""


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_main_page_is_accessible_and_fits_a_phone(name, main_pages, axe_source, screenshots):
    page, arrive = main_pages[name]
    page.set_viewport_size(DESKTOP)
    arrive(page)
    page.screenshot(path=screenshots / f"{name}-desktop.png", full_page=True)

    blocking = scan(page, axe_source, name)
    page.emulate_media(color_scheme="dark")  # the stylesheet has a dark scheme: its contrast counts too
    blocking += scan(page, axe_source, f"{name} (dark)")
    page.emulate_media(color_scheme="light")
    blocking += scan_right_to_left(page, axe_source, name, redo=POSTED_AGAIN.get(name))
    arrive(page)  # back in English, for the phone check below

    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / f"{name}-phone.png", full_page=True)
    layout = page.evaluate(OVERFLOWING_JS)
    page.set_viewport_size(DESKTOP)

    assert not blocking, f"{name} ({page.url}) has serious or critical accessibility violations:\n{_describe(blocking)}"
    assert layout["scrollWidth"] <= PHONE["width"], (
        f"{name} ({page.url}) scrolls sideways on a {PHONE['width']} px phone "
        f"(content {layout['scrollWidth']} px wide); too wide: {layout['out']}"
    )
    assert not re.search(r"Traceback|Internal Server Error", page.content())


# --- error pages ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dora(main_pages, new_context) -> Page:
    """A signed-in person who steers no circle, in a scanning context."""
    page = new_context(bypass_csp=True).new_page()
    ui.sign_up(page, "dora")
    return page


def _goto_status(page: Page, path: str) -> int:
    return page.goto(path).status


def _too_many_logins(page: Page) -> int:
    """Failed logins for one name until the limit answers (the service allows 5 in 15 minutes)."""
    for _ in range(5):
        ui.log_in(page, "nobody-here", "wrong password")
        page.get_by_role("alert").wait_for()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as answer:
        ui.log_in(page, "nobody-here", "wrong password")
    assert answer.value.headers.get("retry-after") == "900"
    return answer.value.status


def _stale_form(page: Page) -> int:
    """A form submitted after its session ended (cookies gone): the CSRF check refuses it."""
    page.goto("/login")
    page.context.clear_cookies()
    page.get_by_label("Username or email").fill("alice")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Log in").click()
    return answer.value.status


# name: (who, how they get there and the status it answers, the heading, a next step's link name)
ERROR_PAGES = {
    "404-unknown-circle": ("member", lambda p: _goto_status(p, "/c/no-such-circle"), "Not found", "Find a circle"),
    "403-not-a-steward": ("dora", lambda p: _goto_status(p, f"/c/{HANDLE}/settings"), "Not allowed",
                          "Go to the home page"),
    "429-login-limit": ("visitor", _too_many_logins, "Log in", "Sign up"),
    "403-stale-form": ("visitor", _stale_form, "Not allowed", "Back to the page you came from"),
}
EXPECTED_STATUS = {"404": 404, "403": 403, "429": 429}


@pytest.mark.parametrize("name", ERROR_PAGES)
def test_error_page_is_helpful_and_accessible(name, main_pages, dora, axe_source, screenshots, request):
    who, arrive, heading, next_step = ERROR_PAGES[name]
    page = request.getfixturevalue(who)
    page.set_viewport_size(PHONE)
    status = arrive(page)
    page.screenshot(path=screenshots / f"error-{name}-phone.png", full_page=True)
    assert status == EXPECTED_STATUS[name[:3]], f"{name} answered {status} at {page.url}"
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()  # the site header, to go anywhere
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("main").get_by_role("link", name=next_step)).to_be_visible()
    if name.startswith("429"):
        expect(page.get_by_role("alert")).to_contain_text("Too many failed logins for this account. Wait 15 minutes")
    blocking = scan(page, axe_source, name)
    layout = page.evaluate(OVERFLOWING_JS)
    page.set_viewport_size(DESKTOP)
    assert not blocking, f"{name} ({page.url}) has serious or critical accessibility violations:\n{_describe(blocking)}"
    assert layout["scrollWidth"] <= PHONE["width"], f"{name} scrolls sideways: {layout['out']}"
