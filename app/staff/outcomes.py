"""The Overview's outcomes after treatment (issue 18): whether the screening predicts who IMS helps.

For each screening outcome (likely, possible, clinician review, and any other with follow-ups) and
for each rule that fired (`Screening.reasons`), at each time point (weeks after the first
appointment, app/measures.py):

- the response: follow-ups answered of those whose email went out, and the response rate over the
  ones that can no longer be answered (answered, expired, or stopped by the person), since a link
  still open may yet be answered;
- the share "much or very much better" (PGIC 1-2, `measures.PGIC_MUCH_BETTER`) of those answered;
- the mean change in average pain over the past week (0-10) from the screening's own answer to the
  same question (its `follow_up_baseline`), negative when the pain eased;

each with its 95% confidence interval (app/intervals.py) and its count, flagged when it rests on
fewer than `intervals.TOO_FEW` people, and with the rule-set versions the group was screened with.

The database adds everything up: a GROUP BY over the follow-ups joined to what their screenings
said (`FollowUpBaseline` and `FollowUpBaselineRule`, narrow copies a trigger writes with the first
follow-up: joining the screening table itself, and parsing its JSON, cost 19 s of database CPU at
a million screenings with 300,000 follow-ups, against 0.7 s), returning a row per group, time point
and rule-set version; only those few rows reach Python, which merges the versions (counts and sums
add up) and works out the intervals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.sql import Select

from app import intervals, measures
from app.extensions import db
from app.models import OUTCOMES, FollowUp, FollowUpBaseline, FollowUpBaselineRule, Screening

#: The screening outcomes always shown, in this order; any other outcome follows once it has
#: follow-ups (a clinic may book a patient the rules called unlikely).
MAIN_OUTCOMES = ("likely", "possible", "clinician_review")
OUTCOME_ORDER = (*MAIN_OUTCOMES, *(outcome for outcome in reversed(OUTCOMES) if outcome not in MAIN_OUTCOMES))


@dataclass(frozen=True)
class Sums:
    """What the database counts and adds up for one group at one time point. They add up across
    rule-set versions, so the groups' rows are merged with `+`."""

    #: Follow-ups whose email went out.
    invited: int = 0
    #: Of those, not answered and still answerable (link open, follow-ups not stopped).
    still_open: int = 0
    answered: int = 0
    #: Answered "much better" or "very much better".
    much_better: int = 0
    #: Answered with a baseline to compare against: how many, and the sum of the changes in
    #: average pain and of their squares (for the mean and its interval).
    pain_n: int = 0
    pain_sum: int = 0
    pain_squares: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.invited,
            self.still_open,
            self.answered,
            self.much_better,
            self.pain_n,
            self.pain_sum,
            self.pain_squares,
        )


@dataclass(frozen=True)
class Cell:
    """One group at one time point: its counts and the three estimates with their intervals."""

    week: int
    sums: Sums = field(default_factory=Sums)

    @property
    def settled(self) -> int:
        """Invited follow-ups that can no longer be answered: the response rate's denominator."""
        return self.sums.invited - self.sums.still_open

    @property
    def response(self) -> intervals.Interval | None:
        """Answered of the settled invitations, with its Wilson interval."""
        return intervals.wilson(self.sums.answered, self.settled)

    @property
    def much_better(self) -> intervals.Interval | None:
        """The share of answers "much or very much better", with its Wilson interval."""
        return intervals.wilson(self.sums.much_better, self.sums.answered)

    @property
    def pain_change(self) -> intervals.Interval | None:
        """The mean change in average pain from the screening, with its t interval."""
        return intervals.mean_interval(self.sums.pain_n, self.sums.pain_sum, self.sums.pain_squares)


@dataclass(frozen=True)
class Group:
    """A screening outcome, or a rule, with one cell per time point."""

    key: str
    #: The rule-set versions its follow-ups' screenings were judged with, oldest first by name.
    versions: tuple[str, ...]
    cells: tuple[Cell, ...]

    @property
    def invited(self) -> int:
        return sum(cell.sums.invited for cell in self.cells)


