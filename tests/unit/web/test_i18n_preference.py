"""A signed-in person's chosen language wins over what the browser asks."""

from types import SimpleNamespace

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from quart import Quart, g

from web import i18n


def _app(tmp_path) -> Quart:
    catalog = Catalog(locale="de")
    catalog.add("Questions", "Fragen")
    po_dir = tmp_path / "de" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    with (po_dir / "messages.po").open("wb") as po_file:
        write_po(po_file, catalog)
    app = Quart(__name__)
    i18n.register(app, i18n.load_catalogues(tmp_path))
    return app


async def test_the_accounts_language_is_preferred_when_it_has_a_catalogue(tmp_path):
    app = _app(tmp_path)
    async with app.test_request_context("/", headers={"Accept-Language": "en"}):
        g.account = SimpleNamespace(language="de")
        assert i18n.current_locale() == "de" and i18n.gettext("Questions") == "Fragen"
    async with app.test_request_context("/", headers={"Accept-Language": "de"}):
        g.account = SimpleNamespace(language="en")
        assert i18n.current_locale() == "en"
    async with app.test_request_context("/", headers={"Accept-Language": "de"}):
        g.account = SimpleNamespace(language="fr")  # no catalogue: the browser decides
        assert i18n.current_locale() == "de"
    async with app.test_request_context("/", headers={"Accept-Language": "de"}):
        g.account = SimpleNamespace(language="")
        assert i18n.current_locale() == "de"
