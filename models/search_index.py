"""The full-text index of posts, as SQL for each database: built by
migration 0036_search, read by models/services/search.py, and its SQLite
triggers restored by models/db.py after every migration run.

- PostgreSQL: a GIN index on a `tsvector` expression of the post (its title
  weighted above its text) in the language-agnostic `simple` configuration,
  since circles write in many languages. Its parser skips HTML tags (and
  so also words typed between angle brackets, as in "<div>").
- SQLite: a contentless FTS5 table `posts_search` (rowid = the post's id),
  kept in step with `posts` by triggers. The text indexed is the Markdown as
  typed for local posts and the sanitised HTML of remote ones (SQLite has no
  way to strip tags in a trigger), so there a remote post's markup words
  (`href`, `nofollow`) match too. Tortoise changes a SQLite column by
  remaking the table (copy, `DROP TABLE posts`, rename), which drops its
  triggers: `restore_triggers` puts them back.

The search service uses POSTGRES_DOCUMENT as it is here: the query's
expression must be the index's exactly for the index to be used
(tests/unit/models/test_search.py checks the plan)."""

from __future__ import annotations

BODY = "CASE WHEN {row}source <> '' THEN {row}source ELSE {row}content END"
POSTGRES_DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, " + BODY.format(row="") + "), 'B'))"
)

POSTGRES_CREATE = [f"CREATE INDEX posts_search ON posts USING GIN ({POSTGRES_DOCUMENT})"]
POSTGRES_DROP = ["DROP INDEX IF EXISTS posts_search"]


def _sqlite_row(row: str) -> str:
    return f"{row}.id, {row}.title, " + BODY.format(row=f"{row}.")


SQLITE_FILL = f"INSERT INTO posts_search(rowid, title, body) SELECT {_sqlite_row('posts')} FROM posts"
SQLITE_TRIGGERS = {
    "posts_search_insert": "CREATE TRIGGER IF NOT EXISTS posts_search_insert AFTER INSERT ON posts BEGIN "
    f"INSERT INTO posts_search(rowid, title, body) VALUES ({_sqlite_row('new')}); END",
    # A contentless table forgets a row only when told the words it indexed for it.
    "posts_search_delete": "CREATE TRIGGER IF NOT EXISTS posts_search_delete AFTER DELETE ON posts BEGIN "
    f"INSERT INTO posts_search(posts_search, rowid, title, body) VALUES ('delete', {_sqlite_row('old')}); END",
    "posts_search_update": "CREATE TRIGGER IF NOT EXISTS posts_search_update "
    "AFTER UPDATE OF title, source, content ON posts BEGIN "
    f"INSERT INTO posts_search(posts_search, rowid, title, body) VALUES ('delete', {_sqlite_row('old')}); "
    f"INSERT INTO posts_search(rowid, title, body) VALUES ({_sqlite_row('new')}); END",
}
SQLITE_CREATE = [
    # remove_diacritics 0: accents matter, as in PostgreSQL's `simple`, so both find the same posts.
    "CREATE VIRTUAL TABLE posts_search USING fts5(title, body, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    SQLITE_FILL,
    *SQLITE_TRIGGERS.values(),
]
SQLITE_DROP = [*(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS), "DROP TABLE IF EXISTS posts_search"]


async def restore_triggers(client) -> bool:
    """On SQLite, when the index exists but a table remake dropped any of its
    triggers: the triggers again, and every post indexed afresh (changes made
    meanwhile were missed). True when it had to."""
    if client.capabilities.dialect != "sqlite":
        return False
    names = ", ".join(f"'{name}'" for name in ("posts_search", *SQLITE_TRIGGERS))
    rows = await client.execute_query_dict(f"SELECT name FROM sqlite_master WHERE name IN ({names})")
    present = {row["name"] for row in rows}
    if "posts_search" not in present or present >= set(SQLITE_TRIGGERS):
        return False
    await client.execute_script("INSERT INTO posts_search(posts_search) VALUES ('delete-all')")
    for statement in (SQLITE_FILL, *SQLITE_TRIGGERS.values()):
        await client.execute_script(statement)
    return True
