"""Every shipped catalogue is complete: each message of messages.pot is translated
(every plural form filled), none is fuzzy, and each translation keeps the message's
placeholders (Babel's checkers) and its HTML tags with their attributes."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, TranslationError
from babel.messages.pofile import read_po

from tests.conftest import repo_root

TRANSLATIONS = repo_root() / "web" / "translations"
CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
# A tag with its attributes as written: `<a href="%(url)s">`, `</a>`, `<strong>`.
TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
# A named placeholder with its conversion: `%(name)s`, `%(num)d`.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[a-z]")


def _template() -> Catalog:
    with (TRANSLATIONS / "messages.pot").open("rb") as pot:
        return read_po(pot)


def _read(path: Path) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file, locale=path.parent.parent.name)


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What keeps `catalog` from being complete against `template`, one line each."""
    found = []
    for wanted in template:
        if not wanted.id:
            continue
        message = catalog.get(wanted.id, wanted.context)
        if message is None:
            found.append(f"missing: {wanted.id!r}")
            continue
        if message.fuzzy:
            found.append(f"fuzzy: {wanted.id!r}")
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if not all(strings):
            found.append(f"untranslated (or a plural form empty): {wanted.id!r}")
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        for translated in strings:
            if sorted(TAG.findall(translated)) != sorted(TAG.findall(ids[-1])):
                found.append(f"HTML tags differ: {wanted.id!r} -> {translated!r}")
            wanted_placeholders = set(PLACEHOLDER.findall(" ".join(ids)))
            given = set(PLACEHOLDER.findall(translated))
            # a plural form may say its number in words ("one reply"), so only the count may go
            if given - wanted_placeholders or wanted_placeholders - given - ({"%(num)d"} if len(ids) > 1 else set()):
                found.append(f"placeholders differ: {wanted.id!r} -> {translated!r}")
            if translated.count("%%") != ids[-1].count("%%"):
                found.append(f"a literal %% lost or added: {wanted.id!r} -> {translated!r}")
    for message, errors in catalog.check():  # Babel's checkers: placeholders and number of plural forms
        found.extend(f"{error}: {message.id!r}" for error in errors if isinstance(error, TranslationError))
    return found


@pytest.mark.parametrize("path", CATALOGUES, ids=[p.parent.parent.name for p in CATALOGUES])
def test_the_catalogue_is_complete(path):
    found = problems(_read(path), _template())
    assert not found, f"{len(found)} problems in {path.relative_to(repo_root())}:\n" + "\n".join(found[:40])


def test_the_check_finds_a_missing_fuzzy_or_broken_message():
    template = _template()
    # A complete "translation" (each message as itself) passes...
    complete = Catalog(locale="fr")
    for message in template:
        if message.id:
            forms = (message.id[0], message.id[1], message.id[1]) if message.pluralizable else message.id
            complete.add(message.id, forms, context=message.context)
    assert problems(complete, template) == []
    placeholder_id = next(m.id for m in template if isinstance(m.id, str) and "%(" in m.id and "<a " not in m.id)
    tag_id = next(m.id for m in template if isinstance(m.id, str) and '<a href="%(url)s">' in m.id)
    plural_id = next(m.id for m in template if m.pluralizable)
    first_id = next(m.id for m in template if m.id and isinstance(m.id, str))

    def broken(change) -> list[str]:
        catalog = copy.deepcopy(complete)
        change(catalog)
        return problems(catalog, template)

    assert broken(lambda c: c.delete(first_id)) == [f"missing: {first_id!r}"]
    assert broken(lambda c: setattr(c[first_id], "flags", {"fuzzy"})) == [f"fuzzy: {first_id!r}"]
    assert broken(lambda c: setattr(c[first_id], "string", ""))[0].startswith("untranslated")
    assert broken(lambda c: setattr(c[plural_id], "string", (plural_id[0], "", plural_id[1])))[0].startswith("untranslated")
    assert broken(lambda c: setattr(c[placeholder_id], "string", re.sub(r"%\((\w+)\)", r"%(\1_x)", placeholder_id)))
    assert broken(lambda c: setattr(c[first_id], "string", first_id + " %(extra)s"))  # no flag for Babel's check
    assert broken(lambda c: setattr(c[tag_id], "string", tag_id.replace('<a href="%(url)s">', '<a href="%(url)s" onclick="x">')))
    assert broken(lambda c: setattr(c[tag_id], "string", tag_id.replace("</a>", "")))
