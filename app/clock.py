"""The app's clock: the one place the app reads the current time.

Session time-outs, the two-factor step's time limit, authenticator-app codes and every stored
timestamp are measured by it. The tests move the app's time by replacing `timestamp` here
(tests/conftest.py, `clock`), never `time.time`, which pytest, hypothesis and the database
drivers rely on; so call it as `clock.timestamp()`, as a name imported from here would keep
the real clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def timestamp() -> float:
    """The current time, in seconds since the Unix epoch."""
    return time.time()


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.fromtimestamp(timestamp(), UTC)
