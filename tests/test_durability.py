"""Nothing lost: the real app under gunicorn, on SQLite and on PostgreSQL.

docs/security.md (b), R1 to R4 and R6, through real HTTP to real worker processes sharing one
database. To catch a request in the middle, a test holds the database's write lock (SQLite
`BEGIN IMMEDIATE`, PostgreSQL `LOCK TABLE screening`): the app's writes then wait inside their
transactions, where a worker can be killed, timed out or told to stop. No test-only hook is
compiled into the app. Runs in `make test` (and CI) in about a minute for both databases.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification
from tests.conftest import app_on
from tests.support.journey import CHECK, RESULT, SECTION_IDS, SUBMIT, form_data, profile, screenings, seed_draft
from tests.support.live_server import Client, Gunicorn, Reply, base_environment
from tests.support.waiting import wait_for

#: Enough for requests to race in separate processes and for one worker to die while the others
#: serve; each worker more only costs every test another boot of the app.
WORKERS = 3
#: An outcome that queues one clinic notification at submission: the side effect that must
#: happen once, however many submits race.
ANSWERS = profile("ideal_neck", rf_weight_loss="yes")


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Gunicorn]:
    """gunicorn with WORKERS workers on this test's own database (SQLite file or PostgreSQL)."""
    server = Gunicorn(tmp_path, base_environment(tmp_path, database_url), workers=WORKERS)
    server.start()
    try:
        yield server
    finally:
        server.kill()  # only if the test did not stop it already


# --- Helpers ---------------------------------------------------------------------------------


def complete_drafts(database_url: str, count: int) -> list[str]:
    """`count` drafts with every page answered; returns their resume tokens."""
    with app_on(database_url) as app:
        return [seed_draft(app, None, ANSWERS)[1] for _ in range(count)]


def resumed(server: Gunicorn, token: str) -> tuple[Client, str]:
    """A new browser that followed the resume link; returns it and its check page's CSRF token."""
    client = Client(server.base)
    reply = client.get(f"/resume/{token}")
    assert reply.status == 302 and "/resume/" not in reply.location, reply
    return client, client.csrf_token(CHECK)


def all_at_once(calls: Sequence[Callable[[], Reply]], timeout: float = 60) -> list[Reply | OSError]:
    """Run `calls` from one thread each, released together; a broken connection is its OSError."""
    outcomes: list[Reply | OSError | None] = [None] * len(calls)
    start = threading.Barrier(len(calls), timeout=20)

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = calls[index]()
        except OSError as error:  # urllib's URLError, a reset or a refused connection
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), f"requests still running after {timeout} s"
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


class InFlight:
    """Requests started in the background, each ending as a Reply or the OSError it raised."""

    def __init__(self, calls: Sequence[Callable[[], Reply]]) -> None:
        self._thread = threading.Thread(target=self._run, args=(calls,), daemon=True)
        self.outcomes: list[Reply | OSError] = []
        self._thread.start()

    def _run(self, calls: Sequence[Callable[[], Reply]]) -> None:
        self.outcomes = all_at_once(calls)

    def wait(self, timeout: float = 60) -> list[Reply | OSError]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "requests still running"
        return self.outcomes


@contextmanager
def writes_held(database_url: str, server: Gunicorn) -> Iterator[Callable[[int], None]]:
    """Hold the lock that the app's writes to `screening` need, until the block ends.

    Yields `blocked(n)`, which returns once n requests are blocked on the lock. PostgreSQL
    reports its lock waits. SQLite does not, so there it waits until n workers serving a request
    are asleep in SQLite's busy handler (`Gunicorn.waiting_workers`). The block must end within
    SQLite's 5 s busy timeout, or the waiting writes fail.
    """
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            yield lambda waiting: _wait_for_sqlite_lock_waits(server, waiting)
            connection.execute("ROLLBACK")
        return
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
    with (
        psycopg.connect(conninfo) as connection,
        connection.transaction(),
        psycopg.connect(conninfo, autocommit=True) as watcher,
    ):
        connection.execute("LOCK TABLE screening IN SHARE ROW EXCLUSIVE MODE")
        yield lambda waiting: _wait_for_lock_waits(watcher, waiting)


