"""`flask --app wsgi purge [--dry-run]`: expired drafts go, everything else stays."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from app import services
from app.extensions import db
from app.models import Screening, utcnow


def make_drafts(app: Flask, ideal_answers: dict[str, object]) -> None:
    """One expired draft, one live draft, and one expired-looking submitted screening."""
    with app.app_context():
        services.start_screening(7, now=utcnow() - timedelta(days=10))  # expired
        services.start_screening(7)  # live
        submitted, _ = services.start_screening(7, now=utcnow() - timedelta(days=30))
        submitted.answers = dict(ideal_answers)
        services.submit_screening(submitted)
        db.session.commit()


def count(app: Flask, state: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Screening).where(Screening.state == state)) or 0


def test_purge_deletes_only_expired_drafts(app: Flask, ideal_answers: dict[str, object]) -> None:
    make_drafts(app, ideal_answers)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0
    assert "deleted 1 expired unfinished screening(s)" in result.output
    assert count(app, "draft") == 1
    assert count(app, "submitted") == 1


def test_a_dry_run_deletes_nothing(app: Flask, ideal_answers: dict[str, object]) -> None:
    make_drafts(app, ideal_answers)
    result = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert "dry run: 1 expired unfinished screening(s) would be deleted" in result.output
    assert count(app, "draft") == 2
