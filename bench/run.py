"""`make bench`: IMS Screen against a hello-world Flask app, both under gunicorn with the settings of
`make serve`, on a PostgreSQL cluster of its own holding 100,000 submitted screenings.

Writes bench/results.json and bench/results.md (bench/report.py). Everything runs on 127.0.0.1;
the servers and the cluster are stopped and deleted at the end, also on failure, and the whole run
is time-boxed. Not part of `make test`: timings vary from machine to machine, so the results are
ratios to the hello-world app measured in the same run, and are reported, never asserted by a test.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pyotp
from cryptography.fernet import Fernet
from flask import Flask, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from bench import postgres, report, seed, servers
from bench.cost import cost
from bench.load import Browser, Request, expect, fixed_rate, require_wrk, send, wrk

HERE = Path(__file__).resolve().parent
#: Submitted screenings in the database (BENCH_SCREENINGS changes it, for trying the benchmark out).
SCREENINGS = int(os.environ.get("BENCH_SCREENINGS", "100000"))
#: A page in the middle of the questionnaire: a duration, single choices and a multiple choice.
STEP_SECTION = "pain_history"
#: Closed-loop load for throughput (as bench/results.md reports hello-world).
CONNECTIONS, THREADS = 32, 2
WARM_UP = 3
#: The patient pages and hello-world take turns in short runs, so that a change in the machine's
#: other load while the benchmark runs touches both alike.
ROUNDS, ROUND_SECONDS = 3, 4
#: Staff pages: closed loop to find saturation, then an open loop at this share of it.
STAFF_CONNECTIONS, SATURATION_SECONDS, FIXED_SHARE, FIXED_SECONDS = 8, 8, 0.5, 20
#: The whole run stops (and cleans up) after this long.
TIME_BOX = 9 * 60 + 30
HELLO = [Request("GET", "/")]


def production_environment(database_url: str) -> dict[str, str]:
    """What `make serve` needs, with generated secrets; rate limits off, emails left to cron."""
    passed_on = {name: value for name, value in os.environ.items() if name.startswith("GUNICORN_")}
    return {
        **passed_on,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "IMS_ENV_FILE": "",
        "IMS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
        "CLINIC_NAME": "Benchmark Physiotherapy",
        "CLINIC_PHONE": "604-555-0199",
        "CLINIC_LOCATIONS": "Vancouver, 2150 W Broadway; Surrey, 10355 King George Blvd",
        "PUBLIC_BASE_URL": "https://clinic.example",
        "MAIL_FROM": "IMS Screen <screening@clinic.example>",
        "CLINIC_INBOX": "front-desk@clinic.example",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": "false",
        "NOTIFY_IN_BACKGROUND": "false",
    }


def settings(workers: int) -> dict[str, str]:
    """How the run was made, for the report."""
    return {
        "Servers": f"both apps under `gunicorn -c gunicorn.conf.py` (as `make serve`): {workers} sync workers, "
        "workers recycled and requests logged as configured there; on 127.0.0.1, the load generator on "
        "the same cores",
        "App": "IMS_ENV=production with generated SECRET_KEY and ENCRYPTION_KEYS; RATELIMIT_ENABLED=false; "
        "NOTIFY_IN_BACKGROUND=false (emails are left to cron, there being no mail server)",
        "Database": "a PostgreSQL cluster of the benchmark's own, with its durable defaults (fsync, "
        "synchronous_commit on), VACUUM ANALYZE after seeding",
        "Patient pages": f"wrk -t{THREADS} -c{CONNECTIONS}, closed loop; {ROUNDS} rounds of "
        f"{ROUND_SECONDS} s taking turns with hello-world after a {WARM_UP} s warm-up of "
        "each; req/s over all rounds, p50 the median round's, p99 the worst round's",
        "Staff pages": f"saturation with wrk -c{STAFF_CONNECTIONS} for {SATURATION_SECONDS} s, then an "
        f"open loop at {FIXED_SHARE:.0%} of it for {FIXED_SECONDS} s (bench/load.py "
        "fixed_rate: Debian's wrk has no -R), each latency counted from when its request was due",
    }


def patient_session(app: Flask, token: str) -> tuple[str, str]:
    """The Cookie header and CSRF token of a browser that has opened the resume link of the draft
    with `token`: the app's own resume view fills the session, its own code signs it."""
    with app.test_request_context(f"/resume/{token}"):
        app.view_functions["patient.resume"](token=token)
        csrf = generate_csrf()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}", csrf


