"""`flask --app wsgi purge [--dry-run]`: expired drafts go, everything else stays."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.models import Screening
from app.patient import services


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


def old_submitted(app: Flask, answers: dict[str, object], days_ago: int, review_status: str = "new") -> str:
    with app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = dict(answers)
        services.submit_screening(screening, now=utcnow() - timedelta(days=days_ago))
        screening.review_status = review_status
        db.session.commit()
        return screening.reference


def test_purge_deletes_unbooked_screenings_past_retention_and_audits_it(
    app: Flask, ideal_answers: dict[str, object]
) -> None:
    from app.models import AuditEvent

    expired = old_submitted(app, ideal_answers, days_ago=401)
    booked = old_submitted(app, ideal_answers, days_ago=900, review_status="booked")
    recent = old_submitted(app, ideal_answers, days_ago=399)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "deleted 1 submitted screening(s) older than 400 days" in result.output
    with app.app_context():
        left = set(db.session.scalars(select(Screening.reference)))
        assert left == {booked, recent}
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "purge")).one()
        assert event.detail["references"] == [expired]
        assert event.detail["screenings_deleted"] == 1


def test_a_dry_run_of_the_retention_purge_deletes_nothing(app: Flask, ideal_answers: dict[str, object]) -> None:
    old_submitted(app, ideal_answers, days_ago=500)
    result = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert "dry run: 1 submitted screening(s) older than 400 days, never booked, would be deleted" in result.output
    assert count(app, "submitted") == 1
