"""deploy/postgresql-roles.sql: migrations run as ims_owner, the app as ims_app, which cannot
switch the audit trail's append-only triggers off, drop them, or empty the table.

On a cluster of this test's own, since it creates roles (which are cluster-wide). The
migrations run through `flask db upgrade` with MIGRATIONS_DATABASE_URL, as a deployment would.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select

from app import audit
from app.extensions import db
from app.models import AuditEvent, Screening
from app.patient import services
from tests.conftest import app_on, submit_screening
from tests.support.live_server import ROOT, base_environment, migrate
from tests.support.postgresql import PostgreSQLCluster

ROLES_SCRIPT = ROOT / "deploy" / "postgresql-roles.sql"

#: What the app's role must never manage, each with the error PostgreSQL answers.
FORBIDDEN_TO_THE_APP = {
    "ALTER TABLE audit_event DISABLE TRIGGER ALL": "must be owner",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update": "must be owner",
    "DROP TRIGGER audit_event_no_delete ON audit_event": "must be owner",
    "DROP TABLE audit_event": "must be owner",
    "TRUNCATE audit_event": "permission denied",
    "SET session_replication_role = replica": "permission denied",  # which would skip every trigger
    "UPDATE audit_event SET action = 'rewritten'": "append-only",
    "DELETE FROM audit_event": "append-only",
    "CREATE TABLE shadow (id integer)": "permission denied",
}


@pytest.fixture
def database(own_postgresql_cluster: PostgreSQLCluster, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database set up by the roles script and migrated as ims_owner; the URLs of both roles."""
    with psycopg.connect(own_postgresql_cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE ims")
    for _ in range(2):  # running the script again must change nothing (nor fail)
        subprocess.run(
            [
                own_postgresql_cluster.bin("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                own_postgresql_cluster.conninfo("ims"),
                "-f",
                str(ROLES_SCRIPT),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    server = own_postgresql_cluster.url.replace("postgres@", "{}@")
    urls = {"owner": server.format("ims_owner") + "/ims", "app": server.format("ims_app") + "/ims"}
    migrate(urls["app"], {**base_environment(tmp_path, urls["app"]), "MIGRATIONS_DATABASE_URL": urls["owner"]})
    yield urls


def test_the_app_works_as_ims_app(database: dict[str, str], ideal_answers: dict[str, object]) -> None:
    with app_on(database["app"]) as app:
        reference = submit_screening(app, ideal_answers)
        with app.app_context():
            screening = db.session.execute(select(Screening).filter_by(reference=reference)).scalar_one()
            audit.record("view_screening", screening=screening, email="physio@clinic.example")
            db.session.commit()
            assert db.session.execute(select(AuditEvent.action)).scalars().all() == ["view_screening"]
            draft, _token = services.start_screening(app.config["DRAFT_RETENTION_DAYS"])
            db.session.delete(draft)
            db.session.commit()
        assert app.test_client().get("/healthz").status_code == 200  # the heartbeat is written


def test_ims_app_cannot_alter_or_empty_the_audit_trail(database: dict[str, str]) -> None:
    with app_on(database["app"]) as app:
        _record_one_event(app)
    refused = {}
    with psycopg.connect(database["app"].replace("+psycopg", ""), autocommit=True) as connection:
        for statement, error in FORBIDDEN_TO_THE_APP.items():
            try:
                connection.execute(statement)
            except psycopg.Error as failure:
                refused[statement] = error in str(failure)
            else:
                refused[statement] = False
        assert refused == dict.fromkeys(FORBIDDEN_TO_THE_APP, True)
        assert connection.execute("SELECT count(*) FROM audit_event").fetchone() == (1,)
        owner = connection.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'").fetchone()
        assert owner == ("ims_owner",)


def test_not_even_the_owner_can_truncate_the_audit_trail(database: dict[str, str]) -> None:
    with app_on(database["app"]) as app:
        _record_one_event(app)
    with psycopg.connect(database["owner"].replace("+psycopg", ""), autocommit=True) as connection:
        with pytest.raises(psycopg.Error, match="append-only: TRUNCATE"):
            connection.execute("TRUNCATE audit_event")
        assert connection.execute("SELECT count(*) FROM audit_event").fetchone() == (1,)


def _record_one_event(app: Flask) -> None:
    with app.app_context():
        audit.record("sign_in", email="physio@clinic.example", method="password")
        db.session.commit()
