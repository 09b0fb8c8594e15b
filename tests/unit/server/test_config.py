"""load_settings: defaults, environment, the TOML file, validation, the secret key
and what public_view shows.

Every test runs in an empty working directory (a stray ./circles.toml would be
read) and passes the environment explicitly, so the real one does not leak in.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

import pytest

from federation.addresses import AddressPolicy

from models.accounts import RegistrationMode
from server.config import (
    LOCAL_ADDRESS,
    SECRET_MIN,
    ConfigError,
    Settings,
    _coerce,
    config_file_in_use,
    load_settings,
    local_config_text,
    settings_from_environment,
    with_secret,
    write_new_file,
)

REPO = Path(__file__).resolve().parents[3]

GOOD_KEY = "k" * 40


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(**env: str) -> Settings:
    """Settings from exactly these CIRCLES_* variables, without writing a key."""
    return load_settings(environ={f"CIRCLES_{k.upper()}": v for k, v in env.items()}, create_secret=False)


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and overrides -------------------------------------------------------


def test_defaults(empty_cwd):
    s = load_settings(environ={}, create_secret=False)
    assert s.domain == "localhost:8000"
    assert s.scheme == "https"
    assert s.bind == "127.0.0.1:8000"
    assert s.data_dir == "data"
    assert s.database_url == "sqlite://" + str(Path("data") / "circles.sqlite3")
    assert s.media_dir == str(Path("data") / "media")
    assert s.registration == "open"
    assert s.registration_mode is RegistrationMode.OPEN
    assert s.allow_private_addresses == AddressPolicy()
    assert s.log_level == "INFO"
    assert s.secret_key == ""
    assert s.base_url == "https://localhost:8000"
    assert list(empty_cwd.iterdir()) == [], "loading without create_secret must not write anything"


def test_environment_overrides_every_setting(tmp_path):
    s = load(
        domain="Circles.Example.ORG",
        scheme="http",
        bind="0.0.0.0:9000",
        data_dir=str(tmp_path / "state"),
        database_url="postgresql://circles:pw@db.example.org:5432/circles",
        secret_key=GOOD_KEY,
        registration="invite",
        media_dir=str(tmp_path / "uploads"),
        allow_private_addresses="yes",
        log_level="debug",
    )
    assert s.domain == "circles.example.org"
    assert s.scheme == "http"
    assert s.bind == "0.0.0.0:9000"
    assert s.data_dir == str(tmp_path / "state")
    assert s.database_url == "postgres://circles:pw@db.example.org:5432/circles", "postgresql:// is normalised"
    assert s.secret_key == GOOD_KEY
    assert s.registration_mode is RegistrationMode.INVITE
    assert s.media_dir == str(tmp_path / "uploads")
    assert s.allow_private_addresses == AddressPolicy(all_private=True)
    assert s.log_level == "DEBUG"
    assert s.base_url == "http://circles.example.org"
    assert not (tmp_path / "state").exists()


def test_data_dir_moves_the_default_database_and_media(tmp_path):
    s = load(data_dir=str(tmp_path / "var"))
    assert s.database_url == f"sqlite://{tmp_path / 'var' / 'circles.sqlite3'}"
    assert s.media_dir == str(tmp_path / "var" / "media")


def test_values_are_trimmed_and_unrelated_variables_ignored():
    s = load_settings(
        environ={"CIRCLES_DOMAIN": "  example.org \n", "DOMAIN": "ignored.example", "CIRCLES_NOT_A_SETTING": "x"},
        create_secret=False,
    )
    assert s.domain == "example.org"


@pytest.mark.parametrize("word", ["1", "true", "True", "YES", "on", " on "])
def test_yes_words(word):
    assert load(allow_private_addresses=word).allow_private_addresses == AddressPolicy(all_private=True)
    assert _coerce("run_worker", word, bool) is True


@pytest.mark.parametrize("word", ["0", "false", "FALSE", "no", "off", ""])
def test_no_words(word):
    # run_worker is true by default: a "no" word must turn it off.
    assert load(run_worker=word).run_worker is False
    assert load(allow_private_addresses=word).allow_private_addresses == AddressPolicy()


@pytest.mark.parametrize("mode", ["open", "approval", "invite", "closed"])
def test_every_registration_mode(mode):
    assert load(registration=mode).registration_mode is RegistrationMode(mode)


@pytest.mark.parametrize("bind", ["127.0.0.1:8000", "[::1]:8443", "localhost:1", "0.0.0.0:65535"])
def test_valid_binds(bind):
    assert load(bind=bind).bind == bind


# --- the TOML file ----------------------------------------------------------------


def test_toml_file_named_by_circles_config(tmp_path):
    (tmp_path / "conf").mkdir()
    path = write_toml(
        tmp_path / "conf" / "site.toml",
        'domain = "learn.example.net"\nscheme = "http"\nregistration = "approval"\n'
        "allow_private_addresses = true\n"
        f'data_dir = "{tmp_path / "d"}"\nsecret_key = "{GOOD_KEY}"\n',
    )
    s = load_settings(environ={"CIRCLES_CONFIG": str(path)}, create_secret=False)
    assert s.domain == "learn.example.net"
    assert s.scheme == "http"
    assert s.registration_mode is RegistrationMode.APPROVAL
    assert s.allow_private_addresses == AddressPolicy(all_private=True)
    assert s.data_dir == str(tmp_path / "d")
    assert s.secret_key == GOOD_KEY
    assert s.bind == "127.0.0.1:8000", "settings missing from the file keep their defaults"


def test_environment_wins_over_the_file(tmp_path):
    path = write_toml(tmp_path / "c.toml", 'domain = "file.example"\nscheme = "http"\n')
    s = load_settings(environ={"CIRCLES_CONFIG": str(path), "CIRCLES_DOMAIN": "env.example"}, create_secret=False)
    assert s.domain == "env.example"
    assert s.scheme == "http"


def test_circles_toml_in_the_working_directory_is_read(empty_cwd):
    write_toml(empty_cwd / "circles.toml", 'domain = "cwd.example"\n')
    assert load().domain == "cwd.example"


def test_circles_config_wins_over_circles_toml(empty_cwd):
    write_toml(empty_cwd / "circles.toml", 'domain = "cwd.example"\n')
    other = write_toml(empty_cwd / "other.toml", 'domain = "named.example"\n')
    assert load(config=str(other)).domain == "named.example"


def test_unknown_keys_in_the_file_are_named(tmp_path):
    path = write_toml(tmp_path / "c.toml", 'domain = "ok.example"\nport = "80"\nsecret = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load(config=str(path))
    message = str(caught.value)
    assert caught.value.setting == "config"
    assert message.startswith("CIRCLES_CONFIG:")
    assert "port" in message and "secret" in message
    assert "unknown" in message
    assert "Fix: use only:" in message and "domain" in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(config=str(tmp_path / "nope.toml"))
    assert str(caught.value).startswith("CIRCLES_CONFIG:")
    assert "nope.toml" in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_file_that_is_not_toml(tmp_path):
    path = write_toml(tmp_path / "c.toml", "domain = unquoted words\n")
    with pytest.raises(ConfigError) as caught:
        load(config=str(path))
    assert str(caught.value).startswith("CIRCLES_CONFIG:")
    assert "not valid TOML" in str(caught.value)


def test_file_value_of_the_wrong_type_names_the_setting(tmp_path):
    path = write_toml(tmp_path / "c.toml", "bind = 8000\n")
    with pytest.raises(ConfigError) as caught:
        load(config=str(path))
    assert caught.value.setting == "bind"
    assert str(caught.value).startswith("CIRCLES_BIND:")
    assert "Fix: quote the value." in str(caught.value)


def test_invalid_value_in_the_file_names_the_setting(tmp_path):
    path = write_toml(tmp_path / "c.toml", 'scheme = "gopher"\n')
    with pytest.raises(ConfigError) as caught:
        load(config=str(path))
    assert str(caught.value).startswith("CIRCLES_SCHEME:")


# --- invalid values ---------------------------------------------------------------

INVALID = [
    # (setting, value, part of the fix the message must give)
    ("domain", "https://circles.example.org", "use a name like circles.example.org"),
    ("domain", "circles example org", "use a name like"),
    ("domain", "-circles.example.org", "use a name like"),
    ("domain", "circles.example.org/path", "use a name like"),
    ("domain", "", "use a name like"),
    ("scheme", "ftp", "use https (or http for local use)"),
    ("scheme", "", "use https"),
    ("bind", "8000", "use an address such as 127.0.0.1:8000"),
    ("bind", "localhost", "use an address such as"),
    ("bind", "127.0.0.1:0", "use an address such as"),
    ("bind", "127.0.0.1:65536", "use an address such as"),
    ("bind", "127.0.0.1:http", "use an address such as"),
    ("bind", "", "use an address such as"),
    ("database_url", "mysql://circles:pw@db/circles", "use sqlite://path/to/file.sqlite3 or postgres://"),
    ("database_url", "/var/lib/circles.sqlite3", "use sqlite://"),
    ("registration", "everyone", "use one of open, approval, invite, closed"),
    ("registration", "invite-only", "use one of open, approval, invite, closed"),
    ("secret_key", "too-short", "unset it to have one generated"),
    ("secret_key", "s" * (SECRET_MIN - 1), "unset it to have one generated"),
    ("allow_private_addresses", "maybe", "use false, true (development only), or a list"),
    ("allow_private_addresses", "2", "use false, true (development only), or a list"),
    ("allow_private_addresses", "localhost:8001", "use false, true (development only), or a list"),
    ("allow_private_addresses", "127.0.0.1:0", "use false, true (development only), or a list"),
    ("allow_private_addresses", "8.8.8.8:53", "use false, true (development only), or a list"),
    ("log_level", "verbose", "use DEBUG, INFO, WARNING or ERROR"),
    ("log_level", "", "use DEBUG, INFO, WARNING or ERROR"),
]


@pytest.mark.parametrize(("setting", "value", "fix"), INVALID, ids=[f"{s}={v!r}" for s, v, _ in INVALID])
def test_invalid_value_names_the_setting_and_the_fix(setting, value, fix):
    with pytest.raises(ConfigError) as caught:
        load(**{setting: value})
    message = str(caught.value)
    assert caught.value.setting == setting
    assert message.startswith(f"CIRCLES_{setting.upper()}: ")
    assert f"Fix: {fix}" in message
    assert "\n" not in message, "the message is printed as one line"


def test_a_short_secret_key_is_not_echoed():
    with pytest.raises(ConfigError) as caught:
        load(secret_key="hunter2-but-short")
    assert "hunter2" not in str(caught.value)
    assert str(SECRET_MIN) in str(caught.value)


def test_a_long_enough_secret_key_is_accepted():
    assert load(secret_key="s" * SECRET_MIN).secret_key == "s" * SECRET_MIN


# --- the generated secret key -----------------------------------------------------


@pytest.fixture
def open_umask():
    """A umask that would leave a new file world-readable unless the code asks for 0600."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_secret_key_is_generated_once_with_mode_0600(tmp_path, open_umask):
    data_dir = tmp_path / "nested" / "data"
    env = {"CIRCLES_DATA_DIR": str(data_dir)}
    first = load_settings(environ=env)
    key_file = data_dir / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= SECRET_MIN
    assert key_file.read_text().strip() == first.secret_key
    assert first.secret_key_file == key_file
    before = key_file.read_bytes()

    second = load_settings(environ=env)
    assert second.secret_key == first.secret_key
    assert key_file.read_bytes() == before


