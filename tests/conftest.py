"""Shared fixtures: the app on a fresh database per test, on SQLite and on PostgreSQL.

Each backend migrates one template database per session with the real Alembic history, then
gives every test its own copy (a file copy for SQLite, `CREATE DATABASE ... TEMPLATE` for
PostgreSQL). Tests therefore run on exactly the schema production gets from `flask db upgrade`,
cannot see each other's rows, and don't pay for a migration each.
"""

import itertools
import os
import sqlite3
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import flask_limiter._extension
import flask_migrate
import itsdangerous.timed
import jinja2
import jinja2.bccache
import limits.storage.memory
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from psycopg import sql
from werkzeug.routing import Rule

import rules
from app import clock as app_clock
from app import create_app
from app.extensions import db
from tests.support.journey import profile
from tests.support.postgresql import PostgreSQLCluster, find_pg_ctl, free_port  # noqa: F401 -- free_port for live_server
from tests.support.tools import missing

BACKENDS = ("sqlite", "postgresql")

#: Variables read by app.config; cleared so a developer's shell cannot change the tests.
APP_ENVIRONMENT_VARIABLES = (
    "IMS_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "CLINIC_NAME",
    "CLINIC_PHONE",
    "CLINIC_LOCATIONS",
    "BOOKING_URL",
    "DRAFT_RETENTION_DAYS",
    "RESULT_VISIBLE_DAYS",
    "STAFF_MFA_REQUIRED",
    "STAFF_IDLE_MINUTES",
    "PATIENT_IDLE_MINUTES",
    "STAFF_SESSION_HOURS",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_ENABLED",
    "ENCRYPTION_KEYS",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_STARTTLS",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "MAIL_FROM",
    "CLINIC_INBOX",
    "PUBLIC_BASE_URL",
    "NOTIFY_IN_BACKGROUND",
    "SCREENING_RETENTION_DAYS",
    "FOLLOW_UP_WEEKS",
    "FOLLOW_UP_LINK_DAYS",
    "FOLLOW_UP_SEND_DAYS",
    "TRUSTED_PROXIES",
    "TRUSTED_HOSTS",
    "MIGRATIONS_DATABASE_URL",
    "PATIENT_POST_LIMIT",
)


#: A complete production configuration that the app accepts; a test changes what it is about.
PRODUCTION_SETTINGS = {
    "IMS_ENV": "production",
    "SECRET_KEY": "s" * 24 + "production-test-key",
    "ENCRYPTION_KEYS": "x5PRV0dIcjJDlS0sJjYoUhKh9Nt3wLzvyVdpx8YQ6Ng=",
    "CLINIC_NAME": "Kitsilano Physiotherapy",
    "CLINIC_PHONE": "604-736-0000",
    "CLINIC_LOCATIONS": "Vancouver, 2150 W Broadway; Surrey, 10355 King George Blvd",
    "PUBLIC_BASE_URL": "https://clinic.example",
    "MAIL_FROM": "IMS Screen <screening@clinic.example>",
    "CLINIC_INBOX": "front-desk@clinic.example",
}


#: Where the tests keep their temporary files when the machine has a memory file system.
MEMORY_TEMP = Path("/dev/shm")


def keep_temporary_files_in_memory() -> None:
    """Put the tests' temporary files (SQLite databases, PostgreSQL clusters, browser profiles) in
    /dev/shm, unless TMPDIR says otherwise or there is no such folder.

    On disk, every commit of a SQLite test database waits for fsync (synchronous=FULL, as in
    production), and cloning a PostgreSQL database for a test took 100 to 250 ms against 10 ms
    in memory. What the tests prove does not depend on the disk: none of them cuts the power.
    Set before the test processes start, so they and every server they start inherit it.
    """
    if "TMPDIR" in os.environ or not (MEMORY_TEMP.is_dir() and os.access(MEMORY_TEMP, os.W_OK)):
        return
    os.environ["TMPDIR"] = str(MEMORY_TEMP)
    tempfile.tempdir = None  # read TMPDIR again


