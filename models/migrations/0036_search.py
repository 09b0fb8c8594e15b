"""Full-text search of posts (models/services/search.py), indexing the rows
already there. Each database has its own kind of index, so this runs raw SQL
by dialect, kept in models/search_index.py (which says what each is), where
models/db.py also finds the SQLite triggers to restore them."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from models import search_index


async def _run(editor, statements: dict[str, list[str]]) -> None:
    dialect = editor.client.capabilities.dialect
    if dialect not in statements:
        raise RuntimeError(f"Full-text search is built for SQLite and PostgreSQL, not {dialect}.")
    for statement in statements[dialect]:
        await editor.client.execute_script(statement)


async def forward(apps, editor) -> None:
    await _run(editor, {"postgres": search_index.POSTGRES_CREATE, "sqlite": search_index.SQLITE_CREATE})


async def backward(apps, editor) -> None:
    await _run(editor, {"postgres": search_index.POSTGRES_DROP, "sqlite": search_index.SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [('circles', '0035_post_revisions')]

    initial = False

    operations = [
        ops.RunPython(forward, backward),
    ]
