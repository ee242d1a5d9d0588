"""The app factory and configuration from the environment."""

import secrets
import sqlite3
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from app import create_app
from app.config import (
    DEV_SECRET_KEY,
    ConfigError,
    config_from_env,
    filesystem_type,
    normalise_database_url,
)
from app.extensions import db, read_snapshot
from tests.conftest import PRODUCTION_SETTINGS

STRONG_KEY = secrets.token_urlsafe(32)
ROOT = Path(__file__).resolve().parents[1]


def test_test_config_is_honoured(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    assert app.testing
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_test_config_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"SECRET_KEY": "from-the-test"})
    assert app.config["SECRET_KEY"] == "from-the-test"


def test_development_defaults() -> None:
    config = config_from_env({}, "/srv/ims/instance")
    assert config["IMS_ENV"] == "development"
    assert config["SECRET_KEY"] == DEV_SECRET_KEY
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/ims/instance/ims_screen.sqlite3"
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_development_links_name_the_port_make_run_serves() -> None:
    """`make run PORT=5077` passes PORT on: links, canonical URLs and the origin check say 5077."""
    assert config_from_env({"PORT": "5077"}, "/srv/ims/instance")["PUBLIC_BASE_URL"] == "http://127.0.0.1:5077"
    assert config_from_env({}, "/srv/ims/instance")["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    named = {"PORT": "5077", "PUBLIC_BASE_URL": "http://ims.test:8080"}
    assert config_from_env(named, "/srv/ims/instance")["PUBLIC_BASE_URL"] == "http://ims.test:8080"
    run = subprocess.run(["make", "-n", "run", "PORT=5077"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "PORT=5077 .venv/bin/flask --app wsgi run --host 127.0.0.1 --port 5077" in run.stdout


@pytest.mark.parametrize(
    ("secret_key", "message"),
    [
        (None, "SECRET_KEY is not set"),
        ("", "SECRET_KEY is not set"),
        (DEV_SECRET_KEY, "SECRET_KEY is the development default"),
        ("x" * 31, "SECRET_KEY is shorter than 32 characters"),
    ],
    ids=["missing", "empty", "development-default", "short"],
)
def test_production_refuses_a_weak_secret_key(
    monkeypatch: pytest.MonkeyPatch, secret_key: str | None, message: str
) -> None:
    monkeypatch.setenv("IMS_ENV", "production")
    if secret_key is not None:
        monkeypatch.setenv("SECRET_KEY", secret_key)
    with pytest.raises(ConfigError, match=f"Refusing to start in production: {message}"):
        create_app()


#: Everything production needs besides the secret key.
REAL_CLINIC = {name: value for name, value in PRODUCTION_SETTINGS.items() if name not in ("IMS_ENV", "SECRET_KEY")}


def test_production_accepts_a_strong_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    for name, value in REAL_CLINIC.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug


@pytest.mark.parametrize("missing", sorted(set(REAL_CLINIC) - {"ENCRYPTION_KEYS"}))
def test_production_refuses_to_run_without_the_clinic_details(missing: str) -> None:
    environ = {"IMS_ENV": "production", "SECRET_KEY": STRONG_KEY, **REAL_CLINIC}
    del environ[missing]
    with pytest.raises(ConfigError, match=f"Refusing to start in production: {missing} is not set"):
        config_from_env(environ, "/srv/ims/instance")


@pytest.mark.parametrize("keys", [None, "", "not-a-fernet-key", "x5PRV0dIcjJDlS0sJjYoUhKh9Nt3wLzvyVdpx8YQ6Ng=,short"])
def test_production_refuses_to_run_without_a_usable_encryption_key(keys: str | None) -> None:
    environ = {"IMS_ENV": "production", "SECRET_KEY": STRONG_KEY, **REAL_CLINIC}
    if keys is None:
        del environ["ENCRYPTION_KEYS"]
    else:
        environ["ENCRYPTION_KEYS"] = keys
    with pytest.raises(ConfigError, match="Refusing to start in production: ENCRYPTION_KEYS is not usable"):
        config_from_env(environ, "/srv/ims/instance")


def test_development_keeps_a_generated_key_in_the_instance_folder(tmp_path: Path) -> None:
    first = config_from_env({}, str(tmp_path))["ENCRYPTION_KEYS"]
    assert (tmp_path / "encryption.key").read_text().strip() == first
    assert config_from_env({}, str(tmp_path))["ENCRYPTION_KEYS"] == first


def test_production_refuses_the_development_clinic() -> None:
    environ = {"IMS_ENV": "production", "SECRET_KEY": STRONG_KEY, **REAL_CLINIC, "CLINIC_PHONE": "604-555-0100"}
    with pytest.raises(ConfigError, match="CLINIC_PHONE is not set"):
        config_from_env(environ, "/srv/ims/instance")


def test_clinic_locations_are_a_semicolon_separated_list() -> None:
    config = config_from_env({"CLINIC_LOCATIONS": " Vancouver, 2150 W Broadway ;; Surrey ;"}, "/i")
    assert config["CLINIC_LOCATIONS"] == ["Vancouver, 2150 W Broadway", "Surrey"]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "clinic.example"])
def test_a_booking_url_must_be_a_web_address(url: str) -> None:
    with pytest.raises(ConfigError, match="BOOKING_URL must start with https://"):
        config_from_env({"BOOKING_URL": url}, "/i")


@pytest.mark.parametrize(("value", "message"), [("seven", "whole number"), ("0", "at least 1")])
def test_draft_retention_must_be_a_positive_number_of_days(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"DRAFT_RETENTION_DAYS must be .*{message}"):
        config_from_env({"DRAFT_RETENTION_DAYS": value}, "/i")


def test_draft_retention_defaults_to_a_week() -> None:
    assert config_from_env({}, "/i")["DRAFT_RETENTION_DAYS"] == 7
    assert config_from_env({"DRAFT_RETENTION_DAYS": "3"}, "/i")["DRAFT_RETENTION_DAYS"] == 3


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="IMS_ENV must be one of development, production"):
        config_from_env({"IMS_ENV": "staging"}, "/srv/ims/instance")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://ims:pw@db:5432/ims", "postgresql+psycopg://ims:pw@db:5432/ims"),
        ("postgresql://ims@db/ims", "postgresql+psycopg://ims@db/ims"),
        ("postgresql+psycopg://ims@db/ims", "postgresql+psycopg://ims@db/ims"),
        ("sqlite:////srv/ims.sqlite3", "sqlite:////srv/ims.sqlite3"),
    ],
)
def test_database_url_is_normalised(monkeypatch: pytest.MonkeyPatch, url: str, expected: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == expected


@given(rest=st.text())
def test_postgres_urls_keep_everything_after_the_scheme(rest: str) -> None:
    for scheme in ("postgres://", "postgresql://"):
        assert normalise_database_url(scheme + rest) == "postgresql+psycopg://" + rest


@given(url=st.text())
def test_normalising_twice_changes_nothing(url: str) -> None:
    once = normalise_database_url(url)
    assert normalise_database_url(once) == once


def test_sqlite_connections_are_tuned(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pragmas.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    names = ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    with app.app_context():
        with db.engine.connect() as connection:
            pragmas = {name: connection.execute(text(f"PRAGMA {name}")).scalar() for name in names}
        db.engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 2,  # FULL: a commit survives a power cut, not only a crash
    }


def test_creating_the_app_opens_no_database_connection(tmp_path: Path) -> None:
    # docs/security.md (b): a connection opened before gunicorn forks would be shared by every worker
    # (SQLite can corrupt its file that way). Workers import the app after the fork anyway
    # (preload_app = False), but the factory must not rely on it.
    opened: list[object] = []

    def count(dbapi_connection: object, _record: object) -> None:
        opened.append(dbapi_connection)

    event.listen(Engine, "connect", count)
    try:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fork.sqlite3'}"})
    finally:
        event.remove(Engine, "connect", count)
    assert opened == []
    assert not (tmp_path / "fork.sqlite3").exists()


def _sqlite_app(tmp_path: Path) -> Flask:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'locks.sqlite3'}"})
    with app.app_context():
        db.session.execute(text("CREATE TABLE counter (n INTEGER)"))
        db.session.commit()
    return app