def pytest_configure(config: pytest.Config) -> None:
    keep_temporary_files_in_memory()
    # As in Flask's own tutorial: a deprecation should break a test, not a later upgrade.
    config.addinivalue_line("filterwarnings", "error")
    config.addinivalue_line("markers", "browser: runs in a real browser (Chromium) against the real server")
    config.addinivalue_line(
        "markers",
        "one_backend: the logic of the test (or of a whole module) does not depend on the database: SQLite only",
    )
    config.addinivalue_line(
        "markers",
        "production: the production stack end to end (nginx, TLS, gunicorn, "
        "PostgreSQL, Redis), as README.md deploys it",
    )


@pytest.fixture(scope="session", autouse=True)
def _clean_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in APP_ENVIRONMENT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        # No settings file: a production one on a developer's machine must never reach the tests.
        monkeypatch.setenv("IMS_ENV_FILE", "")
        yield


class SessionBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for the whole test session and shared by every test's app.

    Each test has an app of its own, and each app a Jinja environment of its own, which would
    compile every template it renders again: about 13 ms a template, most of a simple test's time.
    Jinja keys each entry by the template's name and a checksum of its source, so an edited
    template is compiled afresh.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (compiled := self._compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SessionBytecodeCache()


def share_url_builders() -> None:
    """Let every test app of this process share the URL builders Werkzeug compiles for its rules.

    Each test creates its app afresh, and registering its URL rules compiled two small Python
    functions per rule (`url_for` calls them): 12 of the 16 ms that `create_app` took, for every
    one of two thousand tests. A builder is made only from what the key below holds (the rule,
    its parsed parts, its defaults as their converters write them, and whether unknown values
    go to the query string), and reads everything else through the rule it is bound to, so two
    apps' identical rules can share one. Werkzeug is pinned in requirements.txt; a version that
    compiles builders differently would fail the first test that builds a URL.
    """
    compile_builder = Rule._compile_builder
    builders: dict[tuple[object, ...], Callable[..., tuple[str, str]]] = {}

    def shared(rule: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = rule.defaults or {}
        key = (
            rule.rule,
            append_unknown,
            tuple(rule._trace),
            tuple(
                sorted(
                    (name, rule._converters[name].to_url(value))
                    for name, value in defaults.items()
                    if name in rule._converters
                )
            ),
            tuple(sorted(defaults)),
        )
        if (builder := builders.get(key)) is None:
            builder = builders[key] = compile_builder(rule, append_unknown)
        return builder

    Rule._compile_builder = shared  # type: ignore[method-assign]


share_url_builders()


@contextmanager
def app_on(database_url: str) -> Iterator[Flask]:
    """A test app on `database_url`, with its connections closed afterwards."""
    # Emails are sent by the tests themselves (deliver_due), never by a stray background thread.
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "NOTIFY_IN_BACKGROUND": False})
    app.jinja_env.bytecode_cache = TEMPLATES
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def migrate_to_head(database_url: str) -> None:
    """Apply every migration to the database at `database_url`."""
    with app_on(database_url) as app, app.app_context():
        flask_migrate.upgrade()


class Databases(Protocol):
    """Creates and drops throwaway databases on one backend."""

    def create(self, *, migrated: bool) -> str:
        """Return the URL of a new database, empty or at the latest migration."""

    def drop(self, url: str) -> None:
        """Delete a database made by `create`."""


