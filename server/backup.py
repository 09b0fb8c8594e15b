"""`circles backup` / `circles restore`: one portable tar.gz archive of an
instance, and loading it into an empty database.

The archive holds:
  manifest.json          format version, software version, migration head,
                         rows per table, tables in load order, creation time
  tables/<table>.jsonl   every row of every registered model, one JSON object
                         a line, tables in foreign-key dependency order
  media/...              the uploaded media folder
  keys/secret_key        the instance secret key (cookies, tokens); the
                         people's and circles' signing keys are rows (tables)

Rows are read and written through tortoise's own field conversions, so an
archive made on SQLite restores into PostgreSQL and the reverse. The backup
reads inside one transaction (a REPEATABLE READ snapshot on PostgreSQL, one
read transaction on SQLite). A restore checks the whole archive before it
touches anything and loads every row in one transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from tortoise import Tortoise, fields
from tortoise.transactions import in_transaction

from models import db
from server.wording import plural

FORMAT_VERSION = 1
BATCH = 500
Progress = Callable[[str], object]


class BackupError(Exception):
    """A clear, user-facing reason why a backup or restore cannot go on."""


# -- which tables, in which order ---------------------------------------------

def models_in_dependency_order() -> list[Any]:
    """Every registered model, each after the models its foreign keys point to
    (taken from the app registry, so models added later are included)."""
    found = sorted((m for app in Tortoise.apps.values() for m in app.values()),
                   key=lambda m: m._meta.db_table)
    done: list[Any] = []

    def visit(model: Any, path: tuple[Any, ...]) -> None:
        if model in done or model in path:
            return
        for name in sorted(model._meta.fk_fields | model._meta.o2o_fields):
            target = model._meta.fields_map[name].related_model
            if target is not model:
                visit(target, path + (model,))
        done.append(model)

    for model in found:
        if model._meta.m2m_fields:
            raise BackupError(f"{model.__name__} has a many-to-many field, which backups do not cover yet.")
        visit(model, ())
    return done


def _columns(model: Any, conn: Any) -> tuple[Any, list[str]]:
    """The insert executor of `model` and the field names it writes (the
    primary key included), each a column of the table."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    # Its statements are cached by connection name and table, not dialect:
    # prepare them afresh for this connection.
    EXECUTOR_CACHE.pop((conn.connection_name, model._meta.schema, model._meta.db_table), None)
    executor = conn.executor_class(model=model, db=conn)
    return executor, list(executor.regular_columns_all)


# -- values <-> JSON -----------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$seconds": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        match tag:
            case "$datetime":
                return dt.datetime.fromisoformat(raw)
            case "$date":
                return dt.date.fromisoformat(raw)
            case "$time":
                return dt.time.fromisoformat(raw)
            case "$seconds":
                return dt.timedelta(seconds=raw)
            case "$decimal":
                return decimal.Decimal(raw)
            case "$uuid":
                return uuid.UUID(raw)
            case "$bytes":
                return base64.b64decode(raw)
    return value


def _row_out(model: Any, names: list[str], instance: Any) -> dict[str, Any]:
    row = {}
    for name in names:
        value = getattr(instance, name)
        if isinstance(model._meta.fields_map[name], fields.JSONField):
            row[name] = value  # already plain JSON data; kept untagged
        else:
            row[name] = _encode(value)
    return row


def _row_in(model: Any, names: list[str], row: dict[str, Any]) -> list[Any]:
    """The values tortoise would send for this row (the model class, not an
    instance, is passed so auto_now fields keep the archived time)."""
    values = []
    for name in names:
        field = model._meta.fields_map[name]
        if name in row:
            raw = row[name]
            value = raw if isinstance(field, fields.JSONField) else _decode(raw)
            if value is not None and not isinstance(field, fields.JSONField):
                value = field.to_python_value(value)
        else:  # a column added by a later migration than the archive's
            default = field.default
            value = default() if callable(default) else default
        values.append(field.to_db_value(value, model))
    return values


# -- backup --------------------------------------------------------------------

