"""Alembic environment, run by `flask --app wsgi db ...` inside the app context.

The database, the metadata and the options (batch mode for SQLite, type comparison) all come
from the app, so migrations never need a configuration of their own. The one exception is
MIGRATIONS_DATABASE_URL: when set, migrations connect there (as the role that owns the tables,
see deploy/postgresql-roles.sql) rather than with the app's own, less privileged, role.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

# Importing app.models also registers its tables on the metadata that autogenerate compares.
from app.crypto import EncryptedText
from app.models import UtcDateTime

config = context.config
if config.config_file_name is not None:
    # fileConfig disables every logger that already exists unless told not to, which would
    # silence the app's own loggers for the rest of the process (the tests run migrations).
    fileConfig(config.config_file_name, disable_existing_loggers=False)

migrate = current_app.extensions["migrate"]
target_metadata = migrate.db.metadata


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write the app's column types as the types they store, so revisions never import app code."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False


def migrations_url() -> str | URL:
    """MIGRATIONS_DATABASE_URL when set, else the app's database URL."""
    return current_app.config.get("MIGRATIONS_DATABASE_URL") or migrate.db.engine.url


@contextmanager
def migrations_engine() -> Iterator[Engine]:
    """The app's engine, or a pool-less one of its own on MIGRATIONS_DATABASE_URL."""
    url = current_app.config.get("MIGRATIONS_DATABASE_URL")
    if not url:
        yield migrate.db.engine
        return
    engine = create_engine(url, poolclass=NullPool, **current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    try:
        yield engine
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """Print the migration SQL (`flask db upgrade --sql`) instead of running it."""
    context.configure(
        url=migrations_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        **migrate.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def announce(engine: Engine) -> None:
    """Say which database is about to be migrated (password hidden), as every writing command does.

    On standard error, and only from the `flask` command line: the tests migrate in-process too.
    """
    if current_app.config.get("TESTING"):
        return
    print(
        f"Migrating {engine.url.render_as_string(hide_password=True)} ({current_app.config['IMS_ENV']})",
        file=sys.stderr,
    )


def run_migrations_online() -> None:
    """Run the migrations on the app's database, in one transaction where the backend allows."""
    with migrations_engine() as engine, engine.connect() as connection:
        announce(engine)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_item=render_item,
            **migrate.configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