class SQLiteDatabases:
    """SQLite files in a temporary folder, copied from a migrated template file."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._numbers = itertools.count()
        self._template = self._new_path()
        migrate_to_head(self._url(self._template))

    def create(self, *, migrated: bool) -> str:
        path = self._new_path()
        if migrated:
            # The backup API copies a consistent snapshot, including pages still in the WAL.
            with (
                closing(sqlite3.connect(self._template)) as source,
                closing(sqlite3.connect(path)) as target,
            ):
                source.backup(target)
        return self._url(path)

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def _new_path(self) -> Path:
        return self._directory / f"db{next(self._numbers)}.sqlite3"

    @staticmethod
    def _url(path: Path) -> str:
        return f"sqlite:///{path}"


class PostgreSQLDatabases:
    """Databases in a throwaway cluster, cloned from a migrated template database."""

    TEMPLATE = "ims_template"

    def __init__(self, server_url: str, admin: psycopg.Connection) -> None:
        self._server_url = server_url
        self._admin = admin
        self._numbers = itertools.count()
        self._execute("CREATE DATABASE {}", self.TEMPLATE)
        migrate_to_head(self._url(self.TEMPLATE))

    def create(self, *, migrated: bool) -> str:
        name = f"test_{next(self._numbers)}"
        if migrated:
            # FILE_COPY copies the template's files instead of writing each page to the WAL: half
            # the time for a database this small, and its checkpoints cost nothing without fsync.
            self._execute("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY", name, self.TEMPLATE)
        else:
            self._execute("CREATE DATABASE {}", name)
        return self._url(name)

    def drop(self, url: str) -> None:
        # FORCE: a test that failed half-way may still hold a connection.
        self._execute("DROP DATABASE {} WITH (FORCE)", url.rpartition("/")[2])

    def _execute(self, statement: str, *names: str) -> None:
        self._admin.execute(sql.SQL(statement).format(*map(sql.Identifier, names)))

    def _url(self, name: str) -> str:
        return f"{self._server_url}/{name}"


def require_pg_ctl() -> Path:
    """pg_ctl, or skip the test when PostgreSQL is not installed.

    Except on CI (`CI` set), which always has it: there a missing PostgreSQL must fail rather
    than quietly test only SQLite.
    """
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        missing(
            "PostgreSQL (pg_ctl, on PATH or in /usr/lib/postgresql/*/bin)", "postgresql", "run every test on PostgreSQL"
        )
    return pg_ctl


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster for the session and yield its server URL."""
    cluster = PostgreSQLCluster(require_pg_ctl())
    cluster.start()
    try:
        yield cluster.url
    finally:
        cluster.remove()


