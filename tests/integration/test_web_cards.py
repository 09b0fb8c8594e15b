"""Feed cards (web/templates/posts/_card.html) on the home page and the circle page:
each says what the item is and where it stands, with a plain-text excerpt; and the
circle header says who the viewer is there and shows facilitators the settings."""

from __future__ import annotations

import datetime as dt
import re

from models import clock
from models.actors import Actor
from models.services import governance
from models.services import meetings as meeting_service
from models.services import posts as post_service
from models.services import questions as question_service
from models.services import reflections as reflection_service
from models.services import resources as resource_service
from tests import factories
from tests.integration.webforms import logged_in, text


def card(page: str, title: str) -> str:
    """The HTML of the one feed card whose link reads `title`."""
    cards = [c for c in re.findall(r'<article class="post-card.*?</article>', page, re.S) if f">{title}</a></h3>" in c]
    assert len(cards) == 1, f"{len(cards)} cards titled {title!r}"
    return cards[0]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_cards_say_what_each_item_is_and_where_it_stands(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "growers", purpose="We grow *vegetables* together.")
    await factories.member(circle, bob)
    actor = alice.actor
    await factories.post(instance, alice, circle, "Seeds **and** soil, all spring long.", title="Seed swap")
    await question_service.ask(instance, actor, circle, title="When to sow?", body="Our soil is clay.")
    answered = await question_service.ask(instance, actor, circle, title="Which beans?", body="For clay.")
    answer = await post_service.reply(instance, bob.actor, answered, body="Broad beans.")
    await question_service.accept_answer(instance, actor, answered, answer)
    await resource_service.add_resource(instance, actor, circle, title="Clay guide", description="Very good.",
                                        link="https://soil.example.org/clay")
    day = (clock.now() + dt.timedelta(days=3)).date().isoformat()
    await meeting_service.schedule(instance, actor, circle, title="Planting day", agenda="Bring gloves.",
                                   starts_local=f"{day}T10:00", ends_local=f"{day}T11:00")
    await governance.propose(instance, actor, circle, kind="free_text", title="Meet weekly", body="In spring.",
                             closes_at=clock.now() + dt.timedelta(days=2))
    await reflection_service.write(instance, actor, circle, body="Mulch helps.", share=True)

    client = await logged_in(app, alice)
    for path in ("/", "/c/growers"):
        page = await text(await client.get(path))
        discussion = words(card(page, "Seed swap"))
        assert discussion.startswith("Discussion Seed swap Seeds and soil, all spring long.")  # an excerpt, as text
        assert f"by {actor.name}" in discussion
        assert re.search(r"\d+ repl", discussion) and "UTC" in discussion
        assert words(card(page, "When to sow?")).startswith("Question Open")
        assert "no answer yet" in words(card(page, "When to sow?"))
        assert words(card(page, "Which beans?")).startswith("Question Answered")
        assert words(card(page, "Clay guide")).startswith("Resource soil.example.org")
        meeting = card(page, "Planting day")
        assert words(meeting).startswith("Meeting ") and f'datetime="{day}T10:00' in meeting
        assert words(card(page, "Meet weekly")).startswith("Proposal Open · closes")
        assert 'class="post-card kind-reflection"' in page and ">Reflection</span>" in page
        if path == "/":  # the home feed names the circle of each card
            assert 'in <a href="/c/growers">' in card(page, "Seed swap")


async def test_a_card_shows_the_authors_picture_or_initial(app, instance, alice):
    circle = await factories.circle(instance, alice, "growers")
    await factories.post(instance, alice, circle, "Hello", title="Hello all")
    client = await logged_in(app, alice)
    hello = card(await text(await client.get("/c/growers")), "Hello all")
    assert '<span class="avatar avatar-small initials" aria-hidden="true" translate="no">A</span>' in hello

    await Actor.filter(id=alice.actor.id).update(avatar_url="https://pics.example.org/alice.png")
    hello = card(await text(await client.get("/c/growers")), "Hello all")
    assert '<img class="avatar avatar-small" src="https://pics.example.org/alice.png" alt="" width="32" height="32"' in hello
    assert "initials" not in hello


async def test_the_circle_header_shows_standing_and_settings_to_facilitators(app, instance, alice):
    circle = await factories.circle(instance, alice, "growers", purpose="We grow *vegetables* together.")
    bob = await factories.account(instance, "bob")
    header = lambda page: page.split('<header class="circle-header"', 1)[1].split("</header>", 1)[0]  # noqa: E731

    facilitator = header(await text(await (await logged_in(app, alice)).get("/c/growers/questions")))
    assert "We grow vegetables together." in words(facilitator)  # the purpose, as plain text
    assert "You are a facilitator here" in facilitator
    assert 'href="/c/growers/settings"' in facilitator

    stranger = header(await text(await (await logged_in(app, bob)).get("/c/growers/questions")))
    assert 'href="/c/growers#membership">Join this circle</a>' in stranger
    assert "/settings" not in stranger
    await factories.member(circle, bob)
    member = header(await text(await (await logged_in(app, bob)).get("/c/growers/decisions")))
    assert "You are a member here" in member and "/settings" not in member
    # The current tab, when it is behind "More", is named on the menu's button.
    assert re.search(r'<summary class="current">More: Decisions</summary>', member)
    assert 'href="/c/growers/decisions" aria-current="page"' in member
