"""The real app under gunicorn in a subprocess, and a small urllib client for it.

Used by test_durability.py and test_rate_limit_redis.py. Only 127.0.0.1 is ever contacted; the
server is stopped by its own pid (SIGTERM to the gunicorn master).
"""

from __future__ import annotations

import array
import fcntl
import http.cookiejar
import os
import signal
import subprocess
import sys
import termios
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
from cryptography.fernet import Fernet

from tests.conftest import app_on, csrf_token_from, free_port
from tests.support.journey import seed_draft
from tests.support.postgresql import PostgreSQLCluster
from tests.support.waiting import poll, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def migrate(database_url: str, env: dict[str, str]) -> None:
    """`flask --app wsgi db upgrade`, once, before any worker starts (as `make serve` does)."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def base_environment(directory: Path, database_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "LANG": "C.UTF-8",
        "IMS_ENV_FILE": "",
        "IMS_ENV": "development",
        "DATABASE_URL": database_url,
        "NOTIFY_IN_BACKGROUND": "false",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


def answers_health_check(base: str) -> bool:
    """Whether `base`/healthz answers 200 now."""
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll `base`/healthz until it answers 200 (True), or the process exits or time runs out (False)."""

    def settled() -> str | None:
        if process.poll() is not None:
            return "exited"
        return "healthy" if answers_health_check(base) else None

    return poll(settled, timeout, interval=0.1) == "healthy"


@contextmanager
def gunicorn_with_a_draft(
    cluster: PostgreSQLCluster,
    directory: Path,
    workers: int,
    answers: Mapping[str, object] | None = None,
    **columns: Any,
) -> Iterator[tuple[Gunicorn, str]]:
    """gunicorn with `workers` workers on a new, migrated database `ims` of `cluster` that holds one
    draft (`journey.seed_draft` of `answers` and `columns`); the server and the draft's resume token."""
    with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE ims")
    database_url = f"{cluster.url}/ims"
    env = base_environment(directory, database_url)
    migrate(database_url, env)
    with app_on(database_url) as app:
        _draft_id, token = seed_draft(app, None, answers, **columns)
    server = Gunicorn(directory, env, workers=workers)
    server.start()
    try:
        yield server, token
    finally:
        server.kill()


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on a free port with `workers` sync workers."""

    def __init__(self, directory: Path, env: dict[str, str], workers: int, name: str = "gunicorn") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port), "GUNICORN_WORKERS": str(workers)}
        self.log = directory / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_until_healthy(self.base, self.process, timeout):
            self.kill()
            raise RuntimeError("gunicorn did not start:\n" + self.log.read_text(errors="replace"))

    def terminate(self, timeout: float) -> float:
        """SIGTERM to the master; return how long it took to exit (raises TimeoutExpired)."""
        assert self.process is not None
        started = time.monotonic()
        os.kill(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def send_signal(self, signal_number: int) -> None:
        """Send a signal to the gunicorn master (SIGHUP reloads; SIGTERM stops gracefully)."""
        assert self.process is not None and self.process.poll() is None
        os.kill(self.process.pid, signal_number)

    def worker_pids(self) -> set[int]:
        """The master's live worker processes, read from /proc (Linux)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except FileNotFoundError:  # the master has exited
            return set()

    def wait_for_workers(self, count: int, replacing: set[int] = frozenset(), timeout: float = 20) -> set[int]:
        """Wait until `count` workers run, none of them in `replacing`, and `/healthz` answers."""

        def ready() -> set[int] | None:
            pids = self.worker_pids()
            return pids if len(pids) == count and not pids & replacing and self.healthy() else None

        return wait_for(
            ready,
            timeout,
            lambda: f"workers {self.worker_pids()}: not {count} answering, none of {sorted(replacing)}; see {self.log}",
            interval=0.05,
        )

    def serving_workers(self) -> set[int]:
        """The workers holding an accepted client connection (Linux: /proc/net/tcp and fds).

        A sync worker serves one connection at a time, so these are the requests being served,
        which connections merely queued in the listen backlog are not.
        """
        accepted = {f"socket:[{inode}]" for inode in self._established() if inode != "0"}
        return {pid for pid in self.worker_pids() if accepted & set(_file_descriptors(pid).values())}

    def queued_connections(self) -> int:
        """Connections the kernel has accepted for the server but no worker has taken yet.

        They wait in the listen backlog, where a socket has no file (and so inode 0) until a
        worker's accept() gives it one.
        """
        return self._established().count("0")

    def waiting_workers(self) -> set[int]:
        """The workers serving a request while asleep in the kernel's nanosleep.

        Nothing in a request sleeps except SQLite's busy handler, between its attempts at a lock
        that another connection holds; SQLite reports no lock waits itself. Linux names, in
        /proc/<pid>/wchan, the kernel function a sleeping process waits in (the socket wait of
        an idle or reading worker is another one).
        """
        return {pid for pid in self.serving_workers() if "nanosleep" in _read_proc(pid, "wchan")}

    def signalled_workers(self) -> set[int]:
        """The workers that have received a signal their Python code has not acted on yet.

        The kernel delivers a signal at once, but a Python handler (gunicorn's SIGTERM handler,
        which stops the worker taking new connections) runs only when the call in progress
        returns, e.g. a query waiting for a database lock. gunicorn's workers set a wake-up pipe
        (`signal.set_wakeup_fd`), into which Python's C-level handler writes each signal at once:
        a byte waiting there is a signal received. Linux lets the pipe be opened through /proc
        (by the same user), and FIONREAD says how much it holds without reading it.
        """
        signalled = set()
        for pid in self.worker_pids():
            pipes = [fd for fd, link in _file_descriptors(pid).items() if link.startswith("pipe:")]
            for fd in pipes:
                try:
                    reader = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
                except (FileNotFoundError, ProcessLookupError):  # the worker has exited
                    continue
                try:
                    waiting = array.array("i", [0])
                    fcntl.ioctl(reader, termios.FIONREAD, waiting)
                finally:
                    os.close(reader)
                if waiting[0]:
                    signalled.add(pid)
        return signalled

    def _established(self) -> list[str]:
        """The inodes of the established connections to this server's port, at the server's end."""
        port = f"{self.port:04X}"
        inodes = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table, encoding="ascii") as rows:
                for row in list(rows)[1:]:
                    fields = row.split()
                    if fields[1].endswith(f":{port}") and fields[3] == "01":  # local port, ESTABLISHED
                        inodes.append(fields[9])
        return inodes

    def healthy(self) -> bool:
        return answers_health_check(self.base)

    def kill(self) -> None:
        """Last resort after a failure: SIGKILL this server's own process group."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Reply:
    status: int
    location: str
    body: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Client:
    """One browser: its own cookie jar, redirects not followed, every request with a timeout."""

    def __init__(self, base: str) -> None:
        assert base.startswith("http://127.0.0.1:")
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, method: str, path: str, data: Mapping[str, Any] | None = None) -> Reply:
        """Send one request; an HTTP error status is a Reply, a broken connection raises OSError."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with self.opener.open(request, timeout=20) as response:
                return Reply(response.status, response.headers.get("Location", ""), response.read().decode())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers.get("Location", ""), error.read().decode(errors="replace"))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, data: Mapping[str, Any]) -> Reply:
        return self.request("POST", path, data)

    def csrf_token(self, page: str) -> str:
        reply = self.get(page)
        assert reply.status == 200, f"GET {page}: {reply.status} {reply.location}"
        return csrf_token_from(reply.body)


