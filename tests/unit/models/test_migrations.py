"""The migrations in models/migrations create exactly what the models declare."""

from tortoise import Tortoise

from models import db


async def test_every_model_column_exists_after_migrating(database):
    # Selecting every declared column of every model fails if a migration
    # left one out (tortoise once dropped a column from a circular FK pair).
    models = Tortoise.apps[db.APP_LABEL]
    assert len(models) >= 13
    for model in models.values():
        await model.all().limit(1)
        columns = list(model._meta.fields_db_projection.keys())
        await model.all().limit(1).values(*columns)


async def test_nothing_is_pending_after_migrating(database_url):
    assert await db.pending_migrations(database_url) == []


async def test_models_and_migrations_agree():
    # A model change without `circles makemigrations` fails here.
    from tortoise.cli.cli import tortoise_cli_context
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = db.tortoise_config("sqlite://:memory:")
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    assert [w.name for w in writers] == []
