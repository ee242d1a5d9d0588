"""Seeding follow-ups after treatment for the staff side's tests (issue 18): screenings of a chosen
outcome, fired rules, rule-set version and baseline pain, and follow-ups in any state (answered,
sent and open, expired, never sent), written straight to the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import rules
from app.clock import utcnow
from app.extensions import db
from app.models import AssessmentRequest, FollowUp, FollowUpActivity, FollowUpActivityScore, Screening

#: The answers of a follow-up nobody changes (pain 3 now, 4 on average, much better, 4 IMS sessions).
ANSWERS = {"current_pain": 3, "average_pain": 4, "pgic": 2, "had_ims": "yes", "ims_sessions": 4}


@dataclass(frozen=True)
class Answered:
    """An answered follow-up: PGIC and average pain, the rest as ANSWERS."""

    week: int
    pgic: int
    average_pain: int = 4
    current_pain: int = 3
    scores: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Unanswered:
    """A follow-up not answered: its email sent and its link `open` or expired, or never sent."""

    week: int
    sent: bool = True
    open: bool = False


def reason(rule_id: str, outcome: str) -> dict[str, Any]:
    """A stored fired rule, as Result.to_dict writes it."""
    return {
        "rule_id": rule_id,
        "title": rule_id,
        "outcome": outcome,
        "patient_text": "",
        "staff_rationale": "",
        "sources": [],
        "answers": {},
        "open_warning_sign": False,
    }


def seed(
    *,
    outcome: str = "likely",
    fired: tuple[str, ...] = (),
    version: str = "1.0.0",
    pain_now: int | None = 6,
    pain_average: int | None = 6,
    answers: dict[str, Any] | None = None,
    follow_ups: tuple[Answered | Unanswered, ...] = (),
    activities: tuple[str, ...] = (),
    stopped_at: datetime | None = None,
    now: datetime | None = None,
) -> Screening:
    """A submitted, booked screening (in an app context) with its follow-ups; not committed.

    Its stored result is the one given (`outcome`, `fired` rules, `version`), whatever the rules
    would say of its answers: `answers` (none by default) with `pain_now` and `pain_average` set,
    unless None."""
    now = now or utcnow()
    answers = dict(answers or {})
    if pain_now is not None:
        answers["pain_now"] = pain_now
    if pain_average is not None:
        answers["pain_average"] = pain_average
    screening = Screening(
        state="submitted",
        answers=answers,
        outcome=outcome,
        candidacy=outcome if outcome in ("likely", "possible", "unlikely") else None,
        reasons=[reason(rule_id, outcome) for rule_id in fired],
        indicators={},
        ruleset_version=version,
        outcome_rank=rules.Outcome(outcome).rank,
        submitted_at=now - timedelta(weeks=20),
        consented_at=now - timedelta(weeks=20),
        expires_at=now,
        review_status="booked",
        appointment_at=now - timedelta(weeks=19),
        follow_ups_stopped_at=stopped_at,
    )
    db.session.add(screening)
    db.session.add(
        AssessmentRequest(
            screening=screening,
            name="Robin Tester",
            email="pat@example.org",
            name_search_hash="x",
            preferred_location="any",
            preferred_times=["any"],
            contact_consent_at=now,
            follow_up_consent_at=now,
        )
    )
    named = [FollowUpActivity(screening=screening, position=n, name=name) for n, name in enumerate(activities, 1)]
    db.session.add_all(named)
    for planned in follow_ups:
        due = now - timedelta(weeks=1)
        row = FollowUp(screening=screening, week=planned.week, due_at=due)
        if isinstance(planned, Answered):
            row.sent_at, row.token_expires_at = due, due + timedelta(days=14)
            row.started_at = row.answered_at = due + timedelta(days=1)
            row.current_pain, row.average_pain, row.pgic = planned.current_pain, planned.average_pain, planned.pgic
            row.had_ims, row.ims_sessions = "yes", ANSWERS["ims_sessions"]
            for position, score in planned.scores.items():
                row.activity_scores.append(FollowUpActivityScore(activity=named[position - 1], score=score))
        elif planned.sent:
            row.sent_at = due
            row.token_expires_at = now + timedelta(days=5) if planned.open else now - timedelta(days=1)
        db.session.add(row)
    return screening


def seed_committed(app: Any, **kwargs: Any) -> str:
    """`seed` in its own app context, committed; the screening's reference."""
    with app.app_context():
        screening = seed(**kwargs)
        db.session.commit()
        return screening.reference
