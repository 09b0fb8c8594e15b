"""A signed-in person's chosen language wins over what the browser asks."""

from types import SimpleNamespace

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from quart import Quart, g, render_template_string

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


async def test_a_visitors_cookie_comes_after_the_account_and_before_the_browser(tmp_path):
    app = _app(tmp_path)
    async with app.test_request_context("/", headers={"Accept-Language": "en", "Cookie": "lang=de"}):
        assert i18n.current_locale() == "de"
    async with app.test_request_context("/", headers={"Accept-Language": "de", "Cookie": "lang=xx"}):
        assert i18n.current_locale() == "de"  # no such catalogue: the browser decides
    async with app.test_request_context("/", headers={"Accept-Language": "de", "Cookie": "lang=en"}):
        g.account = SimpleNamespace(language="")
        assert i18n.current_locale() == "en"
    async with app.test_request_context("/", headers={"Cookie": "lang=de"}):
        g.account = SimpleNamespace(language="en")
        assert i18n.current_locale() == "en"


def test_accept_language_by_quality_then_by_region_fallback():
    available = ["en", "ar", "es", "fr"]
    assert i18n.best_language("es-MX,en;q=0.5", available) == "es"  # werkzeug's best_match says "en"
    assert i18n.best_language("fr-CA", available) == "fr"
    assert i18n.best_language("ar-EG;q=0.9, de;q=0.3", available) == "ar"
    assert i18n.best_language("de;q=0.2, fr;q=0.8, es;q=0.5", available) == "fr"
    assert i18n.best_language("en-GB, fr;q=0.9", available) == "en"
    assert i18n.best_language("fr;q=0, es;q=0.1", available) == "es"  # q=0 means "not this"
    assert i18n.best_language("zz, *", available) == "en"
    assert i18n.best_language("", available) == "en"


async def test_counts_and_direction_follow_the_locale(tmp_path):
    catalog = Catalog(locale="fr")
    catalog.add(("%(num)d reply", "%(num)d replies"), ("%(num)d réponse", "%(num)d réponses", "%(num)d réponses"))
    catalog.add(("%(num)d new on %(name)s", "%(num)d new on %(name)s"), ("%(num)d sur %(name)s",) * 3)
    po_dir = tmp_path / "fr" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    with (po_dir / "messages.po").open("wb") as po_file:
        write_po(po_file, catalog)
    (tmp_path / "ar" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "ar" / "LC_MESSAGES" / "messages.po").open("wb") as po_file:
        write_po(po_file, Catalog(locale="ar"))
    app = Quart(__name__)
    i18n.register(app, i18n.load_catalogues(tmp_path))
    template = "{{ ngettext('%(num)d reply', '%(num)d replies', 12345) }}|{{ 1234567 | number }}|{{ text_direction() }}"
    async with app.test_request_context("/", headers={"Accept-Language": "fr-CA"}):
        assert await render_template_string(template) == "12\u202f345 réponses|1\u202f234\u202f567|ltr"
        assert i18n.ngettext("%(num)d new on %(name)s", "%(num)d new on %(name)s", 2000, name="<x>") == "2\u202f000 sur <x>"
    async with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert await render_template_string(template) == "12,345 replies|1,234,567|ltr"
    async with app.test_request_context("/", headers={"Accept-Language": "ar-EG"}):
        assert (await render_template_string(template)).endswith("|rtl")
    assert i18n.text_direction("ar") == "rtl" and i18n.text_direction("not a locale!") == "ltr"
