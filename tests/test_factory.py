"""The app factory and configuration from the environment."""

import secrets
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from app import create_app
from app.config import (
    DEV_SECRET_KEY,
    ConfigError,
    config_from_env,
    normalise_database_url,
)
from app.extensions import db

STRONG_KEY = secrets.token_urlsafe(32)


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


def test_production_accepts_a_strong_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    app = create_app()
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug


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
def test_database_url_is_normalised(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
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
        "synchronous": 1,  # NORMAL
    }
