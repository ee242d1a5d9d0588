"""The app as a clinic runs it: Chromium over HTTPS through nginx, gunicorn, PostgreSQL, Redis, SMTP.

Started the way README.md's Deployment section says: a settings file made from
deploy/ims-screen.env.example, `flask --app wsgi create-staff` with that file, `make serve`, and
deploy/nginx.conf in front (only its marked values changed). Run alone with
`pytest -m production`. Outside checks found that every form post failed here with a 400 while
every test against the development server passed: this suite is what would have caught it.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pyotp
import pytest
from cryptography.fernet import Fernet

from tests.support.booking_pages import VALID_REQUEST
from tests.support.browser import (
    ADMIN_EMAIL,
    CREATE_ADMIN,
    DESKTOP,
    PHONE,
    PagePool,
    answers_for,
    change_status_and_add_note,
    chromium_or_skip,
    click_and_wait,
    fill_step,
    journey,
    pages,
    section_of,
    sign_in,
    start,
    text_of,
)
from tests.support.live_server import RedisServer
from tests.support.postgresql import PostgreSQLCluster
from tests.support.production_stack import ROOT, Certificates, MakeServe, Nginx, site_config
from tests.support.smtp_server import SMTPServer, running_smtp_server
from tests.support.tools import require
from tests.support.waiting import wait_for

from .conftest import STAFF_PASSWORD, free_port, require_pg_ctl

pytestmark = [pytest.mark.production, pytest.mark.browser]

EXAMPLE_SETTINGS = ROOT / "deploy" / "ims-screen.env.example"
CLINIC_NAME = "Fraser Physiotherapy"


def settings_from_example(values: dict[str, str]) -> str:
    """deploy/ims-screen.env.example with its values filled in, as an administrator would.

    Every setting given must be one the example names, so the example cannot fall behind.
    """
    lines, seen = [], set()
    for line in EXAMPLE_SETTINGS.read_text().splitlines():
        name = line.split("=", 1)[0].lstrip("# ").strip()
        if "=" in line and name in values:
            line = f"{name}={values[name]}"
            seen.add(name)
        lines.append(line)
    assert seen == set(values), f"not in the example: {set(values) - seen}"
    return "\n".join(lines) + "\n"


@dataclass
class Stack:
    base: str
    http_base: str
    nginx: Nginx
    server: MakeServe
    certificates: Certificates
    mail: SMTPServer
    database_url: str
    site: str

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request through nginx over TLS, trusting only this run's certificate authority."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.certificates.client_context()), _NoRedirect()
        )
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Stack]:
    chromium_or_skip()
    require("nginx", "nginx", "run the production suite")
    redis_binary = require("redis-server", "redis-server", "run the production suite")
    directory = tmp_path_factory.mktemp("production")
    certificates = Certificates(directory)

    # A cluster of the suite's own: the roles script creates roles, which are cluster-wide.
    cluster = PostgreSQLCluster(require_pg_ctl(), prefix="ims-screen-pg-production-")
    cluster.start()
    request.addfinalizer(cluster.remove)
    with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE ims_screen")
    roles = subprocess.run(
        [
            cluster.bin("psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            cluster.conninfo("ims_screen"),
            "-f",
            str(ROOT / "deploy" / "postgresql-roles.sql"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert roles.returncode == 0, roles.stderr
    server_url = cluster.url.replace("postgres@", "{}@")
    database_url = server_url.format("ims_app") + "/ims_screen"

    redis = RedisServer(redis_binary, directory)
    redis.start()
    https_port, http_port, app_port = free_port(), free_port(), free_port()
    base = f"https://localhost:{https_port}"
    with running_smtp_server() as mail:
        settings = directory / "ims-screen.env"
        settings.write_text(
            settings_from_example(
                {
                    "IMS_ENV": "production",
                    "SECRET_KEY": Fernet.generate_key().decode(),
                    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                    "DATABASE_URL": database_url,
                    "MIGRATIONS_DATABASE_URL": server_url.format("ims_owner") + "/ims_screen",
                    "CLINIC_NAME": CLINIC_NAME,
                    "CLINIC_PHONE": "604-555-0142",
                    "PUBLIC_BASE_URL": base,
                    "SMTP_HOST": mail.host,
                    "SMTP_PORT": str(mail.port),
                    "SMTP_STARTTLS": "false",
                    "MAIL_FROM": "IMS Screen <screening@fraser-physio.example>",
                    "CLINIC_INBOX": "front-desk@fraser-physio.example",
                    "RATELIMIT_STORAGE_URI": redis.url,
                    "PORT": str(app_port),
                    "GUNICORN_WORKERS": "2",
                }
            )
        )
        server = MakeServe(directory, settings, app_port)
        nginx = Nginx()
        try:
            server.start()
            site = site_config(
                certificates,
                https_port=https_port,
                http_port=http_port,
                upstream=f"127.0.0.1:{app_port}",
                access_log=nginx.access_log,
            )
            nginx.start(site)
            running = Stack(
                base, f"http://localhost:{http_port}", nginx, server, certificates, mail, database_url, site
            )
            wait_for(lambda: answers_health_check(running), 15, "nginx did not answer", interval=0.1)
            created = server.flask(*CREATE_ADMIN, stdin=STAFF_PASSWORD + "\n")
            assert created.returncode == 0, created.stderr
            running.created_staff = created  # type: ignore[attr-defined]
            yield running
        finally:
            nginx.stop()
            server.stop()
            redis.stop()


def answers_health_check(stack: Stack) -> bool:
    """Whether /healthz answers 200 through nginx now (a refused or reset connection is a no)."""
    try:
        return stack.get("/healthz")[0] == 200
    except OSError:
        return False


@pytest.fixture
def new_page(page_pool: PagePool, stack: Stack) -> Iterator[Any]:
    """A page with its own cookies on the stack's https address. The certificate is accepted as an
    exception, as this run's authority is not installed in Chromium (Python's clients check it)."""
    yield from pages(page_pool, timeout_ms=15_000, base_url=stack.base, ignore_https_errors=True)


def wait_for_mail(stack: Stack, recipient: str, mentioning: str) -> list[Any]:
    """The messages to `recipient` that mention `mentioning`, once one has arrived (sent in the background)."""

    def received() -> list[Any]:
        return [
            message for message in stack.mail.messages if recipient in message.recipients and mentioning in message.raw
        ]

    return wait_for(
        received,
        20,
        lambda: f"no email to {recipient} about {mentioning}; got {[m.subject for m in stack.mail.messages]}",
        interval=0.2,
    )


# ---- The deployment itself ---------------------------------------------------------------------


def test_commands_say_which_database_they_change(stack: Stack) -> None:
    said = stack.created_staff.stderr  # type: ignore[attr-defined]
    assert "Database: postgresql+psycopg://ims_app@127.0.0.1:" in said and "/ims_screen" in said, said
    assert "production; settings from " in said and "ims-screen.env" in said, said
    listed = stack.server.flask("list-staff")
    assert listed.returncode == 0 and ADMIN_EMAIL in listed.stdout, listed.stderr


def test_migrations_ran_as_the_owner_and_the_app_runs_as_a_role_that_owns_nothing(stack: Stack) -> None:
    log = stack.server.log.read_text()
    assert "Migrating postgresql+psycopg://ims_owner@127.0.0.1:" in log, log[:2000]
    owner_url = stack.database_url.replace("postgresql+psycopg://ims_app@", "postgresql://postgres@")
    with psycopg.connect(owner_url) as connection:
        owners = {
            row[0]
            for row in connection.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        }
        assert owners == {"ims_owner"}
        sessions = {
            row[0]
            for row in connection.execute(
                "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'ims_screen' AND usename <> 'postgres'"
            )
        }
    assert sessions <= {"ims_app"}, sessions


def test_tls_compression_and_cached_static_files(stack: Stack) -> None:
    status, headers, body = stack.get("/", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(body).decode()
    assert CLINIC_NAME in page
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Referrer-Policy"] == "same-origin"
    stylesheet = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page)
    assert stylesheet, "the stylesheet link has no fingerprint"
    status, headers, body = stack.get(stylesheet.group(1), {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert stack.get("/static/css/site.css")[1]["Cache-Control"] == "no-cache"


def test_plain_http_is_redirected_to_https(stack: Stack) -> None:
    request = urllib.request.Request(stack.http_base + "/start")
    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(_NoRedirect()).open(request, timeout=10)
    with redirect.value:
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"] == "https://localhost/start"


def test_an_unknown_host_is_refused(stack: Stack) -> None:
    # Straight to gunicorn, past nginx's own refusal of unknown names: the app refuses it too.
    request = urllib.request.Request(stack.server.base + "/screening/saved", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    with refused.value:
        assert refused.value.code == 400
        assert "evil.example" not in refused.value.read().decode()


def test_a_huge_body_never_reaches_a_worker(stack: Stack) -> None:
    request = urllib.request.Request(stack.base + "/start", data=b"consent=y&" * 200_000, method="POST")
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=stack.certificates.client_context()))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=10)
    with refused.value:
        assert refused.value.code == 413


# ---- Patients ----------------------------------------------------------------------------------


def test_a_patient_completes_a_screening_and_asks_for_an_assessment(stack: Stack, new_page: Any) -> None:
    page = new_page(PHONE)
    journey(page, "likely")
    assert page.locator("h1").inner_text().strip() == "IMS may well help you"
    reference = text_of(page, ".reference")

    click_and_wait(page, page.get_by_role("link", name="Ask us to contact you").first)
    page.fill("#name", VALID_REQUEST["name"])
    page.fill("#phone", VALID_REQUEST["phone"])
    page.fill("#email", VALID_REQUEST["email"])
    page.locator("input[name=preferred_location]").first.check()
    page.locator("input[name=preferred_times]").first.check()
    page.check("input[name=contact_consent]")
    click_and_wait(page, page.get_by_role("button", name="Send request"))
    assert page.locator("h1").inner_text().strip() == "Request sent", page.locator("main").inner_text()[:300]

    clinic = wait_for_mail(stack, "front-desk@fraser-physio.example", "assessment request")
    assert any(f"{stack.base}/staff/screenings/{reference}" in message.body for message in clinic)
    confirmation = wait_for_mail(stack, VALID_REQUEST["email"], reference)[0]
    assert "604-555-0142" in confirmation.body


def test_an_emergency_result_tells_the_clinic_at_once(stack: Stack, new_page: Any) -> None:
    page = new_page(PHONE)
    journey(page, "emergency")
    assert page.locator("h1").inner_text().strip() == "Get emergency care now"
    assert "911" in page.locator("main").inner_text()[:200]
    reference = text_of(page, ".reference")
    clinic = wait_for_mail(stack, "front-desk@fraser-physio.example", reference)
    assert any(f"{stack.base}/staff/screenings/{reference}" in message.body for message in clinic)


def test_the_resume_link_uses_the_public_address(stack: Stack, new_page: Any) -> None:
    page = new_page(PHONE)
    start(page)
    fill_step(page, answers_for("likely"))
    click_and_wait(page, page.get_by_role("button", name="Save and come back later"))
    link = page.locator("#resume-link").input_value()
    assert re.fullmatch(re.escape(stack.base) + r"/resume/[A-Za-z0-9_-]{40,}", link), link

    other = new_page(PHONE)
    other.goto(link)
    assert "/screening/" in other.url and "/resume/" not in other.url
    token = link.rsplit("/", 1)[1]
    for variant in (f"//resume/{token}", f"/%72esume/{token}"):
        assert stack.get(variant)[0] in (200, 302, 404)
    logs = stack.nginx.access_log.read_text() + stack.server.log.read_text()
    assert "/resume/[token]" in logs
    assert token not in logs, "a resume token reached a log"


def test_a_post_from_another_site_is_refused(stack: Stack, new_page: Any) -> None:
    page = new_page(PHONE)
    page.goto("/start")
    token = page.locator("input[name=csrf_token]").input_value()
    # The same browser, its cookies and a valid token: only the Origin says another site sent it.
    response = page.request.post(
        stack.base + "/start",
        form={"csrf_token": token, "consent": "y"},
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/"},
        max_redirects=0,
    )
    assert response.status == 400
    same_site = page.request.post(
        stack.base + "/start",
        form={"csrf_token": token, "consent": "y"},
        headers={"Origin": stack.base, "Referer": stack.base + "/start"},
        max_redirects=0,
    )
    assert same_site.status == 302 and same_site.headers["location"].startswith("/screening/")


# ---- Staff -------------------------------------------------------------------------------------


def test_a_physiotherapist_signs_in_with_a_code_and_works_the_queue(stack: Stack, new_page: Any) -> None:
    patient = new_page(PHONE)
    journey(patient, "clinician_review")
    reference = text_of(patient, ".reference")

    page = new_page(DESKTOP, accept_downloads=True)
    secret = sign_in(page)
    assert page.url.rstrip("/").endswith("/staff"), page.url
    assert pyotp.TOTP(secret).now().isdigit()
    row = page.locator("tbody tr", has_text=reference)
    assert row.count() == 1
    click_and_wait(page, row.locator("a").first)
    assert page.url.endswith(f"/staff/screenings/{reference}")

    change_status_and_add_note(page, "in_review", "Called back; assessment booked for Thursday.")

    page.goto("/staff/")
    with page.expect_download() as download:
        page.get_by_text("Export these as CSV").click()
    table = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert any(reference in row.values() for row in table), table[:2]


# ---- A proxy that forwards its upstream address as Host ---------------------------------------


def test_links_stay_right_when_the_proxy_sends_its_upstream_host(stack: Stack, new_page: Any) -> None:
    """nginx's default is `Host: <the address in proxy_pass>` (proxy_set_header Host $proxy_host)."""
    default_host = site_config(
        stack.certificates,
        https_port=int(stack.base.rsplit(":", 1)[1]),
        http_port=int(stack.http_base.rsplit(":", 1)[1]),
        upstream=stack.server.base.removeprefix("http://"),
        access_log=stack.nginx.access_log,
        drop_lines=("proxy_set_header Host $host;", "proxy_set_header X-Forwarded-Host $host;"),
    )
    stack.nginx.reload(default_host)
    try:
        wait_for(lambda: answers_health_check(stack), 15, "nginx did not come back", interval=0.1)
        page = new_page(PHONE)
        start(page)
        assert section_of(page) and "/screening/" in page.url
        fill_step(page, answers_for("likely"))
        click_and_wait(page, page.get_by_role("button", name="Save and come back later"))
        link = page.locator("#resume-link").input_value()
        assert link.startswith(stack.base + "/resume/"), link
        click_and_wait(page, page.get_by_role("link", name="Carry on now"))
        assert page.url.startswith(stack.base + "/screening/"), page.url
    finally:
        stack.nginx.reload(stack.site)
