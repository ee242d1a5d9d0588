"""A PostgreSQL restart (an upgrade, a failover, a crash) costs no request: the first one after it
succeeds, under the real gunicorn, on a cluster of this test's own that it restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import app_on
from tests.support.journey import profile, seed_draft
from tests.support.live_server import Client, Gunicorn, gunicorn_on_a_new_database
from tests.support.postgresql import PostgreSQLCluster


@pytest.fixture
def served(own_postgresql_cluster: PostgreSQLCluster, tmp_path: Path) -> Iterator[tuple[Gunicorn, str]]:
    """gunicorn with one worker (so every request reuses its pooled connection) on a migrated database."""
    with gunicorn_on_a_new_database(own_postgresql_cluster, tmp_path, workers=1) as served:
        yield served


def test_the_first_requests_after_a_postgresql_restart_succeed(
    served: tuple[Gunicorn, str], own_postgresql_cluster: PostgreSQLCluster
) -> None:
    server, database_url = served
    with app_on(database_url) as app:
        _screening_id, token = seed_draft(app, None, profile("ideal_neck"))
    assert Client(server.base).get("/healthz").status == 200  # the worker now holds a pooled connection

    own_postgresql_cluster.restart()  # which ends that connection

    reply = Client(server.base).get(f"/resume/{token}")
    assert (reply.status, reply.location) == (302, "/screening"), server.log.read_text(errors="replace")
    assert Client(server.base).get("/healthz").status == 200
