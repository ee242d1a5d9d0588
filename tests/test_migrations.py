"""The Alembic history: it builds the schema the models describe, and can be undone."""

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from app import PROJECT_ROOT
from app.extensions import db
from app.models import Screening


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
