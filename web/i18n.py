"""Translation of the web UI: every user-visible string goes through `gettext`
(`_` in templates and web code).

Catalogues are Babel/gettext `.po` files in web/translations/<locale>/LC_MESSAGES/
messages.po, compiled in memory at start-up so that running needs no build step.
English is the source language: its strings are the message ids, so it needs no
catalogue. `messages.pot` (the template translators start from) is extracted, from the
repository's root, with

    pybabel extract -F babel.cfg --add-comments=TRANSLATORS: -o web/translations/messages.pot .

and tests/unit/web/test_i18n.py fails when the committed one is out of date. Besides
`_()`, `ngettext()` and `N_()`, the extraction takes the English messages of the domain
errors and the `label=` of the validation functions (`extract_python`): the models
raise English and the web layer translates it when it shows it (`error_message`).
To start a language: `pybabel init -i web/translations/messages.pot -d web/translations
-l de`; after a re-extraction, `pybabel update -i web/translations/messages.pot -d
web/translations`.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext as stdlib_gettext
import io
from enum import Enum
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal
from babel.messages.extract import extract_python as extract_python_keywords
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import pass_context
from markupsafe import Markup
from quart import Quart, g, has_request_context, request

from models import translation
from models.errors import DomainError

DEFAULT_LOCALE = "en"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"

_EXTENSION_KEY = "circles.translations"
# A visitor's choice from the footer's language menu (web/html/language.py); a
# signed-in person's choice is their account's `language` (Settings).
LANGUAGE_COOKIE = "lang"


def load_catalogues(directory: Path = TRANSLATIONS_DIR) -> dict[str, stdlib_gettext.NullTranslations]:
    """Every catalogue under `directory`, compiled in memory, by locale name."""
    catalogues: dict[str, stdlib_gettext.NullTranslations] = {}
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        catalogues[locale] = stdlib_gettext.GNUTranslations(compiled)
    return catalogues


def register(app: Quart, catalogues: dict[str, stdlib_gettext.NullTranslations] | None = None) -> None:
    """Install the translation functions in the app's templates."""
    app.extensions[_EXTENSION_KEY] = load_catalogues() if catalogues is None else catalogues
    app.jinja_env.add_extension("jinja2.ext.i18n")
    # newstyle: `_("Hello %(name)s", name=x)` escapes x and formats after translating (Jinja
    # formats, so the callables given to it translate only; a literal % is written %%).
    app.jinja_env.install_gettext_callables(
        lambda message: _translations().gettext(message),
        lambda singular, plural, count: _translations().ngettext(singular, plural, count),
        newstyle=True,
    )
    app.jinja_env.globals["ngettext"] = _template_ngettext
    app.add_template_global(current_locale, "current_locale")
    app.add_template_global(text_direction, "text_direction")
    app.add_template_global(language_choices, "language_choices")
    app.add_template_filter(date_format, "date_format")
    app.add_template_filter(number, "number")
    from web.labels import enum_label  # it imports the models, which need not know of this module

    app.add_template_global(enum_label, "enum_label")


def available_locales() -> list[str]:
    from quart import current_app

    return [DEFAULT_LOCALE, *sorted(current_app.extensions.get(_EXTENSION_KEY, {}))]


def current_locale() -> str:
    """The request's language: the signed-in person's choice (Settings), else the
    visitor's choice from the footer's menu (a cookie), else the best match of
    Accept-Language; each only when it has a catalogue."""
    if not has_request_context():
        return DEFAULT_LOCALE
    if "locale" not in g:
        available = available_locales()
        account = g.get("account")
        chosen = getattr(account, "language", "") if account is not None else ""
        if chosen not in available:
            chosen = request.cookies.get(LANGUAGE_COOKIE, "")
        if chosen not in available:
            chosen = best_language(request.headers.get("Accept-Language", ""), available)
        g.locale = chosen
    return g.locale


def best_language(accept_language: str, available: list[str]) -> str:
    """The first of the reader's languages, by q-value, that we speak: an exact tag, else
    its language alone ("es-MX" is read as "es": the catalogues have no regions). Unlike
    werkzeug's best_match, "es-MX, en;q=0.5" is Spanish and "en-GB, fr;q=0.9" English."""
    by_lower = {code.lower().replace("_", "-"): code for code in available}
    for tag in _ranked(accept_language):
        tag = tag.lower().replace("_", "-")
        for candidate in (tag, tag.split("-")[0]):
            if candidate in by_lower:
                return by_lower[candidate]
    return DEFAULT_LOCALE