@dataclass(frozen=True)
class OutcomesReport:
    """The outcomes section: the time points, and the groups by outcome and by rule."""

    weeks: tuple[int, ...]
    by_outcome: tuple[Group, ...]
    by_rule: tuple[Group, ...]

    @property
    def invited(self) -> int:
        return sum(group.invited for group in self.by_outcome)

    @property
    def answered(self) -> int:
        return sum(cell.sums.answered for group in self.by_outcome for cell in group.cells)


def _sums(now: datetime) -> tuple[ColumnElement[Any], ...]:
    """The aggregates of `Sums`, in its order, over follow-ups whose email went out (`_invited`)."""
    answered = FollowUp.answered_at.is_not(None)
    change = case((answered, FollowUp.average_pain - FollowUpBaseline.average_pain))
    # A link still open, unless its person stopped follow-ups: the stopped screenings are read once
    # from their partial index (ix_screening_follow_ups_stopped, a few rows), never row by row.
    stopped = select(Screening.id).where(Screening.follow_ups_stopped_at.is_not(None))
    still_open = and_(
        FollowUp.answered_at.is_(None), FollowUp.token_expires_at > now, FollowUp.screening_id.not_in(stopped)
    )
    much_better = and_(answered, FollowUp.pgic.in_(sorted(measures.PGIC_MUCH_BETTER)))
    return (
        func.count(),
        func.coalesce(func.sum(case((still_open, 1), else_=0)), 0),
        func.count(FollowUp.answered_at),
        func.coalesce(func.sum(case((much_better, 1), else_=0)), 0),
        func.count(change),
        func.coalesce(func.sum(change), 0),
        func.coalesce(func.sum(change * change), 0),
    )


def _invited(query: Select[Any]) -> Select[Any]:
    """Over every follow-up whose email went out, with its screening's baseline."""
    return (
        query.select_from(FollowUp)
        .join(FollowUpBaseline, FollowUpBaseline.screening_id == FollowUp.screening_id)
        .where(FollowUp.sent_at.is_not(None))
    )


def _groups(
    rows: Iterable[Sequence[Any]], weeks: Sequence[int], order: Sequence[str] | None = None
) -> tuple[Group, ...]:
    """(key, week, version, *sums) rows merged into groups: in `order` (every key of it, even one
    without rows) and then any other key by name; or, without an order, every key by name."""
    sums: dict[tuple[str, int], Sums] = {}
    versions: dict[str, set[str]] = {}
    for key, week, version, *values in rows:
        if key is None:  # no outcome or rule id: never stored for a submitted screening
            continue
        sums[key, week] = sums.get((key, week), Sums()) + Sums(*(int(value) for value in values))
        versions.setdefault(key, set()).add(version or "unknown")
    keys = list(order or ())
    keys += sorted(key for key in versions if key not in keys)
    return tuple(
        Group(
            key,
            tuple(sorted(versions.get(key, ()))),
            tuple(Cell(week, sums.get((key, week), Sums())) for week in weeks),
        )
        for key in keys
    )


def outcomes_report(config: Mapping[str, Any], now: datetime) -> OutcomesReport:
    """The outcomes by screening outcome and by rule fired, at each time point (the configured
    ones, and any other a follow-up was sent at), from two aggregate queries over the follow-ups
    and their screenings' baselines."""
    baseline = FollowUpBaseline
    by_outcome_rows = db.session.execute(
        _invited(select(baseline.outcome, FollowUp.week, baseline.ruleset_version, *_sums(now))).group_by(
            baseline.outcome, FollowUp.week, baseline.ruleset_version
        )
    ).all()
    rule = FollowUpBaselineRule
    by_rule_rows = db.session.execute(
        _invited(select(rule.rule_id, FollowUp.week, baseline.ruleset_version, *_sums(now)))
        .join(rule, rule.screening_id == FollowUp.screening_id)
        .group_by(rule.rule_id, FollowUp.week, baseline.ruleset_version)
    ).all()
    weeks = tuple(sorted(set(measures.follow_up_weeks(config)) | {row[1] for row in by_outcome_rows}))
    ordered = {outcome: index for index, outcome in enumerate(OUTCOME_ORDER)}
    outcomes = _groups(by_outcome_rows, weeks, MAIN_OUTCOMES)
    return OutcomesReport(
        weeks=weeks,
        by_outcome=tuple(sorted(outcomes, key=lambda group: ordered.get(group.key, len(ordered)))),
        by_rule=_groups(by_rule_rows, weeks),
    )
