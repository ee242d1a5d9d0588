"""A throwaway PostgreSQL cluster in a temporary folder, started, restarted and stopped by the tests.

conftest's session-wide `postgresql_server` runs one; a test that must stop or restart its
server (or change roles cluster-wide) starts its own, so that other tests' databases are never
disturbed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_pg_ctl() -> Path | None:
    """pg_ctl from PATH, or else the newest in Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        # Resolved, because initdb sits beside the real binary, not beside a symlink to it.
        return Path(on_path).resolve()
    installed = Path("/usr/lib/postgresql").glob("[0-9]*/bin/pg_ctl")
    newest_first = sorted(installed, key=lambda path: int(path.parents[1].name), reverse=True)
    return newest_first[0] if newest_first else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class PostgreSQLCluster:
    """initdb, then pg_ctl start/restart/stop, run by the postgres user when the tests run as root
    (initdb refuses to run as root). Only 127.0.0.1 listens; authentication is `trust`."""

    def __init__(self, pg_ctl: Path, prefix: str = "ims-screen-pg-") -> None:
        self.pg_ctl = pg_ctl
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self._as_owner: list[str] = []
        if os.geteuid() == 0:
            self._as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self.data, self.log, self.port = str(self.root / "data"), str(self.root / "server.log"), free_port()
        #: The URL of the server, to which a database name is appended.
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def bin(self, name: str) -> str:
        """A PostgreSQL client or server program of the same version as pg_ctl (psql, initdb...)."""
        return str(self.pg_ctl.parent / name)

    def run(self, *command: str) -> None:
        subprocess.run([*self._as_owner, *command], check=True, stdout=subprocess.DEVNULL)

    def conninfo(self, database: str = "postgres", user: str = "postgres") -> str:
        """A libpq connection string (for psycopg and psql) to `database` as `user`."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Create the cluster on first use, then start the server and wait until it accepts connections."""
        if not Path(self.data).exists():
            self.run(
                self.bin("initdb"), "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N"
            )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            # Durability is pointless for a cluster deleted at the end of the run; speed is not.
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.run(str(self.pg_ctl), "-D", self.data, "-l", self.log, "-w", "-o", options, "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop, ending every client connection: "immediate" as a crash would (without fsync or
        synchronous commit, the last commits may be lost), "fast" as an administrator would."""
        self.run(str(self.pg_ctl), "-D", self.data, "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop as an administrator would (every connection ended, nothing committed lost) and
        start again on the same port and data."""
        self.stop("fast")
        self.start()

    def remove(self) -> None:
        """Stop the server if it runs, and delete the cluster's folder."""
        subprocess.run(
            [*self._as_owner, str(self.pg_ctl), "-D", self.data, "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(self.root)