class RedisServer:
    """A throwaway redis-server on 127.0.0.1 (no persistence), stopped and restarted by its pid."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary, self.directory = binary, directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.pidfile = directory / "redis.pid"

    def start(self, timeout: float = 10) -> None:
        subprocess.run(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            check=True,
            timeout=timeout,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)

        def answering() -> bool:
            try:
                return bool(client.ping()) and self.pidfile.exists()
            except redis.ConnectionError:
                return False

        try:
            wait_for(answering, timeout, "redis-server did not start", interval=0.05)
        finally:
            client.close()

    def stop(self, timeout: float = 5) -> None:
        """SIGTERM, then wait until the process is gone (redis removes its pidfile on exit)."""
        if not self.pidfile.exists():
            return
        pid = int(self.pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _exists(pid), timeout, f"redis-server {pid} did not stop", interval=0.05)


def _read_proc(pid: int, name: str) -> str:
    """/proc/<pid>/<name>, or "" once the process has exited."""
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _file_descriptors(pid: int) -> dict[str, str]:
    """Process `pid`'s file descriptors and what each points to ("socket:[inode]", "pipe:[inode]", a path)."""
    links = {}
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links[fd.name] = os.readlink(fd)
            except (FileNotFoundError, ProcessLookupError):  # closed while being listed
                continue
    except (FileNotFoundError, ProcessLookupError):  # the process has exited
        pass
    return links


def _exists(pid: int) -> bool:
    """Whether a process `pid` exists (a zombie too: it is gone once its parent has reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
