"""The participation dashboard and its exports through the web UI."""

from __future__ import annotations

import csv
import io
import json

from models.services import questions as question_service
from tests import factories
from tests.integration.webforms import logged_in, text


async def test_members_see_the_figures_and_download_them(app, database, instance):
    alice, bob, dan = [await factories.account(instance, name) for name in ("alice", "bob", "dan")]
    circle = await factories.circle(instance, alice, "pythonistas", name="Pythonistas")
    await factories.member(circle, bob)
    await question_service.ask(instance, bob.actor, circle, title="Why None?", body="?")

    client = await logged_in(app, bob)
    page = await text(await client.get("/c/pythonistas/dashboard"))
    assert "Questions asked" in page and "never about one person" in page

    response = await client.get("/c/pythonistas/dashboard.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="pythonistas-dashboard.csv"'
    rows = dict(csv.reader(io.StringIO(await text(response))))
    assert rows["questions_asked"] == "1" and rows["members"] == "2" and rows["median_hours_to_first_answer"] == ""

    figures = json.loads(await text(await client.get("/c/pythonistas/dashboard.json")))
    assert figures["circle"] == "pythonistas" and figures["questions_asked"] == 1
    assert figures["median_hours_to_first_answer"] is None

    outsider = await logged_in(app, dan)
    for path in ("/c/pythonistas/dashboard", "/c/pythonistas/dashboard.csv", "/c/pythonistas/dashboard.json"):
        assert (await outsider.get(path)).status_code == 403
        response = await app.test_client().get(path)
        assert response.status_code == 302 and "/login" in response.location