def test_secret_key_defaults_into_data_under_the_working_directory(empty_cwd):
    s = load_settings(environ={})
    assert (empty_cwd / "data" / "secret_key").read_text().strip() == s.secret_key
    assert load_settings(environ={}).secret_key == s.secret_key


def test_each_instance_gets_its_own_key(tmp_path):
    a = load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "a")})
    b = load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "b")})
    assert a.secret_key != b.secret_key


def test_create_secret_false_writes_nothing(tmp_path):
    data_dir = tmp_path / "data"
    s = load_settings(environ={"CIRCLES_DATA_DIR": str(data_dir)}, create_secret=False)
    assert s.secret_key == ""
    assert not data_dir.exists()
    assert "not set" in str(s.public_view()["secret_key"])


def test_create_secret_false_still_reads_an_existing_key(tmp_path):
    env = {"CIRCLES_DATA_DIR": str(tmp_path / "data")}
    created = load_settings(environ=env)
    assert load_settings(environ=env, create_secret=False).secret_key == created.secret_key


def test_a_key_from_the_environment_is_not_written(tmp_path):
    s = load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data"), "CIRCLES_SECRET_KEY": GOOD_KEY})
    assert s.secret_key == GOOD_KEY
    assert not (tmp_path / "data" / "secret_key").exists()


