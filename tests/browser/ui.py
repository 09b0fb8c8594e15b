"""What a person does in the web UI, step by step, as the browser does it:
fields found by their labels, buttons and links by their role and name (so a
missing label fails here). Each step checks what the person then sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.servers import PASSWORD


def local_time(delta: timedelta) -> str:
    """A datetime-local value `delta` from now, in UTC (the circles' zone here)."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


def flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text)


def sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/circles$"))
    flash(page, f"Welcome, @{username}!")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    flash(page, "You have logged out.")


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def start_circle(page: Page, handle: str, name: str, *, join: str = "Anyone, at once",
                 purpose: str = "We read one book a month and talk about it.") -> None:
    """`join`: the label of how people join (web/html/circles.py JOIN_LABELS)."""
    page.goto("/circles/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Purpose").fill(purpose)
    page.get_by_label(join).check()
    page.get_by_role("textbox", name="Language", exact=True).fill("en")  # not the footer's language menu
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_role("button", name="Start the circle").click()
    expect(page).to_have_url(re.compile(rf"/c/{handle}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    flash(page, f"Your circle “{name}” is ready.")


def join(page: Page, handle: str, name: str) -> None:
    page.goto(f"/c/{handle}")
    page.get_by_role("button", name="Join circle").click()
    flash(page, f"You have joined {name}.")


def open_tab(page: Page, handle: str, tab: str) -> None:
    page.goto(f"/c/{handle}")
    nav = page.get_by_role("navigation", name="Circle")
    link = nav.get_by_role("link", name=tab, exact=True)
    if not link.is_visible():  # one of the tabs in the "More" menu (circles/_header.html)
        nav.locator("summary").click()
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{href}")


def new_post(page: Page, handle: str, title: str, body: str) -> str:
    """Posts in the circle's discussion; returns the thread's path."""
    page.goto(f"/c/{handle}")
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(body)
    page.get_by_role("button", name="Post").click()
    expect(page).to_have_url(re.compile(r"/posts/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return _path(page)


def reply(page: Page, thread: str, body: str) -> None:
    page.goto(thread)
    page.get_by_label("Your reply").fill(body)
    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page).to_have_url(re.compile(r"/posts/\d+#post-\d+$"))


def ask(page: Page, handle: str, title: str, details: str, *, safe: bool = False) -> str:
    open_tab(page, handle, "Questions")
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_label("Your question").fill(title)
    page.get_by_label("Details").fill(details)
    if safe:
        page.get_by_label("Ask through the circle, without my name").check()
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return _path(page)


def add_resource(page: Page, handle: str, title: str, link: str) -> None:
    open_tab(page, handle, "Resources")
    page.get_by_role("link", name="Add a resource").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Link").fill(link)
    page.get_by_label("Why it helps").fill("Short chapters with exercises at the end of each.")
    page.get_by_label("Level").select_option("beginner")
    page.get_by_label("Tags").fill("reading, practice")
    page.get_by_role("button", name="Add to the library").click()
    flash(page, "the resource is in the library")


def schedule_meeting(page: Page, handle: str, title: str) -> str:
    open_tab(page, handle, "Meetings")
    page.get_by_role("link", name="Schedule a meeting").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Agenda").fill("Chapters 1 to 3, and what we choose next.")
    page.get_by_label("Starts").fill(local_time(timedelta(days=7)))
    page.get_by_label("Ends").fill(local_time(timedelta(days=7, hours=2)))
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Place", exact=True).fill("The town library, room 2")
    page.get_by_role("button", name="Schedule").click()
    flash(page, "Your meeting is scheduled.")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return _path(page)


def write_reflection(page: Page, handle: str, body: str, *, share: bool) -> None:
    open_tab(page, handle, "Reflections")
    page.get_by_role("link", name="Write a reflection").click()
    page.get_by_label("What did you learn?").fill(body)
    page.get_by_label("I'd rather not say").check()
    if share:
        page.get_by_label("Share with the circle").check()
    page.get_by_role("button", name="Save reflection").click()
    flash(page, "Your reflection is shared with the circle." if share else "Only you can see it.")


def propose(page: Page, handle: str, title: str) -> str:
    open_tab(page, handle, "Decisions")
    page.get_by_role("link", name="New proposal").click()
    page.get_by_label("What should change?").select_option("purpose")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Explanation").fill("Two books a month keeps us busier.")
    page.get_by_label("The proposed value").fill("We read two books a month and talk about them.")
    page.get_by_label("Voting closes at").fill(local_time(timedelta(days=2)))
    page.get_by_label("Decision rule").select_option("majority")
    page.get_by_role("button", name="Propose").click()
    flash(page, "Your proposal is open for votes.")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return _path(page)


def vote(page: Page, proposal: str, choice: str, reason: str = "") -> None:
    page.goto(proposal)
    page.get_by_role("group", name="Your vote").get_by_label(choice, exact=True).check()
    if reason:
        page.get_by_label("Your reason").fill(reason)
    page.get_by_role("button", name="Vote", exact=True).click()
    flash(page, "Your vote is counted.")


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


# --- the keyboard alone -------------------------------------------------------------------

# The focused element: what it is, its name as a person hears it, and how its focus shows.
FOCUSED_JS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const label = el.labels && el.labels.length ? el.labels[0].textContent : '';
  const name = (label || el.getAttribute('aria-label') || el.textContent || el.value || '').trim().replace(/\\s+/g, ' ');
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {tag: el.tagName.toLowerCase(), name, visible: outline || style.boxShadow !== 'none',
          outline: `${style.outlineStyle} ${style.outlineWidth}`, shadow: style.boxShadow};
}"""


def tab_to(page: Page, tag: str, name: str, *, limit: int = 80, seen: list | None = None) -> dict:
    """Press Tab until the `tag` named `name` has focus (a field's name starts
    with its label); every element passed on the way is added to `seen`."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        passed.append(focused)
        if seen is not None:
            seen.append(focused)
        matches = focused["name"].startswith(name) if tag in ("input", "textarea") else focused["name"] == name
        if focused["tag"] == tag and matches:
            return focused
    raise AssertionError(f"Tab never reached the {tag} “{name}”; it passed {[(f['tag'], f['name']) for f in passed]}")
