"""The follow-up tables (issue 18) and the invariants the database enforces for them, on both databases."""

from datetime import timedelta
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app import measures
from app.clock import utcnow
from app.extensions import db
from app.models import (
    AssessmentRequest,
    FollowUp,
    FollowUpActivity,
    FollowUpActivityScore,
    Notification,
    Screening,
    ScreeningTally,
)


def booked_screening() -> Screening:
    now = utcnow()
    screening = Screening(
        state="submitted",
        answers={},
        outcome="likely",
        candidacy="likely",
        reasons=[],
        indicators={},
        ruleset_version="test",
        outcome_rank=4,
        submitted_at=now,
        consented_at=now,
        expires_at=now,
        review_status="booked",
        appointment_at=now,
    )
    db.session.add(screening)
    db.session.flush()
    return screening


def follow_up(screening: Screening, week: int = 2, **answers: Any) -> FollowUp:
    row = FollowUp(screening=screening, week=week, due_at=utcnow(), **answers)
    db.session.add(row)
    return row


COMPLETE = {"current_pain": 3, "average_pain": 4, "pgic": 2, "had_ims": "yes", "ims_sessions": 4}


def test_an_answered_follow_up_with_activity_scores_is_stored_and_read_back(app: Flask) -> None:
    with app.app_context():
        screening = booked_screening()
        activity = FollowUpActivity(screening=screening, position=1, name="Lifting my daughter")
        row = follow_up(screening, **COMPLETE, answered_at=utcnow())
        row.activity_scores.append(FollowUpActivityScore(activity=activity, score=6))
        db.session.commit()
        db.session.expire_all()
        stored = db.session.scalars(select(Screening)).one()
        assert [(f.week, f.pgic, f.had_ims, f.ims_sessions) for f in stored.follow_ups] == [(2, 2, "yes", 4)]
        assert [(s.activity.name, s.score) for s in stored.follow_ups[0].activity_scores] == [
            ("Lifting my daughter", 6)
        ]


def test_activity_names_are_encrypted_at_rest(app: Flask) -> None:
    with app.app_context():
        db.session.add(FollowUpActivity(screening=booked_screening(), position=1, name="Gardening for an hour"))
        db.session.commit()
        raw = db.session.execute(text("SELECT name FROM follow_up_activity")).scalar_one()
        assert "Gardening" not in raw


@pytest.mark.parametrize(
    "answers",
    [
        {"current_pain": 11},
        {"average_pain": -1},
        {"pgic": 0},
        {"pgic": 8},
        {"had_ims": "maybe"},
        {"had_ims": "no", "ims_sessions": 3},
        {"had_ims": "yes", "ims_sessions": 0},
        {"had_ims": "yes", "ims_sessions": 100},
        {"answered_at": utcnow(), "current_pain": 3},  # answered needs every required answer
    ],
)
def test_the_database_refuses_answers_outside_the_measures(app: Flask, answers: dict[str, Any]) -> None:
    with app.app_context():
        follow_up(booked_screening(), **answers)
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_a_time_point_is_stored_once_per_screening(app: Flask) -> None:
    with app.app_context():
        screening = booked_screening()
        follow_up(screening, week=2)
        follow_up(screening, week=6)
        db.session.commit()
        follow_up(screening, week=2)
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_an_activity_score_is_0_to_10_and_at_most_three_activities(app: Flask) -> None:
    with app.app_context():
        screening = booked_screening()
        db.session.add(FollowUpActivity(screening=screening, position=measures.PSFS_MAX_ACTIVITIES + 1, name="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
    with app.app_context():
        screening = booked_screening()
        activity = FollowUpActivity(screening=screening, position=1, name="x")
        follow_up(screening).activity_scores.append(FollowUpActivityScore(activity=activity, score=11))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_deleting_a_screening_deletes_its_follow_ups_and_unlinks_their_emails(app: Flask) -> None:
    with app.app_context():
        screening = booked_screening()
        db.session.add(
            AssessmentRequest(
                screening=screening,
                name="A",
                name_search_hash="h",
                preferred_location="any",
                contact_consent_at=utcnow(),
                follow_up_consent_at=utcnow(),
            )
        )
        activity = FollowUpActivity(screening=screening, position=1, name="Walking")
        row = follow_up(screening, **COMPLETE, answered_at=utcnow())
        row.activity_scores.append(FollowUpActivityScore(activity=activity, score=5))
        db.session.flush()
        db.session.add(Notification(kind="patient_follow_up", screening_id=screening.id, follow_up_id=row.id))
        db.session.commit()
        # As a purge does it (a bulk DELETE, so the database's own ON DELETE rules act), and as an ORM delete.
        db.session.execute(text("DELETE FROM screening"))
        db.session.commit()
        for table in ("follow_up", "follow_up_activity", "follow_up_activity_score"):
            assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table
        notification = db.session.scalars(select(Notification)).one()
        assert (notification.screening_id, notification.follow_up_id) == (None, None)


def test_the_outbox_accepts_follow_up_emails_and_cancelled_ones(app: Flask) -> None:
    with app.app_context():
        screening = booked_screening()
        db.session.add(Notification(kind="patient_follow_up", screening_id=screening.id, state="cancelled"))
        db.session.commit()
        db.session.add(Notification(kind="patient_follow_up", screening_id=screening.id, state="lost"))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_0014_downgrades_and_upgrades_again_keeping_the_queue_counts(empty_app: Flask) -> None:
    with empty_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="0013")
        flask_migrate.upgrade()
        # The tally triggers of 0013 survive the round trip: a new submitted screening is counted.
        booked_screening()
        db.session.commit()
        assert db.session.scalars(select(ScreeningTally.screenings)).one() == 1
        assert utcnow() - timedelta(minutes=1) < db.session.scalars(select(Screening.submitted_at)).one()
