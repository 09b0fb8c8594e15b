"""Configuration: the only module that reads the environment.

Settings come from `CIRCLES_*` environment variables over an optional TOML
file (`CIRCLES_CONFIG`, else ./circles.toml when present), over defaults.
Invalid values stop start-up with a ConfigError naming the setting and the fix.

`make run` writes that file once (`circles init-config`, local_config_text) so
the server and every later `circles` command in the folder read the same
domain, scheme and data directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from federation.addresses import AddressPolicy
from models.accounts import RegistrationMode
from server import proxy

ENV_PREFIX = "CIRCLES_"
DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?")
BIND_RE = re.compile(r"(?P<host>\[[0-9a-fA-F:]+\]|[^:\s]+):(?P<port>\d{1,5})")
SECRET_MIN = 32
DEFAULT_CONFIG_FILE = "circles.toml"
# Where `make run` serves a new instance (README: "The two commands").
LOCAL_ADDRESS = "127.0.0.1:8000"
LEAD_RE = re.compile(r"(?P<n>\d{1,5})\s*(?P<unit>[dhm])")
LEAD_UNITS = {"d": 24 * 60, "h": 60, "m": 1}
LEAD_MAX_MINUTES = 7 * 24 * 60  # a week
LEADS_MAX = 5
LOG_FORMATS = ("text", "json")
METRICS_TOKEN_MIN = 16
METRICS_TOKEN_RE = re.compile(r"[A-Za-z0-9_\-.~+/=]{%d,512}" % METRICS_TOKEN_MIN)
# prometheus_client's own variable: a folder where every process writes its
# counters, so that one /metrics adds them up (web/observe.py).
PROMETHEUS_MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    def __init__(self, setting: str, problem: str, fix: str) -> None:
        super().__init__(f"{ENV_PREFIX}{setting.upper()}: {problem} Fix: {fix}")
        self.setting = setting


@dataclass(frozen=True)
class Settings:
    domain: str = "localhost:8000"
    scheme: str = "https"
    bind: str = "127.0.0.1:8000"
    data_dir: str = "data"
    database_url: str = ""  # empty means SQLite in data_dir
    secret_key: str = field(default="", repr=False)  # empty means read or create data_dir/secret_key
    registration: str = RegistrationMode.OPEN.value
    media_dir: str = ""  # empty means data_dir/media
    # Loopback, private and link-local addresses the server may fetch from and
    # deliver to: none, a list of address:port, or all (development only).
    allow_private_addresses: AddressPolicy = AddressPolicy()
    run_worker: bool = True  # run the federation worker inside `circles serve`
    # Reverse proxies in front of `circles serve` whose X-Forwarded-For to trust
    # (1 behind nginx): the client's address then drives per-address login limits.
    trusted_proxies: int = 0
    # The addresses (or networks) those proxies connect from: forwarded headers
    # on any other connection are ignored (server/proxy.py).
    trusted_proxy_addresses: str = "127.0.0.1,::1"
    log_level: str = "INFO"
    # How log lines are written: "text" (for people) or "json" (one object a
    # line: time, level, logger, message, request_id; for a log collector).
    log_format: str = "text"
    # The bearer token Prometheus sends to GET /metrics; empty: /metrics is off (404).
    metrics_token: str = field(default="", repr=False)
    # Per-account, per-address and per-host rate limits (models/services/ratelimits.py).
    # Off only for benchmarks, or behind a proxy that limits on its own.
    rate_limits: bool = True
    # How long a worker holds the deliveries and received activities it
    # claimed; a worker that dies leaves them to the others for this long.
    worker_lease_seconds: int = 300
    # Where email goes out: smtp://user:password@host:587 (STARTTLS when the
    # server offers it; ?starttls=true insists), smtps://user:password@host:465
    # (TLS from the start), or smtp://host:25?starttls=false. Empty: no email is
    # sent (it waits in the outbox), and admins reset passwords by hand.
    smtp_url: str = field(default="", repr=False)
    email_from: str = ""  # the From address, e.g. "Circles <circles@example.org>"; needed with smtp_url
    # How long before a meeting starts its attendees are reminded: lead times
    # such as "24h,1h" or "30m"; "none" (or empty) sends no reminders.
    meeting_reminders: str = "24h,1h"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def worker_lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.worker_lease_seconds)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_url)

    @property
    def meeting_reminder_leads(self) -> tuple[int, ...]:
        """The reminder lead times in minutes, longest first."""
        return reminder_leads(self.meeting_reminders)

    @property
    def registration_mode(self) -> RegistrationMode:
        return RegistrationMode(self.registration)

    @property
    def secret_key_file(self) -> Path:
        return Path(self.data_dir) / "secret_key"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, or None (PostgreSQL, or SQLite in memory)."""
        if not self.database_url.startswith("sqlite://"):
            return None
        path = self.database_url.removeprefix("sqlite://").split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    def public_view(self) -> dict[str, object]:
        """Every effective setting, with the secret described rather than shown."""
        view: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        view["secret_key"] = f"(set, {len(self.secret_key)} characters)" if self.secret_key else (
            f"(not set: generated into {self.secret_key_file} on first run)"
        )
        view["database_url"] = _hide_password(self.database_url)
        view["smtp_url"] = _hide_password(self.smtp_url) or "(not set: no email is sent)"
        view["allow_private_addresses"] = str(self.allow_private_addresses)
        view["metrics_token"] = f"(set, {len(self.metrics_token)} characters)" if self.metrics_token else (
            "(not set: /metrics is off)"
        )
        return view


