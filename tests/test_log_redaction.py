"""No resume token and no answer in any log line, even when every request fails.

The resume link /resume/<token> opens a patient's answers. The live test runs the real app
under gunicorn, stops its database, and sends the token and a free-text answer through the
paths that log (Flask's "Exception on <path>", gunicorn's access and error logs); then neither
sentinel may appear anywhere in the output.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import redaction
from app.extensions import db
from app.patient.services import hash_token
from tests.conftest import csrf_token_from
from tests.support.journey import form_data
from tests.support.live_server import Client, Gunicorn, gunicorn_with_a_draft
from tests.support.postgresql import PostgreSQLCluster

#: Shaped like a real token (43 URL-safe characters), and unmistakable in a log.
SENTINEL_TOKEN = "SeNtInElToKeN" + "q" * 30
SENTINEL_ANSWER = "SentinelAnswerKlingon"


@pytest.mark.parametrize(
    "line",
    [
        "/resume/abc123",
        "//resume/abc123",
        "/resume/abc123/",
        "/resume//abc123",
        "/x/../resume/abc123",
        "/resume%2Fabc123",
        "/resume%2fabc123",
        "%2Fresume%2Fabc123",
        "/resume%252Fabc123",
        "/%72esume/abc123",
        "/resume\\abc123",
        "/RESUME/abc123",
        "https://clinic.example/resume/abc123?x=1",
        "GET //resume/abc123 HTTP/1.1",
        "Exception on /resume/abc123 [GET]",
        "Error handling request //resume/abc123",
    ],
)
def test_every_variant_of_a_resume_path_is_redacted(line: str) -> None:
    assert "abc123" not in redaction.redact(line)
    assert redaction.REDACTED in redaction.redact(line)


@pytest.mark.parametrize(
    "line",
    [
        "/screening/about",
        "GET /healthz 200",
        "resume later",
        "/resume/",
        "100% done",
        "/staff/queue?page=2",
    ],
)
def test_other_lines_are_unchanged(line: str) -> None:
    assert redaction.redact(line) == line


def test_the_filter_redacts_messages_arguments_and_tracebacks() -> None:
    record = logging.LogRecord(
        "app", logging.ERROR, __file__, 1, "Exception on %s [%s]", ("/resume/abc123", "GET"), None
    )
    try:
        raise RuntimeError("while serving //resume/abc123")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert redaction.FILTER.filter(record)
    formatted = logging.Formatter().format(record)
    assert "abc123" not in formatted
    assert "Exception on /resume/[token] [GET]" in formatted and "RuntimeError" in formatted


def test_sql_errors_never_show_their_parameters(app: Flask) -> None:
    """A failed statement's error (which is logged) names no bound value: those are answers."""
    with app.app_context():
        with pytest.raises(SQLAlchemyError) as failure:
            db.session.execute(text("SELECT :answer FROM no_such_table"), {"answer": SENTINEL_ANSWER})
        db.session.rollback()
    assert "no_such_table" in str(failure.value)
    assert SENTINEL_ANSWER not in str(failure.value)


@pytest.fixture
def gunicorn(own_postgresql_cluster: PostgreSQLCluster, tmp_path: Path) -> Iterator[Gunicorn]:
    """gunicorn with two workers on a cluster this test may stop, its one draft opened by SENTINEL_TOKEN."""
    token_hash = hash_token(SENTINEL_TOKEN)
    with gunicorn_with_a_draft(own_postgresql_cluster, tmp_path, 2, resume_token_hash=token_hash) as (server, _):
        yield server


def test_no_token_or_answer_reaches_the_logs_when_the_database_is_down(
    gunicorn: Gunicorn, own_postgresql_cluster: PostgreSQLCluster
) -> None:
    patient = Client(gunicorn.base)
    assert patient.get(f"/resume/{SENTINEL_TOKEN}").status == 302  # the session now holds the token
    page = patient.get("/screening/about")
    assert page.status == 200, page.body[:300]
    answers = {"respondent": "self", "age": 40, "interpreter_needed": "yes", "interpreter_language": SENTINEL_ANSWER}
    step = {**form_data("about", answers), "csrf_token": csrf_token_from(page.body), "action": "continue"}

    # Reads still work but writes fail: the answer reaches the failing UPDATE.
    with psycopg.connect(own_postgresql_cluster.conninfo(), autocommit=True) as admin:
        admin.execute("ALTER DATABASE ims SET default_transaction_read_only = on")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'ims'")
    saved_read_only = patient.post("/screening/about", step)
    # Then nothing works.
    own_postgresql_cluster.stop()
    replies = {
        path: Client(gunicorn.base).get(path)
        for path in (
            f"/resume/{SENTINEL_TOKEN}",
            f"//resume/{SENTINEL_TOKEN}",
            f"/resume%2F{SENTINEL_TOKEN}",
            f"/%72esume/{SENTINEL_TOKEN}",
            f"/resume/{SENTINEL_TOKEN}/",
        )
    }
    replies["step, read-only"] = saved_read_only
    replies["step"] = patient.post("/screening/about", step)
    gunicorn.terminate(timeout=30)  # every log line written and flushed

    log = gunicorn.log.read_text(errors="replace")
    for what, reply in replies.items():
        assert "Traceback" not in reply.body and SENTINEL_ANSWER not in reply.body, what
        if reply.status >= 500:
            assert "Something went wrong on our side" in reply.body, what
    assert {replies[f"/resume/{SENTINEL_TOKEN}"].status, replies["step"].status, saved_read_only.status} == {500}
    # The errors were logged, the failed write among them.
    assert "Exception on /resume/[token] [GET]" in log and "read-only transaction" in log
    assert SENTINEL_TOKEN.lower() not in log.lower(), log
    assert SENTINEL_ANSWER.lower() not in log.lower(), log
