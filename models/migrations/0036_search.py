"""Full-text search of posts (models/services/search.py), indexing the rows
already there. Each database has its own kind of index, so this runs raw SQL
by dialect:

- PostgreSQL: a GIN index on a `tsvector` expression of the post (its title
  weighted above its text) in the language-agnostic `simple` configuration,
  since circles write in many languages. Its parser skips HTML tags (and
  so also words typed between angle brackets, as in "<div>").
- SQLite: a contentless FTS5 table `posts_search` (rowid = the post's id),
  kept in step with `posts` by triggers. The text indexed is the Markdown as
  typed for local posts and the sanitised HTML of remote ones (SQLite has no
  way to strip tags in a trigger), so there a remote post's markup words
  (`href`, `nofollow`) match too.

The search service repeats the PostgreSQL expression: it must match the
index's exactly for the index to be used (tests/unit/models/test_search.py
checks the plan)."""

from tortoise import migrations
from tortoise.migrations import operations as ops

BODY = "CASE WHEN {row}source <> '' THEN {row}source ELSE {row}content END"
POSTGRES_DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, " + BODY.format(row="") + "), 'B'))"
)

POSTGRES_FORWARD = [f"CREATE INDEX posts_search ON posts USING GIN ({POSTGRES_DOCUMENT})"]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS posts_search"]


def _sqlite_row(row: str) -> str:
    return f"{row}.id, {row}.title, " + BODY.format(row=f"{row}.")


SQLITE_FORWARD = [
    # remove_diacritics 0: accents matter, as in PostgreSQL's `simple`, so both find the same posts.
    "CREATE VIRTUAL TABLE posts_search USING fts5(title, body, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    f"INSERT INTO posts_search(rowid, title, body) SELECT {_sqlite_row('posts')} FROM posts",
    "CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN "
    f"INSERT INTO posts_search(rowid, title, body) VALUES ({_sqlite_row('new')}); END",
    # A contentless table forgets a row only when told the words it indexed for it.
    "CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN "
    f"INSERT INTO posts_search(posts_search, rowid, title, body) VALUES ('delete', {_sqlite_row('old')}); END",
    "CREATE TRIGGER posts_search_update AFTER UPDATE OF title, source, content ON posts BEGIN "
    f"INSERT INTO posts_search(posts_search, rowid, title, body) VALUES ('delete', {_sqlite_row('old')}); "
    f"INSERT INTO posts_search(rowid, title, body) VALUES ({_sqlite_row('new')}); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS posts_search_update",
    "DROP TRIGGER IF EXISTS posts_search_delete",
    "DROP TRIGGER IF EXISTS posts_search_insert",
    "DROP TABLE IF EXISTS posts_search",
]


async def _run(editor, statements: dict[str, list[str]]) -> None:
    dialect = editor.client.capabilities.dialect
    if dialect not in statements:
        raise RuntimeError(f"Full-text search is built for SQLite and PostgreSQL, not {dialect}.")
    for statement in statements[dialect]:
        await editor.client.execute_script(statement)


async def forward(apps, editor) -> None:
    await _run(editor, {"postgres": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


async def backward(apps, editor) -> None:
    await _run(editor, {"postgres": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [('circles', '0035_post_revisions')]

    initial = False

    operations = [
        ops.RunPython(forward, backward),
    ]
