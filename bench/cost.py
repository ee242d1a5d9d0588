"""Where a request's time goes: the same requests run in-process through Flask's test client, one
at a time, timed by CPU, then again under cProfile to share that time out between the libraries.

This explains the throughput ratios: with gunicorn's sync workers on a busy machine, requests per
second follow the CPU each request costs.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import MultiDict

from bench.load import Request

#: cProfile's file names -> what the report calls them (the first match counts).
PARTS = (
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/psycopg", "psycopg (PostgreSQL driver)"),
    ("/wtforms/", "WTForms and Flask-WTF (forms, CSRF)"),
    ("/flask_wtf/", "WTForms and Flask-WTF (forms, CSRF)"),
    ("/jinja2/", "Jinja templates"),
    ("/markupsafe/", "Jinja templates"),
    ("/templates/", "Jinja templates"),
    ("/rules/", "rules (questionnaire, evaluator)"),
    ("/flask/", "Flask, Werkzeug, sessions"),
    ("/werkzeug/", "Flask, Werkzeug, sessions"),
    ("/itsdangerous/", "Flask, Werkzeug, sessions"),
    ("/flask_login/", "Flask, Werkzeug, sessions"),
    ("/app/", "the app's own code"),
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
            raise RuntimeError(f"{request.method} {request.path}: {response.status_code}")
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
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(10 + half, 10 + 2 * half):
        send(number)
    profiler.disable()
    shares: dict[str, float] = {}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_calls, _primitive, own_time, _cumulative, _callers) in stats.items():
        part = next((label for marker, label in PARTS if marker in filename), "Python's standard library, other")
        shares[part] = shares.get(part, 0.0) + own_time
    total = sum(shares.values()) or 1.0
    return {
        "cpu_ms": round(cpu_ms, 2),
        "wall_ms": round(wall_ms, 2),
        "requests": half,
        "shares": {part: round(seconds / total, 3) for part, seconds in sorted(shares.items(), key=lambda p: -p[1])},
    }
