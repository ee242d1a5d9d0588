"""Stored rows as a test checks them: read in an app context of their own and detached from its
session, so that their columns can still be read once it has ended."""

from __future__ import annotations

from typing import TypeVar

from flask import Flask
from sqlalchemy import Select

from app.extensions import db

Row = TypeVar("Row")


def detached_rows(app: Flask, statement: Select[tuple[Row]]) -> list[Row]:
    """The rows `statement` selects, read in a session of their own and detached from it."""
    with app.app_context():
        found = list(db.session.scalars(statement))
        db.session.expunge_all()
        return found


def detached_row(app: Flask, statement: Select[tuple[Row]]) -> Row:
    """The one row `statement` selects (there must be exactly one), detached."""
    found = detached_rows(app, statement)
    assert len(found) == 1, f"{len(found)} rows: {statement}"
    return found[0]
