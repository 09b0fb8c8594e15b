"""Every user-visible string of the main pages goes through the translation function.

The app gets a pseudo-translation for its default locale that wraps every message in
⟦…⟧; the main pages are rendered with realistic data, and every visible text node
with letters (placeholders, aria-labels, titles and alt texts too) must be inside ⟦⟧,
except user content. The test data's free text starts with "UC " (user content); the
other user content (user names, handles, the domain, time zones) is listed below.
A string added to a template or to web code without _() makes this fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gettext
import re
from html.parser import HTMLParser

import pytest

from models import clock
from models.accounts import RegistrationMode
from models.actors import ActorKind
from models.notifications import Notification
from models.services import accounts as account_service
from models.services import circles as circle_service
from models.services import (
    governance, meeting_reminders, meetings, moderation, questions, reflections, remote, resources, reviews, sisters, tutoring,
)
from models.services import posts as post_service
from tests import factories
from tests.integration.webforms import logged_in, submit, text
from web import i18n

OPEN_QUOTE, CLOSE_QUOTE = "⟦", "⟧"


class PseudoTranslations(gettext.NullTranslations):
    """Every message wrapped in ⟦…⟧: what is not wrapped was not translated."""

    def gettext(self, message: str) -> str:
        return f"{OPEN_QUOTE}{message}{CLOSE_QUOTE}"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


# User content that is not free text (free text in the test data starts with "UC ").
USER_WORDS = [
    "alice", "bob", "carol", "dave", "readers", "approvers", "circles.test", "Europe/Paris", "UTC",
    "uc-skill", "uctag", "en",
]
# Text the models store in English when something happens and pages show as it is: a
# proposal's outcome (it is also the circle's post announcing the decision). Known, not
# translated. (Notifications are stored in English too, but the page writes the kinds it
# knows again from their subject, translated.)
STORED_ENGLISH = ["Withdrawn by the proposer before the deadline."]
USER_CONTENT_RE = re.compile(
    "|".join(re.escape(text) for text in STORED_ENGLISH) + "|"
    r"UC [^⟦⟧·\n]*"  # free text typed by people
    r"|https?://\S+"  # links people gave, and the calendar link
    r"|@?[\w.+-]+@[\w.-]+"  # handles and email addresses
    r"|@\w+"
    r"|#\w+"  # topics and tags
    r"|\b(?:" + "|".join(re.escape(word) for word in USER_WORDS) + r")\b"
)
# Dates are written by Babel in the locale (date_format), not by gettext.
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_RE = re.compile(
    rf"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    rf" \d{{4}}(?:,? \d\d:\d\d)?|(?:{MONTHS}) \d{{4}}"
)
LETTER_RE = re.compile(r"[^\W\d_]")
# Elements whose text is not the UI's: people's writing, code, machine-readable times, and
# what the page marks translate="no" (names such as a language's own name or a host).
SKIPPED_ELEMENTS = {"script", "style", "textarea", "code", "blockquote"}
SKIPPED_CLASSES = {"prose"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
CHECKED_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


def _has_words(value: str) -> bool:
    """Whether `value` has letters once user content and dates are taken out."""
    return bool(LETTER_RE.search(USER_CONTENT_RE.sub(" ", DATE_RE.sub(" ", value))))


def _outside(value: str, depth: int) -> tuple[str, int]:
    """The part of `value` outside ⟦…⟧, given how many ⟦ are open before it (a
    translated message with markup in it spans several text nodes), and how many after."""
    outside = []
    for char in value:
        if char == OPEN_QUOTE:
            depth += 1
        elif char == CLOSE_QUOTE:
            depth = max(depth - 1, 0)
        elif depth == 0:
            outside.append(char)
    return "".join(outside), depth


class Visible(HTMLParser):
    """Collects, in order, the text a person sees or hears, and the checked attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skip = self._skipping() or tag in SKIPPED_ELEMENTS or attributes.get("translate") == "no" or bool(
            SKIPPED_CLASSES & set((attributes.get("class") or "").split())
        )
        if not skip:
            self.attributes += [(f"{tag}[{name}]", attributes[name]) for name in CHECKED_ATTRIBUTES
                                if attributes.get(name)]
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self._skipping():
            self.texts.append(" ".join(data.split()))