def test_a_too_short_key_file_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data")})
    message = str(caught.value)
    assert message.startswith("CIRCLES_SECRET_KEY:")
    assert str(tmp_path / "data" / "secret_key") in message
    assert "Fix: delete" in message


# --- public_view ------------------------------------------------------------------


def test_public_view_lists_every_setting_and_hides_the_key(tmp_path):
    s = load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data")})
    view = s.public_view()
    assert set(view) == {
        "domain", "scheme", "bind", "data_dir", "database_url", "secret_key", "registration",
        "media_dir", "allow_private_addresses", "run_worker", "trusted_proxies",
        "trusted_proxy_addresses", "log_level", "rate_limits",
        "worker_lease_seconds", "smtp_url", "email_from", "meeting_reminders", "log_format", "metrics_token",
    }
    assert s.secret_key not in repr(view)
    assert view["secret_key"] == f"(set, {len(s.secret_key)} characters)"
    assert view["domain"] == "localhost:8000"
    assert view["allow_private_addresses"] == "false"
    assert view["metrics_token"] == "(not set: /metrics is off)"


def test_the_metrics_token_is_never_shown(tmp_path):
    token = "m" * 20 + "-token_x"
    s = load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data"), "CIRCLES_METRICS_TOKEN": token})
    assert s.metrics_token == token
    assert token not in repr(s.public_view()) and token not in repr(s)
    assert s.public_view()["metrics_token"] == f"(set, {len(token)} characters)"