def test_sqlite_session_transactions_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    # docs/security.md (b) R4: a read-then-write transaction must not fail at its write because
    # another process wrote in between; BEGIN IMMEDIATE makes it wait for the lock instead.
    app = _sqlite_app(tmp_path)
    other = sqlite3.connect(tmp_path / "locks.sqlite3", timeout=0)
    try:
        with app.app_context():
            db.session.execute(text("SELECT count(*) FROM counter")).scalar()  # a read, nothing written yet
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            db.session.rollback()
            other.execute("BEGIN IMMEDIATE")  # released with the session's transaction
            other.rollback()
            db.engine.dispose()
    finally:
        other.close()


def test_a_read_snapshot_leaves_the_write_lock_to_writers(tmp_path: Path) -> None:
    app = _sqlite_app(tmp_path)
    other = sqlite3.connect(tmp_path / "locks.sqlite3", timeout=0, isolation_level=None)
    try:
        with app.app_context():
            read_snapshot()
            assert db.session.execute(text("SELECT count(*) FROM counter")).scalar() == 0
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO counter VALUES (1)")
            other.execute("COMMIT")
            # Still the snapshot taken at the first read: one consistent view for the whole export.
            assert db.session.execute(text("SELECT count(*) FROM counter")).scalar() == 0
            db.session.rollback()
            assert db.session.execute(text("SELECT count(*) FROM counter")).scalar() == 1
            db.session.rollback()
            db.engine.dispose()
    finally:
        other.close()


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for() -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["TRUSTED_PROXIES"] == 0
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TRUSTED_PROXIES", "1")
        proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @proxied.get("/_whoami")
    def whoami() -> str:
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    response = proxied.test_client().get(
        "/_whoami", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert response.get_data(as_text=True) == "203.0.113.7 https"


def test_trusted_proxies_must_be_a_count() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be a whole number"):
        config_from_env({"TRUSTED_PROXIES": "nginx"}, "/i")


MOUNTS_TABLE = """\
/dev/sda1 / ext4 rw,relatime 0 0
server:/export /srv/share nfs4 rw,relatime 0 0
//nas/clinic /srv/share/smb cifs rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/srv/share/ims.sqlite3", "nfs4"),
        ("/srv/share/smb/ims.sqlite3", "cifs"),
        ("/srv/shared/ims.sqlite3", "ext4"),  # a sibling whose name only starts like the mount point
        ("/var/lib/ims/ims.sqlite3", "ext4"),
    ],
)
def test_the_filesystem_under_a_path_is_its_longest_mount_point(tmp_path: Path, path: str, kind: str) -> None:
    (mounts := tmp_path / "mounts").write_text(MOUNTS_TABLE)
    assert filesystem_type(path, str(mounts)) == kind


def test_production_refuses_an_sqlite_file_on_a_network_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (mounts := tmp_path / "mounts").write_text(MOUNTS_TABLE)
    monkeypatch.setattr("app.config.MOUNTS", str(mounts))
    environ = {"IMS_ENV": "production", "SECRET_KEY": STRONG_KEY, **REAL_CLINIC}
    with pytest.raises(ConfigError, match=r"network filesystem \(nfs4\)"):
        config_from_env({**environ, "DATABASE_URL": "sqlite:////srv/share/ims.sqlite3"}, str(tmp_path))
    local = config_from_env({**environ, "DATABASE_URL": "sqlite:////var/lib/ims/ims.sqlite3"}, str(tmp_path))
    assert local["SQLALCHEMY_DATABASE_URI"] == "sqlite:////var/lib/ims/ims.sqlite3"


def test_the_key_command_production_suggests_works_while_production_refuses_to_start(tmp_path: Path) -> None:
    """Found following the README: with the settings file made but no key in it yet, the suggested
    `flask ... generate-encryption-key` could not run, as the app refused to start without a key."""
    import subprocess
    import sys

    from cryptography.fernet import Fernet

    from app.config import NEW_ENCRYPTION_KEY_COMMAND

    environ = {**PRODUCTION_SETTINGS, "ENCRYPTION_KEYS": ""}
    with pytest.raises(ConfigError) as refused:
        config_from_env(environ, str(tmp_path))
    assert NEW_ENCRYPTION_KEY_COMMAND in str(refused.value)
    python_code = NEW_ENCRYPTION_KEY_COMMAND.split(" -c ", 1)[1].strip('"')
    done = subprocess.run(
        [sys.executable, "-c", python_code], capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"}
    )
    key = done.stdout.strip()
    Fernet(key)  # a usable key
    assert config_from_env({**environ, "ENCRYPTION_KEYS": key}, str(tmp_path))["ENCRYPTION_KEYS"] == key
