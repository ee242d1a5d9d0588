"""The overview: screenings per week by outcome, the follow-up funnel, how often the
physiotherapists' own judgement agreed with the rules, and the outcomes after treatment
(app/staff/outcomes.py). Charts are SVG, laid out by app/staff/charts.py, with the numbers beside
them in tables (the tables are the accessible form of the charts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, current_app, render_template
from sqlalchemy import distinct, func, select

import rules
from app import intervals
from app.calibration import judged_screenings
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE, local_midnight
from app.extensions import db
from app.models import OUTCOMES, Screening, StatusChange
from app.staff import charts, outcomes
from app.staff.queue import OUTCOME_LABELS

bp = Blueprint("staff_reports", __name__, url_prefix="/staff")

WEEKS_SHOWN = 12

#: The funnel's steps, each reached by a screening that ever had one of these statuses.
FUNNEL = (
    ("Submitted", None),
    ("Reviewed", ("in_review", "contacted", "booked", "declined", "referred")),
    ("Contacted", ("contacted", "booked")),
    ("Booked", ("booked",)),
)


@dataclass(frozen=True)
class Week:
    starts: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())  # Mondays, as Canadian calendars at work do


def weekly_counts(today: date, weeks: int = WEEKS_SHOWN) -> list[Week]:
    """Screenings submitted per week (clinic time) and outcome, oldest week first."""
    first = _week_start(today) - timedelta(weeks=weeks - 1)
    result = []
    for index in range(weeks):
        starts = first + timedelta(weeks=index)
        begin = local_midnight(starts)
        end = begin + timedelta(weeks=1)
        rows = db.session.execute(
            select(Screening.outcome, func.count())
            .where(Screening.state == "submitted", Screening.submitted_at >= begin, Screening.submitted_at < end)
            .group_by(Screening.outcome)
        ).all()
        result.append(Week(starts, {outcome: count for outcome, count in rows}))
    return result


@dataclass(frozen=True)
class FunnelStep:
    """One step of the follow-up, and how many submitted screenings reached it."""

    label: str
    count: int
    #: Every submitted screening: the first step's count, of which `percent` is this step's share.
    submitted: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / (self.submitted or 1))


def funnel_counts() -> list[FunnelStep]:
    """How many submitted screenings reached each step of the follow-up."""
    submitted = (
        db.session.scalar(select(func.count()).select_from(Screening).where(Screening.state == "submitted")) or 0
    )
    steps = [FunnelStep(FUNNEL[0][0], submitted, submitted)]
    for label, statuses in FUNNEL[1:]:
        assert statuses is not None
        ever = select(distinct(StatusChange.screening_id)).where(StatusChange.to_status.in_(statuses))
        now = select(Screening.id).where(Screening.state == "submitted", Screening.review_status.in_(statuses))
        reached = db.session.scalar(select(func.count()).select_from(ever.union(now).subquery())) or 0
        steps.append(FunnelStep(label, reached, submitted))
    return steps


def weekly_chart(weeks: list[Week]) -> charts.BarChart:
    """The weeks as stacked bars by outcome, most urgent at the bottom, each labelled day/month."""
    return charts.stacked_bar_chart(
        [(f"{week.starts.day}/{week.starts.month}", week.counts) for week in weeks], OUTCOMES
    )


@dataclass(frozen=True)
class Agreement:
    key: str
    judged: int
    agreed: int

    @property
    def percent(self) -> int:
        return round(100 * self.agreed / self.judged) if self.judged else 0


@dataclass(frozen=True)
class AgreementReport:
    by_outcome: list[Agreement]
    by_rule: list[Agreement]
    #: Screenings with a physiotherapist's outcome, and how many of those were judged blind.
    judged: int
    blind: int
    #: Of the blind ones, how many agreed with the rules.
    blind_agreed: int

    @property
    def blind_percent(self) -> int:
        return round(100 * self.blind_agreed / self.blind) if self.blind else 0


def agreement() -> AgreementReport:
    """Agreement of physiotherapists' outcomes with the rules', by rules' outcome and by rule.

    A screening counts for the rules that decided its outcome, those whose own outcome is the
    screening's: a rule that fired without deciding anything (a candidacy rule under a warning
    sign, say) is not credited when the physiotherapist agrees with the outcome it did not give.
    """
    by_outcome_judged, by_outcome_agreed = Counter[str](), Counter[str]()
    by_rule_judged, by_rule_agreed = Counter[str](), Counter[str]()
    judged = blind = blind_agreed = 0
    for outcome, clinician_outcome, reasons, judged_blind in judged_screenings():
        agreed = outcome == clinician_outcome
        judged += 1
        blind += judged_blind
        blind_agreed += judged_blind and agreed
        by_outcome_judged[outcome] += 1
        by_outcome_agreed[outcome] += agreed
        for rule_id in {reason["rule_id"] for reason in reasons or [] if reason["outcome"] == outcome}:
            by_rule_judged[rule_id] += 1
            by_rule_agreed[rule_id] += agreed
    outcomes = [Agreement(o, by_outcome_judged[o], by_outcome_agreed[o]) for o in OUTCOMES if by_outcome_judged[o]]
    by_rule = sorted(
        (Agreement(rule, by_rule_judged[rule], by_rule_agreed[rule]) for rule in by_rule_judged),
        key=lambda item: (item.percent, -item.judged, item.key),
    )
    return AgreementReport(outcomes, by_rule, judged, blind, blind_agreed)


def outcomes_chart(report: outcomes.OutcomesReport) -> charts.IntervalChart:
    """The share much or very much better, with its interval, for each screening outcome and time
    point that has an answer."""
    return charts.interval_chart(
        [
            (f"{OUTCOME_LABELS[group.key]}, {cell.week} weeks", share.estimate, share.low, share.high, share.too_few)
            for group in report.by_outcome
            for cell in group.cells
            if (share := cell.much_better) is not None
        ]
    )


@bp.get("/overview")
def overview() -> str:
    """Weekly volume by outcome, the follow-up funnel, agreement with the rules, and outcomes."""
    now = utcnow()
    today = now.astimezone(CLINIC_TIME_ZONE).date()
    weeks = weekly_counts(today)
    funnel = funnel_counts()
    agreed = agreement()
    report = outcomes.outcomes_report(current_app.config, now)
    return render_template(
        "staff/overview.html",
        weeks=weeks,
        weekly_chart=weekly_chart(weeks),
        funnel=funnel,
        funnel_chart=charts.funnel_chart([(step.label, step.count) for step in funnel]),
        agreement=agreed,
        agreement_by_outcome=agreed.by_outcome,
        agreement_by_rule=agreed.by_rule,
        outcome_labels=OUTCOME_LABELS,
        outcomes=OUTCOMES,
        outcomes_report=report,
        outcomes_chart=outcomes_chart(report),
        rule_titles={rule.id: rule.title for rule in rules.ruleset().rules},
        too_few=intervals.TOO_FEW,
    )