def check_page(html: str) -> tuple[int, int, list[str]]:
    """(UI text nodes and attributes, how many are translated, the ones that are not)."""
    page = Visible()
    page.feed(html)
    count, missing, depth = 0, [], 0
    for node in page.texts:
        outside, depth = _outside(node, depth)
        if _has_words(node.replace(OPEN_QUOTE, " ").replace(CLOSE_QUOTE, " ")):
            count += 1
            if _has_words(outside):
                missing.append(node)
    for name, value in page.attributes:
        if _has_words(value.replace(OPEN_QUOTE, " ").replace(CLOSE_QUOTE, " ")):
            count += 1
            if _has_words(_outside(value, 0)[0]):
                missing.append(f"{name}={value}")
    return count, count - len(missing), missing


@pytest.fixture
def pseudo_app(make_app):
    app = make_app(registration=RegistrationMode.APPROVAL.value)
    app.extensions[i18n._EXTENSION_KEY] = {i18n.DEFAULT_LOCALE: PseudoTranslations()}
    # The instance's name is configuration: user content here (by default it is "Circles", a UI word too).
    app.extensions["circles.site"] = dataclasses.replace(app.extensions["circles.site"], name="UC Site")
    return app


@pytest.fixture
async def world(instance):
    """A circle with something on every tab, and people in every role."""
    alice = await factories.account(instance, "alice", is_admin=True)
    bob = await factories.account(instance, "bob")
    carol = await factories.account(instance, "carol")
    await account_service.sign_up(instance, RegistrationMode.APPROVAL, username="dave", email="dave@example.org",
                                  password=factories.PASSWORD, application_text="UC please let me in")
    circle = await factories.circle(
        instance, alice, "readers", name="UC Readers", purpose="UC we read", rules="UC be kind",
        timezone="Europe/Paris", location="UC Lyon", meeting_cadence="UC Tuesdays", topics="#uctag", size_limit="50",
    )
    await factories.member(circle, bob)
    approvers = await factories.circle(instance, alice, "approvers", name="UC Approvers", join_mode="approval")
    await circle_service.join(approvers, carol.actor, request_text="UC let me in")
    await circle_service.join(approvers, bob.actor, request_text="UC me too")

    discussion = await factories.post(instance, alice, circle, body="UC hello", title="UC first post")
    await post_service.reply(instance, bob.actor, discussion, body="UC hi")
    question = await questions.ask(instance, bob.actor, circle, title="UC how to read?", body="UC details")
    answer = await post_service.reply(instance, alice.actor, question, body="UC like this")
    await post_service.reply(instance, alice.actor, answer, body="UC more")
    await questions.accept_answer(instance, bob.actor, question, answer)
    safe = await questions.ask(instance, bob.actor, circle, title="UC secret question", body="UC shh", safe=True)
    await questions.reveal_asker(circle, safe, alice.actor, reason="UC moderation")
    await questions.ask(instance, alice.actor, circle, title="UC open question", body="UC anyone?")

    resource = await resources.add_resource(
        instance, alice.actor, circle, title="UC a good book", description="UC it helps", link="https://example.org/book",
        licence="cc-by", level="beginner", tags="uctag",
    )
    await resources.add_resource(
        instance, bob.actor, circle, title="UC another", description="UC also",
        link="https://example.org/other", tags="",
    )

    starts = (clock.now() + dt.timedelta(days=3)).astimezone(circle.zone)
    meeting = await meetings.schedule(
        instance, alice.actor, circle, title="UC reading night", agenda="UC chapter one",
        starts_local=starts.strftime("%Y-%m-%dT%H:%M"),
        ends_local=(starts + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        place="UC library", online_url="https://example.org/call", capacity="10",
    )
    await meetings.rsvp(bob.actor, meeting, "going")
    await meetings.rsvp(alice.actor, meeting, "maybe")
    await meeting_reminders.due_reminders(meeting.starts_at - dt.timedelta(hours=2))  # bob is going: a reminder
    await Notification.create(recipient=bob, kind="other", text="UC stored text", url="/")

    work = await reviews.request_review(instance, bob.actor, circle, title="UC my essay", body="UC read it",
                                        link="https://example.org/essay")
    feedback = await reviews.give_feedback(instance, alice.actor, work, works="UC the start", questions="UC why?",
                                           suggestions="UC shorter")
    await reviews.mark_helpful(bob.actor, feedback)

    await reflections.write(instance, alice.actor, circle, body="UC I learned", value_cycle="applied", share=True)
    await reflections.write(instance, alice.actor, circle, body="UC private thought",
                            meeting_id=meeting.post_id)

    await tutoring.set_skills(circle, alice.actor, offers=["uc-skill"], wants=[])
    await tutoring.set_skills(circle, bob.actor, offers=[], wants=["uc-skill"])
    await questions.ask(instance, bob.actor, circle, title="UC uc-skill help", body="UC uc-skill")
    pairing = await tutoring.open_pairing(circle, bob.actor, alice.actor, "uc-skill", by_is_helper=False)
    await tutoring.send_message(pairing, bob.actor, "UC hello tutor")

    proposal = await governance.propose(
        instance, alice.actor, circle, kind="free_text", title="UC meet weekly", body="UC because",
        value="UC weekly", closes_at=clock.now() + dt.timedelta(days=2),
    )
    await governance.vote(instance, proposal, bob.actor, "yes", reason="UC good idea")
    withdrawn = await governance.propose(
        instance, bob.actor, circle, kind="purpose", title="UC new purpose", body="UC why not",
        value="UC learn more", closes_at=clock.now() + dt.timedelta(days=2),
    )
    await governance.withdraw(withdrawn, bob.actor)

    await sisters.link(approvers, alice.actor, circle.actor, ["question", "resource"],
                       instance_base_url=instance.base_url)

    # Moderation: a report of a post and one of a person, a ban, a blocked domain, someone elsewhere.
    await moderation.report_post(bob.actor, discussion, category="spam", comment="UC looks like spam")
    await moderation.report_actor(carol.actor, bob.actor, category="other", comment="UC rude", circle=circle)
    await moderation.block_domain(alice, instance, "spam.example", reason="UC spam")
    ana = await remote.upsert_actor(remote.RemoteActorInput(
        uri="https://elsewhere.example/users/ana", kind=ActorKind.PERSON, username="ana", domain="elsewhere.example",
        inbox_url="https://elsewhere.example/users/ana/inbox", display_name="UC Ana",
        summary_html="<p>UC learning</p>", profile_url="https://elsewhere.example/@ana",
    ))
    return {
        "alice": alice, "bob": bob, "carol": carol, "circle": circle, "question": question, "discussion": discussion,
        "resource": resource, "meeting": meeting, "work": work, "pairing": pairing, "proposal": proposal,
        "ana": ana,
    }


async def test_the_main_pages_are_translated(pseudo_app, world):
    alice_client = await logged_in(pseudo_app, world["alice"])
    bob_client = await logged_in(pseudo_app, world["bob"])
    carol_client = await logged_in(pseudo_app, world["carol"])
    anonymous = pseudo_app.test_client()
    question, work, meeting = world["question"], world["work"], world["meeting"]
    reset_token = await account_service.create_password_reset(world["bob"], by=None)
    tabs = ["", "/questions", "/questions?show=answered", "/questions?show=mine", "/resources", "/meetings",
            "/reviews", "/reflections", "/record", "/tutoring", "/dashboard", "/decisions", "/sisters", "/members",
            "/about"]
    pages = [
        (anonymous, "/", 200), (anonymous, "/login", 200), (anonymous, "/signup", 200), (anonymous, "/circles", 200),
        (anonymous, "/c/readers", 200), (anonymous, f"/posts/{question.id}", 200), (anonymous, "/c/readers/tutoring", 200),
        (anonymous, "/nowhere", 404), (anonymous, f"/password-reset/{reset_token}", 200),
        (anonymous, "/password-reset", 200), (alice_client, "/settings/email", 200),
        (alice_client, "/", 200), (alice_client, "/circles", 200), (alice_client, "/circles/new", 200),
        *[(alice_client, f"/c/readers{tab}", 200) for tab in tabs],
        (alice_client, "/c/approvers", 200), (alice_client, "/c/approvers/sisters", 200),
        (alice_client, "/c/readers/settings", 200), (alice_client, "/c/readers/posts/new", 200),
        (alice_client, "/c/readers/questions/new", 200), (alice_client, "/c/readers/resources/new", 200),
        (alice_client, "/c/readers/meetings/new", 200), (alice_client, "/c/readers/reviews/new", 200),
        (alice_client, f"/c/readers/reflections/new?meeting={meeting.post_id}", 200),
        (alice_client, "/c/readers/proposals/new", 200), (alice_client, "/c/readers/reveals", 200),
        (alice_client, f"/posts/{question.id}", 200), (alice_client, f"/posts/{world['discussion'].id}", 200),
        (alice_client, f"/posts/{work.id}", 200), (bob_client, f"/posts/{work.id}", 200),
        (alice_client, f"/posts/{world['resource'].post_id}", 200),
        (alice_client, f"/resources/{world['resource'].id}/edit", 200),
        (alice_client, f"/meetings/{meeting.post_id}", 200), (bob_client, f"/meetings/{meeting.post_id}", 200),
        (alice_client, f"/meetings/{meeting.post_id}/edit", 200), (alice_client, "/meetings", 200),
        (alice_client, f"/proposals/{world['proposal'].post_id}", 200),
        (bob_client, f"/proposals/{world['proposal'].post_id}", 200),
        (alice_client, f"/tutoring/{world['pairing'].id}", 200), (bob_client, "/c/readers/tutoring", 200),
        (bob_client, "/notifications", 200), (alice_client, "/notifications", 200),
        (alice_client, "/settings/notifications", 200), (alice_client, "/settings/password", 200), (alice_client, "/admin/", 200),
        (alice_client, "/users/alice", 200), (bob_client, "/users/bob", 200),
        (bob_client, "/c/readers", 200), (carol_client, "/c/readers", 200), (carol_client, f"/posts/{question.id}", 200),
        (bob_client, "/c/readers/settings", 403), (bob_client, "/admin/", 403),
        (alice_client, "/settings", 200), (alice_client, "/settings/delete", 200), (alice_client, "/search", 200), (alice_client, "/people/ana@elsewhere.example", 200),
        (anonymous, "/people/ana@elsewhere.example", 200),
        (alice_client, "/c/readers/moderation", 200), (bob_client, "/c/readers/moderation/log", 200),
        (bob_client, f"/posts/{world['discussion'].id}/report", 200),
        (bob_client, f"/people/{world['ana'].id}/report", 200),
        (alice_client, "/admin/reports", 200), (alice_client, "/admin/domains", 200), (alice_client, "/admin/overview", 200),
    ]
    notifications = await text(await bob_client.get("/notifications"))
    assert "⟦Reminder: “UC reading night” in UC Readers starts ⟦within a day⟧.⟧" in notifications
    assert "UC stored text" in notifications  # a kind the page does not know: its stored text
    report, failures, total, translated = [], [], 0, 0
    for client, path, status in pages:
        response = await client.get(path)
        assert response.status_code == status, path
        count, good, missing = check_page(await text(response))
        total, translated = total + count, translated + good
        report.append(f"{path}: {good}/{count}")
        failures += [f"{path}: {item}" for item in missing]

    # Form errors: the models' English, translated where shown, with the field's label.
    response = await submit(alice_client, "/c/readers/posts/new", title="", body="")
    assert response.status_code == 400
    count, good, missing = check_page(await text(response))
    assert "⟦%(label)s is required.⟧" not in await text(response)  # the values are filled in
    total, translated = total + count, translated + good
    failures += [f"POST /c/readers/posts/new: {item}" for item in missing]

    print(f"\n{len(pages) + 1} pages, {translated}/{total} UI strings translated "
          f"({100 * translated / total:.1f}%)\n" + "\n".join(report))
    assert total > 1500  # the pages did render their UI
    assert not failures, "Not translated:\n" + "\n".join(failures)


def test_the_checker_finds_an_unwrapped_string():
    html = ('<main><h1>⟦Circles⟧</h1><p>UC my circle · alice</p><p class="prose">Anything</p>'
            '<time>05 Nov 2026</time><p>⟦%(num)d members⟧</p><button>Save</button>'
            '<p>⟦Join <a href="/c/x">UC Readers</a> to reply.⟧</p><p>⟦by <a>alice</a>⟧ · replies</p>'
            '<input placeholder="⟦python⟧"><nav aria-label="Pages"></nav></main>')
    count, good, missing = check_page(html)
    assert missing == ["Save", "⟧ · replies", "nav[aria-label]=Pages"]
    assert (count, good) == (9, 6)
