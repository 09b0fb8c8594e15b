"""The one sanitiser. Every piece of HTML that is stored or shown, local
Markdown or remote content, passes through `clean_html`."""

from __future__ import annotations

import html
import re
import unicodedata

import bleach
from bleach.linkifier import Linker
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "a", "strong", "b", "em", "i", "u", "s", "del", "code", "pre",
        "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "span", "sup", "sub", "table", "thead", "tbody", "tr", "th", "td",
    }
)
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


def _allowed_link(tag: str, name: str, value: str) -> bool:
    if name == "href":
        # bleach alone passes `javascript:1` (it reads it as host:port) and
        # scheme-relative `//host`: require an explicit safe scheme instead.
        scheme, sep, _ = value.strip().partition(":")
        return bool(sep) and scheme.lower() in ALLOWED_PROTOCOLS and not value.startswith("//")
    return name in {"title", "rel", "class"}


ALLOWED_ATTRIBUTES = {
    "a": _allowed_link,
    "span": ["class"],
    "ol": ["start"],
    "th": ["align"],
    "td": ["align"],
}
# Elements whose content is code or invisible: dropped with what they hold,
# where bleach's strip would keep their text.
_DROPPED_WITH_CONTENT = re.compile(
    r"<(script|style|template|iframe|object|noscript|textarea|svg|math)\b.*?(</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)

# C0 control characters other than tab and line breaks, and DEL: invisible,
# and bleach would turn them into "?" only in some positions, so a second
# cleaning changed text the first had kept (found by tests/fuzz).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# html=False: raw HTML typed into Markdown is shown as text, not interpreted.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable(
    "strikethrough"
)
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[],
)


def _nofollow(attrs, new=False):
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


_linker = Linker(callbacks=[_nofollow], skip_tags={"pre", "code"})


def clean_html(source: str) -> str:
    """Reduce arbitrary (possibly hostile) HTML to the safe subset above."""
    source = _CONTROL_CHARACTERS.sub("", source)
    return _linker.linkify(_cleaner.clean(_DROPPED_WITH_CONTENT.sub("", source)))


def render_markdown(source: str) -> str:
    """Markdown typed by a person, as safe HTML."""
    return clean_html(_markdown.render(source))


def plain_excerpt(html_or_text: str, limit: int = 200) -> str:
    """Text with tags removed, cut at a word boundary, for titles and previews."""
    stripped = bleach.clean(_DROPPED_WITH_CONTENT.sub("", html_or_text), tags=set(), strip=True)
    return cut_at_word(" ".join(html.unescape(stripped).split()), limit)


_BLOCK_END = re.compile(r"<br\s*/?>|</(p|li|h[1-6]|blockquote|pre|tr|div)\s*>", re.IGNORECASE)


def plain_lines(html_text: str) -> list[str]:
    """The text of some HTML as its non-empty lines (paragraphs, line
    breaks and list items each end a line), whitespace collapsed."""
    marked = _BLOCK_END.sub("\n", _DROPPED_WITH_CONTENT.sub("", html_text))
    stripped = html.unescape(bleach.clean(marked, tags=set(), strip=True))
    return [line for line in (" ".join(raw.split()) for raw in stripped.splitlines()) if line]


def cut_at_word(text: str, limit: int) -> str:
    """`text`, or its start cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


ZERO_WIDTH_JOINER = "\u200d"  # joins emoji sequences; kept


# Bidi classes of right-to-left letters and Arabic numbers (UAX #9): around
# them, neutral characters (spaces, "@", "·", digits) change places.
_RIGHT_TO_LEFT = frozenset({"R", "AL", "AN"})
FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def isolated(name: str) -> str:
    """A name to show inside other text: a plain name (plain_name: no bidi
    controls of its own) holding right-to-left letters comes wrapped in
    Unicode isolates (FSI...PDI), so it keeps its own direction and leaves the
    text around it alone, in pages, titles, attributes and notifications
    alike. Other names are unchanged."""
    if any(unicodedata.bidirectional(ch) in _RIGHT_TO_LEFT for ch in name):
        return f"{FIRST_STRONG_ISOLATE}{plain_name(name)}{POP_DIRECTIONAL_ISOLATE}"
    return name


def plain_name(text: str) -> str:
    """A name or title as one plain line: control and invisible format
    characters removed (bidi overrides and isolates, zero-width spaces, soft
    hyphens...), which can make one name look like another or reorder the text
    around it; runs of whitespace made one space."""
    kept = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in text
        if unicodedata.category(ch) != "Cf" or ch == ZERO_WIDTH_JOINER
    )
    return " ".join(kept.split())


FOLDED_MAX = 255


def fold(text: str) -> str:
    """Text as a search compares it: accents dropped and case folded, so
    "Zürich" and "ZURICH" both become "zurich" (NFKD, then no combining marks).
    The same on SQLite and PostgreSQL, since it is done here, not in SQL."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare.casefold())[:FOLDED_MAX]
