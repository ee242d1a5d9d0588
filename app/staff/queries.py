"""Finding screenings for the staff: the triage queue's filters, order and counts.

One definition serves the queue page and the exports, so an export always holds exactly what
the queue showed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app import crypto
from app.display import local_midnight
from app.extensions import db
from app.models import AssessmentRequest, Screening
from rules import Outcome


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows; every field None means "any"."""

    outcome: str | None = None
    review_status: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    #: A reference code, in full or in part ("IMS-7K" finds IMS-7KQ2XW9D).
    reference: str | None = None
    #: The preferred location of an assessment request.
    location: str | None = None
    #: A patient's full name as given in their assessment request (exact, any case).
    name: str | None = None


def filtered(query_filter: QueueFilter) -> Select[tuple[Screening]]:
    """Submitted screenings matching the filter, most urgent first, oldest first within an outcome."""
    query = select(Screening).where(Screening.state == "submitted")
    if query_filter.outcome:
        query = query.where(Screening.outcome_rank == Outcome(query_filter.outcome).rank)
    if query_filter.review_status:
        query = query.where(Screening.review_status == query_filter.review_status)
    if query_filter.submitted_from:
        query = query.where(Screening.submitted_at >= local_midnight(query_filter.submitted_from))
    if query_filter.submitted_to and query_filter.submitted_to < date.max:  # nothing is after date.max
        query = query.where(Screening.submitted_at < local_midnight(query_filter.submitted_to + timedelta(days=1)))
    if query_filter.location or query_filter.name:
        query = query.join(AssessmentRequest)
    if query_filter.location:
        query = query.where(AssessmentRequest.preferred_location == query_filter.location)
    if query_filter.name:
        # Names are encrypted; their keyed hash allows an exact (case-insensitive) match only.
        query = query.where(AssessmentRequest.name_search_hash == crypto.search_hash(query_filter.name))
    if query_filter.reference:
        code = query_filter.reference.strip().upper()
        query = query.where(
            Screening.reference.startswith(code if code.startswith("IMS-") else "IMS-" + code, autoescape=True)
        )
    return query.order_by(Screening.outcome_rank, Screening.submitted_at, Screening.id)


@dataclass(frozen=True)
class Tally:
    """How many submitted screenings there are for each outcome and review status.

    One grouped count, an index-only scan of `ix_screening_tally`, gives the queue its counts by
    outcome and by status and, when the filter is on those alone, the number of matches: at
    100,000 screenings that is one pass instead of three.
    """

    #: (outcome, review status) -> how many.
    cells: Mapping[tuple[str, str], int]

    def by(self, column: str) -> dict[str, int]:
        """Per outcome (`column` "outcome") or per review status ("review_status")."""
        position = ("outcome", "review_status").index(column)
        found: dict[str, int] = {}
        for cell, count in self.cells.items():
            found[cell[position]] = found.get(cell[position], 0) + count
        return found

    def matching(self, query_filter: QueueFilter) -> int | None:
        """How many screenings `query_filter` matches, if it filters on outcome and status only."""
        if {name for name, value in dataclasses.asdict(query_filter).items() if value} - {"outcome", "review_status"}:
            return None
        return sum(
            count
            for (outcome, status), count in self.cells.items()
            if query_filter.outcome in (None, outcome) and query_filter.review_status in (None, status)
        )


def tally() -> Tally:
    """The submitted screenings counted by outcome and review status."""
    rows = db.session.execute(
        select(Screening.outcome, Screening.review_status, func.count())
        .where(Screening.state == "submitted")
        .group_by(Screening.outcome, Screening.review_status)
    ).all()
    return Tally({(outcome, status): count for outcome, status, count in rows})


def page_of(
    query_filter: QueueFilter, page: int, per_page: int, counted: Tally | None = None
) -> tuple[list[Screening], int]:
    """One page of the queue and the number of matching screenings (LIMIT/OFFSET on an index).

    The number comes from `counted` when it can tell, else from a count of the filtered query.
    """
    query = filtered(query_filter)
    total = counted.matching(query_filter) if counted is not None else None
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page_query = query.options(selectinload(Screening.assessment_request))  # one query, not one per row
    rows = db.session.scalars(page_query.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total
