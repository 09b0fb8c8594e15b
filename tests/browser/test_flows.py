"""The main things people do in Circles, through the real web UI in chromium,
against a real `circles serve` (with its Content-Security-Policy in force).

Alice starts a circle; Bob joins it. The module's fixtures make those two
people once (as the UI does); each test then does one thing and checks what
both of them see.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ui

HANDLE, NAME = "readers", "Readers Club"


@pytest.fixture(scope="module")
def alice(new_context):
    page = new_context().new_page()
    ui.sign_up(page, "alice")
    ui.start_circle(page, HANDLE, NAME)
    return page


@pytest.fixture(scope="module")
def bob(new_context, alice):
    page = new_context().new_page()
    ui.sign_up(page, "bob")
    ui.join(page, HANDLE, NAME)
    expect(page.get_by_role("link", name="2 members")).to_be_visible()
    return page


def test_sign_up_log_out_and_log_in(new_context):
    page = new_context().new_page()
    ui.sign_up(page, "carol")
    ui.log_out(page)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()

    ui.log_in(page, "carol", "not my password")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Username or email")).to_have_value("carol")  # kept for another try

    ui.log_in(page, "carol")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="@carol")).to_be_visible()


def test_a_member_posts_and_another_replies(alice, bob):
    thread = ui.new_post(alice, HANDLE, "First meeting", "We start with **chapter one** on Monday.")
    expect(alice.locator(".post .prose strong")).to_have_text("chapter one")

    ui.reply(bob, thread, "Count me *in*!")
    expect(bob.get_by_role("heading", name="1 reply")).to_be_visible()

    alice.goto(thread)
    reply = alice.locator("article.reply")
    expect(reply).to_contain_text("bob")
    expect(reply.locator("em")).to_have_text("in")
    alice.goto(f"/c/{HANDLE}")
    expect(alice.get_by_role("link", name="First meeting")).to_be_visible()


def test_a_question_gets_an_accepted_answer(alice, bob):
    question = ui.ask(alice, HANDLE, "How do you take notes while reading?", "I lose track after a few pages.")
    ui.reply(bob, question, "One index card per chapter.")

    alice.goto(question)
    alice.get_by_role("button", name="Accept this answer").click()
    ui.flash(alice, "The answer is marked as accepted.")
    expect(alice.locator("article.reply.accepted")).to_contain_text("One index card per chapter.")
    expect(alice.get_by_text("answered", exact=True)).to_be_visible()

    ui.open_tab(bob, HANDLE, "Questions")
    bob.get_by_role("navigation", name="Which questions").get_by_role("link", name="Answered").click()
    expect(bob.get_by_role("link", name="How do you take notes while reading?")).to_be_visible()


def test_a_safe_question_hides_who_asked(alice, bob):
    question = ui.ask(bob, HANDLE, "Is it fine if I have not finished the book?", "I am slow.", safe=True)
    ui.flash(bob, "Your question is asked through the circle")
    expect(bob.get_by_text("(by you: only the circle's facilitators can find out)")).to_be_visible()

    alice.goto(question)
    meta = alice.locator("article.post header .meta")
    expect(meta).to_contain_text(f"asked through {NAME}")
    expect(meta).not_to_contain_text("bob")


def test_a_member_adds_a_resource_to_the_library(alice, bob):
    ui.add_resource(bob, HANDLE, "Reading for beginners", "https://example.org/reading")
    ui.open_tab(alice, HANDLE, "Resources")
    expect(alice.get_by_role("link", name="Reading for beginners")).to_be_visible()
    expect(alice.get_by_role("link", name="#practice")).to_be_visible()


def test_a_meeting_is_scheduled_and_answered(alice, bob):
    meeting = ui.schedule_meeting(alice, HANDLE, "Book talk: chapters 1-3")
    expect(alice.get_by_text("The town library, room 2")).to_be_visible()

    bob.goto(meeting)
    bob.get_by_role("group", name="Will you come?").get_by_role("button", name="Going", exact=True).click()
    ui.flash(bob, "Thanks, your answer is saved.")
    expect(bob.get_by_text("1 going · 0 maybe")).to_be_visible()
    expect(bob.get_by_role("button", name="Going", exact=True)).to_have_attribute("aria-pressed", "true")

    ui.open_tab(alice, HANDLE, "Meetings")
    expect(alice.get_by_role("link", name="Book talk: chapters 1-3")).to_be_visible()


def test_a_shared_reflection_reaches_the_circle(alice, bob):
    ui.write_reflection(bob, HANDLE, "Reading aloud helps me *remember*.", share=True)
    ui.open_tab(alice, HANDLE, "Reflections")
    expect(alice.get_by_text("Reading aloud helps me")).to_be_visible()


def test_a_proposal_passes_when_every_member_has_voted(alice, bob):
    proposal = ui.propose(alice, HANDLE, "Read two books a month")
    ui.vote(alice, proposal, "No", reason="Not enough time for two.")
    ui.vote(alice, proposal, "Yes")  # a member may change their vote while it is open
    expect(alice.get_by_text("1 yes · 0 no · 0 abstain · 0 block")).to_be_visible()
    expect(alice.get_by_role("heading", name="Change your vote")).to_be_visible()  # bob has not voted: still open

    # Bob's vote is the last one the circle's two members can cast: it decides the proposal now.
    ui.vote(bob, proposal, "Yes")
    ui.flash(bob, "Everyone has voted, so the proposal is decided: it passed.")
    expect(bob.get_by_text("2 yes · 0 no · 0 abstain · 0 block")).to_be_visible()
    expect(bob.get_by_text("Proposal “Read two books a month” passed: 2 yes, 0 no")).to_be_visible()
    expect(bob.get_by_role("heading", name="Vote", exact=True)).to_have_count(0)  # no more votes taken

    ui.open_tab(alice, HANDLE, "Decisions")
    expect(alice.get_by_text("No open proposals.")).to_be_visible()
    decided = alice.get_by_role("region", name="Decision log").locator("article", has_text="Read two books a month")
    expect(decided).to_contain_text("passed")
    expect(decided).to_contain_text("2 yes, 0 no")

    # What passed is applied: the circle's purpose is the proposed one.
    ui.open_tab(bob, HANDLE, "About")
    expect(bob.get_by_role("region", name="Purpose")).to_contain_text("We read two books a month and talk about them.")


def test_the_circle_tabs_fit_a_phone_in_one_row(alice):
    from tests.browser.conftest import PHONE

    phone = alice.context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(f"/c/{HANDLE}/about")
    tabs = phone.get_by_role("navigation", name="Circle")
    links = tabs.get_by_role("link")
    count = links.count()
    assert count >= 10
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(count)}
    assert len(tops) == 1, f"the tabs wrap into {len(tops)} rows on a {PHONE['width']} px phone"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # the row scrolls, not the page

    # Where you are is marked and in view, even as the last tab.
    current = tabs.locator('[aria-current="page"]')
    expect(current).to_have_count(1)
    expect(current).to_have_text("About")
    expect(current).to_be_in_viewport()

    # The keyboard reaches every tab; each one focused scrolls into view with a visible outline.
    links.first.focus()
    for i in range(1, count):
        phone.keyboard.press("Tab")
        expect(links.nth(i)).to_be_focused()
        expect(links.nth(i)).to_be_in_viewport()
        assert phone.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    phone.close()
