"""The admin pages on a 360 px phone: their tables (accounts with their action buttons,
blocked domains with long names and reasons, failed deliveries) scroll inside their own
box or wrap, and the page itself never scrolls sideways, left-to-right or right-to-left."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import OVERFLOWING_JS
from tests.browser.test_look import create_admin

LONG_HOST = "a-very-long-subdomain-name-for-testing." * 3 + "example"
REASON = "Sends the same advertisement to every circle, " * 4
ADMIN_PAGES = {"accounts": "/admin", "domains": "/admin/domains", "overview": "/admin/overview",
               "reports": "/admin/reports"}

# Each table: its width, and the width and overflow of the box it sits in.
TABLES_JS = """() => [...document.querySelectorAll('main table')].map(t => {
  const box = t.parentElement;
  return {table: Math.round(t.getBoundingClientRect().width), box: Math.round(box.getBoundingClientRect().right),
          scrolls: ['auto', 'scroll'].includes(getComputedStyle(box).overflowX) ||
                   ['auto', 'scroll'].includes(getComputedStyle(t).overflowX)};
})"""


@pytest.fixture(scope="module")
def admin(server, module_database, new_context, tmp_path_factory) -> Page:
    """Ada, an admin, with a few more accounts and two blocked domains to list."""
    create_admin(server, module_database, tmp_path_factory.mktemp("admin-cli"), "ada")
    for name in ("bartholomew_the_long_named", "cordelia_also_quite_long"):
        ui.sign_up(new_context().new_page(), name)
    page = new_context().new_page()
    ui.log_in(page, "ada")
    for host in (LONG_HOST, "spam.example"):
        page.goto("/admin/domains")
        page.get_by_role("textbox", name="Domain").fill(host)
        page.get_by_label("Reason (for the admins)").fill(REASON)
        page.get_by_role("button", name="Block", exact=True).click()
        expect(page.locator("main table")).to_contain_text(host[:30])
    return page


def _check(page: Page, name: str) -> None:
    layout = page.evaluate(OVERFLOWING_JS)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (
        f"{name} ({page.url}) scrolls sideways on a {PHONE['width']} px phone "
        f"(content {layout['scrollWidth']} px wide); too wide: {layout['out']}")
    for table in page.evaluate(TABLES_JS):
        assert table["box"] <= PHONE["width"], f"{name}: a table's box leaves the screen: {table}"
        assert table["table"] <= PHONE["width"] or table["scrolls"], f"{name}: a wide table that cannot scroll: {table}"


@pytest.mark.parametrize("direction", ["ltr", "rtl"])
@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_page_fits_a_phone(name, direction, admin, screenshots):
    page = admin
    page.set_viewport_size(PHONE)
    response = page.goto(ADMIN_PAGES[name])
    assert response.status == 200, f"{name}: {response.status}"
    if direction == "rtl":
        page.evaluate("document.documentElement.dir = 'rtl'")
    page.screenshot(path=screenshots / f"admin-{name}-360-{direction}.png", full_page=True)
    _check(page, name)
    tables = page.locator("main table").count()
    assert page.get_by_role("table").count() == tables, f"{name}: a table is no longer a table to screen readers"


def test_the_accounts_table_is_really_there(admin):
    """The check above means something only if the tables hold the long rows."""
    admin.set_viewport_size(PHONE)
    admin.goto("/admin")
    expect(admin.locator("main table")).to_contain_text("bartholomew_the_long_named")
    expect(admin.locator("main table").get_by_role("button", name="Password reset link for @cordelia_also_quite_long")
           ).to_be_visible()
    state = admin.locator("main table tbody tr").nth(1).locator("td").nth(1)
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    assert state.evaluate(lines) == 1, \
        "a short word (the account's state) should stay on one line, not be broken letter by letter"
    search = admin.locator(".header-search button")
    assert search.evaluate(lines) == 1, "the header's Search button should not break its word on a phone"
    admin.goto("/admin/domains")
    expect(admin.locator("main table")).to_contain_text(REASON.strip()[:40])
