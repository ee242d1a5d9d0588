"""Sign-in rate limits across workers: shared through Redis, not through `memory://`.

docs/security.md (b) R5. Two gunicorn servers with one worker each stand in for two workers (two
processes, so nothing in memory is shared; in one process the app's single Limiter would be).
They share one database and, for the first test, one real `redis-server` started on a free port
for the session. Without redis-server the Redis test skips, except on CI (`CI` set), where it fails.
With Redis down, the limited routes (staff sign-in) fail closed (ASVS 16.5.3) and patients carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from app.extensions import db
from app.staff.auth import ACCOUNT_LIMIT
from tests.conftest import STAFF_PASSWORD, StaffAccounts, csrf_token_from, sqlite_only
from tests.support.journey import RESULT, Journey, profile
from tests.support.live_server import Client, Gunicorn, RedisServer, base_environment, migrate
from tests.support.tools import require

ALLOWED = int(ACCOUNT_LIMIT.split()[0])  # failed sign-ins per account per window: 5
SIGN_IN = "/staff/sign-in"


def redis_binary() -> str:
    """redis-server's path; skips without it, except on CI (`CI` set), where it fails."""
    return require("redis-server", "redis-server", "test rate limits on Redis")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One throwaway redis-server for the session's shared-count tests."""
    server = RedisServer(redis_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def two_workers(directory: Path, storage_uri: str) -> list[Gunicorn]:
    database_url = f"sqlite:///{directory / 'limits.sqlite3'}"
    env = {**base_environment(directory, database_url), "RATELIMIT_STORAGE_URI": storage_uri}
    migrate(database_url, env)
    servers = [Gunicorn(directory, env, workers=1, name=f"worker{n}") for n in (1, 2)]
    try:
        for server in servers:
            server.start()
    except BaseException:
        for server in servers:
            server.kill()
        raise
    return servers


@pytest.fixture
def servers_on(tmp_path: Path) -> Iterator[list[list[Gunicorn]]]:
    started: list[list[Gunicorn]] = []
    yield started
    for pair in started:
        for server in pair:
            if server.process is not None and server.process.poll() is None:
                server.terminate(timeout=35)


def failed_sign_in(server: Gunicorn, email: str) -> int:
    client = Client(server.base)
    token = client.csrf_token(SIGN_IN)
    return client.post(SIGN_IN, {"email": email, "password": "not the password!", "csrf_token": token}).status


def test_redis_storage_shares_the_count_across_workers(
    redis_url: str, tmp_path: Path, servers_on: list[list[Gunicorn]]
) -> None:
    servers_on.append(pair := two_workers(tmp_path, redis_url))
    email = "shared-count@clinic.example"
    spread = [pair[attempt % 2] for attempt in range(ALLOWED)]  # 3 on one worker, 2 on the other
    assert [failed_sign_in(server, email) for server in spread] == [401] * ALLOWED
    assert failed_sign_in(pair[0], email) == 429
    assert failed_sign_in(pair[1], email) == 429
    # Another account is not held up.
    assert failed_sign_in(pair[1], "someone-else@clinic.example") == 401


def test_memory_storage_counts_per_worker_so_each_allows_the_full_limit(
    tmp_path: Path, servers_on: list[list[Gunicorn]]
) -> None:
    """Documents why production needs Redis: with memory:// N workers let N x the limit through."""
    servers_on.append(pair := two_workers(tmp_path, "memory://"))
    email = "per-worker-count@clinic.example"
    spread = [pair[attempt % 2] for attempt in range(2 * ALLOWED)]
    assert [failed_sign_in(server, email) for server in spread] == [401] * (2 * ALLOWED)
    assert failed_sign_in(pair[0], email) == 429
    assert failed_sign_in(pair[1], email) == 429


@contextmanager
def app_counting_in_redis(database_url: str, directory: Path) -> Iterator[tuple[Flask, RedisServer]]:
    """The app counting its rate limits in a real redis-server of its own, with one staff account.

    Exceptions reach the error handlers as in production (TESTING alone would re-raise them).
    """
    store = RedisServer(redis_binary(), directory)
    store.start()
    app = create_app(
        {
            "TESTING": True,
            "PROPAGATE_EXCEPTIONS": False,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "NOTIFY_IN_BACKGROUND": False,
            "RATELIMIT_STORAGE_URI": store.url,
        }
    )
    try:
        StaffAccounts(app).create()
        yield app, store
    finally:
        store.stop()
        with app.app_context():
            db.engine.dispose()


def sign_in(client: FlaskClient, password: str) -> TestResponse:
    token = csrf_token_from(client.get(SIGN_IN).get_data(as_text=True))
    return client.post(SIGN_IN, data={"email": "physio@clinic.example", "password": password, "csrf_token": token})


@sqlite_only
def test_with_redis_down_sign_in_is_refused_not_unlimited_and_patients_carry_on(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app_counting_in_redis(database_url, tmp_path) as (app, store):
        client = app.test_client()
        assert sign_in(client, "not the password!").status_code == 401  # counted in Redis

        store.stop()
        with caplog.at_level(logging.ERROR):
            wrong, right = sign_in(client, "not the password!"), sign_in(app.test_client(), STAFF_PASSWORD)
        assert (wrong.status_code, right.status_code) == (503, 503), (
            "with no store to count in, no attempt may be tried"
        )
        assert right.headers["Retry-After"] == "30"
        assert "not available just now" in right.get_data(as_text=True)
        assert "Rate-limit storage unreachable" in caplog.text and "physio@clinic.example" not in caplog.text

        # The patients' limit fails open, so they never depend on Redis.
        journey = Journey(app.test_client())
        assert journey.consent().status_code == 302

        store.start()  # same port: the app reconnects by itself
        assert sign_in(app.test_client(), STAFF_PASSWORD).status_code == 303


@sqlite_only
def test_patients_posts_are_counted_in_redis_and_carry_on_without_it(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The patients' limit fails open: with Redis down, a screening goes on to its result."""
    with app_counting_in_redis(database_url, tmp_path) as (app, store):
        journey = Journey(app.test_client())
        journey.walk(profile("ideal_neck"), until="needles")
        counted = redis.Redis.from_url(store.url).keys("*patient-posts*")
        assert counted, "patients' posts are counted in the shared store"

        store.stop()
        with caplog.at_level(logging.ERROR):
            check = journey.walk(profile("ideal_neck"), start=False)
            assert check.status_code == 200
            assert journey.submit().location == RESULT
            assert journey.result().status == 200
            assert journey.consent().status_code == 302  # and a new screening starts
        assert "Failed to rate limit" in caplog.text
        # Staff sign-in still fails closed.
        assert sign_in(app.test_client(), STAFF_PASSWORD).status_code == 503
