"""Editing a reply, "this helped me" on an answer, and a steward reading a
post's earlier versions, in chromium; the edit and history pages scanned by
axe (as in test_accessibility.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import ui
from tests.browser import test_accessibility
from tests.browser.test_accessibility import scan

axe_source = test_accessibility.axe_source  # the fixture

HANDLE, NAME = "menders", "Clothes Menders"


@pytest.fixture(scope="module")
def people(new_context) -> tuple[Page, Page, str]:
    """Alice facilitates the circle and asks; Bob answers. Both pages may be scanned."""
    alice, bob = new_context(bypass_csp=True).new_page(), new_context(bypass_csp=True).new_page()
    ui.sign_up(alice, "alice")
    ui.start_circle(alice, HANDLE, NAME)
    question = ui.ask(alice, HANDLE, "How do I darn a sock?", "The hole is at the heel.")
    ui.sign_up(bob, "bob")
    ui.join(bob, HANDLE, NAME)
    ui.reply(bob, question, "Use a *darning mushroom*.")
    return alice, bob, question


def _answer(page: Page):
    return page.locator("article.reply").filter(has_text="darning mushroom")


def test_edit_like_and_history(people, axe_source):
    alice, bob, question = people

    bob.goto(question)
    _answer(bob).get_by_role("link", name="Edit").click()
    expect(bob.get_by_role("heading", level=1)).to_have_text("Edit your reply")
    assert scan(bob, axe_source, "edit a reply") == []
    bob.get_by_label("Text").fill("Use a *darning mushroom*, or a light bulb.")
    bob.get_by_role("button", name="Preview").click()
    expect(bob.locator(".preview")).to_contain_text("or a light bulb")
    bob.get_by_role("button", name="Save changes").click()
    expect(bob).to_have_url(re.compile(r"/posts/\d+#post-\d+$"))
    ui.flash(bob, "Your changes are saved.")
    expect(_answer(bob)).to_contain_text("or a light bulb")
    expect(_answer(bob).locator(".edited")).to_contain_text("Edited")

    alice.goto(question)
    helped = _answer(alice).get_by_role("button", name="This helped me")
    expect(helped).to_have_attribute("aria-pressed", "false")
    helped.click()
    expect(alice).to_have_url(re.compile(r"#post-\d+$"))
    expect(_answer(alice).get_by_role("button", name="This helped me")).to_have_attribute("aria-pressed", "true")
    expect(_answer(alice)).to_contain_text("1 person found this helpful")
    _answer(alice).get_by_text("1 person found this helpful").click()  # opens who found it helpful
    expect(_answer(alice).get_by_role("link", name="alice")).to_be_visible()

    _answer(alice).get_by_role("link", name="Earlier versions").click()  # Alice facilitates: a steward
    expect(alice.get_by_role("heading", level=1)).to_have_text("Earlier versions of this post")
    expect(alice.locator("article.revision").nth(1)).to_contain_text("Use a darning mushroom.")
    assert scan(alice, axe_source, "history") == []
