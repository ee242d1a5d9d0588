"""Telling gunicorn that a worker busy streaming a long response is alive.

gunicorn kills a sync worker that has been silent for `timeout` (30 s): a worker tells the master
it is alive between requests, never during one. An export of a million screenings streams for a
couple of minutes, and was killed at 30 s. While it streams, the export calls `beat` between its
chunks, at most once a second, so the master knows the worker is making progress. A worker that
is really stuck (or a download whose reader stopped reading, blocking a write) beats no more and
is still killed after `timeout`.

`install` is called by gunicorn.conf.py's `post_worker_init` in each worker; outside gunicorn
(`flask run`, the tests' client) there is no master to tell, and `beat` does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Chunk = TypeVar("Chunk")

#: The worker's "I am alive" (gunicorn's `Worker.notify`), once installed.
_notify: Callable[[], None] | None = None
_last_beat = 0.0
#: How often a beat is sent at most, far below gunicorn's timeout.
INTERVAL_SECONDS = 1.0


def install(worker: object) -> None:
    """Beat through `worker.notify` (a gunicorn worker) from now on in this process."""
    global _notify
    _notify = getattr(worker, "notify", None)


def beat() -> None:
    """Tell the master this worker is alive, if it runs under gunicorn and a second has passed."""
    global _last_beat
    now = time.monotonic()
    if _notify is not None and now - _last_beat >= INTERVAL_SECONDS:
        _last_beat = now
        _notify()


def beating(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    """`chunks` as they come, with a beat before each one is sent."""
    for chunk in chunks:
        beat()
        yield chunk