@pytest.mark.parametrize("token", ["short", "x" * 20 + " space", "x" * 20 + "\u00e9"])
def test_a_metrics_token_too_short_or_with_odd_characters_is_refused(tmp_path, token):
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data"), "CIRCLES_METRICS_TOKEN": token})
    assert error.value.setting == "metrics_token"
    assert token not in str(error.value)  # a secret, even a refused one, is not echoed


@pytest.mark.parametrize(("given", "kept"), [("json", "json"), ("JSON", "json"), ("text", "text")])
def test_the_log_format(tmp_path, given, kept):
    s = load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data"), "CIRCLES_LOG_FORMAT": given})
    assert s.log_format == kept


def test_an_unknown_log_format_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="CIRCLES_LOG_FORMAT: “xml” is not a log format. Fix: use text or json."):
        load_settings(environ={"CIRCLES_DATA_DIR": str(tmp_path / "data"), "CIRCLES_LOG_FORMAT": "xml"})


PASSWORD = "Tr0ub4dor"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgres://circles:{PASSWORD}@db.example.org:5432/circles", "postgres://circles:***@db.example.org:5432/circles"),
        (f"postgresql://circles:{PASSWORD}@db.example.org/circles", "postgres://circles:***@db.example.org/circles"),
        (f"postgres://circles:{PASSWORD}%40x@db.example.org/circles", "postgres://circles:***@db.example.org/circles"),
        # tortoise reads a raw "@" or ":" in the password (it splits at the last "@")
        (f"postgres://circles:{PASSWORD}@x:y@db.example.org/circles", "postgres://circles:***@db.example.org/circles"),
        (f"postgres://:{PASSWORD}@db.example.org/circles", "postgres://:***@db.example.org/circles"),
        # ... and a password given in the query string
        (f"postgres://circles@db.example.org/circles?password={PASSWORD}&ssl=require",
         "postgres://circles@db.example.org/circles?password=***&ssl=require"),
        (f"postgres://circles@db.example.org/circles?ssl=require&password={PASSWORD}",
         "postgres://circles@db.example.org/circles?ssl=require&password=***"),
    ],
)
def test_public_view_never_shows_a_database_password(url, shown):
    s = load(database_url=url, secret_key=GOOD_KEY)
    view = s.public_view()
    assert PASSWORD not in repr(view)
    assert GOOD_KEY not in repr(view)
    assert view["database_url"] == shown


