"""`circles backup` / `circles restore` (server/backup.py): an instance with
people, circles, posts with images, memberships, a remote actor, follows and
deliveries is backed up and restored into a new database, on SQLite and,
when CIRCLES_TEST_DATABASE_URL is set, PostgreSQL in both directions. The
restored rows, media bytes, keys (a signature made with a restored key
verifies with the original public key) and a served post page are compared
with the original. Bad archives and non-empty targets are refused with a
reason and nothing written."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

from federation.signatures import load_private_key, load_public_key
from models import db
from models.actors import Actor, ActorKey, ActorKind, Follow, FollowState
from models.federation import Delivery, OutboxEvent
from models.instance import Instance
from models.media import Media
from models.services import media as media_service
from models.services import posts as post_service
from server import backup
from tests import factories
from tests.conftest import POSTGRES_URL, TEST_DOMAIN
from tests.integration.test_web_media import png

CIRCLES = Path(sys.executable).with_name("circles")
KINDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


async def new_database(kind: str, make_database, tmp_path: Path, name: str) -> str:
    """A new database: an SQLite file not yet created, or an empty migrated PostgreSQL one."""
    if kind == "sqlite":
        return f"sqlite://{tmp_path / f'{name}.sqlite3'}"
    return await make_database(name)


@pytest.fixture(autouse=True)
def fresh_statement_cache():
    """Later tests in this process run on the suite's own database: leave
    them no statement cached for the other dialect (see `connect`)."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    yield
    EXECUTOR_CACHE.clear()