def _wait_for_sqlite_lock_waits(server: Gunicorn, waiting: int, timeout: float = 3) -> None:
    wait_for(
        lambda: len(server.waiting_workers()) >= waiting,
        timeout,
        lambda: (
            f"{waiting} requests never reached the lock: {len(server.serving_workers())} being served, "
            f"{len(server.waiting_workers())} of them waiting"
        ),
    )


def _wait_for_lock_waits(watcher: psycopg.Connection, waiting: int, timeout: float = 20) -> None:
    def blocked() -> int:
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
        return 0 if row is None else row[0]

    wait_for(lambda: blocked() >= waiting, timeout, f"{waiting} requests never reached the lock")


def stored(database_url: str) -> list[dict[str, Any]]:
    """Every screening, oldest first, as plain data (`journey.screenings` on that database)."""
    with app_on(database_url) as app:
        return screenings(app)


def notifications_per_screening(database_url: str) -> dict[int, int]:
    with app_on(database_url) as app, app.app_context():
        return dict(
            db.session.execute(  # type: ignore[arg-type]
                select(Notification.screening_id, func.count()).group_by(Notification.screening_id)
            ).all()
        )


def assert_intact(database_url: str) -> None:
    """SQLite's own consistency check after a crash (PostgreSQL recovers by WAL replay)."""
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


# --- R1: exactly once ------------------------------------------------------------------------


def test_fifty_screenings_each_submitted_four_times_at_once_are_stored_once(
    served: Gunicorn, database_url: str
) -> None:
    drafts = 50
    browsers = [[resumed(served, token) for _ in range(4)] for token in complete_drafts(database_url, drafts)]
    outcomes = all_at_once(
        [
            lambda client=client, csrf=csrf: client.post(SUBMIT, {"csrf_token": csrf})
            for group in browsers
            for client, csrf in group
        ]
    )

    assert not [outcome for outcome in outcomes if not isinstance(outcome, Reply)], outcomes
    server_errors = [outcome for outcome in outcomes if isinstance(outcome, Reply) and outcome.status >= 500]
    assert not server_errors, f"{len(server_errors)} responses >= 500; see {served.log}"
    assert {
        (outcome.status, outcome.location)
        for outcome in outcomes  # type: ignore[union-attr]
    } == {(303, RESULT)}
    # Every browser, the winner's and the duplicates', is shown the same stored result.
    for group in browsers:
        pages = [client.get(RESULT) for client, _ in group]
        assert [page.status for page in pages] == [200] * 4
        assert len({page.body.split("<main", 1)[1] for page in pages}) == 1

    rows = stored(database_url)
    assert len(rows) == drafts
    assert {row["state"] for row in rows} == {"submitted"}
    results = {
        (s["outcome"], s["candidacy"], repr(s["reasons"]), repr(s["indicators"]), s["ruleset_version"]) for s in rows
    }
    assert len(results) == 1 and next(iter(results))[0] == "see_doctor"
    assert notifications_per_screening(database_url) == {row["id"]: 1 for row in rows}, "a race queued a second email"
    assert "database is locked" not in served.log.read_text()


# --- R2: a worker killed mid-request ---------------------------------------------------------


