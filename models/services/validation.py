"""Input checks shared by the services. Each raises InvalidInput naming the field."""

from __future__ import annotations

import re
import zoneinfo
from urllib.parse import urlsplit

from models.errors import InvalidInput
from models.text import plain_name
from models.translation import N_

HANDLE_RE = re.compile(r"[a-z0-9_]+")
HANDLE_MAX = 30
# Names that would collide with routes, or mislead people.
RESERVED_HANDLES = frozenset(
    {
        "admin", "administrator", "api", "actor", "c", "circles", "users", "posts", "login",
        "logout", "signup", "settings", "static", "well_known", "healthz", "readyz", "inbox", "outbox",
        "root", "system", "instance", "moderator", "moderators", "support", "help", "about",
    }
)
LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# One plain address: no list separators, quotes or comments that a mail header would read as more.
EMAIL_RE = re.compile(r"[^@\s,;<>()\[\]\"\\:]+@[^@\s,;<>()\[\]\"\\:]+\.[^@\s.,;<>()\[\]\"\\:]+")


ROW_ID_MAX = 2**63 - 1  # ids are signed 64-bit in the database


def is_row_id(value: int) -> bool:
    """Whether an id from a URL can exist at all (larger ones overflow the column)."""
    return 0 < value <= ROW_ID_MAX


def whole_number(raw: str | None) -> int | None:
    """A cursor or page number from a URL: plain ASCII digits that fit a row id,
    else None (str.isdigit alone accepts "²", which int() refuses)."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) < 20:
        return int(raw)
    return None


def handle(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput("Choose a handle.", field=field)
    if len(value) > HANDLE_MAX:
        raise InvalidInput("A handle has at most %(max)d characters.", field=field, max=HANDLE_MAX)
    if not HANDLE_RE.fullmatch(value):
        raise InvalidInput(
            "A handle uses only lower-case letters a-z, digits and underscores.", field=field
        )
    if value in RESERVED_HANDLES:
        raise InvalidInput("“%(handle)s” is reserved; choose another handle.", field=field, handle=value)
    return value


def text(value: str | None, field: str, *, label: str, max_length: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput("%(label)s is required.", field=field, label=label)
    if len(value) > max_length:
        raise InvalidInput(
            "%(label)s is too long: %(length)d characters, at most %(max)d.", field=field,
            label=label, length=len(value), max=max_length,
        )
    if "\x00" in value:
        raise InvalidInput("%(label)s contains a character that is not allowed.", field=field, label=label)
    return value


def single_line(value: str | None, field: str, *, label: str, max_length: int, required: bool = False) -> str:
    """One line of plain text (a name, a title, a place), without the
    invisible characters that make one name pass for another (models/text.py)."""
    value = text(value, field, label=label, max_length=max_length, required=required)
    if "\n" in value or "\r" in value:
        raise InvalidInput("%(label)s must fit on one line.", field=field, label=label)
    value = plain_name(value)
    if required and not value:
        raise InvalidInput("%(label)s is required.", field=field, label=label)
    return value


def email(value: str | None, field: str = "email") -> str:
    value = (value or "").strip().lower()
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise InvalidInput("Enter an email address like name@example.org.", field=field)
    return value


def language(value: str | None, field: str = "language") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 16 or not LANGUAGE_RE.fullmatch(value):
        raise InvalidInput("Use a language code such as en, fr or pt-BR.", field=field)
    return value


def timezone(value: str | None, field: str = "timezone") -> str:
    value = (value or "").strip() or "UTC"
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "Unknown time zone “%(zone)s”; use a name such as Europe/Paris or UTC.", field=field, zone=value[:64],
        ) from None
    return value


HASHTAGS_MAX = 10
HASHTAG_MAX_LENGTH = 40
# By what the hashtags are called: a word that is not one, and too many.
HASHTAG_ERRORS = {
    "topic": (
        N_("“%(tag)s” is not a topic: use letters, digits and underscores, up to %(max)d characters."),
        N_("Choose at most %(max)d topics."),
    ),
    "tag": (
        N_("“%(tag)s” is not a tag: use letters, digits and underscores, up to %(max)d characters."),
        N_("Choose at most %(max)d tags."),
    ),
}


def _hashtag(word: str) -> str:
    return word.strip().lstrip("#").lower()


def _is_hashtag(tag: str) -> bool:
    # What Mastodon and Lemmy link as a hashtag: letters, digits, underscores.
    return 0 < len(tag) <= HASHTAG_MAX_LENGTH and all(c.isalnum() or c == "_" for c in tag)


def hashtags(value: str | list[str] | None, field: str, *, noun: str = "topic") -> list[str]:
    """Hashtags typed as "#python, data_science" (circle topics, resource
    tags): lowercase, without '#', duplicates dropped, order kept."""
    words = re.split(r"[\s,]+", value.strip()) if isinstance(value, str) else list(value or [])
    found: list[str] = []
    for word in words:
        tag = _hashtag(word)
        if not tag or tag in found:
            continue
        if not _is_hashtag(tag):
            raise InvalidInput(HASHTAG_ERRORS[noun][0], field=field, tag=tag[:40], max=HASHTAG_MAX_LENGTH)
        found.append(tag)
        if len(found) > HASHTAGS_MAX:
            raise InvalidInput(HASHTAG_ERRORS[noun][1], field=field, max=HASHTAGS_MAX)
    return found


def hashtags_from_remote(names: list[str]) -> list[str]:
    """Hashtag names another server sent: the usable ones, quietly, at most HASHTAGS_MAX."""
    found: list[str] = []
    for name in names:
        tag = _hashtag(name) if isinstance(name, str) else ""
        if _is_hashtag(tag) and tag not in found:
            found.append(tag)
    return found[:HASHTAGS_MAX]


def optional_whole_number(value: str | None, field: str, *, label: str, low: int, high: int) -> int | None:
    """A number typed into a form, or None when left empty."""
    raw = (value or "").strip()
    if not raw:
        return None
    number = whole_number(raw)
    if number is None or not low <= number <= high:
        raise InvalidInput("%(label)s must be a whole number from %(low)d to %(high)d, or empty.", field=field,
                           label=label, low=low, high=high)
    return number


def choice(value: str | None, enum_type, field: str, *, label: str):
    try:
        return enum_type((value or "").strip())
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise InvalidInput("%(label)s must be one of: %(allowed)s.", field=field, label=label, allowed=allowed) from None


def http_url(value: str | None, field: str, *, label: str, max_length: int, required: bool = True) -> str:
    """A web address people may follow: http(s) with a host, nothing else
    (no `javascript:`, `data:`, scheme-relative `//host`, spaces or controls)."""
    value = single_line(value, field, label=label, max_length=max_length, required=required)
    if not value:
        return ""
    scheme, sep, rest = value.partition(":")
    try:
        host = urlsplit(value).hostname if sep else None
    except ValueError:  # an unclosed IPv6 bracket, a bad port
        host = None
    if scheme.lower() not in ("http", "https") or not rest.startswith("//") or not host:
        raise InvalidInput("%(label)s must be a web address starting with https:// or http://.", field=field,
                           label=label)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput("%(label)s cannot contain spaces; check the address.", field=field, label=label)
    return scheme.lower() + sep + rest