@pytest.fixture
def own_postgresql_cluster() -> Iterator[PostgreSQLCluster]:
    """A second throwaway cluster, this test's alone: it may stop, restart or reconfigure it."""
    cluster = PostgreSQLCluster(require_pg_ctl(), prefix="ims-screen-pg-own-")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SQLiteDatabases:
    """SQLite databases for the whole session, copied from one migrated template."""
    return SQLiteDatabases(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgresql_databases(postgresql_server: str) -> Iterator[PostgreSQLDatabases]:
    """PostgreSQL databases for the whole session, cloned from one migrated template."""
    conninfo = postgresql_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        yield PostgreSQLDatabases(postgresql_server, admin)


@pytest.fixture(scope="session", params=BACKENDS)
def databases(request: pytest.FixtureRequest) -> Databases:
    """The database backend under test; every test that uses it runs once per backend.

    Each backend is set up once, in its own session fixture: pytest sets a parametrised session
    fixture up again whenever the order of tests switches backend (as it does when the tests are
    spread over several processes), which must not migrate a template again.
    """
    backend: Databases = request.getfixturevalue(f"{request.param}_databases")
    return backend


@pytest.fixture
def database_url(databases: Databases) -> Iterator[str]:
    """A new database at the latest migration, dropped after the test."""
    url = databases.create(migrated=True)
    yield url
    databases.drop(url)


@pytest.fixture
def empty_database_url(databases: Databases) -> Iterator[str]:
    """A new database with no tables, dropped after the test."""
    url = databases.create(migrated=False)
    yield url
    databases.drop(url)


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The app on its own database at the latest migration."""
    with app_on(database_url) as app:
        yield app


@pytest.fixture
def empty_app(empty_database_url: str) -> Iterator[Flask]:
    """The app on its own database with no tables, for testing the migrations themselves."""
    with app_on(empty_database_url) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def ideal_answers() -> dict[str, object]:
    """A complete screening of a typical IMS candidate (profile `ideal_neck` of the named cases)."""
    return profile("ideal_neck")


#: The password of every test staff account (long enough, and not a common password).
STAFF_PASSWORD = "correct horse battery staple"


class StaffAccounts:
    """Creates staff accounts and signs clients in, for the staff portal's tests."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def create(self, email: str = "physio@clinic.example", role: str = "physio", *, mfa: bool = False) -> int:
        """Add an account (with an enrolled authenticator app when `mfa`); return its id."""
        from app import credentials

        with self.app.app_context():
            user = credentials.create_staff(email, email.split("@")[0].title(), role, STAFF_PASSWORD)
            if mfa:
                user.totp_secret = credentials.new_totp_secret()
            db.session.commit()
            return user.id

    def totp_secret(self, user_id: int) -> str:
        from app.models import StaffUser

        with self.app.app_context():
            secret = db.session.get(StaffUser, user_id).totp_secret  # type: ignore[union-attr]
            assert secret is not None
            return secret

    def signed_in_client(self, email: str, role: str) -> FlaskClient:
        """A new account with `role`, and a new client signed in to it."""
        self.create(email, role)
        client = self.app.test_client()
        self.sign_in(client, email)
        return client

    def sign_in(self, client: FlaskClient, email: str = "physio@clinic.example") -> None:
        """Sign `client` in with the password (accounts without an authenticator app, MFA optional)."""
        page = client.get("/staff/sign-in")
        token = csrf_token_from(page.get_data(as_text=True))
        response = client.post("/staff/sign-in", data={"email": email, "password": STAFF_PASSWORD, "csrf_token": token})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def staff(app: Flask) -> StaffAccounts:
    return StaffAccounts(app)


@pytest.fixture
def physio_client(staff: StaffAccounts) -> FlaskClient:
    """A client signed in as a physiotherapist."""
    return staff.signed_in_client("physio@clinic.example", "physio")


@pytest.fixture
def admin_client(staff: StaffAccounts) -> FlaskClient:
    """A client signed in as an admin."""
    return staff.signed_in_client("admin@clinic.example", "admin")


# ---- Staff portal: cheap hashing, a controllable clock, submitted screenings ---------------


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the smallest parameters in every test, so that signing in costs microseconds.

    The production parameters cost ~150 ms per hash and the tests create accounts and sign in
    hundreds of times; `test_staff_accounts.test_production_hasher_is_argon2id_with_strong_parameters`
    undoes this and checks the real ones, and the servers the browser and production tests start
    use them. The dummy hash (unknown emails) is swapped too, so both paths match.
    """
    from argon2 import PasswordHasher

    from app import credentials

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(credentials, "_hasher", cheap)
    monkeypatch.setattr(credentials, "_DUMMY_HASH", cheap.hash("not a real password"))


class Clock:
    """The app's time under the test's control: it starts at the real time and moves only forward."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, *, seconds: float = 0, minutes: float = 0, hours: float = 0) -> None:
        self.now += seconds + 60 * minutes + 3600 * hours


#: The libraries that keep time-limited state for the app and read `time.time` themselves, each
#: through its module's own `import time`.
LIBRARY_CLOCKS = (
    limits.storage.memory,  # the rate limits' counts and their windows (memory://)
    flask_limiter._extension,  # Retry-After, the time left until the window ends
    itsdangerous.timed,  # when session cookies and CSRF tokens (Flask-WTF) were signed, and their age
)


def time_module_reading(clock: Clock) -> types.ModuleType:
    """The `time` module as one library sees it: `time()` reads `clock`, the rest is the real module."""
    module = types.ModuleType("time", time.__doc__)
    module.__dict__.update(vars(time), time=clock)
    return module


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the app's time: its clock (session time-outs, TOTP codes, stored timestamps) and the
    clocks of the libraries that keep time-limited state for it (rate limits, CSRF tokens).

    `time.time` itself is left alone: pytest, hypothesis and the database drivers read it too.
    """
    frozen = Clock(time.time())
    monkeypatch.setattr(app_clock, "timestamp", frozen)
    for module in LIBRARY_CLOCKS:
        monkeypatch.setattr(module, "time", time_module_reading(frozen))
    return frozen


def submit_screening(app: Flask, answers: dict[str, object], submitted_at: datetime | None = None) -> str:
    """Store a screening with `answers` and submit it through the service; return its reference."""
    from app.patient import services

    with app.app_context():
        screening, _token = services.start_screening(app.config["DRAFT_RETENTION_DAYS"])
        screening.answers = dict(answers)
        services.submit_screening(screening, now=submitted_at)
        db.session.commit()
        return screening.reference


def insert_judged(app: Flask, answers: dict[str, object], count: int, first_submitted_at: datetime) -> None:
    """Insert `count` submitted screenings of the same answers, judged by the rules, in one
    statement: for exports of many rows. References run IMS-T0000000, IMS-T0000001...; each is
    submitted a second after the one before."""
    from sqlalchemy import insert

    from app.models import Screening

    columns = Screening.result_columns(rules.evaluate(answers))
    with app.app_context():
        db.session.execute(
            insert(Screening),
            [
                {
                    "reference": f"IMS-T{index:07d}",
                    "state": "submitted",
                    "answers": answers,
                    **columns,
                    "consented_at": first_submitted_at,
                    "created_at": first_submitted_at,
                    "expires_at": first_submitted_at,
                    "submitted_at": first_submitted_at + timedelta(seconds=index),
                }
                for index in range(count)
            ],
        )
        db.session.commit()


def insert_submitted(app: Flask, rows: list[dict[str, object]]) -> list[str]:
    """Insert submitted screenings directly (no rules run), for queue tests; return their references.

    Each row gives at least `outcome` and `submitted_at`; `review_status`, `answers`, `state`...
    may be given too.
    """
    from app.models import Screening

    with app.app_context():
        screenings = []
        for row in rows:
            values: dict[str, object] = dict(row)
            outcome = str(values["outcome"])
            when = values["submitted_at"]
            assert isinstance(when, datetime)
            values.setdefault("state", "submitted")
            values.setdefault("answers", {})
            values.setdefault("consented_at", when)
            values.setdefault("created_at", when)
            values.setdefault("expires_at", when + timedelta(days=7))
            if values["state"] == "submitted":
                values.setdefault("outcome_rank", rules.Outcome(outcome).rank)
                values.setdefault("candidacy", "likely")
                values.setdefault("reasons", [])
                values.setdefault("indicators", {})
                values.setdefault("ruleset_version", "test")
            else:
                values.pop("outcome")
                values.pop("submitted_at")
            screenings.append(Screening(**values))
        db.session.add_all(screenings)
        db.session.commit()
        return [screening.reference for screening in screenings]


#: For tests of logic that does not depend on the database backend (time-outs, codes, rate limits,
#: redirects): run them on SQLite only, to keep the suite fast. Whatever the database stores or
#: enforces (accounts, session versions, triggers, queue queries, the audit trail) runs on both.
sqlite_only = pytest.mark.parametrize("databases", ["sqlite"], indirect=True)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run a test or module marked `one_backend` on SQLite only: for logic that no database changes
    (what is refused before a query, how a page reads). Unlike `sqlite_only`, it also works on a
    module (pytestmark = pytest.mark.one_backend) and on tests parametrised by other fixtures.

    With pytest-xdist (`make test`: `-n auto --dist loadgroup`), the production stack's tests stay
    in one process, as do the browser tests: each process would otherwise start its own stack, or
    its own Chromium and servers, for the few tests it was given.
    """
    for item in items:
        if item.get_closest_marker("production") is not None:
            item.add_marker(pytest.mark.xdist_group("production"))
        elif item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
    second = [
        item
        for item in items
        if item.get_closest_marker("one_backend") is not None
        and getattr(getattr(item, "callspec", None), "params", {}).get("databases") == "postgresql"
    ]
    if second:
        config.hook.pytest_deselected(items=second)
        deselected = set(second)
        items[:] = [item for item in items if item not in deselected]


# The browser fixtures (the real server and one with online booking, Chromium, pages, screenshots, a
# signed-in admin), here
# so that every test module shares one of each per session.
from tests.support.browser import (  # noqa: E402, F401
    booking_server,
    chromium,
    new_page,
    page_pool,
    pseudo_server,
    screenshot,
    server,
    staff_session,
)

# FHIR.js, the independent validator of the FHIR exports: one node process per test process.
from tests.support.fhir_tools import fhir_validator  # noqa: E402, F401
