"""The circle directory's filters as a new user types them: a language in any
case, a place without its accents, and a time zone chosen from those circles
meet in. Folding is done in Python and stored, so SQLite and PostgreSQL agree."""

from __future__ import annotations

import importlib

import pytest
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from models import db
from models.circles import Circle
from models.services import circles as svc
from models.text import fold
from tests import factories
from tests.integration.webforms import text

MIGRATION = importlib.import_module("models.migrations.0034_circle_location_folded")


@pytest.fixture
async def circles(database, instance):
    alice = await factories.account(instance, "alice")
    await factories.circle(instance, alice, "zurich", name="Zurich readers", language="de-CH", location="Zürich",
                           timezone="Europe/Zurich")
    await factories.circle(instance, alice, "montreal", name="Montreal walkers", language="fr-CA",
                           location="Montréal, Québec", timezone="America/Toronto")
    await factories.circle(instance, alice, "porto", name="Porto coders", language="pt-BR", location="São Paulo",
                           timezone="America/Sao_Paulo")
    await factories.circle(instance, alice, "london", name="London readers", language="en", location="London",
                           timezone="Europe/London")


async def handles(**filters) -> list[str]:
    return sorted(c.handle for c in await svc.list_circles(svc.DirectoryFilter(**filters)))


def test_fold_drops_accents_and_case():
    assert fold("Zürich") == fold("ZURICH") == fold("zurich") == "zurich"
    assert fold("Montréal, Québec") == "montreal, quebec" and fold("São Paulo") == "sao paulo"
    assert fold("Straße") == "strasse" and fold("") == ""


async def test_the_language_filter_ignores_case(circles):
    assert await handles(language="EN") == await handles(language="en") == ["london"]
    assert await handles(language="pt-br") == await handles(language="PT-BR") == ["porto"]
    assert await handles(language="PT") == ["porto"]  # a language finds its regional variants
    assert await handles(language="fr-ca") == ["montreal"]


async def test_the_place_search_ignores_accents_and_case(circles):
    assert await handles(place="Zurich") == await handles(place="zürich") == ["zurich"]
    assert await handles(place="Montreal") == await handles(place="QUEBEC") == ["montreal"]
    assert await handles(place="sao paulo") == ["porto"]
    assert await handles(place="Lisbon") == []


async def test_a_changed_place_is_folded_again(circles):
    circle = await Circle.get(actor__username="london").select_related("actor")
    owner = await circle.created_by
    await owner.fetch_related("actor")
    await svc.update_profile(circle, owner.actor, name="London readers", location="Malmö")
    assert await handles(place="malmo") == ["london"] and await handles(place="london") == []


async def test_the_time_zone_filter_lists_the_zones_circles_meet_in(app, circles):
    assert await svc.directory_timezones() == [
        "America/Sao_Paulo", "America/Toronto", "Europe/London", "Europe/Zurich",
    ]
    assert await handles(timezone="Europe/Zurich") == ["zurich"]
    assert await handles(timezone="Mars/Olympus") == []
    client = app.test_client()
    page = await text(await client.get("/circles?timezone=Europe/London"))
    assert '<label for="timezone">Time zone</label>' in page
    assert '<option value="Europe/London" selected>Europe/London</option>' in page
    assert "London readers" in page and "Zurich readers" not in page
    page = await text(await client.get("/circles?place=Zurich&language=DE-ch"))
    assert "Zurich readers" in page and "London readers" not in page
    # The next page keeps the filters.
    assert 'value="Zurich"' in page


async def test_the_migration_folds_the_places_of_existing_circles(database_url, instance):
    await db.connect(database_url)
    alice = await factories.account(instance, "alice")
    await factories.circle(instance, alice, "zurich", location="Zürich")
    await db.disconnect()
    # Back to before the folded column, then forward again: the migration fills it.
    await tortoise_migrate(config=db.migration_config(database_url), target=".".join(MIGRATION.Migration.dependencies[0]))
    await db.migrate(database_url)
    await db.connect(database_url)
    try:
        assert (await Circle.get(actor__username="zurich")).location_folded == "zurich"
        assert await handles(place="ZURICH") == ["zurich"]
    finally:
        await db.disconnect()