def reminder_leads(text: str) -> tuple[int, ...]:
    """Lead times like "24h,1h" or "30m" in minutes, longest first, each once;
    () for "none" or nothing. ValueError names a value that is not one."""
    words = [w.strip().lower() for w in text.split(",")]
    if words in ([""], ["none"]):
        return ()
    leads = set()
    for word in words:
        match = LEAD_RE.fullmatch(word)
        minutes = int(match["n"]) * LEAD_UNITS[match["unit"]] if match else 0
        if not 1 <= minutes <= LEAD_MAX_MINUTES:
            raise ValueError(word)
        leads.add(minutes)
    if len(leads) > LEADS_MAX:
        raise ValueError(text)
    return tuple(sorted(leads, reverse=True))


def _hide_password(url: str) -> str:
    # The user part ends at the last "@" before the path (a password may hold "@"),
    # and a password may also come as ?password=… (tortoise passes it to asyncpg).
    url = re.sub(r"(://[^:/?#@]*:)[^/?#]*@", r"\1***@", url)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def read_config_file(path: Path) -> dict[str, object]:
    """The settings a TOML file holds (unknown names and bad TOML are ConfigErrors)."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config", f"the file {path} does not exist.", "point CIRCLES_CONFIG at a TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"{path} is not valid TOML ({exc}).", "correct the file.") from None
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            "config", f"{path} has unknown settings: {', '.join(unknown)}.",
            f"use only: {', '.join(sorted(known))}.",
        )
    return data


def _coerce(name: str, value: object, kind: type) -> object:
    if kind is AddressPolicy:
        if isinstance(value, bool):
            return AddressPolicy.of(value)
        try:
            return AddressPolicy.parse(str(value))
        except ValueError as exc:
            raise ConfigError(
                name, f"{exc}.", "use false, true (development only), or a list such as 127.0.0.1:8001,[::1]:8002."
            ) from None
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise ConfigError(name, f"“{value}” is not a yes/no value.", "use true or false.")
    if kind is int:
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit():
            raise ConfigError(name, f"“{value}” is not a whole number.", "use a number such as 0 or 1.")
        return int(text)
    if not isinstance(value, str):
        raise ConfigError(name, f"expected text, got {type(value).__name__}.", "quote the value.")
    return value.strip()


def prometheus_multiprocess_dir(environ: dict[str, str] | None = None) -> str | None:
    """The folder PROMETHEUS_MULTIPROC_DIR names (prometheus_client reads it
    itself when it is imported), or None: each process counts on its own."""
    env = os.environ if environ is None else environ
    return env.get(PROMETHEUS_MULTIPROC_VARIABLE) or None


def config_file_path(environ: dict[str, str] | None = None) -> Path:
    """The TOML file settings are read from: CIRCLES_CONFIG, else ./circles.toml."""
    env = os.environ if environ is None else environ
    return Path(env.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG_FILE)


def config_file_in_use(environ: dict[str, str] | None = None) -> Path | None:
    """The file load_settings reads, or None when there is none (no CIRCLES_CONFIG
    and no ./circles.toml)."""
    env = os.environ if environ is None else environ
    path = config_file_path(env)
    return path if env.get(f"{ENV_PREFIX}CONFIG") or path.is_file() else None


def settings_from_environment(environ: dict[str, str] | None = None) -> list[str]:
    """The CIRCLES_* variables set in this environment that load_settings reads
    (they override the file, so another shell without them sees other settings)."""
    env = os.environ if environ is None else environ
    names = [f"{ENV_PREFIX}CONFIG"] + [ENV_PREFIX + f.name.upper() for f in fields(Settings)]
    return [name for name in names if name in env]


def local_config_text(address: str = LOCAL_ADDRESS) -> str:
    """A circles.toml for an instance on this machine, served over http at
    `address` (host:port), keeping its data in ./data/. ConfigError when the
    address is not both a valid bind address and a valid domain."""
    if not bind_is_valid(address):
        raise ConfigError("bind", f"“{address}” is not host:port.", f"use an address such as {LOCAL_ADDRESS}.")
    settings = _validated(Settings(domain=address, scheme="http", bind=address, data_dir="data"))
    return (
        "# Settings of this Circles instance, read by `circles serve` and every other\n"
        "# `circles` command run in this folder (or given CIRCLES_CONFIG=this file).\n"
        "# CIRCLES_* environment variables override them. Written by `circles init-config`.\n"
        "#\n"
        "# The domain and scheme are part of the id of every person, circle and post:\n"
        "# choose them before creating accounts. http is for use on this machine only.\n"
        f'domain = "{settings.domain}"\n'
        f'scheme = "{settings.scheme}"\n'
        f'bind = "{settings.bind}"\n'
        "# The SQLite database, secret key and uploaded media (relative to the folder\n"
        "# the commands run in).\n"
        f'data_dir = "{settings.data_dir}"\n'
    )


def write_new_file(path: Path, text: str) -> None:
    """Create `path` with `text`; FileExistsError if it exists (never overwritten)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def load_settings(environ: dict[str, str] | None = None, *, create_secret: bool = True) -> Settings:
    """Effective settings. With create_secret, a missing secret key is generated
    and stored in data_dir/secret_key (mode 0600) so sessions survive restarts."""
    env = dict(os.environ if environ is None else environ)
    config_path = config_file_in_use(env)
    raw: dict[str, object] = {}
    if config_path is not None:
        raw.update(read_config_file(config_path))
    kinds = {"bool": bool, "int": int, "AddressPolicy": AddressPolicy}
    types = {f.name: kinds.get(f.type if isinstance(f.type, str) else f.type.__name__, str) for f in fields(Settings)}
    for name in types:
        env_value = env.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            raw[name] = env_value
    values = {name: _coerce(name, value, types[name]) for name, value in raw.items()}
    settings = _validated(Settings(**values))
    if not settings.secret_key:
        settings = _with_secret(settings, create=create_secret)
    return settings


