"""Exactly-once submission under real concurrency: the app under gunicorn with 4 workers.

Quality bar (b) R1, on SQLite: every draft is submitted 4 times at once from 4 browsers (threads),
through real HTTP to real worker processes sharing one database file. The conditional UPDATE in
`services.submit_screening` must let exactly one of them write. Then gunicorn is stopped with
SIGTERM and must exit within its graceful timeout. Runs in `make test` (and CI), in about 10 s.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification, Screening
from tests.conftest import app_on
from tests.journey import profile, seed_draft
from tests.live_server import Client, Gunicorn, Reply, base_environment, migrate

DRAFTS = 20
COPIES = 4
WORKERS = 4
#: An outcome that queues one clinic notification at submission: the side effect that must
#: happen once, however many submits race.
ANSWERS = profile("ideal_neck", rf_weight_loss="yes")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gunicorn, str]]:
    directory = tmp_path_factory.mktemp("durability")
    database_url = f"sqlite:///{directory / 'durability.sqlite3'}"
    env = base_environment(directory, database_url)
    migrate(database_url, env)
    server = Gunicorn(directory, env, workers=WORKERS)
    server.start()
    try:
        yield server, database_url
    finally:
        server.kill()  # only if the test did not stop it already


def test_concurrent_double_submits_store_each_screening_once_and_gunicorn_stops_gracefully(
        served: tuple[Gunicorn, str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, database_url = served
    with app_on(database_url) as app:
        tokens = [seed_draft(app, None, ANSWERS)[1] for _ in range(DRAFTS)]

    # Four browsers per draft, each with its own session and its own CSRF token.
    browsers: list[list[tuple[Client, str]]] = []
    for token in tokens:
        group = []
        for _ in range(COPIES):
            client = Client(server.base)
            resumed = client.get(f"/resume/{token}")
            assert resumed.status == 302 and "/resume/" not in resumed.location, resumed
            group.append((client, client.csrf_token("/screening/check")))
        browsers.append(group)

    replies: dict[tuple[int, int], Reply | BaseException] = {}
    barriers = [threading.Barrier(COPIES, timeout=20) for _ in range(DRAFTS)]

    def submit(draft: int, copy: int) -> None:
        client, csrf = browsers[draft][copy]
        try:
            barriers[draft].wait()  # the four copies of one draft leave together
            replies[draft, copy] = client.post("/screening/submit", {"csrf_token": csrf})
        except BaseException as error:  # noqa: BLE001 - reported by the assertions below
            replies[draft, copy] = error

    threads = [threading.Thread(target=submit, args=(d, c), daemon=True)
               for d in range(DRAFTS) for c in range(COPIES)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "submits still running after 60 s"

    errors = {key: reply for key, reply in replies.items() if not isinstance(reply, Reply)}
    assert not errors, errors
    statuses = sorted({reply.status for reply in replies.values() if isinstance(reply, Reply)})
    server_errors = [key for key, reply in replies.items() if isinstance(reply, Reply) and reply.status >= 500]
    assert not server_errors, f"{len(server_errors)} responses >= 500; see {server.log}"
    for key, reply in replies.items():
        assert isinstance(reply, Reply)
        assert (reply.status, reply.location) == (303, "/screening/result"), (key, reply.status, reply.location)
    assert statuses == [303]

    # Every browser, the winner's and the duplicates', sees the same stored result.
    for group in browsers:
        pages = [client.get("/screening/result") for client, _ in group]
        assert [page.status for page in pages] == [200] * COPIES

    with app_on(database_url) as app, app.app_context():
        screenings = db.session.scalars(select(Screening)).all()
        assert len(screenings) == DRAFTS
        assert all(screening.state == "submitted" for screening in screenings)
        assert {screening.outcome for screening in screenings} == {"see_doctor"}
        stored = {json.dumps([screening.outcome, screening.candidacy, screening.reasons, screening.indicators,
                              screening.ruleset_version], sort_keys=True) for screening in screenings}
        assert len(stored) == 1, "identical answers must store identical results"
        per_screening = dict(db.session.execute(
            select(Notification.screening_id, func.count()).group_by(Notification.screening_id)).all())
        assert per_screening == {screening.id: 1 for screening in screenings}, "a race queued a second email"

    took = server.terminate(timeout=35)
    assert server.process is not None and server.process.returncode == 0, server.log.read_text()
    assert took < 35
    assert "database is locked" not in server.log.read_text()
    assert os.path.exists(database_url.removeprefix("sqlite:///"))
