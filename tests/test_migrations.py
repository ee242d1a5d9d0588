"""The Alembic history: it builds the schema the models describe, and can be undone."""

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Connection, exc, inspect, text

from app import PROJECT_ROOT, crypto
from app.clock import utcnow
from app.extensions import db
from app.models import Screening, StaffUser


def test_migrations_build_the_schema_of_the_models(empty_app: Flask) -> None:
    with empty_app.app_context():
        flask_migrate.upgrade()
        # The same options as migrations/env.py (type comparison included), so a difference
        # found here is one `flask db migrate` would write.
        options = empty_app.extensions["migrate"].configure_args
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=options)
            # Every model shares one MetaData, so this compares all of their tables.
            differences = compare_metadata(context, Screening.metadata)
    assert differences == []


def test_downgrade_to_base_removes_every_table(empty_app: Flask) -> None:
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    # Alembic keeps its own (now empty) version table.
    assert tables == {"alembic_version"}


def test_history_has_a_single_head() -> None:
    # Two heads mean two branches of migrations written in parallel, not yet merged.
    history = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    assert len(history.get_heads()) == 1


#: Two base32 secrets, as 0003-0005 stored them (in clear).
PLAINTEXT_SECRETS = {1: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 2: None, 3: "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"}


def _staff_rows(connection: Connection) -> dict[int, str | None]:
    return dict(connection.execute(text("SELECT id, totp_secret FROM staff_user ORDER BY id")).tuples().all())


def test_0006_encrypts_the_stored_totp_secrets_and_the_downgrade_decrypts_them(
    empty_app: Flask, ideal_answers: dict[str, object]
) -> None:
    with empty_app.app_context():
        flask_migrate.upgrade(revision="0005")
        reference = "IMS-MIGRATE1"
        with db.engine.begin() as connection:
            # By hand: the model has columns that later revisions add.
            connection.execute(
                text(
                    "INSERT INTO screening (reference, state, answers, outcome, candidacy, reasons, indicators,"
                    " ruleset_version, consented_at, created_at, updated_at, submitted_at, expires_at, outcome_rank,"
                    " review_status) VALUES (:reference, 'submitted', '{}', 'likely', 'likely', '[]', '{}', 'test',"
                    " :now, :now, :now, :now, :now, 4, 'new')"
                ),
                {"reference": reference, "now": utcnow()},
            )
            for account_id, secret in PLAINTEXT_SECRETS.items():
                connection.execute(
                    text(
                        "INSERT INTO staff_user (id, email, name, role, password_hash, totp_secret, recovery_code_hashes,"
                        " active, session_version, created_at, password_changed_at) VALUES (:id, :email, 'A', 'physio',"
                        " 'x', :secret, '[]', :active, 1, :now, :now)"
                    ),
                    {
                        "id": account_id,
                        "email": f"a{account_id}@clinic.example",
                        "secret": secret,
                        "active": True,
                        "now": utcnow(),
                    },
                )
            # A row that refers to an account, so that SQLite's rebuild of the table must keep it valid.
            connection.execute(
                text(
                    "INSERT INTO screening_note (screening_id, author_id, created_at, body) SELECT id, 1, :now, 'n'"
                    " FROM screening WHERE reference = :reference"
                ),
                {"now": utcnow(), "reference": reference},
            )

        flask_migrate.upgrade(revision="0006")
        with db.engine.connect() as connection:
            stored = _staff_rows(connection)
        assert stored[2] is None
        for account_id in (1, 3):
            token = stored[account_id]
            assert token is not None and PLAINTEXT_SECRETS[account_id] not in token  # no plaintext on disk
            assert crypto.decrypt(token) == PLAINTEXT_SECRETS[account_id]
        # Through the model the secret reads as before, and the rest of the row is intact.
        account = db.session.get(StaffUser, 1)
        assert account is not None and account.totp_secret == PLAINTEXT_SECRETS[1]
        assert account.email == "a1@clinic.example" and account.role == "physio"
        db.session.rollback()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM screening_note")).scalar() == 1
        with pytest.raises(exc.IntegrityError), db.engine.begin() as connection:  # CHECK (role) kept
            connection.execute(text("UPDATE staff_user SET role = 'superuser' WHERE id = 1"))

        flask_migrate.downgrade(revision="0005")
        with db.engine.connect() as connection:
            assert _staff_rows(connection) == PLAINTEXT_SECRETS
