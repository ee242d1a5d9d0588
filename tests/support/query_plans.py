"""What a database would do with the statements a request runs: captured as the app sends them,
then explained (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL).

Speed is measured by `make bench`, never by a timed test; a test shows instead that a list's page
is an index range scan in the list's order (no sort, no scan of the table), which is what keeps
the last of a million rows as quick as the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event, text

from app.extensions import db


@contextmanager
def captured(app: Flask, containing: str) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with their parameters) containing `containing`, as the app sends them."""
    found: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if containing in statement:
            found.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def plan(app: Flask, statement: str, parameters: Any) -> str:
    """How the database would run `statement`, as one text.

    On PostgreSQL, sequential and bitmap scans are switched off for the explanation: the tables of
    a test hold a few rows, which the planner would rightly just read in full, and the question is
    whether the index can give the page in order, which it then must show.
    """
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            connection.execute(text("SET LOCAL enable_bitmapscan = off"))
            rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            found = "\n".join(row[0] for row in rows)
        else:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            found = "\n".join(str(row[-1]) for row in rows)
        db.session.rollback()
        return found
