"""`make bench`: IMS Screen against two yardsticks, a hello-world Flask app and the minimal app that
does a question step's work (bench/minimal.py), all under gunicorn with the settings of `make
serve`, on a PostgreSQL cluster of its own holding 100,000 submitted screenings, and on SQLite.

Writes bench/results.json and bench/results.md (bench/report.py). Everything runs on 127.0.0.1;
the servers and the cluster are stopped and deleted at the end, also on failure, and the whole run
is time-boxed. Not part of `make test`: timings vary from machine to machine, so the results are
ratios to a yardstick measured in the same rounds, and are reported, never asserted by a test.
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
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode

import psycopg
import pyotp
from cryptography.fernet import Fernet
from flask import Flask, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, func, select

from bench import minimal, postgres, report, seed, servers, steps, triggers, wire
from bench.cost import cost
from bench.load import Browser, Request, expect, fixed_rate, require_wrk, send, wrk

HERE = Path(__file__).resolve().parent
#: Submitted screenings in the database (BENCH_SCREENINGS changes it, for trying the benchmark out).
SCREENINGS = int(os.environ.get("BENCH_SCREENINGS", "100000"))
STEP_SECTION = steps.STEP_SECTION
#: Closed-loop load for throughput (as bench/results.md reports hello-world).
CONNECTIONS, THREADS = 32, 2
WARM_UP = 2
#: The patient pages and their yardsticks take turns in runs of ROUND_SECONDS, each round in
#: another order (rotated), so that a change in the machine's other load touches all alike; each
#: round gives every ratio once, and the report gives their spread. Each round posts another
#: variant of the step's page (bench/steps.py), hence at most len(VARIANTS) - 1 rounds.
ROUNDS, ROUND_SECONDS = 5, int(os.environ.get("BENCH_ROUND_SECONDS", "5"))
#: Drafts each step scenario posts to in turn: more than a round sends, so none is posted twice
#: in a round (wrk's "repeated" counts any that is).
POOL = 4_000
#: Drafts for the in-process CPU profiles (each request its own draft).
IN_PROCESS = 400
#: Staff pages: closed loop to find saturation, then an open loop at this share of it.
STAFF_CONNECTIONS, SATURATION_SECONDS, FIXED_SHARE, FIXED_SECONDS = 8, 8, 0.5, 20
#: The whole run stops (and cleans up) after this long.
TIME_BOX = 16 * 60
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
        "Patient pages": f"wrk -t{THREADS} -c{CONNECTIONS}, closed loop; {ROUNDS} rounds in which every "
        f"scenario and yardstick runs {ROUND_SECONDS} s, each round in another order (rotated), after a "
        f"{WARM_UP} s warm-up of each; req/s over all rounds, p50 the median round's, p99 the worst "
        "round's; a ratio is over all rounds, and its spread is the lowest and highest of the rounds' own",
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


class Draft(NamedTuple):
    """A seeded draft as a browser holds it: its session cookie, its CSRF token, its answers, and
    the question page its step POST leads to."""

    cookie: str
    csrf: str
    answers: dict[str, object]
    page: str


class Contender(NamedTuple):
    """A scenario or a yardstick in the rotated rounds: its key, its server, and the requests of
    each round (0 is the warm-up)."""

    key: str
    base: str
    lines: Callable[[int], list[Request]]


def by_thread(drafts: list[Draft], requests: Callable[[Draft], list[Request]]) -> list[Request]:
    """The requests of every draft, each draft's kept in order on one wrk thread."""
    return steps.interleave(
        [[request for draft in drafts[thread::THREADS] for request in requests(draft)] for thread in range(THREADS)]
    )


def step_post(draft: Draft, variant: int) -> Request:
    return Request(
        "POST", f"/screening/{STEP_SECTION}", draft.cookie, steps.step_body(draft.answers, variant, draft.csrf)
    )


