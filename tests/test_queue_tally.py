"""The queue's counts, kept by triggers in `screening_tally` (migration 0011), always equal a fresh
count of the screenings: after submissions, status changes, withdrawals, purges, deletions and
bulk statements, and not after a transaction that was rolled back."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from app import retention
from app.extensions import db
from app.models import OUTCOMES, REVIEW_STATUSES, Screening, ScreeningTally, StaffUser, new_reference
from app.patient import services
from app.staff import queries, review
from rules import Outcome
from tests.conftest import insert_submitted, submit_screening
from tests.support.query_plans import captured

T0 = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def maintained_and_fresh(app: Flask) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    with app.app_context():
        return dict(queries.tally().cells), dict(queries.counted_afresh().cells)


def row(rng: random.Random, state: str = "submitted") -> dict[str, object]:
    """The columns of a new screening, submitted (with a random outcome and status) or a draft."""
    when = T0 - timedelta(minutes=rng.randint(0, 10_000))
    outcome = rng.choice(OUTCOMES)
    columns: dict[str, object] = {
        "reference": new_reference(),  # not from `rng`: the database outlives one example
        "state": state,
        "answers": {},
        "consented_at": when,
        "created_at": when,
        "updated_at": when,
        "expires_at": when + timedelta(days=7),
        "review_status": rng.choice(REVIEW_STATUSES),
    }
    if state == "submitted":
        columns |= {
            "outcome": outcome,
            "outcome_rank": Outcome(outcome).rank,
            "candidacy": "likely",
            "reasons": [],
            "indicators": {},
            "ruleset_version": "test",
            "submitted_at": when,
        }
    return columns


def some_ids(rng: random.Random, state: str | None = None, at_most: int = 3) -> list[int]:
    query = select(Screening.id).order_by(Screening.id)
    if state:
        query = query.where(Screening.state == state)
    ids = list(db.session.scalars(query))
    return rng.sample(ids, min(at_most, len(ids)))


def apply(rng: random.Random, operation: str) -> None:
    """One change to the screenings, as the app or a maintenance statement could make it."""
    if operation == "insert one":
        db.session.add(Screening(**row(rng, rng.choice(("submitted", "draft")))))
    elif operation == "insert many":  # one statement, many rows (a bulk load)
        db.session.execute(insert(Screening), [row(rng, rng.choice(("submitted", "draft"))) for _ in range(5)])
    elif operation == "submit a draft":
        for screening_id in some_ids(rng, "draft", 1):
            outcome = rng.choice(OUTCOMES)
            db.session.execute(
                update(Screening)
                .where(Screening.id == screening_id)
                .values(
                    state="submitted",
                    outcome=outcome,
                    outcome_rank=Outcome(outcome).rank,
                    candidacy="likely",
                    reasons=[],
                    indicators={},
                    ruleset_version="test",
                    submitted_at=T0,
                )
            )
    elif operation == "change a status":
        for screening_id in some_ids(rng, "submitted", 1):
            found = db.session.get(Screening, screening_id)
            assert found is not None
            found.review_status = rng.choice(REVIEW_STATUSES)
    elif operation == "change many statuses":  # one statement touching several counts at once
        db.session.execute(
            update(Screening)
            .where(Screening.id.in_(some_ids(rng, at_most=6)))
            .values(review_status=rng.choice(REVIEW_STATUSES))
        )
    elif operation == "change an outcome":
        for screening_id in some_ids(rng, "submitted", 1):
            outcome = rng.choice(OUTCOMES)
            db.session.execute(
                update(Screening)
                .where(Screening.id == screening_id)
                .values(outcome=outcome, outcome_rank=Outcome(outcome).rank)
            )
    elif operation == "change the answers only":
        db.session.execute(update(Screening).where(Screening.id.in_(some_ids(rng))).values(answers={"age": 40}))
    elif operation == "delete one":
        for screening_id in some_ids(rng, at_most=1):
            found = db.session.get(Screening, screening_id)
            db.session.delete(found)
    elif operation == "delete many":
        db.session.execute(delete(Screening).where(Screening.review_status == rng.choice(REVIEW_STATUSES)))
    else:
        raise AssertionError(operation)


OPERATIONS = (
    "insert one",
    "insert many",
    "submit a draft",
    "change a status",
    "change many statuses",
    "change an outcome",
    "change the answers only",
    "delete one",
    "delete many",
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.booleans()), min_size=1, max_size=12),
    seed=st.integers(0, 2**32),
)
def test_after_any_changes_the_maintained_counts_equal_a_fresh_count(
    app: Flask, steps: list[tuple[str, bool]], seed: int
) -> None:
    """Random inserts, submissions, status and outcome changes and deletions, one or many rows a
    statement, each committed or rolled back: the counts always match COUNT(*)."""
    rng = random.Random(seed)  # noqa: S311 (test data)
    with app.app_context():
        for operation, commit in steps:
            apply(rng, operation)
            db.session.flush()
            if commit:
                db.session.commit()
            else:
                db.session.rollback()
    maintained, fresh = maintained_and_fresh(app)
    assert maintained == fresh


def test_the_counts_follow_the_apps_own_changes(app: Flask, ideal_answers: dict[str, object]) -> None:
    """Submission, a status change, the withdrawal of an emergency, a purge and a privacy deletion."""
    with app.app_context():
        author = StaffUser(email="physio@clinic.example", name="Physio", role="physio", password_hash="x")
        db.session.add(author)
        db.session.commit()
    reference = submit_screening(app, ideal_answers, submitted_at=T0)
    emergency = submit_screening(app, {**ideal_answers, "rf_bladder_bowel": "yes"}, submitted_at=T0)
    insert_submitted(app, [{"outcome": "likely", "submitted_at": T0 - timedelta(days=500)}])
    with app.app_context():
        assert queries.tally().cells == queries.counted_afresh().cells
        found = db.session.scalar(select(Screening).where(Screening.reference == reference))
        author = db.session.scalar(select(StaffUser))
        assert found is not None and author is not None
        review.change_status(found, "in_review", author)
        db.session.commit()
        assert queries.tally().by("review_status")["in_review"] == 1
        withdrawn = db.session.scalar(select(Screening).where(Screening.reference == emergency))
        assert withdrawn is not None
        assert withdrawn.outcome == "emergency" and services.has_emergency_to_withdraw(withdrawn)
        services.withdraw_emergency(withdrawn, 7)
        db.session.commit()
        retention.purge_old_screenings(400, now=T0)
        db.session.commit()
        db.session.delete(db.session.get(Screening, found.id))
        db.session.commit()
        assert queries.tally().cells == queries.counted_afresh().cells
        assert sum(queries.tally().cells.values()) == 1


def test_the_queue_reads_its_counts_without_counting_the_screenings(app: Flask, physio_client: FlaskClient) -> None:
    """No GROUP BY over `screening` on a view of the queue: its counts are a few rows of
    `screening_tally` (the number of matches for an outcome or status filter comes from them too)."""
    insert_submitted(app, [{"outcome": "likely", "submitted_at": T0 + timedelta(minutes=i)} for i in range(3)])
    with captured(app, "FROM screening") as statements:
        response = physio_client.get("/staff/", query_string={"outcome": "likely", "status": "new"})
    assert response.status_code == 200
    assert "3 screenings" in response.get_data(as_text=True)
    assert not [statement for statement, _ in statements if "count(" in statement.lower()]
    with app.app_context():
        assert db.session.scalar(select(ScreeningTally.screenings).where(ScreeningTally.outcome == "likely")) == 3
