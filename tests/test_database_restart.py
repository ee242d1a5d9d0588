"""A PostgreSQL restart (an upgrade, a failover, a crash) costs no request: the first one after it
succeeds, under the real gunicorn, on a cluster of this test's own that it restarts."""

from __future__ import annotations

from pathlib import Path

from tests.support.journey import profile
from tests.support.live_server import Client, gunicorn_with_a_draft
from tests.support.postgresql import PostgreSQLCluster


def test_the_first_requests_after_a_postgresql_restart_succeed(
    own_postgresql_cluster: PostgreSQLCluster, tmp_path: Path
) -> None:
    # One worker, so that every request reuses its pooled connection.
    answers = profile("ideal_neck")
    with gunicorn_with_a_draft(own_postgresql_cluster, tmp_path, workers=1, answers=answers) as (server, token):
        assert Client(server.base).get("/healthz").status == 200  # the worker now holds a pooled connection

        own_postgresql_cluster.restart()  # which ends that connection

        reply = Client(server.base).get(f"/resume/{token}")
        assert (reply.status, reply.location) == (302, "/screening"), server.log.read_text(errors="replace")
        assert Client(server.base).get("/healthz").status == 200