def test_a_worker_killed_mid_request_loses_only_the_request_it_never_answered(
    served: Gunicorn, database_url: str
) -> None:
    browsers = [resumed(served, token) for token in complete_drafts(database_url, WORKERS)]
    answers_before = {s["id"]: s["answers"] for s in stored(database_url)}
    workers = served.wait_for_workers(WORKERS)
    with writes_held(database_url, served) as blocked:
        submits = InFlight(
            [lambda client=client, csrf=csrf: client.post(SUBMIT, {"csrf_token": csrf}) for client, csrf in browsers]
        )
        blocked(WORKERS)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)  # every worker is inside a write transaction
        # Dead before the lock is released, so that it can neither finish its write nor answer.
        wait_for(lambda: victim not in served.worker_pids(), 10, f"worker {victim} outlived SIGKILL")
    outcomes = submits.wait()

    answered = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, Reply)]
    assert len(answered) == WORKERS - 1, outcomes
    assert all(outcomes[index].status == 303 for index in answered), outcomes  # type: ignore[union-attr]
    [lost] = set(range(WORKERS)) - set(answered)

    # What was answered is stored; what was not is still the untouched draft, never half-written.
    rows = stored(database_url)
    assert [s["state"] for s in rows].count("submitted") == WORKERS - 1
    [draft] = [s for s in rows if s["state"] == "draft"]
    assert (draft["outcome"], draft["outcome_rank"], draft["reasons"], draft["submitted_at"]) == (
        None,
        None,
        None,
        None,
    )
    assert draft["answers"] == answers_before[draft["id"]]
    assert_intact(database_url)

    # The master replaces the worker; the patient's retry (same session) is stored once.
    served.wait_for_workers(WORKERS, replacing={victim})
    client, csrf = browsers[lost]
    retried = client.post(SUBMIT, {"csrf_token": csrf})
    assert (retried.status, retried.location) == (303, RESULT)
    assert {s["state"] for s in stored(database_url)} == {"submitted"}
    assert set(notifications_per_screening(database_url).values()) == {1}


def test_a_request_stuck_past_the_worker_timeout_is_killed_and_the_server_recovers(
    database_url: str, tmp_path: Path
) -> None:
    # The arbiter's own kill path: a worker silent for longer than `timeout` is aborted.
    env = {**base_environment(tmp_path, database_url), "GUNICORN_TIMEOUT": "2"}
    server = Gunicorn(tmp_path, env, workers=1)
    server.start()
    try:
        [token] = complete_drafts(database_url, 1)
        client, csrf = resumed(server, token)
        [worker] = server.wait_for_workers(1)
        with writes_held(database_url, server) as blocked:
            deadline = time.monotonic() + 4.5  # inside SQLite's 5 s busy timeout
            submit = InFlight([lambda: client.post(SUBMIT, {"csrf_token": csrf})])
            blocked(1)
            wait_for(
                lambda: worker not in server.worker_pids(),
                deadline - time.monotonic(),
                "the arbiter did not kill the stuck worker",
            )
        [outcome] = submit.wait()
        assert not isinstance(outcome, Reply) or outcome.status >= 500, outcome

        [screening] = stored(database_url)
        assert screening["state"] == "draft" and screening["outcome"] is None
        assert_intact(database_url)
        server.wait_for_workers(1, replacing={worker})
        retried = client.post(SUBMIT, {"csrf_token": csrf})
        assert (retried.status, retried.location) == (303, RESULT)
        assert "WORKER TIMEOUT" in server.log.read_text()
    finally:
        server.kill()


# --- R6: the resume link after a crash -------------------------------------------------------


def test_the_resume_link_restores_every_step_saved_before_a_worker_died(served: Gunicorn, database_url: str) -> None:
    with app_on(database_url) as app:
        _, token = seed_draft(app, None, {})
    browser = Client(served.base)
    assert browser.get(f"/resume/{token}").status == 302
    first, second, third = SECTION_IDS[:3]
    for section in (first, second):
        csrf = browser.csrf_token(f"/screening/{section}")
        saved = browser.post(f"/screening/{section}", {"csrf_token": csrf, **form_data(section, ANSWERS)})
        assert saved.status == 303, saved
    [saved] = stored(database_url)
    committed = saved["answers"]
    assert committed and set(committed) <= set(ANSWERS)

    csrf = browser.csrf_token(f"/screening/{third}")
    workers = served.wait_for_workers(WORKERS)
    with writes_held(database_url, served) as blocked:
        step = InFlight(
            [lambda: browser.post(f"/screening/{third}", {"csrf_token": csrf, **form_data(third, ANSWERS)})]
        )
        blocked(1)
        for worker in workers:  # whichever worker holds the request
            os.kill(worker, signal.SIGKILL)
    [outcome] = step.wait()
    assert not isinstance(outcome, Reply), outcome
    served.wait_for_workers(WORKERS, replacing=workers)

    # A new browser with the resume link carries on from the third page, with pages 1-2 intact.
    [draft] = stored(database_url)
    assert draft["answers"] == committed
    later = Client(served.base)
    assert later.get(f"/resume/{token}").status == 302
    assert later.get("/screening").location == f"/screening/{third}"
    page = later.get(f"/screening/{first}")
    assert page.status == 200
    for qid, value in form_data(first, ANSWERS).items():
        if isinstance(value, str):
            assert f'value="{value}"' in page.body, qid


