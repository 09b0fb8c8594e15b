"""The one translation function: catalogues read from .po at start-up, chosen by Accept-Language."""

import datetime as dt
import io
import zoneinfo
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po
from quart import Quart, render_template_string

from models.errors import Conflict, InvalidInput
from models.governance import ProposalState
from tests.conftest import repo_root
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


def _german_app(tmp_path, messages: dict[str, str]) -> Quart:
    """An app whose only catalogue is German, holding `messages`."""
    catalog = Catalog(locale="de")
    for english, german in messages.items():
        catalog.add(english, german)
    po_dir = tmp_path / "de" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    with (po_dir / "messages.po").open("wb") as po_file:
        write_po(po_file, catalog)
    app = Quart(__name__)
    i18n.register(app, i18n.load_catalogues(tmp_path))
    return app


async def test_a_domain_error_is_shown_in_the_readers_language(tmp_path):
    # The English literal is the message id; the values are filled in after translating,
    # and a `label` (the name of a form field) is itself translated.
    app = _german_app(tmp_path, {"%(label)s is required.": "%(label)s fehlt.", "Your question": "Deine Frage"})
    error = InvalidInput("%(label)s is required.", field="title", label="Your question")
    assert error.message == "Your question is required."  # the English, for JSON clients and logs
    async with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert i18n.error_message(error) == "Deine Frage fehlt."
    async with app.test_request_context("/"):
        assert i18n.error_message(error) == "Your question is required."


async def test_a_state_in_a_domain_error_is_named_in_the_readers_language(tmp_path):
    # The models pass the enum itself; the page names it as enum_label does ("withdrawn" in German),
    # never the raw value pasted into a translated sentence.
    app = _german_app(
        tmp_path, {"This proposal is %(state)s already.": "Dieser Vorschlag ist schon %(state)s.", "withdrawn": "zurückgezogen"}
    )
    error = Conflict("This proposal is %(state)s already.", state=ProposalState.WITHDRAWN)
    assert error.message == "This proposal is withdrawn already."
    async with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert i18n.error_message(error) == "Dieser Vorschlag ist schon zurückgezogen."


def test_extraction_finds_error_messages_and_labels_but_not_fstrings():
    source = b'''
from models.errors import Conflict, InvalidInput
from models.translation import N_
TABLE = {"a": N_("Marked")}
def check(value, name):
    validation.text(value, "body", label="Your post", max_length=5)
    raise InvalidInput("%(label)s is required.", field="body", label="Body")
    raise errors.Conflict("Taken already.")
    raise Conflict(f"Not {name}.")
    print("Not a message")
'''
    found = {message for _, _, message, _ in i18n.extract_python(io.BytesIO(source), {"N_": None}, [], {})}
    assert found == {"Marked", "Your post", "%(label)s is required.", "Body", "Taken already."}


def test_the_upload_errors_reach_the_catalogue():
    source = (repo_root() / "models" / "services" / "media.py").read_bytes()
    found = {message for _, _, message, _ in i18n.extract_python(io.BytesIO(source), {"N_": None}, [], {})}
    assert {
        "The image is larger than %(max)d MB: choose a smaller one, or shrink it first.",
        "The picture is larger than %(max)d MB: choose a smaller one, or shrink it first.",
        "The image has too many pixels: at most %(max)d megapixels. Scale it down first.",
        "That file is not an image we can read. Choose a JPEG, PNG, WebP or GIF image.",
    } <= found


def test_dates_follow_the_locale_and_keep_the_english_format():
    moment = dt.datetime(2026, 11, 5, 18, 30, tzinfo=dt.timezone.utc)
    assert i18n.date_format(moment, "datetime") == "05 Nov 2026 18:30"  # as strftime('%d %b %Y %H:%M') wrote
    assert i18n.date_format(moment, "date") == "05 Nov 2026"
    assert i18n.date_format(dt.date(2026, 11, 1), "month") == "November 2026"
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert i18n.date_format(moment, "weekday_datetime", paris) == "Thu 05 Nov 2026, 19:30"


async def test_dates_in_another_locale(tmp_path):
    app = _app(tmp_path)
    moment = dt.datetime(2026, 3, 5, 18, 30, tzinfo=dt.timezone.utc)
    async with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert await render_template_string("{{ m | date_format('month') }}", m=moment) == "März 2026"
        assert i18n.date_format(moment, "date") == "05 März 2026"


def test_the_committed_messages_pot_is_up_to_date(tmp_path):
    """When this fails, a user-visible string was added, changed or removed without
    re-extracting; run (from the repository root):
        pybabel extract -F babel.cfg --add-comments=TRANSLATORS: -o web/translations/messages.pot .
    The comparison is of message ids only, not of headers or line numbers."""
    root = repo_root()
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), "--add-comments=TRANSLATORS:", "-o", str(fresh),
         str(root)]
    )

    def message_ids(path: Path) -> set:
        with path.open("rb") as pot:
            return {message.id if isinstance(message.id, str) else tuple(message.id)
                    for message in read_po(pot) if message.id}

    current, committed = message_ids(fresh), message_ids(i18n.TRANSLATIONS_DIR / "messages.pot")
    assert len(current) > 500  # the extraction did find the sources
    assert current == committed, (
        "web/translations/messages.pot is out of date: run `pybabel extract -F babel.cfg "
        f"--add-comments=TRANSLATORS: -o web/translations/messages.pot .`\nnew: {sorted(map(str, current - committed))[:20]}\n"
        f"gone: {sorted(map(str, committed - current))[:20]}"
    )
