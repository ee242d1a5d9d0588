"""Finding screenings for the staff: the triage queue's filters, order and counts.

One definition serves the queue page and the exports, so an export always holds exactly what
the queue showed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app import crypto
from app.display import local_midnight
from app.extensions import db
from app.models import AssessmentRequest, Screening, ScreeningTally
from app.staff import keyset
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
    """How many submitted screenings there are for each outcome and review status."""

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
    """The submitted screenings counted by outcome and review status.

    Read from `screening_tally`, a few dozen rows that triggers keep exact in the transaction of
    every change to a screening (migration 0011), rather than counted: a GROUP BY over a million
    screenings took 119 ms on every view of the queue.
    """
    rows = db.session.execute(
        select(ScreeningTally.outcome, ScreeningTally.review_status, ScreeningTally.screenings).where(
            ScreeningTally.screenings != 0
        )
    ).all()
    return Tally({(outcome, status): count for outcome, status, count in rows})


def counted_afresh() -> Tally:
    """The same counts, counted from the screenings themselves (to check `tally`, not for pages)."""
    rows = db.session.execute(
        select(Screening.outcome, Screening.review_status, func.count())
        .where(Screening.state == "submitted")
        .group_by(Screening.outcome, Screening.review_status)
    ).all()
    return Tally({(outcome, status): count for outcome, status, count in rows})


#: The queue's order, most urgent first and oldest first within an outcome, as a keyset: the
#: columns of `ix_screening_queue` (and `ix_screening_review`) after their equality columns.
QUEUE_ORDER: keyset.Keyset[Screening] = keyset.Keyset(
    "queue",
    ((Screening.outcome_rank, int), (Screening.submitted_at, datetime), (Screening.id, int)),
    lambda screening: (screening.outcome_rank or 0, screening.submitted_at or datetime.min, screening.id),
)


def page_of(
    query_filter: QueueFilter, wanted: keyset.PageRequest, per_page: int, counted: Tally | None = None
) -> tuple[keyset.Page[Screening], int]:
    """One page of the queue (a keyset page: as quick at the end as at the start) and the number
    of matching screenings.

    The number comes from `counted` when it can tell, else from a count of the filtered query
    (a filter on dates, a reference, a location or a name narrows what is counted).
    """
    query = filtered(query_filter)
    total = counted.matching(query_filter) if counted is not None else None
    if total is None:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page_query = query.options(selectinload(Screening.assessment_request))  # one query, not one per row
    pinned = 1 if query_filter.outcome else 0  # the outcome rank is then one value
    return QUEUE_ORDER.page(page_query, wanted, per_page, pinned), total
