"""`circles`: serve, migrate and administer an instance from the shell.

Errors are one line on stderr and a non-zero exit: 2 for configuration or
usage, 1 for a refused action.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import logging
import shlex
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from models import clock, db
from models.accounts import AccountState
from models.services import accounts as account_service
from models.services import circles as circle_service
from server import logs
from server.cli_support import (
    fail,
    instance_of,
    require_instance,
    require_reachable,
    secret_or_exit,
    settings_or_exit,
    settings_origin,
    this_command,
    with_database,
)
from server.wording import plural
from server.config import (
    DEFAULT_CONFIG_FILE,
    LOCAL_ADDRESS,
    ConfigError,
    Settings,
    bind_is_valid,
    config_file_in_use,
    config_file_path,
    local_config_text,
    prepare_storage,
    read_config_file,
    settings_from_environment,
    write_new_file,
)


@click.group()
def main() -> None:
    """Circles: self-governed learning circles on the fediverse."""


@main.command("check-config")
def check_config() -> None:
    """Print the effective configuration (secrets hidden)."""
    settings = settings_or_exit(create_secret=False)
    for name, value in settings.public_view().items():
        click.echo(f"{name} = {value}")
    path = config_file_in_use()
    click.echo(f"config_file = {path if path else f'(none: no CIRCLES_CONFIG and no ./{DEFAULT_CONFIG_FILE})'}")
    click.echo(f"set_in_environment = {', '.join(settings_from_environment()) or '(none)'}")


@main.command("init-config")
@click.option("--address", default=None, metavar="HOST:PORT",
              help=f"Where to listen, and the domain in handles and ids (default {LOCAL_ADDRESS}).")
@click.option("--keep-existing", is_flag=True, help="Leave an existing file as it is (what `make run` does).")
def init_config(address: str | None, keep_existing: bool) -> None:
    """Write circles.toml (or CIRCLES_CONFIG) for an instance on this machine."""
    path = config_file_path()
    if path.exists():
        if not keep_existing:
            fail(f"{path} already exists: edit it, or delete it to start over.")
        try:
            current = read_config_file(path)
        except ConfigError as error:
            fail(f"configuration: {error}", 2)
        domain, bind = current.get("domain", Settings.domain), current.get("bind", Settings.bind)
        if address is not None and (str(domain).lower(), bind) != (address.lower(), address):
            fail(f"{path} already says domain = {domain} and bind = {bind}: to serve on {address}, "
                 "edit them there (only before creating accounts: the domain is part of every id).")
        click.echo(f"Using the settings in {path}.")
        return
    try:
        text = local_config_text(address or LOCAL_ADDRESS)
    except ConfigError:
        fail(f"--address: “{address}” is not host:port with a host name. Use an address such as {LOCAL_ADDRESS}.", 2)
    try:
        write_new_file(path, text)
    except FileExistsError:
        fail(f"{path} already exists: edit it, or delete it to start over.")
    except OSError as error:
        fail(f"cannot write {path} ({error.strerror}).", 2)
    click.echo(f"Wrote {path}: serve on http://{address or LOCAL_ADDRESS}, data in ./data/. "
               "Every `circles` command run in this folder reads it.")


@main.command()
@click.option("--check", is_flag=True,
              help="Apply nothing: exit 0 if no migration is pending, 1 listing those that are.")
def migrate(check: bool) -> None:
    """Apply database migrations (safe to run again)."""
    if check:
        from server import status as instance_status

        instance_status.migrate_check_command()
        return
    settings = settings_or_exit()
    prepare_storage(settings)
    if settings.sqlite_file is not None and not settings.sqlite_file.exists():
        click.echo(f"New database {settings.sqlite_file} for {settings.base_url} (settings: {settings_origin()}).")

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_start":
            click.echo(f"  applying {name} …", nl=False)
        elif event == "apply_done":
            click.echo(" done")

    async def run() -> None:
        await require_reachable(settings)
        pending = await db.pending_migrations(settings.database_url)
        if not pending:
            click.echo("Database is up to date.")
            return
        click.echo(f"Applying {plural(len(pending), 'migration')}:")
        await db.migrate(settings.database_url, progress=progress)
        click.echo("Database is up to date.")

    try:
        asyncio.run(run())
    except OSError as error:
        fail(f"cannot reach the database ({error}). Check CIRCLES_DATABASE_URL.", 2)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts and monitoring.")
def status(as_json: bool) -> None:
    """Show versions, migrations, queues and failing hosts."""
    from server import status as instance_status

    instance_status.status_command(as_json)


@main.command()
@click.option("--name", default=None, help="A name for the new migration file.")
def makemigrations(name: str | None) -> None:
    """(Developers) write a migration for model changes into models/migrations/."""
    from tortoise.cli.cli import CLIContext
    from tortoise.cli.cli import makemigrations as tortoise_makemigrations

    with tempfile.TemporaryDirectory() as folder:
        config_file = Path(folder) / "tortoise.json"
        config_file.write_text(json.dumps(db.tortoise_config("sqlite://:memory:")))
        asyncio.run(tortoise_makemigrations(CLIContext(config=None, config_file=str(config_file)), (), False, name))


@main.command()
@click.option("--bind", default=None, help="host:port to listen on (default: CIRCLES_BIND).")
def serve(bind: str | None) -> None:
    """Run the web server."""
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    from server.app import create_app, until_signalled
    from server.proxy import behind_proxies

    settings = settings_or_exit(create_secret=False)
    if bind is not None and not bind_is_valid(bind):
        fail(f"--bind: “{bind}” is not host:port. Use an address such as 127.0.0.1:8000.", 2)
    logs.configure(settings.log_level, settings.log_format)
    asyncio.run(require_instance(settings))
    settings = secret_or_exit(settings)
    prepare_storage(settings)
    config = Config()
    config.bind = [bind or settings.bind]
    # JSON: access lines through our handler too (each with its X-Request-Id), one format on stderr.
    config.accesslog = logging.getLogger(logs.ACCESS_LOGGER) if settings.log_format == "json" else "-"
    # Our logger, not a stream: hypercorn would add a handler of its own and each line would print twice.
    config.errorlog = logging.getLogger("hypercorn.error")
    app = create_app(settings)
    served = behind_proxies(app, settings.trusted_proxies, settings.trusted_proxy_addresses)
    address = bind or settings.bind
    click.echo(f"Circles is serving {settings.base_url} on http://{address}")
    click.echo(f"Settings: {settings_origin()}.")
    command = this_command()
    click.echo("First time? In another shell, create the first admin and a circle:")
    click.echo(f"  cd {shlex.quote(str(Path.cwd()))}")
    environment = settings_from_environment()
    if environment:
        click.echo(f"  # and set {', '.join(environment)} as in this shell")
    click.echo(f"  {command} user create NAME --email YOU@EXAMPLE.ORG --admin")
    click.echo(f'  {command} circle create HANDLE --name "A name" --owner NAME')
    async def run() -> None:
        try:
            await hypercorn_serve(served, config, shutdown_trigger=functools.partial(until_signalled, app))
        finally:
            # If binding fails, hypercorn has started the app but never stops
            # it: the worker and an open SQLite connection's thread would keep
            # the process alive. Stopping is idempotent.
            await app.shutdown()

    try:
        asyncio.run(run())
    except OSError as error:  # from binding the socket: in use, not ours, or no such host
        if error.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES) and not isinstance(
            error, socket.gaierror
        ):
            raise
        fail(f"cannot listen on {address} ({error.strerror}). "
             "Choose another address with --bind or CIRCLES_BIND.", 2)


@main.command("worker")
@click.option("--concurrency", default=1, show_default=True, metavar="N",
              help="Received activities processed, and delivery passes run, at once in this process.")
def worker_command(concurrency: int) -> None:
    """Run a federation and email worker alone (with CIRCLES_RUN_WORKER=false on the web processes)."""
    from server import worker
    from server.app import create_app

    if not 1 <= concurrency <= worker.MAX_SLOTS:
        fail(f"--concurrency: {concurrency} is out of range. Use 1 to {worker.MAX_SLOTS} (each slot may hold a "
             "database connection: keep it within the pool, ?maxsize= in CIRCLES_DATABASE_URL).", 2)
    settings = settings_or_exit(create_secret=False)
    logs.configure(settings.log_level, settings.log_format)
    if settings.email_enabled and not settings.secret_key:
        fail("the worker signs the unsubscribe links of the email it sends with the web's secret key, and finds "
             f"none. Set CIRCLES_SECRET_KEY as for `circles serve`, or give it {settings.secret_key_file}.", 2)

    async def run() -> None:
        await require_instance(settings)
        prepare_storage(settings)
        await db.connect(settings.database_url)
        # The app is never served: it writes the email (templates, translations, links).
        app = create_app(settings, manage_database=False)
        fed, postman = app.extensions["circles.federation"], app.extensions["circles.postman"]
        hub, wake = app.extensions["circles.live"], asyncio.Event()
        await hub.start()  # on PostgreSQL, hears the web processes' new work (worker.wake_on_work)
        waker = asyncio.create_task(worker.wake_on_work(hub, wake))
        click.echo(f"Circles worker for {settings.base_url} started ({plural(concurrency, 'slot')}).")
        try:
            await worker.run_forever(fed, wake, postman, slots=concurrency)
        finally:
            await hub.stop()
            await waker
            await fed.close()
            await db.disconnect()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@main.group()
def user() -> None:
    """Manage local accounts."""


@user.command("create")
@click.argument("username")
@click.option("--email", required=True, help="The account's email address.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--admin", is_flag=True, help="Make the account an instance admin.")
def user_create(username: str, email: str, password_stdin: bool, admin: bool) -> None:
    """Create an active account (whatever the registration mode)."""

    @with_database
    async def run(settings: Settings) -> None:
        # Asked once the instance is known to be the right one, not before a refusal.
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            fail("no password: pass --password-stdin and write it to stdin.", 2)
        account = await account_service.create_account(
            instance_of(settings), username=username, email=email, password=password, is_admin=admin
        )
        role = "admin" if admin else "user"
        click.echo(f"Created {role} @{account.actor.username}@{settings.domain}.")

    run()


@user.command("list")
def user_list() -> None:
    """List local accounts."""

    @with_database
    async def run(settings: Settings) -> None:
        offset = 0
        while batch := await account_service.list_accounts(offset=offset, limit=500):
            for account in batch:
                flags = " admin" if account.is_admin else ""
                click.echo(f"{account.actor.username}\t{account.email}\t{account.state.value}{flags}")
            offset += len(batch)
        if offset == 0:
            click.echo("No accounts yet.")

    run()


@user.command("reset-password")
@click.argument("username")
def user_reset_password(username: str) -> None:
    """Print a single-use link that sets a new password (for someone locked out, admins included)."""

    @with_database
    async def run(settings: Settings) -> None:
        account = await account_service.get_by_username(username)
        token = await account_service.create_password_reset(account, by=None)
        hours = int(account_service.RESET_VALID.total_seconds() // 3600)
        until = (clock.now() + account_service.RESET_VALID).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(instance_of(settings).password_reset_url(token))
        click.echo(f"Give it to @{username} only. It works once, for {plural(hours, 'hour')} (until {until}); "
                   "earlier links stop working.", err=True)

    run()


# The command's first name, kept for scripts.
user.add_command(click.Command("password-link", callback=user_reset_password.callback,
                               params=user_reset_password.params, hidden=True, help="Same as reset-password."))


def _state_command(name: str, state: AccountState, help_text: str) -> None:
    @user.command(name, help=help_text)
    @click.argument("username")
    def command(username: str) -> None:
        @with_database
        async def run(settings: Settings) -> None:
            account = await account_service.get_by_username(username)
            await account_service.set_state(account, state)
            click.echo(f"@{username} is now {state.value}.")

        run()


_state_command("disable", AccountState.DISABLED, "Disable an account: its owner can no longer log in.")
_state_command("enable", AccountState.ACTIVE, "Re-enable a disabled account.")
_state_command("approve", AccountState.ACTIVE, "Approve a pending account (someone who applied to join).")


@main.group()
def keys() -> None:
    """Signing keys of local people and circles."""


@keys.command("rotate")
@click.argument("handle")
def keys_rotate(handle: str) -> None:
    """Replace HANDLE's keys and tell the servers that follow it."""
    from models.services import actors as actor_service

    @with_database
    async def run(settings: Settings) -> None:
        actor = await actor_service.local_by_username(handle, settings.domain)
        if actor is None:
            fail(f"no local person or circle named “{handle}”.")
        created = await actor_service.rotate_keys(actor)
        for key in created:
            click.echo(f"New {key.algorithm.value} key: {key.key_id}")

    run()


