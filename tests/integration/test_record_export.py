"""Downloading a circle's learning record (/c/<handle>/record.json and .md):
the months the page shows, with its shared reflections, answered questions
and the value created, as attachments; a members-only circle's only for its
members, like the page."""

from __future__ import annotations

import json

import pytest

from models.services import posts as post_service
from models.services import questions as question_service
from models.services import reflections as reflection_service
from tests import factories
from tests.integration.webforms import logged_in, text

KEYS = {"format", "circle", "circle_name", "timezone", "first_month", "last_month", "exported_at", "months",
        "reflections", "answered_questions"}
MONTH_KEYS = {"month", "meetings_held", "shared_reflections", "value_created", "answered_questions",
              "resources_added"}


async def _fill(instance, alice, bob, circle):
    await reflection_service.write(instance, bob.actor, circle, body="So useful | really", value_cycle="applied",
                                   share=True)
    await reflection_service.write(instance, alice.actor, circle, body="A shared thought", share=True)
    await reflection_service.write(instance, bob.actor, circle, body="My private note", value_cycle="immediate")
    question = await question_service.ask(instance, alice.actor, circle, title="How do we read faster?", body="?")
    answer = await post_service.reply(instance, bob.actor, question, body="Skim first")
    await question_service.accept_answer(instance, alice.actor, question, answer)
    await question_service.ask(instance, alice.actor, circle, title="Still open", body="?")


@pytest.fixture
async def readers(instance, alice, bob):
    circle = await factories.circle(instance, alice, "readers", name="Slow Readers", timezone="Europe/Paris")
    await factories.member(circle, bob)
    await _fill(instance, alice, bob, circle)
    return circle


async def test_the_json_download_holds_what_the_page_shows(app, readers):
    response = await app.test_client().get("/c/readers/record.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="learning-record-readers-') and disposition.endswith('.json"')
    data = json.loads(await text(response))
    assert set(data) == KEYS and data["format"] == 1
    assert (data["circle"], data["circle_name"], data["timezone"]) == ("readers", "Slow Readers", "Europe/Paris")
    assert len(data["months"]) == 12 and all(set(m) == MONTH_KEYS for m in data["months"])
    latest = data["months"][0]
    assert latest["month"] == data["last_month"]
    assert (latest["shared_reflections"], latest["answered_questions"]) == (2, 1)
    assert latest["value_created"] == {"applied": 1}
    assert sorted(r["text"] for r in data["reflections"]) == ["A shared thought", "So useful | really"]
    assert "My private note" not in json.dumps(data)  # private reflections stay private
    by_bob = next(r for r in data["reflections"] if r["author"] == "bob@circles.test")
    assert by_bob["value_created"] == "applied" and by_bob["url"].startswith("http://circles.test/")
    assert [q["title"] for q in data["answered_questions"]] == ["How do we read faster?"]


async def test_the_markdown_download_reads_as_a_document(app, readers):
    response = await app.test_client().get("/c/readers/record.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="learning-record-readers-')
    markdown = await text(response)
    assert markdown.startswith("# Learning record of Slow Readers (@readers)\n")
    assert "| Month | Meetings held | Shared reflections | Value created |" in markdown
    assert "| 2 | Applied value: 1 | 1 |" in markdown
    assert "> So useful | really" in markdown and "(@bob@circles.test) · Applied value" in markdown
    assert "How do we read faster?" in markdown and "Still open" not in markdown
    assert "My private note" not in markdown


async def test_the_page_links_its_downloads_and_older_months_export_empty(app, readers):
    page = await text(await app.test_client().get("/c/readers/record?before=2020-01"))
    assert 'href="/c/readers/record.md?before=2020-01"' in page and 'href="/c/readers/record.json?before=2020-01"' in page
    data = json.loads(await text(await app.test_client().get("/c/readers/record.json?before=2020-01")))
    assert (data["first_month"], data["last_month"]) == ("2019-01", "2019-12")
    assert data["reflections"] == [] and data["answered_questions"] == []
    assert "None in these months." in await text(await app.test_client().get("/c/readers/record.md?before=2020-01"))


async def test_a_members_only_circles_record_is_for_its_members_only(app, instance, alice, bob):
    circle = await factories.circle(instance, alice, "quiet", name="Quiet", visibility="members")
    await factories.member(circle, bob)
    await _fill(instance, alice, bob, circle)
    outsider = await logged_in(app, await factories.account(instance, "carol"))
    for fmt in ("json", "md"):
        assert (await app.test_client().get(f"/c/quiet/record.{fmt}")).status_code in (302, 403)
        response = await outsider.get(f"/c/quiet/record.{fmt}")
        assert response.status_code == 403 and "So useful" not in await text(response)
        response = await (await logged_in(app, bob)).get(f"/c/quiet/record.{fmt}")
        assert response.status_code == 200 and "So useful" in await text(response)
