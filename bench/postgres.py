"""A PostgreSQL cluster of the benchmark's own: initdb into a temporary folder, serve it on a free
127.0.0.1 port, and delete it all afterwards, also when the benchmark fails.

Unlike the test suite's cluster it keeps PostgreSQL's durable defaults (fsync and synchronous
commit on), so a write costs what it costs in production.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path:
    """The folder with initdb and pg_ctl: beside `pg_ctl` on PATH, or Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("[0-9]*/bin/pg_ctl"), key=lambda p: int(p.parents[1].name))
    if not versions:
        raise SystemExit("The benchmark needs PostgreSQL's binaries (apt-get install postgresql).")
    return versions[-1].parent


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def cluster() -> Iterator[str]:
    """Yield the URL of the `postgres` database of a new cluster; stop and delete it afterwards."""
    binaries = pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="ims-bench-pg-"))
    # initdb refuses to run as root: then the postgres user owns and runs the cluster.
    owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if owner:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", unused_port()

    def pg(*arguments: str) -> None:
        subprocess.run([*owner, *arguments], check=True, stdout=subprocess.DEVNULL, timeout=120)  # noqa: S603 (PostgreSQL's own binaries, arguments built here)

    started = False
    try:
        pg(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C")
        pg(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "server.log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200",
        )
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            pg(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server_url: str, name: str = "ims") -> str:
    """Create the database `name` on the cluster at `server_url`; return its URL."""
    import psycopg

    with psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # a fixed name of ours, never input
    return server_url.rpartition("/")[0] + f"/{name}"


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"
