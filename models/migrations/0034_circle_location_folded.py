from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

from models.text import fold


async def fold_existing_locations(apps, schema_editor) -> None:
    """Fill the new column for the circles that were there before it, on
    SQLite and PostgreSQL alike (folding is done in Python, not in SQL)."""
    client = schema_editor.client
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    other = "$2" if client.capabilities.dialect == "postgres" else "?"
    _count, rows = await client.execute_query("SELECT id, location FROM circles WHERE location <> ''")
    for row in rows:
        await client.execute_query(f"UPDATE circles SET location_folded = {mark} WHERE id = {other}",
                                   [fold(row["location"]), row["id"]])


class Migration(migrations.Migration):
    dependencies = [('circles', '0033_profile_pictures')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Circle',
            name='location_folded',
            field=fields.CharField(default='', db_default='', max_length=255),
        ),
        ops.RunPython(fold_existing_locations, ops.RunPython.noop),
    ]