def question_get(draft: Draft) -> Request:
    return Request("GET", draft.page, draft.cookie)


def ratios(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each scenario over its yardstick, over all rounds and round by round (the spread)."""

    def full_step_yardstick(minimal: float, hello: float) -> float:  # a step of the minimal app, then hello
        return 1 / (1 / minimal + 1 / hello)

    def pair(
        name: str,
        measured: Callable[[dict[str, Any]], float],
        of: str,
        yardstick: Callable[..., float],
        to: tuple[str, ...],
    ) -> tuple[str, dict[str, Any]]:
        overall = measured({"req_per_s": found[of]["req_per_s"]}) / yardstick(*(found[k]["req_per_s"] for k in to))
        rounds = [
            measured({"req_per_s": mine}) / yardstick(*others)
            for mine, *others in zip(found[of]["rounds"], *(found[k]["rounds"] for k in to), strict=True)
        ]
        return name, {
            "value": round(overall, 3),
            "rounds": [round(r, 3) for r in rounds],
            "low": round(min(rounds), 3),
            "high": round(max(rounds), 3),
        }

    def plain(figures: dict[str, Any]) -> float:
        return float(figures["req_per_s"])

    def halved(figures: dict[str, Any]) -> float:  # two requests make one step
        return float(figures["req_per_s"]) / 2

    def same(value: float) -> float:
        return value

    return dict(
        [
            pair("step_post", plain, "step_post", same, ("minimal_post",)),
            pair("step_post_sqlite", plain, "step_post_sqlite", same, ("minimal_post_sqlite",)),
            pair("question_get", plain, "question_get", same, ("hello",)),
            pair("full_step", halved, "full_step", full_step_yardstick, ("minimal_post", "hello")),
            pair("submit", plain, "submit", same, ("minimal_post",)),
            pair("landing", plain, "landing", same, ("hello",)),
            pair("minimal_post_hello", plain, "minimal_post", same, ("hello",)),
            pair("minimal_post_sqlite_hello", plain, "minimal_post_sqlite", same, ("hello",)),
        ]
    )


class Bench:
    """The servers and the database of one run, and the scenarios measured against them."""

    def __init__(self, app: Flask, env: dict[str, str], work: Path, app_base: str, hello_base: str) -> None:
        self.app, self.env, self.work = app, env, work
        self.app_base, self.hello_base = app_base, hello_base
        self.complete = seed.complete_answer_sets()

    def closed(self, requests: list[Request], seconds: int, connections: int = CONNECTIONS) -> dict[str, Any]:
        return wrk(self.app_base, requests, seconds=seconds, connections=connections, threads=THREADS)

    def rotated(self, contenders: list[Contender]) -> dict[str, dict[str, Any]]:
        """Every contender for WARM_UP seconds, then ROUNDS rounds in which each runs ROUND_SECONDS,
        each round starting one further along the list; each contender's figures over all rounds."""
        for contender in contenders:
            wrk(contender.base, contender.lines(0), seconds=WARM_UP, connections=CONNECTIONS, threads=THREADS)
        runs: dict[str, list[dict[str, Any]]] = {contender.key: [] for contender in contenders}
        for number in range(ROUNDS):
            shift = number % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                lines = contender.lines(number + 1)
                runs[contender.key].append(
                    wrk(contender.base, lines, seconds=ROUND_SECONDS, connections=CONNECTIONS, threads=THREADS)
                )
        return {key: combined(found) for key, found in runs.items()}

    def staff_page(self, paths: list[str], cookie: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Saturation (wrk, closed loop), then latency at a fixed share of it (open loop)."""
        saturation = self.closed(
            [Request("GET", path, cookie) for path in paths], SATURATION_SECONDS, STAFF_CONNECTIONS
        )
        rate = round(saturation["req_per_s"] * FIXED_SHARE, 1)
        return saturation, fixed_rate(self.app_base, paths, cookie, rate=rate, seconds=FIXED_SECONDS)

    def pool(self, app: Flask, answer_sets: list[dict[str, object]], count: int) -> list[Draft]:
        """`count` new drafts, each with the session of a browser that opened its resume link."""
        tokens = seed.seed_drafts(app, answer_sets, count)
        pages = [steps.question_page(answers) for answers in answer_sets]
        return [
            Draft(*patient_session(app, token), answer_sets[number % len(answer_sets)], pages[number % len(pages)])
            for number, token in enumerate(tokens)
        ]

    def submits(self, drafts: int) -> list[Request]:
        """The final submit of `drafts` new complete drafts."""
        requests = []
        for token in seed.seed_drafts(self.app, self.complete, drafts):
            cookie, csrf = patient_session(self.app, token)
            requests.append(Request("POST", "/screening/submit", cookie, urlencode({"csrf_token": csrf})))
        return requests

    def submit_rounds(self) -> list[list[Request]]:
        """Every submit measured submits a draft of its own (a repeat would take the quick
        already-submitted path): a probe tells how many drafts the warm-up and each round need."""
        probe = self.submits(1_500)
        expect(send(self.app_base, probe[-1]), 303, "/screening/result")
        rate = self.closed(probe, WARM_UP)["req_per_s"]
        return [self.submits(int(rate * seconds * 1.5) + 300) for seconds in [WARM_UP] + [ROUND_SECONDS] * ROUNDS]

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
        database_url = postgres.new_database(server_url)
        env = production_environment(database_url)
        os.environ.update(env)  # the app built here (seeding, signing cookies) is configured as the servers are
        results["machine"] = machine(server_url)
        note(f"migrating, then seeding {SCREENINGS:,} submitted screenings")
        servers.migrate(env)
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

        note("SQLite: migrating; the minimal same-work app on PostgreSQL and on SQLite")
        sqlite_url = f"sqlite:///{work / 'ims.sqlite3'}"
        sqlite_env = {**env, "DATABASE_URL": sqlite_url}
        servers.migrate(sqlite_env)
        app_sqlite = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url})

        note("patient drafts, each with a browser's session")
        usable = steps.usable_answer_sets(bench.complete)
        pg_step, pg_full = bench.pool(app, usable, POOL), bench.pool(app, usable, POOL)
        pg_alone, pg_alone_full = bench.pool(app, usable, IN_PROCESS + 10), bench.pool(app, usable, IN_PROCESS + 10)
        sqlite_step, sqlite_alone = (
            bench.pool(app_sqlite, usable, POOL),
            bench.pool(app_sqlite, usable, IN_PROCESS + 10),
        )
        for url in (database_url, sqlite_url):  # the minimal app's copies of every draft
            engine = create_engine(url)
            minimal.copy_drafts(engine)
            engine.dispose()
        ports = {name: postgres.unused_port() for name in ("minimal", "sqlite", "minimal_sqlite")}
        for name, application, environment in (
            ("minimal", "bench.minimal:create_app()", env),
            ("sqlite", "wsgi:app", sqlite_env),
            ("minimal_sqlite", "bench.minimal:create_app()", sqlite_env),
        ):
            stack.enter_context(
                servers.gunicorn(application, environment, ports[name], work / f"{name}.log", "/healthz")
            )
        base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

        memo: dict[tuple[int, int], list[Request]] = {}

        def posts(drafts: list[Draft], variant: int) -> list[Request]:
            key = (id(drafts), variant)
            if key not in memo:
                memo[key] = by_thread(drafts, lambda draft: [step_post(draft, variant)])
            return memo[key]

        gets = by_thread(pg_step, lambda draft: [question_get(draft)])
        for server, drafts, onward in (
            (bench.app_base, pg_step, pg_step[-1].page),
            (base["minimal"], pg_step, f"/screening/{STEP_SECTION}"),
            (base["sqlite"], sqlite_step, sqlite_step[-1].page),
            (base["minimal_sqlite"], sqlite_step, f"/screening/{STEP_SECTION}"),
        ):
            expect(send(server, step_post(drafts[-1], 0)), 303, onward)
        expect(send(bench.app_base, question_get(pg_step[-1])), 200)
        note("submits: a probe, then fresh drafts for every round")
        submit_rounds = bench.submit_rounds()
        time.sleep(2)  # the probe's last requests finish
        before = submitted_count(app)
        contenders = [
            Contender("hello", bench.hello_base, lambda _: HELLO),
            Contender("minimal_post", base["minimal"], lambda v: posts(pg_step, v)),
            Contender("step_post", bench.app_base, lambda v: posts(pg_step, v)),
            Contender("question_get", bench.app_base, lambda _: gets),
            Contender(
                "full_step",
                bench.app_base,
                lambda v: by_thread(pg_full, lambda draft: [step_post(draft, v), question_get(draft)]),
            ),
            Contender("submit", bench.app_base, lambda v: submit_rounds[v]),
            Contender("landing", bench.app_base, lambda _: [Request("GET", "/")]),
            Contender("minimal_post_sqlite", base["minimal_sqlite"], lambda v: posts(sqlite_step, v)),
            Contender("step_post_sqlite", base["sqlite"], lambda v: posts(sqlite_step, v)),
        ]
        note(f"patient pages and their yardsticks: {ROUNDS} rotated rounds of {len(contenders)} x {ROUND_SECONDS} s")
        scenarios.update(bench.rotated(contenders))
        time.sleep(2)  # the submits still in flight finish
        scenarios["submit"]["drafts_submitted"] = submitted_count(app) - before
        scenarios["submit"]["drafts_available"] = sum(len(requests) for requests in submit_rounds)
        scenarios["step_post"]["path"] = f"/screening/{STEP_SECTION}"
        results["ratios"] = ratios(scenarios)
        note(f"ratios: { {key: found['value'] for key, found in results['ratios'].items()} }")

        note("bytes on the wire: the whole journey, first and repeat visit")
        results["wire"] = wire.journey_bytes(bench.app_base)
        note("the screening_tally triggers: what they add to a step's UPDATE and to a submit's")
        results["triggers"] = triggers.measure(database_url.replace("+psycopg", ""))

        note("CPU per request, in-process")
        from bench.hello import app as hello_app

        minimal_app, minimal_app_sqlite = minimal.create_app(database_url), minimal.create_app(sqlite_url)
        alone_posts = [step_post(draft, 1) for draft in pg_alone]
        sqlite_posts = [step_post(draft, 1) for draft in sqlite_alone]
        results["cost"] = {
            "hello": cost(hello_app, HELLO, 4_000),
            "landing": cost(app, [Request("GET", "/")], IN_PROCESS),
            "minimal_post": cost(minimal_app, alone_posts, IN_PROCESS),
            "step_post": cost(app, alone_posts, IN_PROCESS),
            "question_get": cost(app, [question_get(draft) for draft in pg_alone], IN_PROCESS),
            "full_step": cost(
                app,
                [request for draft in pg_alone_full for request in (step_post(draft, 1), question_get(draft))],
                2 * IN_PROCESS,
            ),
            "submit": cost(app, bench.submits(IN_PROCESS + 10), IN_PROCESS),
            "minimal_post_sqlite": cost(minimal_app_sqlite, sqlite_posts, IN_PROCESS),
            "step_post_sqlite": cost(app_sqlite, sqlite_posts, IN_PROCESS),
        }
        for name in ("queue", "screening", "export_csv"):
            note(f"{name}: {scenarios[name]}")

    signal.alarm(0)
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    report.write(results, HERE)
    note(f"done in {results['minutes']} minutes; wrote bench/results.md and bench/results.json")


if __name__ == "__main__":
    main()