@pytest.mark.parametrize(
    "url",
    [
        "postgres://circles@db.example.org:5432/circles",
        "postgres://db.example.org:5432/circles",
        "sqlite:///var/lib/circles/circles.sqlite3",
        "sqlite://data/circles.sqlite3",
    ],
)
def test_public_view_leaves_urls_without_a_password_alone(url):
    assert load(database_url=url).public_view()["database_url"] == url


@pytest.mark.parametrize("value, expected", [("0", 0), ("1", 1), (" 2 ", 2)])
def test_trusted_proxies_is_a_small_whole_number(value, expected):
    assert load(trusted_proxies=value).trusted_proxies == expected


@pytest.mark.parametrize("value", ["one", "-1", "6", "1.5"])
def test_bad_trusted_proxies_name_the_setting(value):
    with pytest.raises(ConfigError, match="CIRCLES_TRUSTED_PROXIES"):
        load(trusted_proxies=value)


def test_forwarded_headers_are_trusted_from_loopback_unless_set():
    assert load().trusted_proxy_addresses == "127.0.0.1,::1"
    assert load(trusted_proxies="1", trusted_proxy_addresses="10.0.0.5, 10.1.0.0/16").trusted_proxies == 1


@pytest.mark.parametrize("value", ["nginx.internal", "10.0.0.0/33", " , "])
def test_bad_trusted_proxy_addresses_name_the_setting_and_the_entry(value):
    with pytest.raises(ConfigError, match="CIRCLES_TRUSTED_PROXY_ADDRESSES") as raised:
        load(trusted_proxies="1", trusted_proxy_addresses=value)
    assert ("no address is given" if not value.strip(" ,") else f"“{value.strip()}”") in str(raised.value)


def test_the_worker_lease_is_five_minutes_unless_set():
    assert load().worker_lease == dt.timedelta(minutes=5)
    assert load(worker_lease_seconds="2").worker_lease == dt.timedelta(seconds=2)


@pytest.mark.parametrize("value", ["0", "3601", "soon"])
def test_a_bad_worker_lease_names_the_setting(value):
    with pytest.raises(ConfigError, match="CIRCLES_WORKER_LEASE_SECONDS"):
        load(worker_lease_seconds=value)


@pytest.mark.parametrize(
    ("value", "leads", "shown"),
    [
        (None, (1440, 60), "24h,1h"),  # the default
        ("1h, 24h", (1440, 60), "24h,1h"),
        ("30m,2h,30m", (120, 30), "2h,30m"),
        ("1d,90m", (1440, 90), "24h,90m"),
        ("none", (), "none"),
        ("", (), "none"),
        (" NONE ", (), "none"),
    ],
)
def test_meeting_reminders_are_lead_times_longest_first(value, leads, shown):
    settings = load() if value is None else load(meeting_reminders=value)
    assert settings.meeting_reminder_leads == leads
    assert settings.meeting_reminders == shown


