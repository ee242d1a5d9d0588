"""Flask extensions, created unbound here and bound to the app in `create_app`."""

import sqlite3
from typing import Any

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase

#: Deterministic constraint names (from the Alembic docs), so a later migration can drop or
#: alter a constraint by name on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model.

    Models subclass this rather than `db.Model`: type checkers understand it, and it leaves out
    the legacy `Model.query` API. Flask-SQLAlchemy still shares its metadata and sessions.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# SQLite cannot ALTER most of a table in place; batch mode rebuilds the table instead.
migrate = Migrate(render_as_batch=True, compare_type=True)

csrf = CSRFProtect()

login_manager = LoginManager()
login_manager.login_view = "staff_auth.sign_in"
login_manager.login_message = "Sign in to see that page."
login_manager.login_message_category = "info"
# Flask-Login's "session protection" would silently drop sessions when an address changes
# (common on phones); sessions are ended explicitly instead (see StaffUser.session_version).
login_manager.session_protection = None

#: Limits are declared on the views that need them; nothing is limited by default. This one
#: fails closed: with its store (Redis) unreachable, a limited route is refused (app.errors).
limiter = Limiter(key_func=get_remote_address, default_limits=[])

#: The patients' limit, on the same store, fails open instead: with Redis unreachable the error
#: is logged and the post goes ahead, because a person part-way through a screening must still
#: reach its result and safety advice. Flask-Limiter chooses between the two per instance
#: (`swallow_errors`), hence a second one; only app.patient.views declares limits on it.
patient_limiter = Limiter(key_func=get_remote_address, default_limits=[], swallow_errors=True)


#: Execution option naming how SQLite begins a session's next transaction (see
#: `read_snapshot`); IMMEDIATE unless it is set.
SQLITE_BEGIN = "ims_sqlite_begin"


@event.listens_for(Engine, "connect")
def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    """Tune each new SQLite connection for a web server with several worker processes.

    - WAL lets readers carry on while one request writes (the default journal blocks them).
    - busy_timeout makes a second writer wait up to 5 s for the lock instead of failing at once
      with "database is locked".
    - foreign_keys is off by default in SQLite, and is per connection.
    - synchronous=FULL syncs the WAL on every commit, so a submission the patient was told is
      saved survives a power cut too (NORMAL survives only an application crash).
    - pysqlite's own transaction handling is switched off (isolation_level None), so that
      `_begin_sqlite_transaction` decides how each transaction begins.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=5000",
            "foreign_keys=ON",
            "synchronous=FULL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite_transaction(connection: Connection) -> None:
    """Begin SQLite transactions IMMEDIATE: take the write lock first, waiting for it if need be.

    A DEFERRED transaction that reads and then writes (most requests here: a read, then an
    audit row or a saved answer) fails with SQLITE_BUSY at the write when another process
    committed in between, and busy_timeout cannot help, because waiting would not make its
    snapshot current. Taking the lock at BEGIN makes writers queue instead. The SQLAlchemy
    pysqlite documentation gives this recipe; `read_snapshot` opts a long read out of it.
    """
    if connection.dialect.name == "sqlite":
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def read_snapshot() -> None:
    """Run the session's next transaction as a plain read on SQLite (BEGIN DEFERRED).

    For a long read that writes nothing, such as a streamed export: under WAL it then never
    holds the write lock, so patients' submissions are not kept waiting while it runs. Call it
    when the session has no transaction open (at the start of a request, or after a commit).
    PostgreSQL transactions are unaffected.
    """
    db.session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
