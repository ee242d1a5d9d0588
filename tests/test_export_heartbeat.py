"""A long export is not killed by gunicorn's timeout for a silent worker: it streams, and between its
chunks tells the master the worker is alive (app/heartbeat.py). A stalled worker is still killed.

The real thing, an export of a million screenings that takes minutes under gunicorn.conf.py's
30-second timeout, is run by `make bench` (bench/results.md), not here: it takes minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import heartbeat
from app.staff.admin import exports
from tests.conftest import insert_judged, sqlite_only

MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


class CountingWorker:
    """Stands in for a gunicorn worker: counts the beats it is sent."""

    def __init__(self) -> None:
        self.beats = 0

    def notify(self) -> None:
        self.beats += 1


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingWorker]:
    counting = CountingWorker()
    monkeypatch.setattr(heartbeat, "INTERVAL_SECONDS", 0.0)
    heartbeat.install(counting)
    yield counting
    heartbeat.install(None)


@sqlite_only
@pytest.mark.parametrize("path", ["/staff/export.csv", "/staff/export.ndjson"])
def test_an_export_beats_before_each_chunk_it_sends(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object], worker: CountingWorker, path: str
) -> None:
    insert_judged(app, ideal_answers, 400, MONDAY)
    response = admin_client.get(path)
    chunks = list(response.response)
    assert len(chunks) >= 3
    assert all(len(chunk) <= exports.EXPORT_CHUNK + 60_000 for chunk in chunks)  # chunked, not one string
    assert worker.beats == len(chunks)


def test_beats_are_sent_at_most_once_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = CountingWorker()
    now = [1000.0]
    monkeypatch.setattr(heartbeat.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(heartbeat, "_last_beat", 0.0)
    heartbeat.install(counting)
    try:
        for _ in range(5):
            heartbeat.beat()
        now[0] += 1.0
        heartbeat.beat()
        assert counting.beats == 2
        heartbeat.install(None)  # outside gunicorn: nothing to tell
        now[0] += 5
        heartbeat.beat()
        assert counting.beats == 2
    finally:
        heartbeat.install(None)
