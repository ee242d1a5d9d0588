"""`make bench-scale`: the staff portal at 100,000 and at 1,000,000 submitted screenings, on a
PostgreSQL cluster of its own, the app under gunicorn with the settings of `make serve`.

For each size: the queue's first and last page (keyset pages) at one fixed rate, p99 of each and
their ratio; the audit trail's newest and oldest page likewise; the cost of the queue's counts, as
the GROUP BY the queue ran before (with the index it had) and as `screening_tally` reads them now;
and the whole CSV export from a one-worker server (time, rows, the worker's memory growth), while
the queue is asked for at a fixed rate on the other server, to show it stays responsive.

Seeding takes minutes: 20,000 screenings are made as `make bench` makes them (answers from the
named cases, judged by the rules, with their follow-up), then copied by set-based INSERT ... SELECT
with new references and times (screenings only) up to each size, and as many audit events are
written by one INSERT from generate_series. Results: bench/results-scale.json, and the section
"A million screenings" of bench/results.md. BENCH_SCALE_SIZES=100000,1000000 changes the sizes.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask

from bench import postgres, seed, servers
from bench.load import fixed_rate, require_wrk, wrk
from bench.run import HERE, Bench, Request, machine, production_environment, sign_in_staff

SIZES = [int(size) for size in os.environ.get("BENCH_SCALE_SIZES", "100000,1000000").split(",")]
#: Made as `make bench` makes them, then copied: their follow-up (contact details, notes...) is not.
BASE_SCREENINGS = int(os.environ.get("BENCH_SCALE_BASE", "20000"))
#: The queue's pages are asked for at this rate, first and last alike, for this long each...
PAGE_RATE, PAGE_SECONDS = 15.0, int(os.environ.get("BENCH_SCALE_PAGE_SECONDS", "40"))
#: ... in this many turns each.
PAGE_ROUNDS = 5
#: The queue's fixed rate while the export runs on the other server.
DURING_EXPORT_RATE = 5.0
MARK_START, MARK_END = "<!-- scale:start -->", "<!-- scale:end -->"


def note(text: str) -> None:
    print(f"[bench-scale {datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def grow_screenings(conninfo: str, target: int) -> float:
    """Copy submitted screenings (new references, resume-token hashes and times) until there are
    `target`; the seconds it took. One INSERT ... SELECT per doubling at most."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        while True:
            (count,) = connection.execute("SELECT count(*) FROM screening WHERE state = 'submitted'").fetchone()  # type: ignore[misc]
            if count >= target:
                break
            connection.execute(
                """
                INSERT INTO screening (reference, resume_token_hash, state, answers, outcome, candidacy, reasons,
                    indicators, ruleset_version, consented_at, created_at, updated_at, submitted_at, expires_at,
                    outcome_rank, review_status, clinician_outcome, appointment_at)
                SELECT 'IMS-x' || lpad((%(offset)s + n)::text, 7, '0'),
                    encode(sha256(('copy-' || (%(offset)s + n)::text)::bytea), 'hex'),
                    state, answers, outcome, candidacy, reasons, indicators, ruleset_version,
                    consented_at - shift, created_at - shift, updated_at - shift, submitted_at - shift,
                    expires_at - shift, outcome_rank, review_status, clinician_outcome, appointment_at
                FROM (
                    SELECT s.*, row_number() OVER () AS n,
                        make_interval(secs => (random() * 3 * 365 * 86400)::int) AS shift
                    FROM screening s WHERE state = 'submitted' LIMIT %(wanted)s
                ) AS source
                """,
                {"offset": count, "wanted": min(count, target - count)},
            )
        connection.execute("VACUUM (ANALYZE) screening")
    return round(time.perf_counter() - started, 1)