def sign_in_staff(base: str, totp_secret: str) -> str:
    """Sign the admin in through the real pages (password, then authenticator code); return the cookie."""
    browser = Browser(base)
    expect(
        browser.request(
            "POST",
            "/staff/sign-in",
            {
                "csrf_token": browser.csrf_token("/staff/sign-in"),
                "email": seed.STAFF_EMAIL,
                "password": seed.STAFF_PASSWORD,
            },
        ),
        303,
        "/staff/two-factor",
    )
    expect(
        browser.request(
            "POST",
            "/staff/two-factor",
            {"csrf_token": browser.csrf_token("/staff/two-factor"), "code": pyotp.TOTP(totp_secret).now()},
        ),
        303,
        "/staff/",
    )
    expect(browser.request("GET", "/staff/"), 200)
    return browser.cookie


def submitted_count(app: Flask) -> int:
    from app.extensions import db
    from app.models import Screening

    with app.app_context():
        return db.session.scalar(select(func.count()).where(Screening.state == "submitted")) or 0


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several wrk runs as one: throughput over all of them, the median p50 and the worst p99."""
    requests, seconds = sum(run["requests"] for run in runs), sum(run["seconds"] for run in runs)
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "req_per_s": round(requests / seconds, 1),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p90_ms": statistics.median(run["p90_ms"] for run in runs),
        "p99_ms": max(run["p99_ms"] for run in runs),
        "max_ms": max(run["max_ms"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
        "repeated": sum(run["repeated"] for run in runs),
        "rounds": [run["req_per_s"] for run in runs],
    }


class Bench:
    """The servers and the database of one run, and the scenarios measured against them."""

    def __init__(self, app: Flask, env: dict[str, str], work: Path, app_base: str, hello_base: str) -> None:
        self.app, self.env, self.work = app, env, work
        self.app_base, self.hello_base = app_base, hello_base
        self.complete = seed.complete_answer_sets()

    def closed(self, requests: list[Request], seconds: int, connections: int = CONNECTIONS) -> dict[str, Any]:
        return wrk(self.app_base, requests, seconds=seconds, connections=connections, threads=THREADS)

    def against_hello(self, rounds: list[list[Request]]) -> dict[str, Any]:
        """The app (one request list a round) and hello-world in turns; the app's figures, with
        hello-world's beside them and the ratio of their throughputs."""
        wrk(self.hello_base, HELLO, seconds=WARM_UP, connections=CONNECTIONS, threads=THREADS)
        self.closed(rounds[0], WARM_UP)
        app_runs, hello_runs = [], []
        for requests in rounds:
            hello_runs.append(
                wrk(self.hello_base, HELLO, seconds=ROUND_SECONDS, connections=CONNECTIONS, threads=THREADS)
            )
            app_runs.append(self.closed(requests, ROUND_SECONDS))
        found, hello = combined(app_runs), combined(hello_runs)
        return {**found, "hello": hello, "ratio": round(found["req_per_s"] / hello["req_per_s"], 3)}

    def staff_page(self, paths: list[str], cookie: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Saturation (wrk, closed loop), then latency at a fixed share of it (open loop)."""
        saturation = self.closed(
            [Request("GET", path, cookie) for path in paths], SATURATION_SECONDS, STAFF_CONNECTIONS
        )
        rate = round(saturation["req_per_s"] * FIXED_SHARE, 1)
        return saturation, fixed_rate(self.app_base, paths, cookie, rate=rate, seconds=FIXED_SECONDS)

    def step_posts(self, drafts: int) -> list[Request]:
        """The step POST of `drafts` drafts, each with its own session and CSRF token."""
        from tests.support.journey import form_data

        requests = []
        for number, token in enumerate(seed.seed_drafts(self.app, self.complete, drafts)):
            cookie, csrf = patient_session(self.app, token)
            fields = {
                **form_data(STEP_SECTION, self.complete[number % len(self.complete)]),
                "csrf_token": csrf,
                "action": "continue",
            }
            requests.append(Request("POST", f"/screening/{STEP_SECTION}", cookie, urlencode(fields, doseq=True)))
        return requests

    def submits(self, drafts: int) -> list[Request]:
        """The final submit of `drafts` new complete drafts."""
        requests = []
        for token in seed.seed_drafts(self.app, self.complete, drafts):
            cookie, csrf = patient_session(self.app, token)
            requests.append(Request("POST", "/screening/submit", cookie, urlencode({"csrf_token": csrf})))
        return requests

    def submit(self) -> dict[str, Any]:
        """Every measured request submits a draft of its own (a repeat would take the quick
        already-submitted path): a probe tells how many drafts each round needs."""
        probe = self.submits(1_500)
        expect(send(self.app_base, probe[-1]), 303, "/screening/result")
        rate = self.closed(probe, WARM_UP)["req_per_s"]
        rounds = [self.submits(int(rate * ROUND_SECONDS * 2) + 300) for _ in range(ROUNDS)]
        time.sleep(2)  # the probe's last requests finish
        before = submitted_count(self.app)
        found = self.against_hello(rounds)
        time.sleep(2)  # so do the measured run's
        found["drafts_submitted"] = submitted_count(self.app) - before
        found["drafts_available"] = sum(len(requests) for requests in rounds)
        return found

    def export(self, cookie: str) -> dict[str, Any]:
        """Download the whole CSV export from a one-worker server; time it and watch that worker's memory."""
        port = postgres.unused_port()
        with servers.gunicorn(
            "wsgi:app", {**self.env, "GUNICORN_WORKERS": "1"}, port, self.work / "export.log", "/healthz"
        ) as master:
            (worker,) = servers.workers(master)
            browser = Browser(f"http://127.0.0.1:{port}")
            browser.cookie = cookie
            expect(browser.request("GET", "/staff/"), 200)  # warm: imports, templates, a connection
            baseline = servers.memory_kib(worker, "VmRSS")
            peak_reset = servers.reset_peak_memory(worker)
            sampled = [baseline]
            finished = threading.Event()

            def sample() -> None:
                while not finished.wait(0.01):
                    sampled.append(servers.memory_kib(worker, "VmRSS"))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            size, lines, first = 0, 0, b""
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            try:
                connection.request("GET", "/staff/export.csv", headers={"Cookie": cookie})
                response = connection.getresponse()
                if response.status != 200:
                    raise RuntimeError(f"the export answered {response.status}")
                while chunk := response.read(65_536):
                    first = first or chunk[:3]
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            finally:
                connection.close()
                finished.set()
            seconds = time.perf_counter() - started
            sampler.join()
            peak = max(max(sampled), servers.memory_kib(worker, "VmHWM") if peak_reset else 0)
        megabytes = 1024 / 1e6
        return {
            "seconds": round(seconds, 2),
            "rows": lines - 1,
            "megabytes": round(size / 1e6, 1),
            "starts_with_bom": first == b"\xef\xbb\xbf",
            "worker_rss_before_mb": round(baseline * megabytes, 1),
            "worker_rss_peak_mb": round(peak * megabytes, 1),
            "growth_mb": round((peak - baseline) * megabytes, 1),
            "peak_from": (
                "VmHWM, reset just before, and VmRSS sampled every 10 ms" if peak_reset else "VmRSS sampled every 10 ms"
            ),
        }


def measure_rules() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.rules_speed"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def machine(database_url: str) -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run([require_wrk(), "-v"], capture_output=True, text=True, check=False).stdout  # noqa: S603 (wrk -v)
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres.server_version(database_url),
        "wrk": wrk_version.split(" [")[0].strip(),
        "load_average_at_start": os.getloadavg()[0],
    }


