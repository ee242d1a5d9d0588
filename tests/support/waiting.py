"""Waiting for something to happen: poll for the condition itself, within a deadline.

A fixed sleep is too short on a busy machine and wasted on an idle one; these return as soon as
the condition holds, and fail, saying what never happened, when the deadline passes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How often a condition is checked: often enough that a wait ends milliseconds after its
#: condition holds, seldom enough that polling costs little of the machine the servers share.
POLL_INTERVAL = 0.02


def poll(condition: Callable[[], T], timeout: float, interval: float = POLL_INTERVAL) -> T | None:
    """The first true value `condition()` returns within `timeout` seconds, or None.

    It is checked at least once, however small `timeout` is, and once more at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(interval, remaining))


def wait_for(
    condition: Callable[[], T], timeout: float, message: str | Callable[[], str], interval: float = POLL_INTERVAL
) -> T:
    """The first true value of `condition()`; fails the test with `message` if `timeout` seconds pass first.

    `message` may be a function, called only on failure, to describe the state things were left in.
    """
    value = poll(condition, timeout, interval)
    if not value:
        raise AssertionError(f"after {timeout:g} s: {message() if callable(message) else message}")
    return value
