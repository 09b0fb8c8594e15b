"""The one translation function: catalogues read from .po at start-up, chosen by Accept-Language."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from quart import Quart, render_template_string

from web import i18n


def _catalogues(tmp_path: Path) -> dict:
    catalog = Catalog(locale="de")
    catalog.add("Questions", "Fragen")
    catalog.add("Hello %(name)s", "Hallo %(name)s")
    catalog.add(("%(num)d reply", "%(num)d replies"), ("%(num)d Antwort", "%(num)d Antworten"))
    po_dir = tmp_path / "de" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    with (po_dir / "messages.po").open("wb") as po_file:
        write_po(po_file, catalog)
    return i18n.load_catalogues(tmp_path)


def _app(tmp_path: Path) -> Quart:
    app = Quart(__name__)
    i18n.register(app, _catalogues(tmp_path))
    return app


async def test_templates_and_code_translate_by_accept_language(tmp_path):
    app = _app(tmp_path)
    template = "{{ current_locale() }}|{{ _('Questions') }}|{{ _('Hello %(name)s', name='<b>') }}|{{ ngettext('%(num)d reply', '%(num)d replies', 3) }}"
    async with app.test_request_context("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}):
        assert await render_template_string(template) == "de|Fragen|Hallo &lt;b&gt;|3 Antworten"
        assert i18n.gettext("Hello %(name)s", name="Ana") == "Hallo Ana"
        assert i18n.ngettext("%(num)d reply", "%(num)d replies", 1) == "1 Antwort"
    async with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert await render_template_string(template) == "en|Questions|Hello &lt;b&gt;|3 replies"
        assert i18n.gettext("Questions") == "Questions"


def test_the_project_catalogues_load():
    # Every committed catalogue compiles; English needs none (its strings are the ids).
    catalogues = i18n.load_catalogues()
    assert all(hasattr(c, "gettext") for c in catalogues.values())
    assert i18n.locale_name("de") == "Deutsch"