# --- R3: graceful shutdown and reload --------------------------------------------------------


def test_sigterm_lets_requests_already_accepted_finish_and_serves_no_new_ones(
    served: Gunicorn, database_url: str
) -> None:
    browsers = [resumed(served, token) for token in complete_drafts(database_url, WORKERS)]
    workers = served.wait_for_workers(WORKERS)
    with writes_held(database_url, served) as blocked:
        submits = InFlight(
            [lambda client=client, csrf=csrf: client.post(SUBMIT, {"csrf_token": csrf}) for client, csrf in browsers]
        )
        blocked(WORKERS)
        served.send_signal(signal.SIGTERM)
        # The master passes SIGTERM on to every worker; each acts on it once its query returns.
        wait_for(
            lambda: served.signalled_workers() == workers,
            10,
            lambda: f"SIGTERM reached only workers {served.signalled_workers()} of {workers}",
        )
        # Sync workers still hold the listening socket while they finish, so the kernel queues
        # this connection; no worker takes it, and it ends reset when they exit, never served.
        late = InFlight([lambda: Client(served.base).get("/")])
        wait_for(lambda: served.queued_connections() >= 1, 10, "the late connection never reached the server")
    outcomes = submits.wait()
    assert [(o.status, o.location) if isinstance(o, Reply) else o for o in outcomes] == [(303, RESULT)] * WORKERS
    assert served.process is not None
    assert served.process.wait(timeout=35) == 0
    [late_outcome] = late.wait()
    assert isinstance(late_outcome, OSError), late_outcome
    assert {s["state"] for s in stored(database_url)} == {"submitted"}


def test_sighup_replaces_every_worker_under_load_without_a_failed_request(served: Gunicorn, database_url: str) -> None:
    browsers = [resumed(served, token) for token in complete_drafts(database_url, 8)]
    old_workers = served.wait_for_workers(WORKERS)
    stop = threading.Event()
    # Each browser's replies, in order: it sends its next request as soon as one is answered, so
    # its requests cover, without a gap, the time from its first reply to its last.
    replies: list[list[Reply | OSError]] = [[] for _ in browsers]

    def keep_browsing(client: Client, answered: list[Reply | OSError]) -> None:
        while not stop.is_set():
            try:
                answered.append(client.get(CHECK))
            except OSError as error:
                answered.append(error)

    threads = [
        threading.Thread(target=keep_browsing, args=(client, answered), daemon=True)
        for (client, _), answered in zip(browsers, replies, strict=True)
    ]
    for thread in threads:
        thread.start()
    wait_for(lambda: all(replies), 20, "the old workers never answered every browser")
    served.send_signal(signal.SIGHUP)
    new_workers = served.wait_for_workers(WORKERS, replacing=old_workers)
    # Every browser carries on with the new workers: two more replies each, as the first may
    # still be an old worker's last (sent before it exited, read after).
    at_reload = [len(answered) for answered in replies]

    def since_reload() -> list[int]:
        return [len(answered) - count for answered, count in zip(replies, at_reload, strict=True)]

    wait_for(
        lambda: min(since_reload()) >= 2,
        20,
        lambda: f"the new workers did not answer every browser twice: {since_reload()}",
    )
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a browser's request never ended"

    assert new_workers.isdisjoint(old_workers)
    failed = [
        reply for answered in replies for reply in answered if not isinstance(reply, Reply) or reply.status != 200
    ]
    assert not failed, failed[:5]