def bind_is_valid(bind: str) -> bool:
    """host:port with a port from 1 to 65535 (an IPv6 host in brackets)."""
    match = BIND_RE.fullmatch(bind)
    return bool(match) and 0 < int(match["port"]) < 65536


def _validated(s: Settings) -> Settings:
    domain = s.domain.lower()
    if not DOMAIN_RE.fullmatch(domain):
        raise ConfigError("domain", f"“{s.domain}” is not a host name.", "use a name like circles.example.org or localhost:8000.")
    port = domain.rpartition(":")[2] if ":" in domain else ""
    if port and not 0 < int(port) < 65536:
        raise ConfigError("domain", f"the port in “{s.domain}” is out of range.", "use a port from 1 to 65535.")
    if s.scheme not in ("https", "http"):
        raise ConfigError("scheme", f"“{s.scheme}” is not http or https.", "use https (or http for local use).")
    if not bind_is_valid(s.bind):
        raise ConfigError("bind", f"“{s.bind}” is not host:port.", "use an address such as 127.0.0.1:8000.")
    data_dir = s.data_dir or "data"
    database_url = s.database_url or f"sqlite://{Path(data_dir) / 'circles.sqlite3'}"
    if not database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise ConfigError(
            "database_url", "only SQLite and PostgreSQL are supported.",
            "use sqlite://path/to/file.sqlite3 or postgres://user:password@host:5432/name.",
        )
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    if s.registration not in {m.value for m in RegistrationMode}:
        raise ConfigError(
            "registration", f"“{s.registration}” is not a registration mode.",
            "use one of open, approval, invite, closed.",
        )
    if s.secret_key and len(s.secret_key) < SECRET_MIN:
        raise ConfigError(
            "secret_key", f"it is {len(s.secret_key)} characters, at least {SECRET_MIN} are needed.",
            "unset it to have one generated, or use `python3 -c 'import secrets; print(secrets.token_hex(32))'`.",
        )
    if not 0 <= s.trusted_proxies <= 5:
        raise ConfigError("trusted_proxies", f"{s.trusted_proxies} proxies is out of range.", "use 0 (none) to 5; 1 behind one nginx.")
    try:
        if s.trusted_proxies and not proxy.networks(s.trusted_proxy_addresses):
            raise ValueError("no address is given")
    except ValueError as exc:
        raise ConfigError("trusted_proxy_addresses", f"{exc}.",
                          "list the proxies' addresses or networks, such as 127.0.0.1,::1 or 10.0.0.5,10.0.1.0/24.") from None
    if not 1 <= s.worker_lease_seconds <= 3600:
        raise ConfigError("worker_lease_seconds", f"{s.worker_lease_seconds} seconds is out of range.",
                          "use 1 to 3600; longer than the slowest delivery takes (300 by default).")
    try:
        leads = reminder_leads(s.meeting_reminders)
    except ValueError as exc:
        raise ConfigError(
            "meeting_reminders", f"“{exc}” is not a list of up to {LEADS_MAX} lead times.",
            "use lead times such as 24h,1h or 30m (from 1m to 7d, comma-separated), or none.",
        ) from None
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("log_level", f"“{s.log_level}” is not a log level.", "use DEBUG, INFO, WARNING or ERROR.")
    if s.log_format.lower() not in LOG_FORMATS:
        raise ConfigError("log_format", f"“{s.log_format}” is not a log format.", "use text or json.")
    if s.metrics_token and not METRICS_TOKEN_RE.fullmatch(s.metrics_token):
        raise ConfigError("metrics_token", f"it is {len(s.metrics_token)} characters, or has characters a header cannot carry.",
                          f"use at least {METRICS_TOKEN_MIN} letters, digits, - or _, e.g. "
                          "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`.")
    _check_email(s)
    return replace(
        s, domain=domain, data_dir=data_dir, database_url=database_url,
        media_dir=s.media_dir or str(Path(data_dir) / "media"), log_level=s.log_level.upper(),
        log_format=s.log_format.lower(),
        meeting_reminders=",".join(_lead_text(m) for m in leads) or "none",
    )