@main.group()
def invite() -> None:
    """Invite codes for sign-up."""


@invite.command("create")
@click.option("--uses", default=1, show_default=True, help="How many sign-ups the code allows.")
@click.option("--days", default=7, show_default=True, help="How long the code stays valid.")
def invite_create(uses: int, days: int) -> None:
    """Print a sign-up link with a new invite code."""

    @with_database
    async def run(settings: Settings) -> None:
        code = await account_service.create_invite(None, max_uses=uses, valid_days=days)
        click.echo(f"{settings.base_url}/signup?invite={code.code}")

    run()


@main.group()
def circle() -> None:
    """Manage circles."""


@circle.command("create")
@click.argument("handle")
@click.option("--name", required=True, help="The circle's name, as people see it.")
@click.option("--owner", required=True, help="Username of the first facilitator.")
@click.option("--join", "join_mode", default="open", show_default=True, type=click.Choice(["open", "approval", "invite"]))
@click.option("--purpose", default="", help="What the circle is for, in a sentence or two (Markdown).")
def circle_create(handle: str, name: str, owner: str, join_mode: str, purpose: str) -> None:
    """Create the circle HANDLE, with the --owner account as its first facilitator."""

    @with_database
    async def run(settings: Settings) -> None:
        account = await account_service.get_by_username(owner)
        new = await circle_service.create_circle(
            instance_of(settings), account, handle=handle, name=name, join_mode=join_mode, purpose=purpose
        )
        click.echo(f"Created circle @{new.handle}@{settings.domain} ({new.join_mode.value}).")

    run()


