"""Where a request's time goes: the same requests run in-process through Flask's test client, one
at a time, timed by CPU, then again under cProfile (with a CPU-time timer, so that waiting for the
database or the disk counts as nothing) to share that time out between the libraries and name the
functions that take most of it.

This explains the throughput ratios: with gunicorn's sync workers on a busy machine, requests per
second follow the CPU each request costs.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import MultiDict

from bench.load import Request

ROOT = str(Path(__file__).resolve().parents[1]) + "/"

#: cProfile's file names -> what the report calls them (the first match counts).
PARTS = (
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/psycopg", "psycopg (PostgreSQL driver)"),
    ("/wtforms/", "WTForms and Flask-WTF (forms, CSRF)"),
    ("/flask_wtf/", "WTForms and Flask-WTF (forms, CSRF)"),
    ("/flask_babel/", "Flask-Babel, Babel (translations)"),
    ("/babel/", "Flask-Babel, Babel (translations)"),
    ("/jinja2/", "Jinja templates"),
    ("/markupsafe/", "Jinja templates"),
    ("/sqlite3/", "sqlite3 (SQLite driver)"),
    ("/templates/", "Jinja templates"),
    ("/rules/", "rules (questionnaire, evaluator)"),
    ("/flask/", "Flask, Werkzeug, sessions"),
    ("/werkzeug/", "Flask, Werkzeug, sessions"),
    ("/itsdangerous/", "Flask, Werkzeug, sessions"),
    ("/flask_login/", "Flask, Werkzeug, sessions"),
    ("/app/", "the app's own code"),
    ("/bench/", "the app's own code"),
)


def _sender(app: Flask, requests: list[Request]) -> Callable[[int], None]:
    client = app.test_client(use_cookies=False)

    def send(number: int) -> None:
        request = requests[number % len(requests)]
        response = client.open(
            request.path,
            method=request.method,
            data=MultiDict(parse_qsl(request.body, keep_blank_values=True)),
            environ_base={"HTTP_COOKIE": request.cookie} if request.cookie else {},
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"{request.method} {request.path}: {response.status_code} {response.get_data(as_text=True)[:600]!r}"
            )
        response.close()

    return send


def cost(app: Flask, requests: list[Request], count: int) -> dict[str, Any]:
    """CPU milliseconds per request (the first half of `requests`, unprofiled) and the shares of it
    by library (the second half, under cProfile); every request is sent once, after a warm-up of
    the first few."""
    send = _sender(app, requests)
    for number in range(min(10, count)):
        send(number)
    half = count // 2
    started, started_cpu = time.perf_counter(), time.process_time()
    for number in range(10, 10 + half):
        send(number)
    cpu_ms = (time.process_time() - started_cpu) / half * 1000
    wall_ms = (time.perf_counter() - started) / half * 1000
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for number in range(10 + half, 10 + 2 * half):
        send(number)
    profiler.disable()
    shares: dict[str, float] = {}
    functions: list[tuple[float, float, str]] = []
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, line, name), (_calls, _primitive, own_time, cumulative, _callers) in stats.items():
        part = next((label for marker, label in PARTS if marker in filename), "Python's standard library, other")
        shares[part] = shares.get(part, 0.0) + own_time
        functions.append((own_time, cumulative, f"{_short(filename)}:{line}({name})"))
    total = sum(shares.values()) or 1.0
    functions.sort(reverse=True)
    return {
        "cpu_ms": round(cpu_ms, 3),
        "wall_ms": round(wall_ms, 3),
        "requests": half,
        "shares": {part: round(seconds / total, 3) for part, seconds in sorted(shares.items(), key=lambda p: -p[1])},
        # The functions with the most CPU of their own: their share of the profiled CPU, and that
        # share of the unprofiled CPU per request (cProfile itself slows every call down).
        "top": [
            {"function": where, "share": round(own / total, 3), "own_ms": round(own / total * cpu_ms, 3)}
            for own, _cumulative, where in functions[:TOP]
        ],
    }


#: How many functions the report names per request.
TOP = 12


def _short(filename: str) -> str:
    """A profile's file name from the package on (".../site-packages/sqlalchemy/orm/x.py" ->
    "sqlalchemy/orm/x.py"; the project's own files from its root)."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if filename.startswith(ROOT):
        return filename[len(ROOT) :]
    if "/lib/python3" in filename:
        return filename.split("/lib/python3", 1)[1].split("/", 1)[-1]
    return filename