async def connect(url: str) -> None:
    """Connect the ORM to `url`. Tortoise caches insert statements per
    connection name and table, whatever the dialect: this test switches
    between SQLite and PostgreSQL in one process, so the cache is emptied."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await db.connect(url)


def settings_for(settings, url: str, folder: Path, secret: str = ""):
    return replace(settings, database_url=url, data_dir=str(folder / "data"),
                   media_dir=str(folder / "data" / "media"), secret_key=secret)


async def build_instance(settings) -> dict:
    """A small but realistic instance, through the real services where there are some."""
    instance = Instance(domain=settings.domain, scheme=settings.scheme)
    alice = await factories.account(instance, "alice", is_admin=True)
    bob = await factories.account(instance, "bob")
    readers = await factories.circle(instance, alice, "readers", purpose="We read together: “ünïcode”")
    await factories.member(readers, bob)
    image = await media_service.prepare_upload(png(), "A green square")
    post = await post_service.create_post(
        instance, alice.actor, readers, body="A post with a picture", title="Board", image=image,
        media_store=media_service.MediaStore(Path(settings.media_dir)))
    await post_service.reply(instance, bob.actor, post, body="A reply")
    file_name = (await Media.get(post=post)).file_name
    remote = await Actor.create(
        uri="https://remote.example/users/rita", kind=ActorKind.PERSON, local=False, username="rita",
        domain="remote.example", inbox_url="https://remote.example/users/rita/inbox",
        fetched_at=dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
    )
    await Follow.create(follower=remote, target=readers.actor, state=FollowState.ACCEPTED)
    event = await OutboxEvent.create(kind="post.created", subject_id=post.id, data={"nested": [1, "two", None]})
    await Delivery.create(
        event=event, activity_id=f"{settings.base_url}/activities/1", signer=readers.actor,
        inbox_url=remote.inbox_url, host="remote.example", payload={"type": "Create", "n": 1},
        next_attempt_at=dt.datetime(2026, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
    )
    return {"post": post, "file_name": file_name}


async def snapshot() -> dict[str, list[dict]]:
    """Every row of every table, by primary key."""
    rows = {}
    for model in backup.models_in_dependency_order():
        rows[model._meta.db_table] = await model.all().order_by(model._meta.pk_attr).values()
    return rows


def sign_and_verify(private_pem: str, public_pem: str) -> None:
    private, public = load_private_key(private_pem), load_public_key(public_pem)
    data = b"signed after the restore"
    if isinstance(private, ed25519.Ed25519PrivateKey):
        public.verify(private.sign(data), data)
    else:
        public.verify(private.sign(data, padding.PKCS1v15(), hashes.SHA256()), data, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("source_kind", KINDS)
@pytest.mark.parametrize("target_kind", KINDS)
async def test_a_restored_instance_has_every_row_file_and_key(
    source_kind, target_kind, settings, make_database, tmp_path,
):
    source = settings_for(settings, await new_database(source_kind, make_database, tmp_path, "source"),
                          tmp_path / "source", secret="old-server-secret-" + "k" * 40)
    if source_kind == "sqlite":
        await db.migrate(source.database_url)
    await connect(source.database_url)
    try:
        built = await build_instance(source)
        before = await snapshot()
        keys_before = {k.key_id: k.public_pem for k in await ActorKey.all()}
        archive = tmp_path / "instance.tar.gz"
        lines: list[str] = []
        manifest = await backup.backup_instance(source, archive, force=False, progress=lines.append)
    finally:
        await db.disconnect()
    assert "actors: 4 rows" in lines and "posts: 2 rows" in lines and "media folder: 1 file" in lines
    assert manifest["counts"]["deliveries"] == 1 and manifest["migration_head"] == db.migration_names()[-1]
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    target = settings_for(settings, await new_database(target_kind, make_database, tmp_path, "target"),
                          tmp_path / "target")
    lines.clear()
    await backup.restore_instance(target, archive, replace=False, progress=lines.append)
    assert "memberships: 2 rows" in lines or "memberships: 3 rows" in lines, lines

    await connect(target.database_url)
    try:
        assert await snapshot() == before
        for key in await ActorKey.all():
            sign_and_verify(key.private_pem, keys_before[key.key_id]) if key.private_pem else None
        assert {k.key_id for k in await ActorKey.all() if k.private_pem}, "no local keys were restored"
        # New rows get new ids after the explicit ones (PostgreSQL sequences were reset).
        extra = await factories.account(Instance(domain=TEST_DOMAIN, scheme="http"), "carol")
        assert extra.id > max(row["id"] for row in before["accounts"])
        stored = Path(target.media_dir) / built["file_name"]
        assert stored.read_bytes() == (Path(source.media_dir) / built["file_name"]).read_bytes()
        assert Path(target.secret_key_file).read_text().strip() == source.secret_key

        from server.app import create_app

        app = create_app(replace(target, secret_key=source.secret_key), manage_database=False)
        client = app.test_client()
        page = await client.get(f"/posts/{built['post'].id}")
        assert page.status_code == 200
        html = (await page.get_data()).decode()
        assert "A post with a picture" in html and built["file_name"] in html
        served = await client.get(f"/media/{built['file_name']}")
        assert served.status_code == 200 and await served.get_data() == stored.read_bytes()
    finally:
        await db.disconnect()


@pytest.fixture
async def archive_and_source(settings, tmp_path):
    """A backup of a small SQLite instance."""
    source = settings_for(settings, f"sqlite://{tmp_path / 'source.sqlite3'}", tmp_path / "source",
                          secret="old-server-secret-" + "k" * 40)
    await db.migrate(source.database_url)
    await connect(source.database_url)
    try:
        await build_instance(source)
        path = tmp_path / "good.tar.gz"
        await backup.backup_instance(source, path, force=False, progress=lambda _line: None)
    finally:
        await db.disconnect()
    return path, source


def rewritten(path: Path, out: Path, change) -> Path:
    """A copy of the archive at `path` with change(name, bytes) -> bytes | None applied to each member."""
    with tarfile.open(path, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


def edit_manifest(**changes):
    def change(name, data):
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), **changes}).encode()
    return change


def bad_archives(good: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    raw = good.read_bytes()
    (tmp_path / "random.tar.gz").write_bytes(os.urandom(4000))
    (tmp_path / "truncated.tar.gz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "plain.tar.gz").write_bytes(gzip.compress(b"not a tar at all" * 100))

    def extra_row(name, data):
        return data + b'{"id": 99999, "uri": "x"}\n' if name == "tables/actors.jsonl" else data

    def broken_row(name, data):
        return data + b"{not json\n" if name == "tables/posts.jsonl" else data

    def unknown_column(name, data):
        if name != "tables/circles.jsonl":
            return data
        rows = [json.loads(line) for line in data.splitlines()]
        return b"".join(json.dumps({**r, "colour": "red"}).encode() + b"\n" for r in rows)

    return {
        "random bytes": (tmp_path / "random.tar.gz", "not a readable Circles backup"),
        "truncated": (tmp_path / "truncated.tar.gz", "Circles backup"),
        "not a tar": (tmp_path / "plain.tar.gz", "not a readable Circles backup"),
        "missing": (tmp_path / "nothing-here.tar.gz", "there is no file"),
        "no manifest": (rewritten(good, tmp_path / "a.tar.gz", lambda n, d: None if n == "manifest.json" else d),
                        "has no manifest.json"),
        "newer format": (rewritten(good, tmp_path / "b.tar.gz", edit_manifest(format_version=99, software_version="9.0")),
                         "backup format 99, newer than this Circles reads"),
        "newer migration": (rewritten(good, tmp_path / "c.tar.gz", edit_manifest(migration_head="9999_future")),
                            "migration 9999_future, which this Circles does not know"),
        "counts differ": (rewritten(good, tmp_path / "d.tar.gz", extra_row), "table actors has"),
        "broken row": (rewritten(good, tmp_path / "e.tar.gz", broken_row), "tables/posts.jsonl line"),
        "unknown column": (rewritten(good, tmp_path / "f.tar.gz", unknown_column), "colour"),
        "unknown table": (rewritten(good, tmp_path / "g.tar.gz", edit_manifest(
            tables=["old_things"], counts={"old_things": 0})), "table old_things"),
    }


async def test_bad_archives_are_refused_with_a_reason_and_nothing_written(archive_and_source, settings, tmp_path):
    good, _source = archive_and_source
    for case, (path, reason) in bad_archives(good, tmp_path).items():
        folder = tmp_path / "target" / case.replace(" ", "-")
        target = settings_for(settings, f"sqlite://{folder / 'new.sqlite3'}", folder)
        with pytest.raises(backup.BackupError) as refused:
            await backup.restore_instance(target, path, replace=False, progress=lambda _line: None)
        assert reason in str(refused.value), (case, str(refused.value))
        assert not folder.exists(), f"{case}: something was written"


async def test_a_target_with_data_is_refused_unless_replace(archive_and_source, settings, make_database, tmp_path):
    good, _source = archive_and_source
    url = await new_database(KINDS[-1], make_database, tmp_path, "busy")
    target = settings_for(settings, url, tmp_path / "busy")
    await backup.restore_instance(target, good, replace=False, progress=lambda _line: None)
    await connect(url)
    try:
        await Actor.filter(username="alice").update(display_name="Changed after the restore")
        before = await snapshot()
    finally:
        await db.disconnect()
    media_before = sorted(p.read_bytes() for p in backup.media_files(Path(target.media_dir)))

    with pytest.raises(backup.BackupError) as refused:
        await backup.restore_instance(target, good, replace=False, progress=lambda _line: None)
    assert "already holds" in str(refused.value) and "--replace" in str(refused.value)
    Path(target.media_dir, "stray.png").unlink(missing_ok=True)
    for path in backup.media_files(Path(target.media_dir)):
        path.rename(tmp_path / path.name)  # media empty: now the database alone must refuse
    with pytest.raises(backup.BackupError) as refused:
        await backup.restore_instance(target, good, replace=False, progress=lambda _line: None)
    assert "the database already holds data" in str(refused.value) and "new one" in str(refused.value)
    await connect(url)
    try:
        assert await snapshot() == before
    finally:
        await db.disconnect()

    await backup.restore_instance(target, good, replace=True, progress=lambda _line: None)
    await connect(url)
    try:
        assert (await Actor.get(username="alice")).display_name != "Changed after the restore"
        assert await Media.all().count() == 1
    finally:
        await db.disconnect()
    assert sorted(p.read_bytes() for p in backup.media_files(Path(target.media_dir))) == media_before


async def test_backup_refuses_to_overwrite_or_write_nowhere(settings, database, tmp_path):
    existing = tmp_path / "there.tar.gz"
    existing.write_bytes(b"keep me")
    with pytest.raises(backup.BackupError, match="already exists.*--force"):
        await backup.backup_instance(settings, existing, force=False, progress=lambda _line: None)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(backup.BackupError, match="does not exist"):
        await backup.backup_instance(settings, tmp_path / "no" / "such" / "x.tar.gz", force=False,
                                     progress=lambda _line: None)
    await backup.backup_instance(settings, existing, force=True, progress=lambda _line: None)
    assert tarfile.is_tarfile(existing)
    assert sorted(p.name for p in tmp_path.iterdir() if ".partial" in p.name) == []


def run_cli(args: list[str], folder: Path, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    env.update(CIRCLES_DATABASE_URL=url, CIRCLES_DOMAIN=TEST_DOMAIN, CIRCLES_SCHEME="http",
               CIRCLES_DATA_DIR=str(folder / "data"))
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run([str(CIRCLES), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120)


async def test_the_commands_print_progress_and_move_an_instance(archive_and_source, settings, make_database, tmp_path):
    _good, source = archive_and_source
    archive = tmp_path / "by-cli.tar.gz"
    made = run_cli(["backup", str(archive)], tmp_path / "source", source.database_url)
    assert made.returncode == 0, made.stderr
    assert "  actors: 4 rows" in made.stderr and "  media folder: 1 file\n" in made.stderr
    assert "keep it private" in made.stdout

    again = run_cli(["backup", str(archive)], tmp_path / "source", source.database_url)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr

    url = await new_database(KINDS[-1], make_database, tmp_path, "cli")
    restored = run_cli(["restore", str(archive)], tmp_path / "moved", url)
    assert restored.returncode == 0, restored.stderr
    assert "  posts: 2 rows" in restored.stderr and "Restored" in restored.stdout
    listed = run_cli(["user", "list"], tmp_path / "moved", url)
    assert listed.returncode == 0 and "alice\talice@example.org\tactive admin" in listed.stdout, listed

    refused = run_cli(["restore", str(archive)], tmp_path / "moved", url)
    assert refused.returncode == 1 and "error: the media folder" in refused.stderr
    (tmp_path / "corrupt.tar.gz").write_bytes(b"\x1f\x8b garbage")
    corrupt = run_cli(["restore", str(tmp_path / "corrupt.tar.gz")], tmp_path / "fresh", f"sqlite://{tmp_path / 'fresh.sqlite3'}")
    assert corrupt.returncode == 1 and "not a readable Circles backup" in corrupt.stderr
    assert not (tmp_path / "fresh.sqlite3").exists()