async def backup(target: Path, *, media_dir: Path, secret_key: str, software_version: str,
                 migration_head: str, force: bool = False,
                 progress: Progress = lambda _m: None) -> dict[str, Any]:
    """Write the archive to `target` (through a temporary file beside it, so
    a failed backup leaves no half archive); return the manifest."""
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name such as {target / 'circles-backup.tar.gz'}.")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; choose another name or pass --force to overwrite it.")
    if not target.parent.is_dir():
        raise BackupError(f"cannot write {target}: the folder {target.parent} does not exist.")
    try:
        fd, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as error:
        raise BackupError(f"cannot write in {target.parent} ({error.strerror}).") from error
    partial = Path(partial_name)
    counts: dict[str, int] = {}
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            async with in_transaction() as conn:
                if conn.capabilities.dialect == "postgres":
                    await conn.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                for model in models_in_dependency_order():
                    table = model._meta.db_table
                    counts[table] = await _dump_table(tar, model, conn)
                    progress(f"{table}: {plural(counts[table], 'row')}")
            files = _add_media(tar, media_dir)
            progress(f"media folder: {plural(files, 'file')}")
            _add_bytes(tar, "keys/secret_key", (secret_key + "\n").encode())
            progress("keys: instance secret key (signing keys are in the tables)")
            manifest = {
                "format_version": FORMAT_VERSION,
                "software_version": software_version,
                "migration_head": migration_head,
                "tables": list(counts),
                "counts": counts,
                "media_files": files,
                "created": dt.datetime.now(dt.UTC).isoformat(),
            }
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
        os.chmod(partial, 0o600)  # it holds the secret key and private keys
        partial.replace(target)
    except OSError as error:
        raise BackupError(f"cannot write {target} ({error.strerror or error}).") from error
    finally:
        partial.unlink(missing_ok=True)
    return manifest


async def _dump_table(tar: tarfile.TarFile, model: Any, conn: Any) -> int:
    _executor, names = _columns(model, conn)
    pk = model._meta.pk_attr
    body = io.BytesIO()
    count, last = 0, None
    while True:
        query = model.all().using_db(conn).order_by(pk).limit(BATCH)
        if last is not None:
            query = query.filter(**{f"{pk}__gt": last})
        batch = await query
        for instance in batch:
            body.write(json.dumps(_row_out(model, names, instance), ensure_ascii=False).encode() + b"\n")
        count += len(batch)
        if len(batch) < BATCH:
            break
        last = getattr(batch[-1], pk)
    _add_bytes(tar, f"tables/{model._meta.db_table}.jsonl", body.getvalue())
    return count


