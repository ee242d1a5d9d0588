"""The follow-ups after treatment as CSV (issue 18): one row per follow-up, with its screening's
reference, for the screenings the queue shows for the same filters (audited).

A file of its own rather than more columns of the screenings' CSV: a screening has up to one
follow-up per time point, each with a dozen answers and up to three activities, so widening the
screenings' rows would give every screening some forty mostly empty columns and tie their
number to the configured time points; one row per follow-up is what an analysis reads (long
format), joined to the screenings' CSV on `reference` when needed. It streams like the
screenings' CSV (app/staff/admin/exports.py), formula-safe and quoted the same way.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from flask import Response, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import ScalarSelect, Select, select

from app import heartbeat, measures
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE
from app.extensions import db
from app.models import FollowUp, FollowUpActivity, FollowUpActivityScore, FollowUpBaseline, Screening
from app.staff import queries
from app.staff.admin import bp
from app.staff.admin.exports import (
    EXPORT_BATCH,
    UTF8_BOM,
    _audited_export_filter,
    _chunks,
    _memoised_safe_cell,
    _utc_iso,
)
from app.staff.trajectory import status_of

#: The columns of the follow-ups' CSV. Answers are filled only once the person sent them;
#: `response` is what became of the invitation (app/staff/trajectory.py RESPONSE_LABELS);
#: `baseline_*` are the screening's own answers to the same pain questions.
FOLLOW_UP_COLUMNS = (
    "reference",
    "outcome",
    "ruleset_version",
    "appointment_at",
    "week",
    "due_at",
    "sent_at",
    "response",
    "answered_at",
    "language",
    "baseline_current_pain",
    "current_pain",
    "baseline_average_pain",
    "average_pain",
    "pgic",
    "pgic_label",
    "much_better",
    "had_ims",
    "ims_sessions",
    *itertools.chain.from_iterable(
        (f"activity_{n}", f"activity_{n}_score") for n in range(1, measures.PSFS_MAX_ACTIVITIES + 1)
    ),
)


def _activity_name(position: int) -> ScalarSelect[Any]:
    return (
        select(FollowUpActivity.name)
        .where(FollowUpActivity.screening_id == Screening.id, FollowUpActivity.position == position)
        .scalar_subquery()
    )


def _activity_score(position: int) -> ScalarSelect[Any]:
    return (
        select(FollowUpActivityScore.score)
        .join(FollowUpActivity, FollowUpActivity.id == FollowUpActivityScore.activity_id)
        .where(FollowUpActivityScore.follow_up_id == FollowUp.id, FollowUpActivity.position == position)
        .scalar_subquery()
    )


def follow_up_rows(query_filter: queries.QueueFilter) -> Select[Any]:
    """The follow-ups of the screenings `query_filter` matches, in the queue's order and then by
    time point: each with its screening's reference, result, appointment and baseline."""
    positions = range(1, measures.PSFS_MAX_ACTIVITIES + 1)
    return (
        queries.filtered(query_filter)
        .join(FollowUp, FollowUp.screening_id == Screening.id)
        .outerjoin(FollowUpBaseline, FollowUpBaseline.screening_id == Screening.id)
        .with_only_columns(
            Screening.reference,
            Screening.outcome,
            Screening.ruleset_version,
            Screening.appointment_at,
            Screening.follow_ups_stopped_at,
            FollowUp.week,
            FollowUp.due_at,
            FollowUp.sent_at,
            FollowUp.token_expires_at,
            FollowUp.started_at,
            FollowUp.answered_at,
            FollowUp.language,
            FollowUpBaseline.current_pain,
            FollowUp.current_pain,
            FollowUpBaseline.average_pain,
            FollowUp.average_pain,
            FollowUp.pgic,
            FollowUp.had_ims,
            FollowUp.ims_sessions,
            *itertools.chain.from_iterable((_activity_name(n), _activity_score(n)) for n in positions),
        )
        .order_by(FollowUp.week)
        .execution_options(yield_per=EXPORT_BATCH)
    )


def _cells(row: Sequence[Any], now: datetime) -> list[object]:
    """One follow-up's cells, in FOLLOW_UP_COLUMNS' order."""
    (
        reference,
        outcome,
        ruleset_version,
        appointment_at,
        stopped_at,
        week,
        due_at,
        sent_at,
        expires_at,
        started_at,
        answered_at,
        language,
        baseline_now,
        current_pain,
        baseline_average,
        average_pain,
        pgic,
        had_ims,
        ims_sessions,
        *activities,
    ) = row
    response = status_of(
        answered_at=answered_at,
        sent_at=sent_at,
        token_expires_at=expires_at,
        started_at=started_at,
        stopped_at=stopped_at,
        now=now,
    )
    answered = response == "answered"
    # Answers saved page by page, but never sent, are not answers yet; nor are their scores.
    if not answered:
        current_pain = average_pain = pgic = had_ims = ims_sessions = language = None
        activities = [name if index % 2 == 0 else None for index, name in enumerate(activities)]
    return [
        reference,
        outcome,
        ruleset_version,
        _utc_iso(appointment_at),
        week,
        _utc_iso(due_at),
        _utc_iso(sent_at),
        response,
        _utc_iso(answered_at),
        language,
        baseline_now,
        current_pain,
        baseline_average,
        average_pain,
        pgic,
        measures.pgic_label(pgic),
        ("yes" if measures.much_better(pgic) else "no") if answered else None,
        had_ims,
        ims_sessions,
        *activities,
    ]


def follow_up_lines(rows: Iterable[Sequence[Any]], now: datetime) -> Iterator[str]:
    """The header, then one CSV line per follow-up (RFC 4180, every field quoted, formula-safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    safe = _memoised_safe_cell()

    def line(cells: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(map(safe, cells))
        return buffer.getvalue()

    yield line(FOLLOW_UP_COLUMNS)
    for row in rows:
        yield line(_cells(row, now))


@bp.get("/export-follow-ups.csv")
def export_follow_ups_csv() -> ResponseReturnValue:
    """The follow-ups of the screenings the queue shows for the same filters, streamed as CSV (audited)."""
    query_filter = _audited_export_filter("export_follow_ups_csv")
    if isinstance(query_filter, Response):
        return query_filter
    query = follow_up_rows(query_filter)
    now = utcnow()

    def generate() -> Iterator[str]:
        result = db.session.execute(query)
        try:
            yield from heartbeat.beating(_chunks(itertools.chain([UTF8_BOM], follow_up_lines(result, now))))
        finally:
            result.close()

    today = now.astimezone(CLINIC_TIME_ZONE).date().isoformat()
    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="ims-follow-ups-{today}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