SMTP_SCHEMES = ("smtp://", "smtps://")
EMAIL_ADDRESS_RE = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+|[^@\s<>\"]+@localhost")


def _check_email(s: Settings) -> None:
    if s.smtp_url:
        if not s.smtp_url.startswith(SMTP_SCHEMES):
            raise ConfigError("smtp_url", "it is not an smtp:// or smtps:// URL.",
                              "use smtp://user:password@host:587 or smtps://user:password@host:465.")
        try:
            parts = urlsplit(s.smtp_url)
            parts.port  # noqa: B018 (raises ValueError when out of range or not a number)
        except ValueError as exc:
            raise ConfigError("smtp_url", f"it cannot be read ({exc}).", "use smtp://user:password@host:587.") from None
        if not parts.hostname:
            raise ConfigError("smtp_url", "it names no host.", "use smtp://user:password@host:587.")
        if not s.email_from:
            raise ConfigError("email_from", "it is needed when CIRCLES_SMTP_URL is set.",
                              'set it to the address mail comes from, e.g. "Circles <circles@example.org>".')
    if s.email_from:
        _, address = parseaddr(s.email_from)
        if not EMAIL_ADDRESS_RE.fullmatch(address) or "\n" in s.email_from or "\r" in s.email_from:
            raise ConfigError("email_from", f"“{s.email_from}” is not an email address.",
                              'use an address such as circles@example.org or "Circles <circles@example.org>".')
        try:
            Address(addr_spec=address)
        except (ValueError, IndexError) as exc:
            raise ConfigError("email_from", f"“{s.email_from}” is not an email address ({exc}).",
                              "use an address such as circles@example.org.") from None


def _lead_text(minutes: int) -> str:
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def with_secret(s: Settings) -> Settings:
    """These settings with their secret key, generated into data_dir/secret_key
    when there is none yet (for settings loaded with create_secret=False)."""
    return s if s.secret_key else _with_secret(s, create=True)


def _with_secret(s: Settings, *, create: bool) -> Settings:
    path = s.secret_key_file
    if path.is_file():
        key = path.read_text().strip()
        if len(key) < SECRET_MIN:
            raise ConfigError("secret_key", f"{path} holds a key that is too short.", f"delete {path} to have a new one generated.")
    elif create:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
    else:
        return s
    return replace(s, secret_key=key)


def prepare_storage(s: Settings) -> None:
    """Create the folders the settings point at (the SQLite file's, media)."""
    Path(s.data_dir).mkdir(parents=True, exist_ok=True)
    Path(s.media_dir).mkdir(parents=True, exist_ok=True)
    if s.sqlite_file is not None:
        s.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
