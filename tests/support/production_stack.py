"""The production stack as the README deploys it, on loopback, for tests/test_production.py.

nginx (Debian's package) with the project's own deploy/nginx.conf terminates TLS with a
certificate made here (trustme), in front of `make serve` (gunicorn with gunicorn.conf.py, in
production mode, reading a settings file as deploy/ims-screen.env.example describes), on a
PostgreSQL database, with Redis for the rate limits and a local SMTP server for the emails. Every
process is started and stopped here, by its own pid; only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

import trustme

from tests.support.live_server import wait_until_healthy
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

#: The values deploy/nginx.conf marks "CHANGE", as shipped.
SHIPPED_UPSTREAM = "proxy_pass http://127.0.0.1:8000;"
SHIPPED_HOST = "ims.example.org"
SHIPPED_CERTIFICATE = "/etc/ssl/ims-screen/fullchain.pem"
SHIPPED_KEY = "/etc/ssl/ims-screen/privkey.pem"
SHIPPED_STATIC = "/srv/ims-screen/app/static/"
SHIPPED_ACCESS_LOG = "/var/log/nginx/ims-screen.access.log"


class Certificates:
    """A certificate authority made for this run, and a certificate it signed for localhost."""

    def __init__(self, directory: Path) -> None:
        self.authority = trustme.CA()
        certificate = self.authority.issue_cert("localhost", "127.0.0.1")
        self.chain = directory / "fullchain.pem"
        self.key = directory / "privkey.pem"
        self.authority_file = directory / "ca.pem"
        certificate.private_key_pem.write_to_path(str(self.key))
        with self.chain.open("wb") as chain:
            for blob in certificate.cert_chain_pems:
                chain.write(blob.bytes())
        self.authority.cert_pem.write_to_path(str(self.authority_file))

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts only this run's authority (and checks the host name)."""
        context = ssl.create_default_context(cafile=str(self.authority_file))
        return context


def site_config(
    certificates: Certificates,
    *,
    https_port: int,
    http_port: int,
    upstream: str,
    access_log: Path,
    static: Path = ROOT / "app" / "static",
    drop_lines: tuple[str, ...] = (),
) -> str:
    """deploy/nginx.conf with only its marked values changed (and `drop_lines` removed).

    Each replacement must find its value, so a change to the shipped file that this would
    silently miss fails the suite instead.
    """
    text = NGINX_CONF.read_text()
    replacements = [
        (SHIPPED_UPSTREAM, f"proxy_pass http://{upstream};"),
        (f"server_name {SHIPPED_HOST};", "server_name localhost;"),
        (SHIPPED_CERTIFICATE, str(certificates.chain)),
        (SHIPPED_KEY, str(certificates.key)),
        (SHIPPED_STATIC, f"{static}/"),
        (SHIPPED_ACCESS_LOG, str(access_log)),
        ("listen 443 ssl default_server;", f"listen 127.0.0.1:{https_port} ssl default_server;"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
    ]
    for shipped, local in replacements:
        assert shipped in text, f"deploy/nginx.conf no longer has {shipped!r}"
        text = text.replace(shipped, local)
    # This machine may have no IPv6 loopback: the [::] listeners are the only lines left out.
    lines = [line for line in text.splitlines() if not line.strip().startswith("listen [::]")]
    for dropped in drop_lines:
        assert any(line.strip() == dropped for line in lines), f"deploy/nginx.conf has no line {dropped!r}"
        lines = [line for line in lines if line.strip() != dropped]
    return "\n".join(lines) + "\n"


class Nginx:
    """nginx in the foreground with a main configuration of its own around the site file."""

    def __init__(self) -> None:
        # Worker processes run as nobody: they must reach their temporary folders, so these live
        # in a folder of their own under /tmp, not in pytest's (private to root).
        directory = Path(tempfile.mkdtemp(prefix="ims-screen-nginx-"))
        directory.chmod(0o755)
        self.directory = directory
        self.site = directory / "ims-screen.conf"
        self.main = directory / "nginx.conf"
        self.error_log = directory / "error.log"
        self.access_log = directory / "access.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.main.write_text(f"""
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {self.error_log} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.access_log};
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {self.site};
}}
""")

    def test_config(self) -> None:
        done = subprocess.run(
            [NGINX, "-t", "-q", "-c", str(self.main), "-e", str(self.error_log)],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert done.returncode == 0, done.stderr + self.error_log.read_text(errors="replace")

    def start(self, site: str) -> None:
        self.site.write_text(site)
        self.test_config()
        self.process = subprocess.Popen(
            [NGINX, "-c", str(self.main), "-e", str(self.error_log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def reload(self, site: str) -> None:
        """Swap the site file and reload (SIGHUP): new workers with it, the same port."""
        assert self.process is not None and self.process.poll() is None
        self.site.write_text(site)
        self.test_config()
        old = self.workers()
        os.kill(self.process.pid, signal.SIGHUP)

        def replaced() -> bool:
            # nginx starts new workers with the new site and lets the old ones finish: the reload
            # is done when none of the old workers is left (requests before it may see either site).
            workers = self.workers()
            return bool(workers) and not workers & old

        wait_for(replaced, 15, lambda: f"nginx did not replace its workers {old}: {self.workers()}", interval=0.05)

    def workers(self) -> set[int]:
        """The master's worker processes (Linux: /proc)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except FileNotFoundError:
            return set()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


class MakeServe:
    """`make serve` with a settings file: migrations, then gunicorn with gunicorn.conf.py."""

    def __init__(self, directory: Path, settings_file: Path, port: int) -> None:
        self.settings_file = settings_file
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = directory / "make-serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        # The running interpreter's virtual environment, so make installs nothing more.
        self.venv = Path(sys.executable).parent.parent

    def environment(self) -> dict[str, str]:
        """Only what an administrator's shell has; every setting comes from the settings file."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.log.parent),
            "LANG": "C.UTF-8",
            "IMS_ENV_FILE": str(self.settings_file),
        }

    def flask(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`flask --app wsgi ...` as an administrator would type it, with the same settings file."""
        return subprocess.run(
            [str(self.venv / "bin" / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.environment(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self, timeout: float = 60) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "serve", f"VENV={self.venv}"],
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_until_healthy(self.base, self.process, timeout):
            self.stop()
            raise RuntimeError("make serve did not start:\n" + self.log.read_text(errors="replace"))

    def stop(self) -> None:
        """SIGTERM to make and gunicorn (one process group): gunicorn finishes and exits."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