@circle.command("list")
def circle_list() -> None:
    """List local circles: handle, name, join mode, members."""

    @with_database
    async def run(settings: Settings) -> None:
        offset = 0
        while batch := await circle_service.list_circles(offset=offset, limit=500):
            for c in batch:
                click.echo(f"{c.handle}\t{c.name}\t{c.join_mode.value}\t{plural(c.member_count, 'member')}")
            offset += len(batch)
        if offset == 0:
            click.echo("No circles yet.")

    run()


@main.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup_command(file: Path, force: bool) -> None:
    """Write the whole instance (rows, media, keys) to FILE, a .tar.gz archive."""
    from server import backup

    @with_database
    async def run(settings: Settings) -> None:
        try:
            manifest = await backup.backup_instance(settings, file, force=force,
                                                    progress=lambda line: click.echo(f"  {line}", err=True))
        except backup.BackupError as error:
            fail(str(error))
        click.echo(f"Backed up {_archive_size(manifest)} "
                   f"to {file}. It holds the instance's keys: keep it private.")

    run()


def _archive_size(manifest: dict[str, Any]) -> str:
    rows = plural(sum(manifest["counts"].values()), "row")
    return f"{rows} and {plural(manifest['media_files'], 'media file')}"


@main.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Delete the rows and media already there first.")
def restore_command(file: Path, replace: bool) -> None:
    """Restore a `circles backup` archive into this (empty) instance."""
    from server import backup

    settings = settings_or_exit(create_secret=False)
    prepare_storage(settings)

    async def run() -> dict[str, Any]:
        return await backup.restore_instance(settings, file, replace=replace,
                                             progress=lambda line: click.echo(f"  {line}", err=True))

    try:
        manifest = asyncio.run(run())
    except backup.BackupError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot reach the database ({error}). Check CIRCLES_DATABASE_URL.", 2)
    click.echo(f"Restored {_archive_size(manifest)} "
               f"from {file} into {settings.public_view()['database_url']}.")