@pytest.mark.parametrize("value", ["24", "1h,soon", "0m", "8d", "-1h", "1.5h", "1h,,2h", "1m,2m,3m,4m,5m,6m"])
def test_bad_meeting_reminders_name_the_setting_and_the_fix(value):
    with pytest.raises(ConfigError) as caught:
        load(meeting_reminders=value)
    message = str(caught.value)
    assert message.startswith("CIRCLES_MEETING_REMINDERS:")
    assert "Fix: use lead times such as 24h,1h or 30m" in message and "or none" in message


def test_meeting_reminders_come_from_a_config_file_too(tmp_path):
    path = tmp_path / "circles.toml"
    path.write_text('meeting_reminders = "2h"\n')
    settings = load_settings(environ={"CIRCLES_CONFIG": str(path), "CIRCLES_DATA_DIR": str(tmp_path / "data")})
    assert settings.meeting_reminder_leads == (120,)


# --- the file `make run` writes (circles init-config) ------------------------------


def test_the_local_config_file_serves_http_on_the_local_address(empty_cwd):
    write_toml(empty_cwd / "circles.toml", local_config_text())
    s = load()
    assert (s.domain, s.scheme, s.bind, s.data_dir) == (LOCAL_ADDRESS, "http", LOCAL_ADDRESS, "data")
    assert s.base_url == f"http://{LOCAL_ADDRESS}"
    assert s.database_url == "sqlite://" + str(Path("data") / "circles.sqlite3")


def test_the_local_config_file_for_another_address(empty_cwd):
    write_toml(empty_cwd / "circles.toml", local_config_text("LocalHost:8123"))
    s = load()
    assert (s.domain, s.bind, s.scheme) == ("localhost:8123", "LocalHost:8123", "http")


def test_the_environment_still_wins_over_the_local_config_file(empty_cwd):
    write_toml(empty_cwd / "circles.toml", local_config_text())
    assert load(domain="env.example", scheme="https").base_url == "https://env.example"


@pytest.mark.parametrize("address", ["nonsense", "127.0.0.1", "127.0.0.1:99999", "[::1]:8000", 'a"b:80', ""])
def test_the_local_config_file_needs_a_host_and_port(address):
    with pytest.raises(ConfigError):
        local_config_text(address)


def test_a_new_file_is_never_written_over(tmp_path):
    path = tmp_path / "circles.toml"
    write_new_file(path, "first")
    with pytest.raises(FileExistsError):
        write_new_file(path, "second")
    assert path.read_text() == "first"


def test_the_file_in_use(empty_cwd):
    assert config_file_in_use({}) is None
    write_toml(empty_cwd / "circles.toml", "")
    assert config_file_in_use({}) == Path("circles.toml")
    named = empty_cwd / "elsewhere.toml"
    assert config_file_in_use({"CIRCLES_CONFIG": str(named)}) == named, "named, even before it exists"


def test_settings_from_the_environment_are_named():
    env = {"CIRCLES_DOMAIN": "x.example", "CIRCLES_CONFIG": "c.toml", "CIRCLES_TEST_DATABASE_URL": "x", "HOME": "/"}
    assert settings_from_environment(env) == ["CIRCLES_CONFIG", "CIRCLES_DOMAIN"]
    assert settings_from_environment({}) == []


def test_with_secret_generates_the_key_once(tmp_path):
    s = load(data_dir=str(tmp_path / "data"))
    assert s.secret_key == ""
    keyed = with_secret(s)
    assert keyed.secret_key == (tmp_path / "data" / "secret_key").read_text().strip()
    assert with_secret(keyed) is keyed
    assert with_secret(s).secret_key == keyed.secret_key


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite://data/circles.sqlite3", "data/circles.sqlite3"),
        ("sqlite:///var/x.sqlite3?journal_mode=wal", "/var/x.sqlite3"),
        ("sqlite://:memory:", None),
        ("postgres://db.example.org/circles", None),
    ],
)
def test_sqlite_file(url, path):
    assert load(database_url=url).sqlite_file == (Path(path) if path else None)


