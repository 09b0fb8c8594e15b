"""Ada schedules a meeting and opens a proposal: what the Mastodon user reads
of them (when and where; a poll with the proposal's title), the Mastodon
user's vote counted on Circles, and what the Lemmy user sees."""

from __future__ import annotations

import datetime as dt
import re

from tests.interop.receivers.harness import Stage
from tests.interop.receivers.test_changes import boost_of, both_following
from tests.servers import redirected_to


async def test_a_meeting(stage: Stage):
    await both_following(stage)
    day = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).date()
    response = await stage.form("/c/circle/meetings/new", "/c/circle/meetings/new", title="Reading night",
                                agenda="Chapter five, then questions.", timezone="UTC",
                                starts_local=f"{day}T18:00", ends_local=f"{day}T19:30", place="Library room 2",
                                online_url="", capacity="")
    number = redirected_to(response, re.compile(r"/meetings/\d+")).rsplit("/", 1)[1]
    meeting = f"{stage.circles.base_url}/posts/{number}"

    # Mastodon: the circle boosts the Event; its text says when and where.
    await stage.eventually(lambda: boost_of(stage, meeting), "the meeting boosted on Mastodon")
    shown = stage.mastodon.status(meeting).shown.splitlines()
    assert shown[0] == "Reading night", shown
    when = f"{day:%A} {day.day} {day:%B %Y}, 18:00–19:30 (UTC)."
    assert shown[1].startswith(f"{when} Place: Library room 2."), shown
    assert "Chapter five, then questions." in shown[1], shown
    # The circle's RSVP poll comes as its own reply under the meeting: a poll.
    await stage.eventually(lambda: [s for s in stage.mastodon.thread(meeting) if s.poll], "the RSVP poll on Mastodon")
    poll = next(s for s in stage.mastodon.thread(meeting) if s.poll)
    assert poll.account == stage.group and poll.in_reply_to == meeting and poll.shown, vars(poll)
    assert poll.poll.options == ["Going", "Maybe", "Not going"]

    # Lemmy: an Event post with its title.
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.post(meeting), f"the meeting on Lemmy {lemmy.version}")
        assert (lemmy.post(meeting).kind, lemmy.post(meeting).name) == ("Event", "Reading night")
    # Neither Lemmy takes the circle's RSVP poll: a Question is neither a
    # Page nor a Note, and a Group no Person (test_questions.py, test_lemmy_users_do_not_see_the_circles_own_notes).
    await stage.assert_no_rejections(expected={"lemmy 0.19": ["Question"], "lemmy 1.0": ["Question"]})


async def propose(stage: Stage) -> tuple[str, str]:
    """Ada proposes, with the form's defaults; returns the page's path and the post's id."""
    form = await stage.page("/c/circle/proposals/new")

    def default(name: str) -> str:
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', form) or re.search(
            rf'name="{name}".*?<option value="([^"]*)" selected', form, re.S)
        return found[1] if found else ""

    response = await stage.form("/c/circle/proposals/new", "/c/circle/proposals/new", kind="free_text",
                                title="Meet on Thursdays", body="Wednesdays clash with the choir.",
                                closes_at=default("closes_at"), decision_rule=default("decision_rule"),
                                quorum=default("quorum"))
    path = redirected_to(response, re.compile(r"/proposals/\d+"))
    return path, stage.circles.base_url + "/posts/" + path.rsplit("/", 1)[1]


async def test_a_proposal_and_a_vote_from_mastodon(stage: Stage):
    await both_following(stage)
    path, proposal = await propose(stage)

    # Mastodon: a poll whose text opens with the proposal's title.
    await stage.eventually(lambda: boost_of(stage, proposal), "the proposal boosted on Mastodon")
    status = stage.mastodon.status(proposal)
    assert status.shown.splitlines() == ["Meet on Thursdays", "Wednesdays clash with the choir."], status.shown
    assert status.poll.options == ["Yes", "No", "Abstain"] and not status.poll.multiple

    # The Mastodon user votes Yes, as Mastodon sends a vote; Circles counts it.
    await stage.mastodon_side.command("/_peer/vote", question=proposal, choice="Yes")

    async def counted() -> bool:
        return "1 yes · 0 no · 0 abstain" in await stage.page(path)

    await stage.eventually(counted, "the Mastodon vote counted on the proposal's page")
    # Lemmy takes no Question (test_lemmy_users_do_not_see_proposals).
    await stage.assert_no_rejections(expected={"lemmy 0.19": ["Create{Question}"], "lemmy 1.0": ["Create{Question}"]})


async def test_lemmy_users_do_not_see_proposals(stage: Stage):
    """A limit, in the README: a proposal is a Question (a poll, for Mastodon);
    Lemmy takes a post only as Page, Article, Note, Video or Event, and a
    comment only as a Note (0.19.20 crates/apub/src/protocol/objects/page.rs:36-43,
    protocol/objects/note.rs:37; main crates/apub/objects/src/protocol/page.rs:36-43),
    so its users never see the proposal: they take part in governance here."""
    await stage.follow_from_lemmy()
    await stage.eventually(lambda: stage.lemmy.follows.get((stage.lemmy_side.user, stage.group)) == "accepted",
                           "Lemmy taking the Accept")
    _, proposal = await propose(stage)
    for lemmy in (stage.lemmy, stage.lemmy1):
        await stage.eventually(lambda: lemmy.rejections, f"the proposal reaching Lemmy {lemmy.version}")
        assert lemmy.post(proposal) is None
        assert all("Question" in r.reason for r in lemmy.rejections), [vars(r) for r in lemmy.rejections]
