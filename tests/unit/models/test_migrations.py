"""The migrations in models/migrations create exactly what the models declare."""

import datetime as dt

from tortoise import Tortoise

from models import clock, db


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


async def test_migrating_keeps_the_rows_that_refer_to_a_rebuilt_table(database_url, instance):
    # SQLite rebuilds a table to drop or alter a column (0031 drops a meeting's column,
    # 0034's reverse a circle's). The rows that refer to it (RSVPs, posts, likes) must
    # survive: `db.migration_config` turns foreign keys off while migrating, as SQLite's
    # procedure says; with them on, the rebuilt table's DROP deleted them in cascade.
    from tortoise.migrations.api.migrate import migrate as tortoise_migrate

    from models.meetings import Rsvp
    from models.posts import Like, Post
    from models.services import likes
    from models.services import meetings as meeting_service
    from tests import factories

    await db.connect(database_url)
    alice = await factories.account(instance, "alice")
    bob = await factories.account(instance, "bob")
    circle = await factories.circle(instance, alice, "growers")
    await factories.member(circle, bob)
    post = await factories.post(instance, alice, circle, "Seeds", title="Seed swap")
    await likes.like(bob.actor, post)
    day = (clock.now() + dt.timedelta(days=10)).date().isoformat()
    meeting = await meeting_service.schedule(
        instance, alice.actor, circle, title="Planting", agenda="", starts_local=f"{day}T10:00", ends_local=f"{day}T11:00"
    )
    await meeting_service.rsvp(bob.actor, meeting, "going")
    before = (await Post.all().count(), await Like.all().count(), await Rsvp.all().count())
    await db.disconnect()

    await tortoise_migrate(config=db.migration_config(database_url), target=f"{db.APP_LABEL}.0030_notifications_email")
    await db.migrate(database_url)
    await db.connect(database_url)
    try:
        assert (await Post.all().count(), await Like.all().count(), await Rsvp.all().count()) == before
        assert before == (3, 1, 1)  # the seed post, the meeting's post and its RSVP note
    finally:
        await db.disconnect()