def test_the_readme_and_the_makefile_give_the_same_local_address():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    addresses = set(re.findall(r"http://([\w.:-]+)", quick_start))
    assert addresses == {LOCAL_ADDRESS}, addresses
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert f"http://{LOCAL_ADDRESS}" in makefile
    assert "CIRCLES_DOMAIN" not in makefile, "make run must not set settings that a second shell would not see"


def test_private_address_exceptions_are_exact_addresses_and_ports():
    policy = load(allow_private_addresses="127.0.0.1:18301, [::1]:9000,10.0.0.5:443").allow_private_addresses
    assert policy.allows("127.0.0.1", 18301) and policy.allows("::ffff:127.0.0.1", 18301)
    assert policy.allows("::1", 9000) and policy.allows("10.0.0.5", 443)
    assert not policy.allows("127.0.0.1", 18302) and not policy.allows("127.0.0.2", 18301)
    assert not policy.allows("169.254.169.254", 80) and not policy.allows("::1", 9001)
    assert policy.allows("93.184.215.14", 443), "public addresses need no exception"
    assert str(policy) == "10.0.0.5:443,127.0.0.1:18301,[::1]:9000"
    assert not AddressPolicy().allows("127.0.0.1", 18301) and AddressPolicy(all_private=True).allows("10.1.1.1", 1)


# --- email ---------------------------------------------------------------------------


def test_email_is_off_without_an_smtp_url():
    s = load()
    assert not s.email_enabled and s.public_view()["smtp_url"] == "(not set: no email is sent)"


def test_an_smtp_url_with_a_from_address_turns_email_on():
    s = load(smtp_url=f"smtps://mailer:{PASSWORD}@mail.example.org:465", email_from="Circles <c@example.org>")
    assert s.email_enabled
    assert PASSWORD not in repr(s) and PASSWORD not in repr(s.public_view())
    assert s.public_view()["smtp_url"] == "smtps://mailer:***@mail.example.org:465"


@pytest.mark.parametrize(
    ("values", "setting", "words"),
    [
        ({"smtp_url": "smtp://mail.example.org:587"}, "email_from", "needed"),
        ({"smtp_url": "http://mail.example.org", "email_from": "c@example.org"}, "smtp_url", "smtp://"),
        ({"smtp_url": "smtp://:587", "email_from": "c@example.org"}, "smtp_url", "no host"),
        ({"smtp_url": "smtp://mail.example.org:99999", "email_from": "c@example.org"}, "smtp_url", "cannot be read"),
        ({"smtp_url": "smtp://mail.example.org", "email_from": "not an address"}, "email_from", "not an email"),
        ({"email_from": "c@example.org\nBcc: x@evil.example"}, "email_from", "not an email"),
    ],
)
def test_bad_email_settings_say_how_to_fix_them(values, setting, words):
    with pytest.raises(ConfigError) as caught:
        load(**values)
    assert caught.value.setting == setting and words in str(caught.value) and "Fix:" in str(caught.value)


def test_the_smtp_url_is_read_into_host_port_and_tls():
    from server.mail import SmtpServer

    plain = SmtpServer.parse("smtp://u%40x:p%3Aw@mail.example.org:2525?starttls=true")
    assert (plain.host, plain.port, plain.username, plain.password) == ("mail.example.org", 2525, "u@x", "p:w")
    assert plain.start_tls is True and not plain.use_tls
    assert SmtpServer.parse("smtp://mail.example.org").start_tls is None  # when the server offers it
    assert SmtpServer.parse("smtp://mail.example.org?starttls=false").start_tls is False
    implicit = SmtpServer.parse("smtps://mail.example.org")
    assert implicit.use_tls and implicit.port == 465 and implicit.start_tls is False