def main() -> None:
    require_wrk()
    started = time.monotonic()

    def out_of_time(*_: object) -> None:
        raise TimeoutError(f"the benchmark took longer than {TIME_BOX} s")

    signal.signal(signal.SIGALRM, out_of_time)
    for stop in (signal.SIGTERM, signal.SIGHUP):  # so the cleanup runs (SIGINT raises KeyboardInterrupt)
        signal.signal(stop, lambda *_: sys.exit(1))
    signal.alarm(TIME_BOX)

    def note(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", flush=True)

    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds")}
    note("rules.evaluate alone, on one core")
    results["rules"] = measure_rules()
    scenarios: dict[str, Any] = {}
    results["scenarios"] = scenarios
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="ims-bench-"))
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        server_url = stack.enter_context(postgres.cluster())
        with psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("CREATE DATABASE ims")
        database_url = server_url.rpartition("/")[0] + "/ims"
        env = production_environment(database_url)
        os.environ.update(env)  # the app built here (seeding, signing cookies) is configured as the servers are
        results["machine"] = machine(server_url)
        note(f"migrating, then seeding {SCREENINGS:,} submitted screenings")
        subprocess.run(
            [str(servers.BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=HERE.parent,
            env=env,  # noqa: S603 (the venv's flask, fixed arguments)
            check=True,
            capture_output=True,
            timeout=120,
        )
        from app import create_app

        app = create_app()
        seeding = time.perf_counter()
        staff_id, totp_secret = seed.create_staff_admin(app)
        results["seed"] = seed.seed_screenings(app, SCREENINGS, staff_id)
        with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("VACUUM (ANALYZE)")  # as autovacuum would have, on a database that has been running
        results["seed"]["seconds"] = round(time.perf_counter() - seeding, 1)
        note(f"seeded: {results['seed']}")

        app_port, hello_port = postgres.unused_port(), postgres.unused_port()
        master = stack.enter_context(servers.gunicorn("wsgi:app", env, app_port, work / "app.log", "/healthz"))
        stack.enter_context(servers.gunicorn("bench.hello:app", env, hello_port, work / "hello.log"))
        bench = Bench(app, env, work, f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}")
        results["settings"] = settings(workers=len(servers.workers(master)))

        # Staff pages and the export first, with exactly SCREENINGS submitted screenings.
        cookie = sign_in_staff(bench.app_base, totp_secret)
        if submitted_count(app) != SCREENINGS:
            raise RuntimeError("the database does not hold the screenings it was seeded with")
        note("staff queue page")
        scenarios["queue_saturation"], scenarios["queue"] = bench.staff_page(["/staff/"], cookie)
        note("screening page")
        from app.extensions import db
        from app.models import Screening

        with app.app_context():
            references = db.session.scalars(
                select(Screening.reference).where(Screening.state == "submitted").order_by(func.random()).limit(2_000)
            ).all()
        scenarios["screening_saturation"], scenarios["screening"] = bench.staff_page(
            [f"/staff/screenings/{reference}" for reference in references], cookie
        )
        note("CSV export")
        scenarios["export_csv"] = bench.export(cookie)

        note("landing page, against hello-world")
        scenarios["landing"] = bench.against_hello([[Request("GET", "/")]] * ROUNDS)
        note("question step POST, against hello-world")
        step = bench.step_posts(1_000)
        expect(send(bench.app_base, step[-1]), 303, "/screening/")
        scenarios["step_post"] = {**bench.against_hello([step] * ROUNDS), "path": step[0].path}
        note("final submit, against hello-world")
        scenarios["submit"] = bench.submit()
        note("CPU per request, in-process")
        from bench.hello import app as hello_app

        results["cost"] = {
            "hello": cost(hello_app, HELLO, 4_000),
            "landing": cost(app, [Request("GET", "/")], 400),
            "step_post": cost(app, step, 400),
            "submit": cost(app, bench.submits(400), 400),
        }
        for name in ("queue", "screening", "export_csv", "landing", "step_post", "submit"):
            note(f"{name}: {scenarios[name]}")

    signal.alarm(0)
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    report.write(results, HERE)
    note(f"done in {results['minutes']} minutes; wrote bench/results.md and bench/results.json")


if __name__ == "__main__":
    main()
