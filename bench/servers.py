"""gunicorn servers for the benchmark, started as `make serve` starts the app (`gunicorn -c
gunicorn.conf.py`), each in its own process group so that nothing outlives the benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def migrate(env: dict[str, str]) -> None:
    """Bring the database that `env` names up to date, as `make db-upgrade` does, once, before any
    server starts (never in each worker)."""
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],  # noqa: S603 (the venv's flask, fixed arguments)
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def gunicorn(application: str, env: dict[str, str], port: int, log: Path, ready_path: str = "/") -> Iterator[int]:
    """Serve `application` ("module:app") on 127.0.0.1:`port`; yield the master's pid."""
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", application],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}{ready_path}", process, log)
        yield process.pid
    finally:
        _stop(process)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (an http://127.0.0.1 URL built here)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start ({url}); its log:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the master (a graceful stop); SIGKILL to its whole process group if that hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # any worker left behind
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def workers(master: int) -> list[int]:
    """The pids of the master's worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def memory_kib(pid: int, field: str) -> int:
    """A memory figure of a process from /proc (VmRSS: resident now; VmHWM: the peak), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak_memory(pid: int) -> bool:
    """Start VmHWM again from the current RSS (Linux 4.0+, writing 5 to clear_refs); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
