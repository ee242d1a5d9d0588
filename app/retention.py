"""Retention: what `flask purge` deletes, and when (expired drafts, old screenings that never led
to a booking). Shared by the command line and the tests; the caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.clock import utcnow
from app.extensions import db
from app.models import Screening


def purge_old_screenings(retention_days: int, now: datetime | None = None, dry_run: bool = False) -> list[str]:
    """Delete submitted screenings older than the retention period that never led to a booking.

    BC PIPA s.35: information used to make a decision about a person is kept at least one year
    after the decision, then destroyed. A booked screening has become part of the clinical record
    and follows the clinic's record-keeping rules instead, so it is never purged here.
    The period runs from when the clinic received the answers: for an imported screening, from its
    import, however long before the person answered (its `submitted_at`); the decision it serves
    comes after the import.
    Returns the references deleted (or that would be).
    """
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    received_before_cutoff = (Screening.submitted_at < cutoff) & (
        Screening.imported_at.is_(None) | (Screening.imported_at < cutoff)
    )
    old = (Screening.state == "submitted") & received_before_cutoff & (Screening.review_status != "booked")
    references = list(db.session.scalars(select(Screening.reference).where(old).order_by(Screening.id)))
    if not dry_run:
        for screening in db.session.scalars(select(Screening).where(old)):
            db.session.delete(screening)  # cascades to notes, workflow, judgements, contact details
    return references


def purge_expired_drafts(now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete drafts past their expiry; return how many there were. Submitted screenings stay."""
    expired = (Screening.state == "draft") & (Screening.expires_at <= (now or utcnow()))
    if dry_run:
        return len(db.session.scalars(select(Screening.id).where(expired)).all())
    return db.session.execute(delete(Screening).where(expired)).rowcount  # type: ignore[attr-defined]
