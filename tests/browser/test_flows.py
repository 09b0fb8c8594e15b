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

from tests.servers import PASSWORD

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
    expect(bob.get_by_text("(by you: only the circle's facilitators and moderators can find out)")).to_be_visible()

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


def test_the_circle_tabs_fit_a_phone_without_scrolling_sideways(alice):
    """The first tabs wrap in rows, the rest are in a "More" menu (a <details>) the keyboard opens."""
    from tests.browser.conftest import PHONE

    phone = alice.context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(f"/c/{HANDLE}/decisions")  # a tab in the menu
    tabs = phone.get_by_role("navigation", name="Circle")
    more = tabs.locator("summary")
    expect(more).to_have_text("More: Decisions")  # where you are, named on the menu's button
    visible = tabs.get_by_role("link")
    assert visible.count() >= 5
    for i in range(visible.count()):
        box = visible.nth(i).bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], f"tab {i} is off the screen: {box}"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The keyboard opens the menu and reaches every tab in it, each in view with a visible outline.
    visible.last.focus()
    phone.keyboard.press("Tab")
    expect(more).to_be_focused()
    phone.keyboard.press("Enter")
    menu = tabs.locator("details").get_by_role("link")
    assert menu.count() >= 5
    expect(tabs.locator('details [aria-current="page"]')).to_have_text("Decisions")
    for i in range(menu.count()):
        phone.keyboard.press("Tab")
        expect(menu.nth(i)).to_be_focused()
        expect(menu.nth(i)).to_be_in_viewport()
        assert phone.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.close()


def test_log_in_post_and_reply_with_the_keyboard_alone(new_context):
    page = new_context().new_page()
    ui.sign_up(page, "erin")
    ui.start_circle(page, "keys", "Keyboard Club")  # her own circle: the readers' stay two
    ui.log_out(page)
    seen: list[dict] = []

    page.goto("/")
    ui.tab_to(page, "a", "Log in", seen=seen)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login$"))
    ui.tab_to(page, "input", "Username or email", seen=seen)
    page.keyboard.type("erin")
    ui.tab_to(page, "input", "Password", seen=seen)
    page.keyboard.type(PASSWORD)
    ui.tab_to(page, "button", "Log in", seen=seen)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="@erin")).to_be_visible()

    page.goto("/c/keys")
    ui.tab_to(page, "a", "New post", seen=seen)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/posts/new$"))
    ui.tab_to(page, "input", "Title", seen=seen)
    page.keyboard.type("Typed, not clicked")
    ui.tab_to(page, "textarea", "Your post", seen=seen)
    page.keyboard.type("Every step of this post was a key press.")
    ui.tab_to(page, "button", "Post", seen=seen)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Typed, not clicked")

    ui.tab_to(page, "textarea", "Your reply", seen=seen)
    page.keyboard.type("And so was this reply.")
    ui.tab_to(page, "button", "Reply", seen=seen)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/posts/\d+#post-\d+$"))
    expect(page.locator("article.reply")).to_contain_text("And so was this reply.")

    kinds = {f["tag"] for f in seen}
    assert {"a", "button", "input", "textarea"} <= kinds, kinds
    hidden = [f for f in seen if not f["visible"]]
    assert not hidden, f"focus is not visible on: {[(f['tag'], f['name'], f['outline'], f['shadow']) for f in hidden]}"


def _count_posts_titled(page, title: str) -> int:
    page.goto(f"/c/{HANDLE}")
    return page.get_by_role("link", name=title, exact=True).count()


def test_a_post_sent_twice_is_one_post(bob):
    sent = []
    bob.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    bob.goto(f"/c/{HANDLE}/posts/new")
    bob.get_by_label("Title").fill("Only once, please")
    bob.get_by_label("Your post").fill("I clicked twice.")

    # A slow network: the server has the first copy, but its answer has not
    # reached the browser when the impatient second click sends the form again.
    answers = []

    def slow(route):
        answers.append((route, route.fetch(max_redirects=0)))  # the server gets it now...
        if len(answers) == 2:  # ...and the browser its answer only after the second click
            for held, answer in answers:
                try:
                    held.fulfill(response=answer)
                except Exception:  # the second submission replaced the first navigation
                    pass

    bob.route("**/posts/new", lambda route: slow(route) if route.request.method == "POST" else route.continue_())
    button = bob.get_by_role("button", name="Post", exact=True)
    button.click(no_wait_after=True)
    while len(answers) < 1:
        bob.wait_for_timeout(20)
    bob.keyboard.press("Enter")  # the button the click focused, pressed again (a click would wait for the page)
    expect(bob).to_have_url(re.compile(r"/posts/\d+$"))
    expect(bob.get_by_role("heading", level=1)).to_have_text("Only once, please")
    bob.unroute("**/posts/new")
    thread = ui._path(bob)
    assert len(sent) == 2 and len(answers) == 2, f"the form went out {len(sent)} times: {sent}"
    assert {a.status for _, a in answers} == {302}  # the server accepted both copies...

    # Back to the filled-in form, and send it again.
    bob.go_back()
    expect(bob).to_have_url(re.compile(r"/posts/new$"))
    bob.get_by_label("Title").fill("Only once, please")
    bob.get_by_label("Your post").fill("I clicked twice.")
    bob.get_by_role("button", name="Post").click()
    expect(bob).to_have_url(re.compile(rf"{thread}$"))  # the post already made
    assert len(sent) == 3
    assert _count_posts_titled(bob, "Only once, please") == 1  # ...and made one post of them

    ui.reply(bob, thread, "Me too.")
    bob.go_back()  # the thread with its reply box again; send the same reply again
    bob.get_by_label("Your reply").fill("Me too.")
    bob.get_by_role("button", name="Reply", exact=True).click()
    bob.goto(thread)
    expect(bob.locator("article.reply")).to_have_count(1)
    expect(bob.get_by_role("heading", name="1 reply")).to_be_visible()


def test_a_form_from_an_ended_session_explains_what_to_do(new_context):
    page = new_context().new_page()
    ui.sign_up(page, "fay")
    ui.start_circle(page, "late", "Late Writers")
    page.goto("/c/late/posts/new")
    page.get_by_label("Title").fill("Lost in time")
    page.get_by_label("Your post").fill("My session ended while I wrote this.")
    page.context.clear_cookies()  # the session ends (expired, or logged out in another tab)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Post").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_text("This form has expired or did not come from this site.")).to_be_visible()
    back = page.get_by_role("link", name="Back to the page you came from")
    expect(back).to_have_attribute("href", "/c/late/posts/new")
    back.click()  # the form again, which asks to log in first
    expect(page).to_have_url(re.compile(r"/login\?next="))
    ui.log_in(page, "fay")
    page.goto("/c/late")
    expect(page.get_by_role("link", name="Lost in time")).to_have_count(0)
