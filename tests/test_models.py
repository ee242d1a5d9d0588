"""The Screening model and the invariants the database enforces for it."""

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError, StatementError

import rules
from app.clock import utcnow
from app.extensions import db
from app.models import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    REFERENCE_PREFIX,
    Screening,
    new_reference,
)


def draft(**overrides: Any) -> Screening:
    now = utcnow()
    return Screening(consented_at=now, expires_at=now + timedelta(days=30), **overrides)


def submitted(**overrides: Any) -> Screening:
    """A submitted screening with a complete result, unless `overrides` removes part of it."""
    fields: dict[str, Any] = {
        "state": "submitted",
        "answers": {"pain_weeks": 20},
        "outcome": "likely",
        "candidacy": "likely",
        "reasons": [{"rule_id": "C1", "outcome": "likely"}],
        "indicators": {"C1": True},
        "ruleset_version": "2026.1",
        "submitted_at": utcnow(),
    }
    return draft(**(fields | overrides))


def save(screening: Screening) -> Screening:
    db.session.add(screening)
    db.session.commit()
    # Forget the in-memory object, so the checks below read what the database stored.
    db.session.expire_all()
    return screening


def test_new_screening_defaults(app: Flask) -> None:
    with app.app_context():
        screening = save(draft())
        assert screening.state == "draft"
        assert screening.answers == {}
        assert re.fullmatch(r"IMS-[2-9A-Z]{8}", screening.reference)
        assert screening.outcome is None
        assert screening.reasons is None


def test_timestamps_come_back_timezone_aware_in_utc(app: Flask) -> None:
    vancouver_winter = timezone(timedelta(hours=-8))
    expires_at = datetime(2026, 3, 1, 16, 0, tzinfo=vancouver_winter)
    with app.app_context():
        screening = save(Screening(consented_at=expires_at, expires_at=expires_at))
        assert screening.expires_at == expires_at
        assert screening.expires_at.utcoffset() == timedelta(0)
        assert screening.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(app: Flask) -> None:
    with app.app_context():
        db.session.add(Screening(expires_at=datetime(2026, 3, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            db.session.flush()


def test_answers_changed_in_place_are_saved(app: Flask) -> None:
    with app.app_context():
        screening = save(draft(answers={"age": 40}))
        screening.answers["pain_weeks"] = 20
        db.session.commit()
        db.session.expire_all()
        assert screening.answers == {"age": 40, "pain_weeks": 20}


def test_complete_submitted_screening_is_accepted(app: Flask) -> None:
    with app.app_context():
        assert save(submitted()).state == "submitted"


def test_a_result_stored_in_its_columns_reads_back_as_the_rules_gave_it(app: Flask, ideal_answers: dict) -> None:
    result = rules.evaluate(dict(ideal_answers, metal_allergy="yes"))  # a precaution over a candidacy
    with app.app_context():
        screening = save(submitted(answers=ideal_answers, **Screening.result_columns(result)))
        assert screening.outcome_rank == rules.Outcome.CLINICIAN_REVIEW.rank
        stored = screening.stored_result()
    assert stored.to_dict() == result.to_dict()
    assert stored.explaining() == result.explaining()


def test_a_draft_has_no_stored_result(app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError, match="no result yet"):
        save(draft()).stored_result()


@pytest.mark.parametrize("missing", ["outcome", "reasons", "indicators", "ruleset_version", "submitted_at"])
def test_submitted_screening_needs_its_whole_result(app: Flask, missing: str) -> None:
    with app.app_context():
        db.session.add(submitted(**{missing: None}))
        with pytest.raises(IntegrityError, match="ck_screening_submitted_has_result"):
            db.session.flush()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("state", "archived"),
        ("outcome", "maybe"),
        ("candidacy", "clinician_review"),
    ],
)
def test_values_outside_the_vocabulary_are_rejected(app: Flask, column: str, value: str) -> None:
    with app.app_context():
        db.session.add(draft(**{column: value}))
        with pytest.raises(IntegrityError, match=f"ck_screening_{column}"):
            db.session.flush()


def test_references_are_unique_in_the_database(app: Flask) -> None:
    with app.app_context():
        save(draft(reference="IMS-AAAAAAAA"))
        db.session.add(draft(reference="IMS-AAAAAAAA"))
        with pytest.raises(IntegrityError):
            db.session.flush()


def test_new_reference_format_and_uniqueness() -> None:
    # 2,000 codes from 30**8 possible: a chance collision is about 3 in a million.
    references = [new_reference() for _ in range(2_000)]
    assert len(set(references)) == len(references)
    for reference in references:
        assert reference.startswith(REFERENCE_PREFIX)
        code = reference.removeprefix(REFERENCE_PREFIX)
        assert len(code) == REFERENCE_LENGTH
        assert set(code) <= set(REFERENCE_ALPHABET)
    # Every letter of the alphabet turns up, so the whole alphabet is in use.
    assert set("".join(references).replace(REFERENCE_PREFIX, "")) == set(REFERENCE_ALPHABET)


def test_reference_alphabet_has_no_look_alikes() -> None:
    assert not set("01ILOU") & set(REFERENCE_ALPHABET)