def grow_audit_trail(conninfo: str, target: int, staff_id: int) -> float:
    """Audit events up to `target`, one a minute going back, in one INSERT; the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        (count,) = connection.execute("SELECT count(*) FROM audit_event").fetchone()  # type: ignore[misc]
        connection.execute(
            """
            INSERT INTO audit_event (at, actor_id, actor_email, action, screening_id, screening_reference,
                ip_address, detail)
            SELECT now() - n * interval '1 minute', %(staff)s, %(email)s, 'view_screening', n,
                'IMS-' || lpad(n::text, 8, '0'), '127.0.0.1', '{}'
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
            """,
            {"staff": staff_id, "email": seed.STAFF_EMAIL, "first": count + 1, "last": target},
        )
        connection.execute("VACUUM (ANALYZE) audit_event")
    return round(time.perf_counter() - started, 1)


def tally_cost(app: Flask, conninfo: str, rounds: int = 15) -> dict[str, Any]:
    """Milliseconds (median of `rounds`) of the counts as the queue ran them before (GROUP BY over the
    screenings, with the index `ix_screening_tally` it had, made again for the measurement) and as
    it reads them now (`screening_tally`); and whether the two agree."""
    from app.extensions import db
    from app.staff import queries

    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("CREATE INDEX bench_old_tally ON screening (state, outcome, review_status)")
        connection.execute("VACUUM (ANALYZE) screening")  # so that the old count gets its index-only scan
    try:
        with app.app_context():

            def median_ms(read: Any) -> float:
                read()  # warm
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    read()
                    times.append((time.perf_counter() - started) * 1000)
                    db.session.rollback()
                return round(statistics.median(times), 3)

            before, after = median_ms(queries.counted_afresh), median_ms(queries.tally)
            agree = queries.counted_afresh().cells == queries.tally().cells
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("DROP INDEX bench_old_tally")
    return {"group_by_ms": before, "tally_table_ms": after, "ratio": round(before / after, 1), "exact": agree}


def pages(base: str, cookie: str, paths: dict[str, str]) -> dict[str, Any]:
    """The paths at the same fixed rate, taking turns in PAGE_ROUNDS short runs (so that a change in
    the machine's other load touches each alike); per path the median run's p50, p90 and p99 and
    the worst run's maximum, and p99 ratios to the first path."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    for _ in range(PAGE_ROUNDS):
        for name, path in paths.items():
            runs[name].append(fixed_rate(base, [path], cookie, rate=PAGE_RATE, seconds=PAGE_SECONDS / PAGE_ROUNDS))
    found = {
        name: {
            "requests": sum(run["requests"] for run in found_runs),
            **{
                quantile: statistics.median(run[quantile] for run in found_runs)
                for quantile in ("p50_ms", "p90_ms", "p99_ms")
            },
            "max_ms": max(run["max_ms"] for run in found_runs),
            "errors": sum(run["errors"] for run in found_runs),
            "p99_runs_ms": [run["p99_ms"] for run in found_runs],
        }
        for name, found_runs in runs.items()
    }
    first = next(iter(found.values()))["p99_ms"]
    for figures in found.values():
        figures["p99_ratio_to_first"] = round(figures["p99_ms"] / first, 2)
    return found


def export_while_the_queue_is_used(bench: Bench, cookie: str) -> dict[str, Any]:
    """The whole CSV export, with the queue asked for at a fixed rate on the other server meanwhile."""
    during: dict[str, Any] = {}
    stop = threading.Event()

    def use_queue() -> None:
        time.sleep(3)  # the export's server is up and streaming
        if not stop.is_set():
            during.update(fixed_rate(bench.app_base, ["/staff/"], cookie, rate=DURING_EXPORT_RATE, seconds=20))

    user = threading.Thread(target=use_queue, daemon=True)
    user.start()
    exported = bench.export(cookie)
    stop.set()
    user.join(timeout=60)
    return {**exported, "queue_meanwhile": during}


def measure(bench: Bench, app: Flask, cookie: str, conninfo: str, size: int) -> dict[str, Any]:
    note(f"{size:,}: queue pages")
    queue = pages(bench.app_base, cookie, {"first": "/staff/", "last": "/staff/?page=last"})
    note(f"{size:,}: audit trail pages")
    audit = pages(bench.app_base, cookie, {"newest": "/staff/audit", "oldest": "/staff/audit?page=last"})
    note(f"{size:,}: counts")
    tally = tally_cost(app, conninfo)
    note(f"{size:,}: CSV export")
    export = export_while_the_queue_is_used(bench, cookie)
    found = {"queue": queue, "audit": audit, "tally": tally, "export_csv": export}
    note(f"{size:,}: {json.dumps(found)}")
    return found


def markdown(results: dict[str, Any]) -> str:
    lines = [
        MARK_START,
        "## A million screenings (`make bench-scale`)",
        "",
        f"{results['date']}, {results['minutes']} minutes, on the machine above "
        f"(load average {results['machine']['load_average_at_start']:.1f} at the start). Seeding: "
        + "; ".join(f"{size} in {seconds} s" for size, seconds in results["seed_seconds"].items())
        + ". Pages at a fixed "
        f"{PAGE_RATE:g} requests a second for {PAGE_SECONDS} s each (open loop), first and last taking turns in "
        f"{PAGE_ROUNDS} runs; p50, p90 and p99 are the median run's. The export from a one-worker "
        f"server while the queue is asked for at {DURING_EXPORT_RATE:g}/s on the five-worker one.",
        "",
        "| Screenings | Queue p99 first page ms | Last page ms | Last ÷ first | Audit p99 newest ms | Oldest ms |"
        " Oldest ÷ newest | Counts: GROUP BY ms | tally table ms | Export s | Rows | Worker growth MB |"
        " Queue p99 during export ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, found in results["sizes"].items():
        queue, audit, tally, export = found["queue"], found["audit"], found["tally"], found["export_csv"]
        lines.append(
            f"| {int(size):,} | {queue['first']['p99_ms']} | {queue['last']['p99_ms']} | "
            f"**{queue['last']['p99_ratio_to_first']}×** | {audit['newest']['p99_ms']} | {audit['oldest']['p99_ms']} | "
            f"{audit['oldest']['p99_ratio_to_first']}× | {tally['group_by_ms']} | {tally['tally_table_ms']} | "
            f"{export['seconds']} | {export['rows']:,} | **{export['growth_mb']}** | "
            f"{export['queue_meanwhile'].get('p99_ms', '–')} |"
        )
    largest = results["sizes"][str(max(int(size) for size in results["sizes"]))]
    lines += [
        "",
        "| Target at the largest size | Measured | Wanted | Met |",
        "|---|---|---|---|",
        f"| Queue last page p99 ÷ first page p99 | {largest['queue']['last']['p99_ratio_to_first']} | <= 1.5 | "
        f"{'yes' if largest['queue']['last']['p99_ratio_to_first'] <= 1.5 else '**no**'} |",
        f"| CSV export completes (rows) | {largest['export_csv']['rows']:,} | every screening | "
        f"{'yes' if largest['export_csv']['rows'] == int(max(int(s) for s in results['sizes'])) else '**no**'} |",
        f"| CSV export: worker memory growth (MB) | {largest['export_csv']['growth_mb']} | < 50 | "
        f"{'yes' if largest['export_csv']['growth_mb'] < 50 else '**no**'} |",
        f"| Counts from `screening_tally` equal a fresh GROUP BY | {largest['tally']['exact']} | True | "
        f"{'yes' if largest['tally']['exact'] else '**no**'} |",
        "",
        "Copies carry no follow-up rows (contact details, notes, status changes); the first "
        f"{BASE_SCREENINGS:,} do. Errors (non-2xx/3xx) over every page run: "
        + str(
            sum(
                figures["errors"]
                for found in results["sizes"].values()
                for group in (found["queue"], found["audit"])
                for figures in group.values()
            )
        )
        + ".",
        MARK_END,
    ]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any]) -> None:
    (HERE / "results-scale.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    report = HERE / "results.md"
    text = report.read_text(encoding="utf-8") if report.exists() else "# Benchmark results\n"
    section = markdown(results)
    if MARK_START in text and MARK_END in text:
        text = text[: text.index(MARK_START)] + section + text[text.index(MARK_END) + len(MARK_END) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    report.write_text(text, encoding="utf-8")


def main() -> None:
    require_wrk()
    started = time.monotonic()
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "sizes": {}, "seed_seconds": {}}
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="ims-bench-scale-"))
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        server_url = stack.enter_context(postgres.cluster())
        database_url = postgres.new_database(server_url)
        conninfo = database_url.replace("+psycopg", "")
        env = production_environment(database_url)
        os.environ.update(env)
        results["machine"] = machine(server_url)
        servers.migrate(env)
        from app import create_app

        app = create_app()
        seeding = time.perf_counter()
        staff_id, totp_secret = seed.create_staff_admin(app)
        seed.seed_screenings(app, BASE_SCREENINGS, staff_id)
        base_seconds = time.perf_counter() - seeding

        app_port, hello_port = postgres.unused_port(), postgres.unused_port()
        master = stack.enter_context(servers.gunicorn("wsgi:app", env, app_port, work / "app.log", "/healthz"))
        bench = Bench(app, env, work, f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}")
        results["workers"] = len(servers.workers(master))
        cookie = sign_in_staff(bench.app_base, totp_secret)
        wrk(bench.app_base, [Request("GET", "/staff/", cookie)], seconds=3, connections=4)  # warm every worker
        for size in SIZES:
            note(f"growing to {size:,} screenings and audit events")
            seconds = grow_screenings(conninfo, size) + grow_audit_trail(conninfo, size, staff_id)
            results["seed_seconds"][f"{size:,}"] = round(seconds + base_seconds, 1)
            base_seconds = 0.0
            results["sizes"][str(size)] = measure(bench, app, cookie, conninfo, size)
    results["minutes"] = round((time.monotonic() - started) / 60, 1)
    write(results)
    note(f"done in {results['minutes']} minutes; wrote bench/results.md and bench/results-scale.json")


if __name__ == "__main__":
    main()
