"""Use-cases of the staff follow-up: status, notes, the clinician's own outcome. Each is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select

from app import audit
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE, local_date
from app.extensions import db
from app.models import (
    OUTCOMES,
    ClinicianJudgement,
    ClinicSwitch,
    Screening,
    ScreeningNote,
    StaffUser,
    StatusChange,
)
from rules.outcomes import Outcome

#: The clinic-wide switch under which physiotherapists judge before they see the rules' outcome.
BLIND_JUDGEMENT = "blind_judgement"

#: Where a screening may go from each status. Declined and referred can be reopened for review.
NEXT_STATUSES = {
    "new": ("in_review", "contacted", "booked", "declined", "referred"),
    "in_review": ("contacted", "booked", "declined", "referred"),
    "contacted": ("in_review", "booked", "declined", "referred"),
    "booked": ("contacted", "declined", "referred"),
    "declined": ("in_review",),
    "referred": ("in_review",),
}

STATUS_LABELS = {
    "new": "New",
    "in_review": "In review",
    "contacted": "Contacted",
    "booked": "Booked",
    "declined": "Declined",
    "referred": "Referred elsewhere",
}

NOTE_MAX_LENGTH = 4000

#: How far ahead an appointment may be booked. A date further out is a slip (2062 for 2026), and
#: would schedule follow-up emails for years no one reads them in.
APPOINTMENT_MAX_AHEAD = timedelta(days=366)


class AppointmentRefused(ValueError):
    """An appointment that is missing, or on a date that cannot be right: before the screening was
    sent, or over a year ahead (said beside the date, where it is entered)."""


def check_appointment(screening: Screening, appointment_at: datetime, now: datetime | None = None) -> None:
    """Refuse (AppointmentRefused, in words) an appointment on a day, in the clinic's time zone,
    before the screening was submitted (for an import, before the person answered), or more than
    APPOINTMENT_MAX_AHEAD after today. A day since, before today, is a booking recorded late and
    is kept: its follow-ups are still sent within their window."""
    day = appointment_at.astimezone(CLINIC_TIME_ZONE).date()
    if screening.submitted_at is not None and day < screening.submitted_at.astimezone(CLINIC_TIME_ZONE).date():
        sent = "the person answered the screening" if screening.imported_at else "the screening was sent"
        raise AppointmentRefused(
            f"The appointment cannot be before {sent}, on {local_date(screening.submitted_at)}: check the date."
        )
    latest = (now or utcnow()).astimezone(CLINIC_TIME_ZONE) + APPOINTMENT_MAX_AHEAD
    if day > latest.date():
        raise AppointmentRefused(
            f"The appointment is more than a year ahead (after {local_date(latest)}): check the year."
        )


def change_status(
    screening: Screening, to_status: str, author: StaffUser, appointment_at: datetime | None = None
) -> StatusChange:
    """Move a screening along the workflow; raise ValueError for a move the workflow does not allow.

    Booking needs the appointment's date and time, on a day `check_appointment` allows; it is kept
    on the screening.
    """
    if to_status not in NEXT_STATUSES.get(screening.review_status, ()):
        raise ValueError(
            f"A screening that is {STATUS_LABELS[screening.review_status].lower()} cannot become "
            f"{STATUS_LABELS.get(to_status, to_status).lower()}."
        )
    if to_status == "booked":
        if appointment_at is None:
            raise AppointmentRefused("Enter the appointment's date and time to mark the screening booked.")
        check_appointment(screening, appointment_at)
        screening.appointment_at = appointment_at
    change = StatusChange(screening=screening, author=author, from_status=screening.review_status, to_status=to_status)
    screening.review_status = to_status
    db.session.add(change)
    audit.record(
        "change_status",
        screening=screening,
        actor=author,
        from_status=change.from_status,
        to_status=to_status,
        **({"appointment_at": appointment_at.isoformat()} if appointment_at else {}),
    )
    return change


def add_note(screening: Screening, body: str, author: StaffUser) -> ScreeningNote:
    """Append a note; notes are never edited (the database refuses updates)."""
    body = body.strip()
    if not body:
        raise ValueError("Write the note before adding it.")
    if len(body) > NOTE_MAX_LENGTH:
        raise ValueError(f"A note can be at most {NOTE_MAX_LENGTH} characters.")
    note = ScreeningNote(screening=screening, author=author, body=body)
    db.session.add(note)
    audit.record("add_note", screening=screening, actor=author)
    return note


def judges_blind() -> bool:
    """Whether the clinic judges blind: each physiotherapist records their own outcome of a
    screening before the portal shows them the rules' (an admin's switch, off by default)."""
    switch = db.session.get(ClinicSwitch, BLIND_JUDGEMENT)
    return switch is not None and switch.enabled


def set_judges_blind(enabled: bool, admin: StaffUser) -> None:
    """Turn judging blind on or off for the whole clinic (audited)."""
    switch = db.session.get(ClinicSwitch, BLIND_JUDGEMENT)
    if switch is None:
        switch = ClinicSwitch(name=BLIND_JUDGEMENT)
        db.session.add(switch)
    switch.enabled, switch.changed_at, switch.changed_by_id = enabled, utcnow(), admin.id
    audit.record("change_clinic_switch", actor=admin, switch=BLIND_JUDGEMENT, enabled=enabled)


def rules_outcome_hidden(screening: Screening, physio: StaffUser, blind: bool | None = None) -> bool:
    """Whether the rules' outcome of `screening` is hidden from `physio` until they judge it.

    Only when the clinic judges blind (`blind`, read from the switch when not given), and they
    have recorded no outcome of their own for it yet. An emergency or see-a-doctor outcome is
    never hidden: safety comes before measuring agreement.
    """
    if screening.outcome is None or Outcome(screening.outcome).medical:
        return False
    if not (judges_blind() if blind is None else blind):
        return False
    return not any(judgement.author_id == physio.id for judgement in screening.judgements)


def outcomes_hidden_from(physio: StaffUser, screenings: Iterable[Screening]) -> set[int]:
    """The ids of `screenings` whose rules' outcome is hidden from `physio` (`rules_outcome_hidden`),
    with one query for a whole page of the queue."""
    if not judges_blind():
        return set()
    candidates = {
        screening.id for screening in screenings if screening.outcome and not Outcome(screening.outcome).medical
    }
    if not candidates:
        return set()
    judged = db.session.scalars(
        select(ClinicianJudgement.screening_id).where(
            ClinicianJudgement.author_id == physio.id, ClinicianJudgement.screening_id.in_(candidates)
        )
    )
    return candidates - set(judged)


def record_judgement(screening: Screening, outcome: str, reason: str, author: StaffUser) -> ClinicianJudgement:
    """Record a physiotherapist's own outcome beside the rules' outcome, which is never changed."""
    reason = reason.strip()
    if outcome not in OUTCOMES:
        raise ValueError("Choose one of the outcomes.")
    if not reason:
        raise ValueError("Give the reason for your judgement.")
    # Blind when the author could not see the rules' outcome: decided here, from the switch and
    # their earlier judgements, never from anything the browser sends.
    blind = rules_outcome_hidden(screening, author)
    judgement = ClinicianJudgement(
        screening=screening, author=author, outcome=outcome, reason=reason[:NOTE_MAX_LENGTH], blind=blind
    )
    screening.clinician_outcome = outcome
    db.session.add(judgement)
    audit.record(
        "record_judgement",
        screening=screening,
        actor=author,
        outcome=outcome,
        rules_outcome=screening.outcome,
        blind=blind,
    )
    return judgement