def _ranked(accept_language: str) -> list[str]:
    """The tags of an Accept-Language header, highest q-value first (ties keep their order)."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    return [tag for tag, quality in parse_accept_header(accept_language, LanguageAccept) if quality > 0 and tag != "*"]


def text_direction(code: str | None = None) -> str:
    """"rtl" or "ltr": the writing direction of `code`, or of the request's language (Babel's data)."""
    try:
        return Locale.parse(code or current_locale(), sep="-").text_direction
    except (UnknownLocaleError, ValueError):
        return "ltr"


def language_choices() -> list[tuple[str, str]]:
    """(code, its own name) of every language the site speaks, for a language menu."""
    return [(code, locale_name(code)) for code in available_locales()]


def _translations() -> stdlib_gettext.NullTranslations:
    from quart import current_app

    if not has_request_context():
        return stdlib_gettext.NullTranslations()
    return current_app.extensions.get(_EXTENSION_KEY, {}).get(current_locale()) or stdlib_gettext.NullTranslations()


def gettext(message: str, **variables) -> str:
    """The translation of `message`, with `%(name)s` placeholders filled from `variables`."""
    translated = _translations().gettext(message)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, count: int, **variables) -> str:
    """Singular or plural by `count`; `%(num)d` is the count, written as the locale writes numbers."""
    return _with_count(_translations().ngettext(singular, plural, count), count, variables)


@pass_context
def _template_ngettext(context, singular: str, plural: str, count: int, **variables) -> str:
    """Jinja's `ngettext` (newstyle: the variables are escaped), with the count written by `number`."""
    translated = _translations().ngettext(singular, plural, count)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)
    return _with_count(translated, count, variables)


def _with_count(translated: str, count: int, variables: dict) -> str:
    """`translated` filled, its `%(num)d` written by `number` in the locale's own digits and
    grouping ("1,234" in English, "1 234" in French)."""
    return translated.replace("%(num)d", "%(num)s") % {"num": number(count), **variables}


def number(value: int | float) -> str:
    """`value` written for the request's locale: its grouping and decimal signs, and its
    default digits in Babel's data (`{{ count | number }}`)."""
    return format_decimal(value, locale=current_locale(), numbering_system="default")


_ = gettext
N_ = translation.N_  # marks module-level English for extraction; translated where it is shown


def error_message(error: DomainError) -> str:
    """A domain error's message in the request's language. Its English literal is the
    message id (extracted from models/ and web/, see `extract_python`); a `label`
    among its values is itself a message id (the name of a form field)."""
    translations = _translations()
    from web.labels import enum_label  # it imports the models, which need not know of this module

    # A state or kind among the values is named in the reader's language, as pages name it.
    params = {name: enum_label(value) if isinstance(value, Enum) else value for name, value in error.params.items()}
    if isinstance(params.get("label"), str):
        params["label"] = translations.gettext(params["label"])
    translated = translations.gettext(error.template)
    return translated % params if params else translated


# What `pybabel extract` looks for in Python besides the usual _(), N_(), ngettext():
# the first argument of a domain error (`raise InvalidInput("...", field=...)`) and the
# `label="..."` given to the validation functions, both English literals.
ERROR_CLASSES = frozenset(
    {"DomainError", "InvalidInput", "NotFound", "PermissionDenied", "Conflict", "AuthenticationFailed",
     "RateLimited", "CsrfFailed"}
)


def extract_python(fileobj, keywords, comment_tags, options):
    """A pybabel extractor (babel.cfg names it): Babel's own, plus the domain errors' messages
    and the `label=` literals, which need no marker in the models."""
    source = fileobj.read()
    yield from extract_python_keywords(io.BytesIO(source), keywords, comment_tags, options)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in ERROR_CLASSES and node.args and _is_literal(node.args[0]):
            yield node.lineno, None, node.args[0].value, []
        for keyword in node.keywords:
            if keyword.arg == "label" and _is_literal(keyword.value):
                yield keyword.value.lineno, None, keyword.value.value, []


def _is_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)


# The one way templates write dates: `{{ moment | date_format('date') }}`. The English
# output is what the templates printed with strftime before; other locales get their
# own month names (and Babel's own order for the month of a year).
DATE_PATTERNS = {
    "date": "dd MMM y",  # 05 Nov 2026
    "datetime": "dd MMM y HH:mm",  # 05 Nov 2026 18:30
    "weekday_datetime": "EEE dd MMM y, HH:mm",  # Thu 05 Nov 2026, 18:30
}
DATE_SKELETONS = {
    "month": "yMMMM",  # November 2026
}


def date_format(moment: dt.date | dt.datetime, style: str = "date", zone: dt.tzinfo | str | None = None) -> str:
    """`moment` written for the request's locale. An aware datetime is shown in its own
    time zone unless `zone` is given; a date is shown as it is."""
    locale = current_locale()
    if style in DATE_SKELETONS:
        return format_skeleton(DATE_SKELETONS[style], moment, tzinfo=zone, locale=locale)
    pattern = DATE_PATTERNS[style]
    if isinstance(moment, dt.datetime):
        return format_datetime(moment, pattern, tzinfo=zone, locale=locale)
    return format_date(moment, pattern, locale=locale)


def locale_name(code: str) -> str:
    """A locale's own name for itself ("Deutsch" for de), for a language menu."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]  # "Français", as a menu item starts (Babel gives "français")
