"""The /healthz endpoint."""

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg import sql
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.conftest import app_on


def test_healthy_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "unreachable_url",
    [
        "sqlite:////nonexistent-directory/ims_screen.sqlite3",
        # Port 1 on the loopback interface refuses connections at once.
        "postgresql+psycopg://ims@127.0.0.1:1/ims?connect_timeout=2",
    ],
    ids=["sqlite", "postgresql"],
)
def test_unavailable_when_the_database_is_unreachable(unreachable_url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": unreachable_url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    # Exactly this body: no exception text, which could name hosts, users or paths.
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    assert response.headers["Cache-Control"] == "no-store"


def test_errors_are_json(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.get_json() == {"status": "error", "error": "Method Not Allowed"}
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def read_only(database_url: str) -> str:
    """The URL of the same database, which the app can then read but not write.

    SQLite: opened read-only (as root, a read-only file would still be written). PostgreSQL:
    every new connection's transactions read-only, as on a standby or after an administrator's
    emergency switch; disk full fails the same commit.
    """
    if database_url.startswith("sqlite:///"):
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    server, _, name = database_url.rpartition("/")
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(sql.Identifier(name)))
    return database_url


def test_unavailable_when_the_database_cannot_be_written(database_url: str) -> None:
    with app_on(read_only(database_url)) as app:
        with app.app_context():  # reads still work
            assert db.session.execute(text("SELECT count(*) FROM screening")).scalar() == 0
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    # Exactly this body: no exception text, which could name hosts, users or paths.
    assert response.get_json() == {"status": "error", "database": "unavailable"}


def test_each_check_commits_a_heartbeat(app: Flask) -> None:
    """The probe is a committed write (a rolled-back one never reaches the disk, so it could not
    find a full one)."""
    client = app.test_client()
    beats = []
    for _ in range(2):
        assert client.get("/healthz").status_code == 200
        with app.app_context():
            beats.append(db.session.execute(text("SELECT beat FROM health_heartbeat")).scalar_one())
    assert beats[1] == beats[0] + 1
