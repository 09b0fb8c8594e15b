"""Search: posts by their words (full text), people and circles by a piece
of their name or handle.

Posts are found through the index of models/search_index.py: a GIN
index on a `tsvector` expression on PostgreSQL, an FTS5 table kept by
triggers on SQLite. The query is parsed here once, in the web-search syntax
people know (words, "a phrase", -without, or), and given to each database
as a parameter, never spliced into the SQL: PostgreSQL reads the text with
`websearch_to_tsquery`, SQLite gets every term quoted, so FTS5 operators in
what someone typed (`NEAR`, `*`, `"`, `-`, `^`) are only words.

A result is something the searcher could read by browsing: posts in circles
they may read (visibility.readable_circles says the same in the ORM), not
deleted or removed, not by people they muted or blocked
(person_blocks.not_hidden_from). Outside their own circles, only posts
whose author let search find them (`indexable`) or that the circle itself
wrote are found. A safe question is found as the circle's post: its asker
is never read, nor filtered on (that would tell who asked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tortoise import connections
from tortoise.expressions import Q

from models import search_index
from models.actors import Actor, ActorKind
from models.circles import Circle, MembershipState, Visibility
from models.errors import InvalidInput
from models.posts import Post
from models.text import plain_lines

MAX_QUERY = 200  # characters
PAGE_SIZE = 20
NAMES_LIMIT = 10  # people, and circles, shown for a name
EXCERPT_LENGTH = 240

TOO_LONG = "Search for at most %(max)d characters."
EMPTY = "Type a word or two to search for."


def clean_query(text: str | None) -> str:
    """What someone typed, whitespace collapsed; refused when too long."""
    query = " ".join((text or "").split())
    if len(query) > MAX_QUERY:
        raise InvalidInput(TOO_LONG, field="q", max=MAX_QUERY)
    return query


# --- the query syntax --------------------------------------------------------------------

_PART = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")
_ALPHANUMERIC = re.compile(r"[^\W_]")  # a letter or digit: \w less the underscore


@dataclass(frozen=True)
class Terms:
    groups: tuple[tuple[str, ...], ...]  # any group matches when all its terms (words or phrases) do
    excluded: tuple[str, ...] = ()

    @property
    def words(self) -> list[str]:
        """The words to mark in what was found."""
        return [word for group in self.groups for term in group for word in _WORD.findall(term)]


def parse(query: str) -> Terms:
    """Words and "phrases", -excluded ones, and `or` between groups, read as
    PostgreSQL's websearch_to_tsquery reads them. Terms without a letter or
    digit (`___`, `--`) are dropped: PostgreSQL skips them, and FTS5, which
    reads them as empty phrases, would then find nothing at all."""
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    for minus, phrase, word in _PART.findall(query):
        if not phrase and word.lower() == "or":
            if groups[-1]:
                groups.append([])
            continue
        term = phrase or word
        if not phrase and term.startswith("-") and len(term) > 1:
            minus, term = "-", term[1:]
        if not _ALPHANUMERIC.search(term):
            continue
        (excluded if minus else groups[-1]).append(term)
    return Terms(tuple(tuple(group) for group in groups if group), tuple(excluded))


def _fts5_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts5_query(terms: Terms) -> str:
    """The FTS5 form of parsed terms: every term a quoted string, so it is
    never read as an operator."""
    either = " OR ".join("(" + " AND ".join(_fts5_string(t) for t in group) + ")" for group in terms.groups)
    if not terms.excluded:
        return either
    return f"({either}) NOT (" + " OR ".join(_fts5_string(t) for t in terms.excluded) + ")"


# --- posts --------------------------------------------------------------------------------

POSTGRES_DOCUMENT = search_index.POSTGRES_DOCUMENT  # the index's own, so the index is used

# What a searcher may see (see the module's docstring); `{viewer}` is their actor id's placeholder.
# Members search their own circles' conversation; anyone else (anonymous too)
# finds only posts of public circles whose author let search find them (the
# `indexable` of local people's accounts; people elsewhere are not asked, so
# never) or which the circle itself wrote (its notes, safe questions).
_VISIBLE = (
    "p.deleted_at IS NULL AND c.id = p.circle_id"
    " AND (c.id IN (SELECT circle_id FROM memberships WHERE actor_id = {viewer}"
    " AND state = '" + MembershipState.ACTIVE.value + "')"
    " OR (c.visibility = '" + Visibility.PUBLIC.value + "' AND (p.author_id = c.actor_id"
    " OR p.author_id IN (SELECT actor_id FROM accounts WHERE indexable = TRUE))))"
    " AND p.author_id NOT IN (SELECT target_id FROM person_blocks WHERE owner_id = {viewer})"
)


def _sql(dialect: str, in_circle: bool, by_author: bool = False) -> str:
    """The ranked search, with numbered placeholders: 1 the query, 2 the
    viewer's actor id (0 for nobody), 3 the limit, 4 the offset, then the
    circle and the author when asked for.
    The document's column names are those of posts alone (no other table
    here has a title, source or content), as the index has them."""
    mark = (lambda n: f"${n}") if dialect == "postgres" else (lambda n: f"?{n}")
    where = _VISIBLE.format(viewer=mark(2)) + (f" AND p.circle_id = {mark(5)}" if in_circle else "")
    if by_author:
        where += f" AND p.author_id = {mark(6 if in_circle else 5)}"
    page = f"LIMIT {mark(3)} OFFSET {mark(4)}"
    if dialect == "postgres":
        return (
            f"SELECT p.id FROM posts p, circles c, websearch_to_tsquery('simple', {mark(1)}) q"
            f" WHERE {POSTGRES_DOCUMENT} @@ q AND {where}"
            f" ORDER BY ts_rank({POSTGRES_DOCUMENT}, q) DESC, p.published_at DESC, p.id DESC {page}"
        )
    # bm25: lower is better; a word in the title counts ten times one in the text.
    return (
        "SELECT p.id FROM posts_search s JOIN posts p ON p.id = s.rowid, circles c"
        f" WHERE posts_search MATCH {mark(1)} AND {where}"
        f" ORDER BY bm25(posts_search, 10.0, 1.0), p.published_at DESC, p.id DESC {page}"
    )


@dataclass(frozen=True)
class Hit:
    """A post found, with its title and an excerpt as pieces of plain text,
    each marked when it is a word searched for (the page escapes them)."""
    post: Post
    title: list[tuple[str, bool]]
    excerpt: list[tuple[str, bool]]


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    page: int
    has_next: bool


async def search_posts(
    query: str, *, viewer: Actor | None, circle: Circle | None = None, page: int = 1, per_page: int = PAGE_SIZE,
    offset: int | None = None, author_id: int | None = None,
) -> Results:
    """The posts matching `query` that `viewer` may read, in `circle` or in
    every circle (by `author_id` only, if given), most relevant first (then
    newest): one page of them, with their authors and circles (two queries).
    `offset` (the client API's) skips that many instead of whole pages."""
    terms = parse(clean_query(query))
    if not terms.groups:
        return Results([], page, False)
    client = connections.get("default")
    dialect = client.capabilities.dialect
    text = query if dialect == "postgres" else fts5_query(terms)
    skip = (page - 1) * per_page if offset is None else offset
    params = [text, viewer.id if viewer else 0, per_page + 1, skip]
    if circle is not None:
        params.append(circle.id)
    if author_id is not None:
        params.append(author_id)
    rows = await client.execute_query_dict(_sql(dialect, circle is not None, author_id is not None), params)
    ids = [row["id"] for row in rows]
    posts = {p.id: p for p in await Post.filter(id__in=ids[:per_page]).select_related("author", "circle__actor")}
    words = terms.words
    hits = [_hit(posts[i], words) for i in ids[:per_page] if i in posts]
    return Results(hits, page, len(ids) > per_page)


def _marker(words: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def marked(text: str, marker: re.Pattern[str]) -> list[tuple[str, bool]]:
    """`text` cut into pieces, each saying whether it is a word searched for."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for match in marker.finditer(text):
        if match.start() > at:
            pieces.append((text[at:match.start()], False))
        pieces.append((match.group(), True))
        at = match.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


def excerpt_around(text: str, marker: re.Pattern[str], length: int = EXCERPT_LENGTH) -> str:
    """About `length` characters of `text` around its first word searched for
    (its start when none is there), cut at spaces, with ellipses."""
    if len(text) <= length:
        return text
    first = marker.search(text)
    start = max(0, (first.start() if first else 0) - length // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 40 else start
    end = start + length
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def _hit(post: Post, words: list[str]) -> Hit:
    marker = _marker(words)
    body = " ".join(plain_lines(post.content))
    return Hit(post, marked(post.title, marker), marked(excerpt_around(body, marker), marker))


# --- people and circles by name ------------------------------------------------------------

async def find_people(query: str, *, limit: int = NAMES_LIMIT) -> list[Actor]:
    """People here and known from elsewhere whose handle or name holds
    `query` (any case). People here show only when they let search find
    them (their `indexable` choice, off until they turn it on)."""
    fragment = clean_query(query).lstrip("@")
    if not fragment:
        return []
    name, at, domain = fragment.partition("@")
    if at:  # a handle, or the start of one: name@dom
        named = Q(username__icontains=name, domain__icontains=domain)
    else:
        named = Q(username__icontains=fragment) | Q(display_name__icontains=fragment) | Q(domain__icontains=fragment)
    consenting = Q(local=False) | Q(account__indexable=True)
    return await Actor.filter(
        named, consenting, kind=ActorKind.PERSON, deleted_at=None,
    ).order_by("-local", "username").limit(limit)


async def find_circles(query: str, *, limit: int = NAMES_LIMIT) -> list[Circle]:
    """Circles here and known from elsewhere whose name or handle holds
    `query` (any case), the largest first. A members-only circle's profile
    is public, so it is found too."""
    fragment = clean_query(query).lstrip("@")
    if not fragment:
        return []
    named = Q(name__icontains=fragment) | Q(actor__username__icontains=fragment)
    return await Circle.filter(named).select_related("actor").order_by("-member_count", "name").limit(limit)


async def known_by_address(address: str) -> Post | Actor | None:
    """The post (not deleted) or the person or circle kept here whose id is
    `address`, else whose web page is: a page address (`url`, `profile_url`)
    comes from the remote document, so it counts only on its id's own host
    (another server could name a victim's page as its object's)."""
    people = Q(deleted_at=None, kind__in=(ActorKind.PERSON, ActorKind.GROUP))
    found = await Post.filter(uri=address, deleted_at=None).first() or await Actor.filter(people, uri=address).first()
    if found is not None:
        return found
    same_host = _id_on_host_of(address)
    if same_host is None:
        return None
    return (await Post.filter(same_host, url=address, deleted_at=None).order_by("id").first()
            or await Actor.filter(people, same_host, profile_url=address).order_by("id").first())


def _id_on_host_of(address: str) -> Q | None:
    """Rows whose id (`uri`) is on the host (and port) of `address`; None
    when `address` names no host."""
    try:
        host = urlsplit(address).netloc.rpartition("@")[2].lower()
    except ValueError:  # an unclosed IPv6 bracket
        return None
    if not host:
        return None
    return Q(uri__istartswith=f"https://{host}/") | Q(uri__istartswith=f"http://{host}/")
