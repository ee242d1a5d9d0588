"""Rules governance: replay stored screenings with the current rules (and, for those with a
follow-up after treatment, how the current rules would have sorted who improved), and calibrate
the rules against the physiotherapists' own judgement."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, and_, false, func, select

import rules
from app import measures
from app.extensions import db
from app.models import ClinicianJudgement, FollowUp, Screening
from rules.replay import FollowUpReport, Report, cohen_kappa, compare


def replay(since: datetime | None = None) -> Report:
    """Re-evaluate every submitted screening (since a date) and report what would change."""
    query = select(Screening.reference, Screening.answers, Screening.outcome, Screening.reasons).where(
        Screening.state == "submitted"
    )
    if since is not None:
        query = query.where(Screening.submitted_at >= since)
    report = Report()
    for reference, answers, outcome, reasons in db.session.execute(query.execution_options(yield_per=500)):
        try:
            current = rules.evaluate(answers)
        except rules.InvalidAnswers as error:
            report.not_replayable[reference] = error.problems
            continue
        report.replayed += 1
        if (change := compare(reference, outcome, reasons or [], current)) is not None:
            report.changes.append(change)
    return report


def replay_follow_ups(week: int | None = None, since: datetime | None = None) -> FollowUpReport:
    """Re-evaluate every submitted screening (since a date) with an answered follow-up at `week`
    (by default each one's latest answered follow-up) under the current rules, and count who
    improved (PGIC much or very much better) by stored and new outcome."""
    answered = FollowUp.answered_at.is_not(None)
    if week is None:
        latest = (
            select(FollowUp.screening_id, func.max(FollowUp.week).label("week"))
            .where(answered)
            .group_by(FollowUp.screening_id)
            .subquery()
        )
        read = and_(FollowUp.screening_id == latest.c.screening_id, FollowUp.week == latest.c.week)
        query = select(Screening.reference, Screening.answers, Screening.outcome, FollowUp.pgic).join(
            latest, latest.c.screening_id == Screening.id
        )
        query = query.join(FollowUp, read)
    else:
        query = select(Screening.reference, Screening.answers, Screening.outcome, FollowUp.pgic).join(
            FollowUp, and_(FollowUp.screening_id == Screening.id, FollowUp.week == week, answered)
        )
    query = query.where(Screening.state == "submitted")
    if since is not None:
        query = query.where(Screening.submitted_at >= since)
    report = FollowUpReport(week=week)
    for reference, answers, outcome, pgic in db.session.execute(query.execution_options(yield_per=500)):
        try:
            current = rules.evaluate(answers)
        except rules.InvalidAnswers as error:
            report.not_replayable[reference] = error.problems
            continue
        report.add(outcome, current.outcome.value, measures.much_better(pgic))
    return report


def judged_screenings() -> list[Row[tuple[str, str, list[dict[str, object]], bool]]]:
    """Every submitted screening a physiotherapist judged: the rules' outcome, the physiotherapist's
    current one (their latest judgement), the fired rules, and whether that judgement was blind."""
    latest = (
        select(ClinicianJudgement.screening_id, func.max(ClinicianJudgement.id).label("judgement_id"))
        .group_by(ClinicianJudgement.screening_id)
        .subquery()
    )
    return list(
        db.session.execute(
            select(
                Screening.outcome,
                Screening.clinician_outcome,
                Screening.reasons,
                func.coalesce(ClinicianJudgement.blind, false()).label("blind"),
            )
            .outerjoin(latest, latest.c.screening_id == Screening.id)
            .outerjoin(ClinicianJudgement, ClinicianJudgement.id == latest.c.judgement_id)
            .where(Screening.state == "submitted", Screening.clinician_outcome.is_not(None))
        ).all()
    )


@dataclass(frozen=True)
class Calibration:
    judged: int
    kappa: float | None
    #: rules' outcome -> clinicians' outcome -> count
    matrix: dict[str, Counter[str]]
    #: How many of the judged screenings were judged blind (before the rules' outcome was seen).
    blind: int = 0


def calibration() -> Calibration:
    """How the physiotherapists' outcomes compare with the rules', as a confusion matrix and kappa."""
    rows = judged_screenings()
    # Both are set on these rows (a submitted screening has an outcome; a judged one a
    # clinician's); the filter says so to the type checker too.
    pairs = [(row.outcome, row.clinician_outcome) for row in rows if row.outcome and row.clinician_outcome]
    matrix: dict[str, Counter[str]] = {}
    for rules_outcome, clinician_outcome in pairs:
        matrix.setdefault(rules_outcome, Counter())[clinician_outcome] += 1
    return Calibration(len(pairs), cohen_kappa(pairs), matrix, blind=sum(row.blind for row in rows))
