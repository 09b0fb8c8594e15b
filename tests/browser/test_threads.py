"""Threads in chromium (posts/_reply.html): replying to a reply from under it,
seeing the answer nested, folding a branch with the keyboard, following
"Continue this thread" to a deep branch's own page; axe finds nothing
serious on the thread page. No step needs JavaScript: the forms and folds
are <details>."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser.test_accessibility import AXE_JS, HERE, _describe, scan
from tests.npm import ensure_npm_packages

HANDLE, NAME = "weavers", "Weavers"


@pytest.fixture(scope="module")
def people(new_context) -> tuple[Page, Page]:
    alice = new_context(bypass_csp=True).new_page()  # bypass_csp: axe is added to her pages
    ui.sign_up(alice, "alice")
    ui.start_circle(alice, HANDLE, NAME)
    bob = new_context().new_page()
    ui.sign_up(bob, "bob")
    ui.join(bob, HANDLE, NAME)
    return alice, bob


def posted_id(page: Page) -> int:
    expect(page).to_have_url(re.compile(r"#post-\d+$"))
    return int(page.url.rsplit("#post-", 1)[1])


def reply_to(page: Page, post_id: int, name: str, body: str) -> int:
    """Open the Reply under the reply `post_id`, send `body`; the new reply's id."""
    reply = page.locator(f"#post-{post_id}")
    reply.locator("details.reply-to > summary").click()
    reply.get_by_label(f"Reply to {name}").fill(body)
    reply.get_by_role("button", name="Send reply").click()
    return posted_id(page)


def test_a_reply_to_a_reply_nests_and_its_branch_folds_by_keyboard(people, screenshots):
    alice, bob = people
    thread = ui.new_post(alice, HANDLE, "Warp or weft?", "Which do you set up first?")
    ui.reply(bob, thread, "The warp, always.")
    first = posted_id(bob)
    alice.goto(thread)
    answer = reply_to(alice, first, "bob", "Why the warp?")
    branch = alice.locator("li.thread-item", has=alice.locator(f"#post-{first}")).locator("details.branch")
    expect(branch.locator(f"#post-{answer}")).to_contain_text("Why the warp?")
    alice.screenshot(path=str(screenshots / "thread-nested.png"), full_page=True)

    alice.goto(thread)
    focused = ui.tab_to(alice, "summary", "1 reply to this")
    assert focused["visible"], focused  # a visible focus ring
    alice.keyboard.press("Enter")
    expect(alice.locator(f"#post-{answer}")).to_be_hidden()
    alice.keyboard.press("Enter")
    expect(alice.locator(f"#post-{answer}")).to_be_visible()


def test_continue_this_thread_opens_a_deep_branch(people):
    alice, bob = people
    thread = ui.new_post(alice, HANDLE, "Looms", "Floor or table?")
    ui.reply(bob, thread, "Level 1")
    levels = [posted_id(bob)]
    for n in range(2, 6):  # levels 2 to 5, alice and bob in turn
        page, name = (alice, "bob") if n % 2 == 0 else (bob, "alice")
        page.goto(thread) if n <= 4 else page.goto(f"/posts/{levels[-1]}")
        levels.append(reply_to(page, levels[-1], name, f"Level {n}"))
    alice.goto(thread)
    expect(alice.locator(f"#post-{levels[3]}")).to_contain_text("Level 4")
    expect(alice.locator(f"#post-{levels[4]}")).to_have_count(0)  # level 5: on its branch's page
    alice.get_by_role("link", name="Continue this thread").click()
    expect(alice).to_have_url(re.compile(rf"/posts/{levels[3]}#post-{levels[3]}$"))
    expect(alice.locator(f"#post-{levels[4]}")).to_contain_text("Level 5")
    alice.get_by_role("link", name="The whole thread").click()
    expect(alice.locator(f"#post-{levels[0]}")).to_contain_text("Level 1")


def test_the_thread_page_is_accessible(people):
    alice, _bob = people
    ensure_npm_packages(HERE, AXE_JS, needed_by="the accessibility scan (axe-core)")
    alice.goto(f"/c/{HANDLE}")
    alice.get_by_role("link", name="Warp or weft?").click()
    alice.locator("details.reply-to > summary").first.click()  # an open reply form is scanned too
    blocking = scan(alice, AXE_JS.read_text(), "thread page")
    assert not blocking, _describe(blocking)
