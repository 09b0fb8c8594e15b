"""How Mastodon reads an object into a status and renders it: the text
(status_parser.rb), the poll (poll_parser.rb), the link after a converted
object's text, what a reader sees of the HTML, the visibility from the
addressing, and the small JSON-LD helpers (type checks, ids, lists).

Citations as in `mastodon`: Mastodon main at 51894ac24; `activity.rb` is
app/lib/activitypub/activity.rb, `activity/x.rb` is under
app/lib/activitypub/activity/, `status_parser.rb` is
app/lib/activitypub/parser/status_parser.rb.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SUPPORTED_TYPES = ("Note", "Question")  # activity.rb:9
CONVERTED_TYPES = ("Image", "Audio", "Video", "Article", "Page", "Event")  # activity.rb:10
MEDIA_ATTACHMENTS_LIMIT = 4  # app/models/status.rb:48, used at activity/create.rb:94


@dataclass
class Poll:
    options: list[str]
    multiple: bool
    tallies: list[int]
    voters_count: int | None
    expires_at: str | None


# --- parsing and rendering, as status_parser.rb and poll_parser.rb do ---------------------


def processed_text(obj: dict) -> str:
    """status_parser.rb:40-56: `content` (or the first contentMap value) for
    Note and Question; for converted types (Page, Event, Article, ...) the
    name as <h2>, the summary and a link to `url` (else `id`), and the
    content is dropped."""
    if not converted_object_type(obj):
        return _content(obj) or ""
    title = obj.get("name") or _first_value(obj.get("nameMap"))  # status_parser.rb:72-78
    parts = [f"<h2>{title}</h2>" if title else None, summary(obj) or None,
             linkify(url_to_href(obj.get("url")) or obj["id"])]
    return "\n\n".join(part for part in parts if part)


def parse_poll(obj: dict) -> Poll | None:
    """app/lib/activitypub/parser/poll_parser.rb:14-56; options must not be
    empty (app/models/poll.rb:40)."""
    if not includes(obj.get("type"), "Question"):
        return None
    items = obj.get("anyOf") if obj.get("anyOf") is not None else obj.get("oneOf")
    if not isinstance(items, list):
        return None
    items = [i for i in items[:500] if isinstance(i, dict)]
    options = [i.get("name") or i.get("content") for i in items if i.get("name") or i.get("content")]
    if not options:
        return None
    closed = obj.get("closed")
    expires = closed if isinstance(closed, str) else (obj.get("endTime") if closed in (None, False) else "now")
    return Poll(options=options, multiple=isinstance(obj.get("anyOf"), list),
                tallies=[(i.get("replies") or {}).get("totalItems") or 0 for i in items],
                voters_count=obj.get("votersCount"), expires_at=expires)


def linkify(url: str) -> str:
    """The link Mastodon puts after a converted object's text
    (app/lib/text_formatter.rb:46,56-75; simple_format wraps it in <p>)."""
    prefix = m[0] if (m := re.match(r"(https?://(www\.)?|xmpp:)", url)) else ""
    display, suffix = url[len(prefix):len(prefix) + 30], url[len(prefix) + 30:]
    cutoff = len(url) - len(prefix) > 30
    if len(suffix) == 1:
        display, suffix, cutoff = display + suffix, "", False
    href = html.escape(url)
    return (f'<p><a href="{href}" target="_blank" rel="nofollow noopener" translate="no">'
            f'<span class="invisible">{html.escape(prefix)}</span>'
            f'<span class="{"ellipsis" if cutoff else ""}">{html.escape(display)}</span>'
            f'<span class="invisible">{html.escape(suffix)}</span></a></p>')


# Elements kept by MASTODON_STRICT (lib/sanitize_ext/sanitize_config.rb:107); h1-h6
# become <p><strong> (sanitize_config.rb:59-66); others are unwrapped.
ALLOWED = {"p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul",
           "ol", "li", "ruby", "rt", "rp"}


BLOCKS = {"p", "br", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _Visible(HTMLParser):
    """The text a reader sees: tags gone, paragraphs on lines of their own,
    `invisible` spans hidden, `ellipsis` spans ending in "…" (the web UI's CSS)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines, self.current, self.stack = [], "", []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self._break()
        if tag == "span":
            self.stack.append(dict(attrs).get("class") or "")

    def handle_endtag(self, tag):
        if tag == "span" and self.stack:
            if self.stack.pop() == "ellipsis":
                self.current += "…"
        if tag in BLOCKS:
            self._break()

    def handle_data(self, data):
        if "invisible" not in self.stack:
            self.current += data

    def _break(self):
        text = " ".join(self.current.split())
        if text:
            self.lines.append(text)
        self.current = ""


def visible_text(text_html: str) -> str:
    parser = _Visible()
    parser.feed(text_html)
    parser.close()
    parser._break()
    return "\n".join(parser.lines)


def visibility_of(obj: dict, activity: dict, followers_url: str | None, *, own: bool = False) -> str:
    """status_parser.rb:101-111 (object's addressing, else the activity's);
    a boost's from its own to/cc (activity/announce.rb:53-71)."""
    to = _as_ids(activity.get("to")) if own else audience_to(obj, activity)
    cc = _as_ids(activity.get("cc")) if own else audience_cc(obj, activity)
    if any(is_public(a) for a in to):
        return "public"
    if any(is_public(a) for a in cc):
        return "unlisted"
    if followers_url and followers_url in to:
        return "private"
    return "direct"


def audience_to(obj: dict, activity: dict) -> list[str]:
    return _as_ids(obj.get("to") if obj.get("to") is not None else activity.get("to"))  # activity/create.rb:34-36


def audience_cc(obj: dict, activity: dict) -> list[str]:
    return _as_ids(obj.get("cc") if obj.get("cc") is not None else activity.get("cc"))  # activity/create.rb:38-40


def is_public(uri: str) -> bool:
    return uri in (PUBLIC, "as:Public", "Public")  # app/lib/activitypub/tag_manager.rb:16-18


def _content(obj: dict) -> str | None:
    return obj.get("content") or _first_value(obj.get("contentMap"))  # status_parser.rb:40-46


def summary(obj: dict) -> str | None:
    return obj.get("summary") or _first_value(obj.get("summaryMap"))  # status_parser.rb:58-64


def media_count(obj: dict) -> int:
    """Attachments need `url` (app/lib/activitypub/parser/media_attachment_parser.rb:17-19); at most 4."""
    media = [a for a in as_list(obj.get("attachment")) if isinstance(a, dict) and a.get("url")]
    return min(len(media), MEDIA_ATTACHMENTS_LIMIT)


def url_to_href(value) -> str | None:
    """app/helpers/json_ld_helper.rb:28-45: the first text/html link; http(s) only (status_parser.rb:33-38)."""
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list):
        value = value[0] if value and isinstance(value[0], str) else next(
            (link for link in value if isinstance(link, dict) and (link.get("mimeType") or "text/html") == "text/html"),
            None)
    if isinstance(value, dict):
        value = value.get("href")
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def unsupported_object_type(obj) -> bool:
    return isinstance(obj, str) or not isinstance(obj, dict) or not (
        includes_any(obj.get("type"), SUPPORTED_TYPES) or converted_object_type(obj))  # activity.rb:80-90


def converted_object_type(obj: dict) -> bool:
    return includes_any(obj.get("type"), CONVERTED_TYPES)


def includes(haystack, needle) -> bool:
    return needle in haystack if isinstance(haystack, list) else haystack == needle  # app/helpers/json_ld_helper.rb:6-8


def includes_any(haystack, needles) -> bool:
    return any(includes(haystack, n) for n in needles)


def id_of(value) -> str | None:
    return value if isinstance(value, str) or value is None else value.get("id")  # json_ld_helper.rb:65-67


def type_of(value) -> str | None:
    return value.get("type") if isinstance(value, dict) else None


def first(value):
    return value[0] if isinstance(value, list) and value else value


def _first_value(mapping) -> str | None:
    return next(iter(mapping.values()), None) if isinstance(mapping, dict) else None


def as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _as_ids(value) -> list[str]:
    return [i for i in (id_of(v) for v in as_list(value)) if i]


def host(uri: str | None) -> str:
    return urlsplit(uri or "").netloc.lower()