def _add_media(tar: tarfile.TarFile, media_dir: Path) -> int:
    count = 0
    if not media_dir.is_dir():
        return 0
    for path in sorted(media_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            tar.add(path, arcname=f"media/{path.relative_to(media_dir).as_posix()}", recursive=False)
            count += 1
    return count


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


# -- reading an archive --------------------------------------------------------

class Archive:
    """A checked archive: manifest, rows per table, media members, secret key."""

    def __init__(self, path: Path, known_migrations: list[str]) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:gz")
            self._members = {m.name: m for m in self._tar.getmembers()}
        except FileNotFoundError as error:
            raise BackupError(f"there is no file {path}.") from error
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BackupError(f"{path} is not a readable Circles backup (a tar.gz archive): {error}.") from error
        self.manifest = self._manifest(known_migrations)
        self.secret_key = self._read("keys/secret_key").decode().strip()
        self.media = [m for name, m in self._members.items() if name.startswith("media/")]
        for member in self.media:
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or ".." in parts or member.name.startswith("/"):
                raise BackupError(f"{path} holds an unsafe media entry {member.name!r}; it was not made by `circles backup`.")

    def close(self) -> None:
        self._tar.close()

    def _read(self, name: str) -> bytes:
        member = self._members.get(name)
        if member is None or not member.isfile():
            raise BackupError(f"{self.path} has no {name}: it is not a complete Circles backup.")
        try:
            handle = self._tar.extractfile(member)
            assert handle is not None
            return handle.read()
        except (tarfile.TarError, OSError, EOFError, ValueError) as error:
            raise BackupError(f"{self.path} is damaged ({name}: {error}).") from error

    def _manifest(self, known_migrations: list[str]) -> dict[str, Any]:
        try:
            manifest = json.loads(self._read("manifest.json"))
            version = manifest["format_version"]
            head = manifest["migration_head"]
            counts = manifest["counts"]
            tables = manifest["tables"]
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(f"{self.path} has an unreadable manifest.json ({error}).") from error
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BackupError(
                f"{self.path} is in backup format {version}, newer than this Circles reads ({FORMAT_VERSION}). "
                f"Restore it with Circles {manifest.get('software_version', '(newer)')} or later.")
        if head not in known_migrations:
            raise BackupError(
                f"{self.path} was made by a database at migration {head}, which this Circles does not know "
                f"(it knows up to {known_migrations[-1]}). Upgrade Circles to "
                f"{manifest.get('software_version', 'the version that made it')} or later, then restore.")
        if not isinstance(counts, dict) or not isinstance(tables, list) or set(tables) != set(counts):
            raise BackupError(f"{self.path} has an inconsistent manifest.json (tables and counts differ).")
        return manifest

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        for number, line in enumerate(self._read(f"tables/{table}.jsonl").splitlines(), 1):
            try:
                row = json.loads(line)
            except ValueError as error:
                raise BackupError(f"{self.path} is damaged: tables/{table}.jsonl line {number} ({error}).") from error
            if not isinstance(row, dict):
                raise BackupError(f"{self.path} is damaged: tables/{table}.jsonl line {number} is not a row.")
            yield row

    def check(self, models: list[Any]) -> None:
        """Read every table once: each must parse, hold the rows the manifest
        counts, and belong to (and name only fields of) a model of this Circles."""
        by_table = {m._meta.db_table: m for m in models}
        for table in self.manifest["tables"]:
            model = by_table.get(table)
            if model is None:
                raise BackupError(f"{self.path} has a table {table} that this Circles does not know; "
                                  "restore it with the Circles version that made it.")
            known = set(model._meta.fields_db_projection)
            count = 0
            for row in self.rows(table):
                unknown = set(row) - known
                if unknown:
                    raise BackupError(f"{self.path}: table {table} has columns this Circles does not know "
                                      f"({', '.join(sorted(unknown))}).")
                count += 1
            if count != self.manifest["counts"][table]:
                raise BackupError(f"{self.path} is damaged: table {table} has {count} rows, "
                                  f"the manifest says {self.manifest['counts'][table]}.")

    def extract_media(self, into: Path) -> None:
        for member in self.media:
            handle = self._tar.extractfile(member)
            assert handle is not None
            path = into / PurePosixPath(member.name).relative_to("media")
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                shutil.copyfileobj(handle, out)


# -- restore -------------------------------------------------------------------

async def rows_present() -> dict[str, int]:
    """Tables of the connected database that hold rows, with their counts."""
    found = {}
    for model in models_in_dependency_order():
        count = await model.all().count()
        if count:
            found[model._meta.db_table] = count
    return found


async def load(archive: Archive, progress: Progress = lambda _m: None, *, delete_first: bool = False) -> dict[str, int]:
    """Insert every archived row in one transaction (the database must be
    migrated and empty, or `delete_first` empties it in that same
    transaction), reset PostgreSQL sequences, verify the counts."""
    models = models_in_dependency_order()
    by_table = {m._meta.db_table: m for m in models}
    loaded: dict[str, int] = {}
    async with in_transaction() as conn:
        postgres = conn.capabilities.dialect == "postgres"
        if delete_first:
            for model in reversed(models):
                await model.all().using_db(conn).delete()
            progress("replace: deleting the rows that were there (kept if the restore fails)")
        for model in models:
            table = model._meta.db_table
            if table not in archive.manifest["counts"]:
                continue  # a model newer than the archive: nothing to load
            executor, names = _columns(model, conn)
            batch: list[list[Any]] = []
            count = 0
            for row in archive.rows(table):
                batch.append(_row_in(model, names, row))
                if len(batch) >= BATCH:
                    await conn.execute_many(executor.insert_query_all, batch)
                    count += len(batch)
                    batch = []
            if batch:
                await conn.execute_many(executor.insert_query_all, batch)
                count += len(batch)
            if postgres:
                await _reset_sequence(conn, model)
            loaded[table] = count
            progress(f"{table}: {plural(count, 'row')}")
        for table, expected in archive.manifest["counts"].items():
            actual = await by_table[table].all().using_db(conn).count()
            if actual != expected:
                raise BackupError(f"table {table} holds {actual} rows after the restore, the archive {expected}; "
                                  "nothing was kept.")
    return loaded


async def _reset_sequence(conn: Any, model: Any) -> None:
    """After rows with explicit ids, the next generated id must follow the largest."""
    pk = model._meta.pk
    if not pk.generated:
        return
    table, column = model._meta.db_table, model._meta.db_pk_column
    await conn.execute_query(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
        f"COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 1), "
        f"(SELECT MAX(\"{column}\") FROM \"{table}\") IS NOT NULL)"
    )


def restore_media(archive: Archive, media_dir: Path) -> int:
    """Put the archived media into `media_dir` (which must hold no files):
    extracted beside it first, then moved in."""
    media_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_dir.parent))
    try:
        archive.extract_media(staging)
        for child in staging.iterdir():
            os.replace(child, media_dir / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(archive.media)


def media_files(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file()] if media_dir.is_dir() else []


def write_secret_key(path: Path, key: str) -> None:
    """Store the archived secret key (mode 0600), replacing any generated one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    os.replace(partial, path)


# -- the two commands, without their command-line wrapping -----------------------

async def backup_instance(settings: Any, target: Path, *, force: bool, progress: Progress) -> dict[str, Any]:
    """Back up the instance `settings` describe; the ORM must be connected to its (migrated) database."""
    from federation.routes import software_version

    return await backup(
        target, media_dir=Path(settings.media_dir), secret_key=settings.secret_key,
        software_version=software_version(), migration_head=db.migration_names()[-1],
        force=force, progress=progress,
    )


async def restore_instance(settings: Any, source: Path, *, replace: bool, progress: Progress) -> dict[str, Any]:
    """Restore `source` into the database and media folder `settings` describe.
    The archive is checked whole before anything is written; the database is
    migrated if it is new, then must hold no rows (unless `replace`, which
    deletes them in the same transaction as the load)."""
    migrations = db.migration_names()
    archive = Archive(source, migrations)
    try:
        config = db.tortoise_config(settings.database_url)
        await Tortoise.init(config=config, init_connections=False)  # the registry, for the check
        try:
            archive.check(models_in_dependency_order())
        finally:
            await Tortoise.close_connections()
        progress(f"archive: {source} is complete (made {archive.manifest['created']}, "
                 f"Circles {archive.manifest['software_version']}, {sum(archive.manifest['counts'].values())} rows)")

        media_dir = Path(settings.media_dir)
        if media_files(media_dir) and not replace:
            raise BackupError(f"the media folder {media_dir} already holds files. Restore into a new instance "
                              "(another data_dir / media_dir), or pass --replace to delete them.")
        pending = await db.pending_migrations(settings.database_url)
        if pending and len(pending) < len(migrations):
            raise BackupError(f"the database needs {len(pending)} migration(s): run `circles migrate` first, "
                              "or restore into a new, empty database.")
        if pending:
            progress(f"migrations: applying {plural(len(pending), 'migration')}")
            await db.migrate(settings.database_url)
        await db.connect(settings.database_url)
        try:
            present = await rows_present()
            if present and not replace:
                tables = ", ".join(f"{t} ({n})" for t, n in list(present.items())[:5])
                raise BackupError(
                    f"the database already holds data ({tables}{', …' if len(present) > 5 else ''}). "
                    "A restore needs an empty database: point CIRCLES_DATABASE_URL (or database_url) at a new "
                    "one, or pass --replace to delete everything in this one first.")
            await load(archive, progress, delete_first=bool(present))
        finally:
            await db.disconnect()

        if replace:
            for path in media_files(media_dir):
                path.unlink()
        files = restore_media(archive, media_dir)
        progress(f"media folder: {plural(files, 'file')}")
        if archive.secret_key:
            key_file = Path(settings.secret_key_file)
            in_file = key_file.read_text().strip() if key_file.is_file() else ""
            write_secret_key(key_file, archive.secret_key)
            progress(f"keys: secret key written to {key_file}")
            if settings.secret_key and settings.secret_key != in_file and settings.secret_key != archive.secret_key:
                progress("warning: your settings set secret_key (or CIRCLES_SECRET_KEY) to another value, which "
                         f"wins over {key_file}: unset it, or set it to the old server's, or sign-ins and links "
                         "made by the old server stop working")
        return archive.manifest
    finally:
        archive.close()

