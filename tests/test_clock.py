"""The app reads the time in one place (app/clock.py), and the tests' `clock` fixture moves that
time and only that: `time.time`, which pytest, hypothesis and the database drivers read, carries
on, while the app's time-outs follow the fixture."""

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import clock as app_clock
from tests.conftest import LIBRARY_CLOCKS, Clock, StaffAccounts, sqlite_only
from tests.support.journey import Journey, seed_draft
from tests.support.waiting import wait_for

#: The process's own clock, read before any fixture could replace it.
PROCESS_TIME = time.time

#: Ways of reading the current time that would get past app/clock.py, and so past the fixture: the
#: standard library's clocks, and `timestamp` imported by name (which keeps the unpatched function).
TIME_READS = re.compile(
    r"\btime\.time(_ns)?\(|\bdatetime\.(now|utcnow|today)\(|\bdate\.today\(|from time import[^\n]*\btime(_ns)?\b"
    r"|from app\.clock import[^\n]*\btimestamp\b",
    re.MULTILINE,
)


def test_the_fixture_leaves_the_process_clock_running(clock: Clock) -> None:
    assert time.time is PROCESS_TIME
    frozen = app_clock.timestamp()
    wait_for(lambda: time.time() > frozen, 5, "time.time() stood still with the app's clock")
    assert app_clock.timestamp() == frozen
    assert app_clock.utcnow() == datetime.fromtimestamp(frozen, UTC)
    for module in LIBRARY_CLOCKS:
        assert module.time.time() == frozen, module.__name__
        assert module.time.monotonic is time.monotonic, module.__name__  # the rest of `time` is the real one

    clock.advance(minutes=1)
    assert app_clock.timestamp() == frozen + 60
    assert [module.time.time() for module in LIBRARY_CLOCKS] == [frozen + 60] * len(LIBRARY_CLOCKS)


@sqlite_only
@pytest.mark.usefixtures("fast_password_hashing")
def test_the_apps_time_outs_follow_the_fixture(
    app: Flask, client: FlaskClient, staff: StaffAccounts, clock: Clock
) -> None:
    staff.create()
    physio = app.test_client()
    staff.sign_in(physio)
    seed_draft(app, client)
    assert physio.get("/staff/").status_code == 200
    assert Journey(client).get("/screening/about").status_code == 200

    clock.advance(minutes=121)  # past both idle limits: staff 30 minutes, patients 2 hours
    assert time.time() < clock.now - 120 * 60, "the process's clock moved on with the app's"
    signed_out = physio.get("/staff/")
    assert signed_out.status_code == 302 and signed_out.location.startswith("/staff/sign-in")
    assert Journey(client).page("/screening/about").title.startswith("This browser has closed your screening")


def test_the_app_reads_the_time_only_through_its_clock() -> None:
    app_dir = Path(app_clock.__file__).parent
    reads = [
        f"{path.relative_to(app_dir.parent)}: {match.group(0).strip()}"
        for path in sorted(app_dir.rglob("*.py"))
        if path != Path(app_clock.__file__)
        for match in TIME_READS.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not reads, "read the time with app.clock (clock.timestamp(), utcnow()), which the tests control"


@pytest.mark.parametrize(
    "line",
    [
        "now = time.time()",
        "today = datetime.now(CLINIC_TIME_ZONE).date()",
        "stamp = datetime.utcnow()",
        "day = date.today()",
        "stamp = time.time_ns()",
        "from time import monotonic, time",
        "from app.clock import timestamp",
        "from app.clock import utcnow, timestamp",
    ],
)
def test_the_check_catches_each_way_of_reading_the_time(line: str) -> None:
    assert TIME_READS.search(line)


def test_the_check_lets_the_clock_through() -> None:
    assert not TIME_READS.search(
        "import time\nfrom app import clock\nnow = clock.timestamp()\nfrom app.clock import utcnow\nstart = time.monotonic()\n"
    )
