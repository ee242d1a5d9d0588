"""Database models (typed SQLAlchemy 2.0). They hold data only: no commits, I/O or Flask."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.ext.mutable import MutableDict, MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from app import measures
from app.clock import utcnow
from app.crypto import EncryptedText
from app.extensions import Base
from app.i18n import N_
from rules.engine import Result
from rules.outcomes import CANDIDACY_OUTCOMES, Outcome

#: Every screening outcome, most urgent first: the rules' vocabulary, used unchanged by the
#: database, the staff portal, exports and the CLI.
OUTCOMES = tuple(outcome.value for outcome in Outcome)

#: How well IMS fits, before any precaution turns the outcome into `clinician_review`.
CANDIDACIES = tuple(outcome.value for outcome in CANDIDACY_OUTCOMES)

STATES = ("draft", "submitted")

#: The columns of a screening that hold the rules' result, each named as in `Result.to_dict`.
RESULT_COLUMNS = ("outcome", "candidacy", "reasons", "indicators", "ruleset_version")

#: The staff follow-up workflow of a submitted screening: new -> in review -> contacted ->
#: booked, or declined / referred elsewhere at any point.
REVIEW_STATUSES = ("new", "in_review", "contacted", "booked", "declined", "referred")

ROLES = ("physio", "admin")

#: When a person asking for an assessment is usually free, in words (AssessmentRequest.preferred_times):
#: English, as staff read them; marked for the catalogue, as the request form shows them translated.
PREFERRED_TIMES = {
    "weekday_morning": N_("Weekday mornings"),
    "weekday_afternoon": N_("Weekday afternoons"),
    "weekday_evening": N_("Weekday evenings"),
    "saturday": N_("Saturdays"),
    "any": N_("Any time"),
}

#: Letters and digits that cannot be mistaken for one another when read out over the phone or
#: copied by hand: no 0/O, 1/I/L, and no U (fewer accidental words).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "IMS-"
REFERENCE_LENGTH = 8


def new_reference() -> str:
    """A fresh reference such as "IMS-7KQ2XW9D" (about 39 bits, from a CSPRNG).

    It is a label for people, not a secret: a resume token, not this, grants access. The unique
    constraint is what guarantees uniqueness; a clash is rare enough to surface as an error.
    """
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return REFERENCE_PREFIX + code


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps the zone, but SQLite stores text without it and returns naive datetimes,
    which cannot be compared with aware ones. Naive input is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"Refusing to store naive datetime {value!r}; use utcnow().")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for "column is one of values", for CHECK constraints built from the constants above."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Screening(Base):
    """One person's screening questionnaire: a server-side draft, then a submitted snapshot.

    A draft is created at consent and is found again through its resume token. Submitting
    stores the rules' result as it was at that moment, so later rule changes never rewrite
    what the patient was told.
    """

    __tablename__ = "screening"
    __table_args__ = (
        CheckConstraint(_one_of("state", STATES), name="state"),
        CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(_one_of("candidacy", CANDIDACIES), name="candidacy"),
        CheckConstraint(
            "state <> 'submitted' OR (outcome IS NOT NULL AND reasons IS NOT NULL"
            " AND indicators IS NOT NULL AND ruleset_version IS NOT NULL"
            " AND submitted_at IS NOT NULL)",
            name="submitted_has_result",
        ),
        CheckConstraint(_one_of("review_status", REVIEW_STATUSES), name="review_status"),
        CheckConstraint(_one_of("clinician_outcome", OUTCOMES), name="clinician_outcome"),
        Index("ix_screening_triage", "state", "outcome", "submitted_at"),
        # The staff queue's keyset pages (staff.queries.page_of): each index is in the queue's order
        # and ends in the id, so any page, the last as much as the first, is one index range scan.
        Index("ix_screening_queue", "state", "outcome_rank", "submitted_at", "id"),
        # The same, for the queue filtered by review status.
        Index("ix_screening_review", "state", "review_status", "outcome_rank", "submitted_at", "id"),
        Index("uq_screening_imported_from", "imported_from", unique=True),
        # The few screenings whose person stopped follow-ups, for the Overview's outcomes (migration 0016).
        Index(
            "ix_screening_follow_ups_stopped",
            "id",
            postgresql_where=text("follow_ups_stopped_at IS NOT NULL"),
            sqlite_where=text("follow_ups_stopped_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code shown to the patient and staff, e.g. when the patient phones the clinic.
    reference: Mapped[str] = mapped_column(String(12), unique=True, default=new_reference)
    #: SHA-256 hex digest of the resume token. The token itself is never stored, so a copy of
    #: the database cannot be used to open anyone's screening.
    resume_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    #: Question id -> answer. MutableDict makes in-place updates (merging a step) persist.
    answers: Mapped[dict[str, Any]] = mapped_column(MutableDict.as_mutable(JSON), default=dict)
    #: The language (a tag of app.i18n.LANGUAGES) the screening was last worked on in: its resume
    #: link opens in it, and the emails to the patient are written in it.
    language: Mapped[str] = mapped_column(String(16), default="en-CA", server_default="en-CA")
    #: Question id -> the language its answer was given in (staff read "answered in Punjabi").
    answer_languages: Mapped[dict[str, str]] = mapped_column(
        MutableDict.as_mutable(JSON), default=dict, server_default="{}"
    )
    #: One of OUTCOMES; set on submit.
    outcome: Mapped[str | None] = mapped_column(String(20))
    #: The candidacy behind the outcome, kept for staff when a precaution or red flag overrides it.
    candidacy: Mapped[str | None] = mapped_column(String(20))
    # none_as_null: None is stored as SQL NULL, not as JSON 'null', which the CHECK on submitted
    # screenings would count as present.
    #: The rules that fired, with the texts shown at the time (rule id, outcome, patient text,
    #: staff rationale, sources).
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    #: Candidacy indicators as the rules evaluated them.
    indicators: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: Version of the rule set that produced the outcome.
    ruleset_version: Mapped[str | None] = mapped_column(String(80))
    #: When the person gave express consent to keep their answers for the clinic to review.
    #: Nothing is stored before it (a screening is created at consent).
    consented_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When an unsubmitted draft may be purged.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: Outcome.rank of `outcome` (0 = emergency): the triage queue sorts on it with an index,
    #: which an expression over `outcome` could not use.
    outcome_rank: Mapped[int | None] = mapped_column(Integer)
    #: Where the staff follow-up stands (REVIEW_STATUSES); the timeline is in StatusChange.
    review_status: Mapped[str] = mapped_column(String(16), default="new")
    #: The latest physiotherapist's own outcome, beside (never instead of) the rules' `outcome`;
    #: the history is in ClinicianJudgement.
    clinician_outcome: Mapped[str | None] = mapped_column(String(20))
    #: When the assessment is booked for (set when staff mark the screening booked).
    appointment_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When the person said the answer that made this an emergency was chosen by mistake. The
    #: screening stays as it was sent (the clinic was told of it), and the person carries on in a
    #: new draft that `continues` it with the other answers.
    emergency_withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When staff filed it from another tool's FHIR QuestionnaireResponse (app/fhir_import.py), judged
    #: by the rules then; None for a screening answered on the patient pages. An imported result
    #: was never shown to the person by IMS Screen.
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The imported response's own identifier ("system|value"), so that the same response is never
    #: filed twice (a unique index; None when it had none, or was answered here).
    imported_from: Mapped[str | None] = mapped_column(String(400))
    #: An imported response's own `authored` date, as read ("2026-11-20", or a time with its offset,
    #: "2026-11-20T09:15:00-08:00"): `submitted_at` is then when the person answered, not
    #: `imported_at`. None when the file gave no date (`submitted_at` is the import), or for a
    #: screening answered here.
    imported_authored: Mapped[str | None] = mapped_column(String(40))
    #: The screening this one carries on from, after its emergency answer was withdrawn.
    continues_id: Mapped[int | None] = mapped_column(ForeignKey("screening.id", ondelete="SET NULL"), index=True)
    continues: Mapped[Screening | None] = relationship(
        remote_side=[id], foreign_keys=[continues_id], back_populates="continued_in"
    )
    #: The draft (later the screening) the person carried on in after withdrawing an emergency answer.
    continued_in: Mapped[list[Screening]] = relationship(back_populates="continues", foreign_keys=[continues_id])
    #: When the person stopped the follow-ups after treatment (the stop link of a follow-up email):
    #: no follow-up is sent or opened after it. Consent to them is on the assessment request
    #: (`AssessmentRequest.follow_up_consent_at`).
    follow_ups_stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    assessment_request: Mapped[AssessmentRequest | None] = relationship(
        back_populates="screening", cascade="all, delete-orphan", uselist=False
    )

    notes: Mapped[list[ScreeningNote]] = relationship(
        back_populates="screening", order_by="ScreeningNote.created_at", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="screening", order_by="StatusChange.changed_at", cascade="all, delete-orphan"
    )
    judgements: Mapped[list[ClinicianJudgement]] = relationship(
        back_populates="screening", order_by="ClinicianJudgement.recorded_at", cascade="all, delete-orphan"
    )
    #: A question page refused since it was last shown, until its page shows it (`RefusedPage`).
    refused_page: Mapped[RefusedPage | None] = relationship(cascade="all, delete-orphan", uselist=False)
    #: The follow-ups after treatment, one per time point, earliest first: part of the screening,
    #: deleted with it (a purge, a privacy request).
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="screening", order_by="FollowUp.week", cascade="all, delete-orphan", passive_deletes=True
    )
    #: The everyday activities the person named for the Patient-Specific Functional Scale, in order.
    follow_up_activities: Mapped[list[FollowUpActivity]] = relationship(
        back_populates="screening",
        order_by="FollowUpActivity.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @staticmethod
    def result_columns(result: Result) -> dict[str, Any]:
        """The column values that store `result` (read back by `stored_result`)."""
        stored = result.to_dict()
        return {name: stored[name] for name in RESULT_COLUMNS} | {"outcome_rank": result.outcome.rank}

    @property
    def authored_day(self) -> date | None:
        """The day an imported file dates the answers by, when it gives no time (else None): the
        day shown, as `submitted_at` is that day's start in the clinic's zone, or the import if sooner."""
        if self.imported_authored is None or "T" in self.imported_authored:
            return None
        return date.fromisoformat(self.imported_authored)

    def stored_result(self) -> Result:
        """The result stored at submission, as the rules returned it then, whatever the rules say now."""
        if self.state != "submitted":
            raise ValueError(f"{self!r} has no result yet")
        return Result.from_dict({name: getattr(self, name) for name in RESULT_COLUMNS})

    def __repr__(self) -> str:
        # Never the answers: reprs end up in logs, and answers are health data.
        return f"<Screening {self.reference} {self.state}>"


class RefusedPage(Base):
    """What a question page posted and why it was refused, kept until that page is next shown.

    A refused post redirects to the page (POST-redirect-GET, as a saved one does), which shows
    this once, so the browser's Back button never offers to send the form again. At most one per
    draft, replaced by the next refusal. The answers are health data: encrypted like contact
    details, and never in the cookie, the URL or a log.
    """

    __tablename__ = "refused_page"

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), unique=True)
    section_id: Mapped[str] = mapped_column(String(64))
    #: JSON: {"fields": [[name, value], ...] as posted, "errors": {field name: [messages]}}.
    content: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RefusedPage {self.section_id}>"  # never the answers


class StaffUser(UserMixin, Base):
    """A physiotherapist or clinic admin who signs in to the staff portal."""

    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored as `auth.normalise_email` gives it, so sign-in ignores case, white space and control characters.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default="physio")
    #: argon2id hash (with its parameters) of the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Base32 TOTP secret once enrolment is confirmed; None before. Encrypted at rest like the
    #: contact details: with a copy of the database alone, nobody can make the account's codes.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    #: The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: SHA-256 digests of the unused one-time recovery codes.
    recovery_code_hashes: Mapped[list[str]] = mapped_column(MutableList.as_mutable(JSON), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Part of the session's user id: raising it ends every session of this account at once
    #: (sign-out, password change, disabling), although the session cookie lives in the browser.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        """The session's user id: the account and its session version (see `session_version`)."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role}>"


class ScreeningNote(Base):
    """A staff note on a screening. Notes are never edited: a correction is a new note."""

    __tablename__ = "screening_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)

    screening: Mapped[Screening] = relationship(back_populates="notes")
    author: Mapped[StaffUser] = relationship()


class StatusChange(Base):
    """One step of a screening's follow-up workflow: who moved it, from what, to what, when."""

    __tablename__ = "status_change"
    __table_args__ = (
        CheckConstraint(_one_of("from_status", REVIEW_STATUSES), name="from_status"),
        CheckConstraint(_one_of("to_status", REVIEW_STATUSES), name="to_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))

    screening: Mapped[Screening] = relationship(back_populates="status_changes")
    author: Mapped[StaffUser] = relationship()


class ClinicianJudgement(Base):
    """A physiotherapist's own outcome for a screening, with their reason, beside the rules' outcome."""

    __tablename__ = "clinician_judgement"
    __table_args__ = (CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    #: Recorded before its author could see the rules' outcome (the clinic judges blind, and the
    #: outcome was neither emergency nor see_doctor, which are never hidden). Only these measure
    #: agreement without the rules' answer in view.
    blind: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    screening: Mapped[Screening] = relationship(back_populates="judgements")
    author: Mapped[StaffUser] = relationship()


#: The clinic-wide switches an admin can turn on or off, by name, with what each does.
CLINIC_SWITCHES = {
    "blind_judgement": "Physiotherapists record their own outcome before they see the rules'",
}


class ClinicSwitch(Base):
    """A clinic-wide setting an admin turns on or off in the portal (each change is audited).

    A switch with no row is off.
    """

    __tablename__ = "clinic_switch"
    __table_args__ = (CheckConstraint(_one_of("name", tuple(CLINIC_SWITCHES)), name="name"),)

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))


class AuditEvent(Base):
    """One staff action or sign-in attempt. Append-only: database triggers refuse UPDATE and DELETE.

    It names screenings by id and reference without a foreign key, so deleting a screening on a
    patient's request leaves the record that it was accessed (and deleted).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        # The audit trail's keyset pages, newest first (staff.admin.audit_trail): in its order, ending in the id.
        Index("ix_audit_event_at_id", "at", "id"),
        Index("ix_audit_event_action_at_id", "action", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The signed-in staff member, if any (None for a failed sign-in).
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: The email typed or used, kept as evidence of who tried; never a password.
    actor_email: Mapped[str | None] = mapped_column(String(254))
    #: What happened, e.g. "sign_in", "sign_in_failed", "view_screening", "export_csv".
    action: Mapped[str] = mapped_column(String(40), index=True)
    screening_id: Mapped[int | None] = mapped_column(Integer, index=True)
    screening_reference: Mapped[str | None] = mapped_column(String(12))
    #: The client address, as seen behind the configured proxies.
    ip_address: Mapped[str | None] = mapped_column(String(45))
    #: Non-health facts about the action: a new status, an export's filters, a row count.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ScreeningTally(Base):
    """How many submitted screenings there are for one outcome and review status.

    Kept exact by database triggers on `screening` (migration 0011), in the transaction of every
    insert, update and delete, whichever code makes it (submission, status change, withdrawal,
    purge, a privacy deletion, a bulk load): the queue's counts then read a few dozen rows
    instead of counting a million screenings on every page view.
    """

    __tablename__ = "screening_tally"

    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    review_status: Mapped[str] = mapped_column(String(16), primary_key=True)
    screenings: Mapped[int] = mapped_column(BigInteger, default=0)


class AssessmentRequest(Base):
    """A patient's request to be contacted for an assessment, made from their result page.

    Name, email, phone and message are encrypted at rest (EncryptedText); only staff see them.
    """

    __tablename__ = "assessment_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(EncryptedText)
    email: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    message: Mapped[str | None] = mapped_column(EncryptedText)
    #: Keyed hash of the normalised name, so staff can search by name (see crypto.search_hash).
    name_search_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: One of the clinic's configured locations, or "any".
    preferred_location: Mapped[str] = mapped_column(String(120))
    #: Preferred days and times, e.g. ["weekday_morning", "saturday"].
    preferred_times: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: When the person agreed, separately and optionally, to be emailed short questions after
    #: treatment (at `measures.follow_up_weeks` after the first appointment); None if they did not.
    #: Never required to book. Withdrawn by `Screening.follow_ups_stopped_at`.
    follow_up_consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    screening: Mapped[Screening] = relationship(back_populates="assessment_request")


NOTIFICATION_KINDS = (
    "clinic_new_request",
    "clinic_urgent_screening",
    "clinic_emergency_withdrawn",
    "patient_request_confirmation",
    "patient_follow_up",
)
#: `cancelled`: not sent, and never will be, because sending it was no longer wanted (the person
#: stopped the follow-ups before their invitation went out).
NOTIFICATION_STATES = ("pending", "sent", "failed", "cancelled")
#: How a sent email went (`Notification.delivered_by`): through the mail server, or only written to
#: the console of the process that sent it (development, no SMTP_HOST).
DELIVERY_WAYS = ("smtp", "console")


class Notification(Base):
    """An email to send (an outbox row), written in the same transaction as what it announces.

    A worker sends pending rows and retries failures with back-off, so a down mail server never
    blocks or breaks a patient's submission, and staff can see what was not delivered.
    """

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(_one_of("kind", NOTIFICATION_KINDS), name="kind"),
        CheckConstraint(_one_of("state", NOTIFICATION_STATES), name="state"),
        CheckConstraint(_one_of("delivered_by", DELIVERY_WAYS), name="delivered_by"),
        Index("ix_notification_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    #: The screening it is about; SET NULL when the screening is deleted, so nothing dangles.
    screening_id: Mapped[int | None] = mapped_column(ForeignKey("screening.id", ondelete="SET NULL"), index=True)
    #: The patient's address for a confirmation; None means the clinic's inbox.
    recipient: Mapped[str | None] = mapped_column(EncryptedText)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the last attempt failed (an SMTP error, never message content).
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: How a sent email went, as the process that sent it knew (DELIVERY_WAYS): through the mail
    #: server, or only written to that process's console (development, no SMTP_HOST). The web
    #: server showing it may be set up otherwise than `flask notify`, which sends most. None for
    #: an email sent before it was recorded (migration 0018), or by a sender that does not say.
    delivered_by: Mapped[str | None] = mapped_column(String(16))
    #: The follow-up a `patient_follow_up` email invites to (its link's token is made when it is sent).
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up.id", ondelete="SET NULL"), index=True)


#: The id of the heartbeat table's one row, which migration 0007 inserts.
HEARTBEAT_ID = 1


class HealthHeartbeat(Base):
    """One row, rewritten and committed by every health check: proof that a write reaches disk.

    A `SELECT 1` succeeds on a full disk or a read-only database while every patient's save
    fails; a rolled-back write proves nothing either, as neither SQLite nor PostgreSQL writes a
    rolled-back transaction to disk. A commit of a one-row update by primary key does (SQLite
    syncs its WAL, PostgreSQL flushes its WAL) and stays cheap: one small row, one index.
    """

    __tablename__ = "health_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: How many checks have written it; the change every commit has to carry.
    beat: Mapped[int] = mapped_column(BigInteger)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)


#: The answers to whether the person had IMS (measures.HAD_IMS).
HAD_IMS_ANSWERS = tuple(measures.HAD_IMS)


def _between(column: str, low: int, high: int) -> str:
    """SQL for "column is empty or a whole number from low to high", for CHECK constraints."""
    return f"{column} IS NULL OR ({column} >= {low} AND {column} <= {high})"


class FollowUp(Base):
    """One time point of the follow-up after treatment: the invitation and the person's answers.

    Written by `flask notify` once the time point is due (`week` weeks after the screening's
    `appointment_at`), for a booked screening whose person agreed to follow-ups and has not
    stopped them; unique per screening and week, so a time point is invited exactly once. Its
    email (a `Notification` of kind `patient_follow_up`) carries a link whose token is made when
    the email is sent and stored here only hashed, like a resume token.

    The answers are saved page by page while the person answers (`started_at`), and count once
    they confirm them (`answered_at`, after which the link no longer opens anything). They are
    health data about the screening: deleted with it, never logged, and they never change the
    screening's stored rules result. The vocabulary of every answer is in app/measures.py.
    """

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("screening_id", "week", name="uq_follow_up_screening_id_week"),
        CheckConstraint("week >= 1", name="week"),
        CheckConstraint(_between("current_pain", measures.PAIN_MIN, measures.PAIN_MAX), name="current_pain"),
        CheckConstraint(_between("average_pain", measures.PAIN_MIN, measures.PAIN_MAX), name="average_pain"),
        CheckConstraint(_between("pgic", measures.PGIC_MIN, measures.PGIC_MAX), name="pgic"),
        CheckConstraint(_one_of("had_ims", HAD_IMS_ANSWERS), name="had_ims"),
        CheckConstraint(
            _between("ims_sessions", measures.IMS_SESSIONS_MIN, measures.IMS_SESSIONS_MAX), name="ims_sessions"
        ),
        CheckConstraint("ims_sessions IS NULL OR had_ims = 'yes'", name="sessions_only_after_yes"),
        CheckConstraint(
            "answered_at IS NULL OR (current_pain IS NOT NULL AND average_pain IS NOT NULL"
            " AND pgic IS NOT NULL AND had_ims IS NOT NULL)",
            name="answered_is_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), index=True)
    #: The time point: weeks after the first appointment (one of measures.follow_up_weeks when written).
    week: Mapped[int] = mapped_column(Integer)
    #: When it fell due: the appointment then recorded plus `week` weeks.
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: When its invitation email went out (None until then, or if it never could).
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: SHA-256 hex digest of the link's token (256 random bits). Only the email has the token.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Until when the link opens the follow-up.
    token_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: SHA-256 hex digest of the email's stop link token. It works as long as the screening is
    #: kept (stopping must never fail for an old email), and can only stop, never open, anything.
    stop_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: When the first page of answers was saved.
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: When the person confirmed their answers: only answered follow-ups count.
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The language (a tag of app.i18n.LANGUAGES) the answers were given in.
    language: Mapped[str | None] = mapped_column(String(16))
    #: Pain right now, 0 (none) to 10 (worst imaginable): numeric rating scale.
    current_pain: Mapped[int | None] = mapped_column(Integer)
    #: Average pain over the past week, 0 to 10.
    average_pain: Mapped[int | None] = mapped_column(Integer)
    #: Patient Global Impression of Change since the first appointment, 1 (very much better) to 7
    #: (very much worse): measures.PGIC.
    pgic: Mapped[int | None] = mapped_column(Integer)
    #: Whether they had IMS since the screening: one of HAD_IMS_ANSWERS.
    had_ims: Mapped[str | None] = mapped_column(String(8))
    #: How many IMS sessions (only after had_ims "yes"; None when they did not say).
    ims_sessions: Mapped[int | None] = mapped_column(Integer)

    screening: Mapped[Screening] = relationship(back_populates="follow_ups")
    #: The Patient-Specific Functional Scale scores of this time point, one per activity.
    activity_scores: Mapped[list[FollowUpActivityScore]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} week {self.week}>"  # never the answers


class FollowUpActivity(Base):
    """An everyday activity the person said their pain makes hard, for the Patient-Specific
    Functional Scale: named on the assessment request form (at most measures.PSFS_MAX_ACTIVITIES),
    scored at each follow-up. The name is the person's own words: encrypted at rest."""

    __tablename__ = "follow_up_activity"
    __table_args__ = (
        UniqueConstraint("screening_id", "position", name="uq_follow_up_activity_screening_id_position"),
        CheckConstraint(f"position >= 1 AND position <= {measures.PSFS_MAX_ACTIVITIES}", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), index=True)
    #: 1, 2 or 3, in the order the person wrote them.
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(EncryptedText)
    named_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    screening: Mapped[Screening] = relationship(back_populates="follow_up_activities")

    def __repr__(self) -> str:
        return f"<FollowUpActivity {self.position}>"  # never the name


class FollowUpActivityScore(Base):
    """How well the person can do one of their activities at one follow-up: 0 (cannot do it at
    all) to 10 (as well as before the pain), the Patient-Specific Functional Scale."""

    __tablename__ = "follow_up_activity_score"
    __table_args__ = (
        UniqueConstraint("follow_up_id", "activity_id", name="uq_follow_up_activity_score_follow_up_id_activity_id"),
        CheckConstraint(f"score >= {measures.PSFS_MIN} AND score <= {measures.PSFS_MAX}", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("follow_up_activity.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)

    follow_up: Mapped[FollowUp] = relationship(back_populates="activity_scores")
    activity: Mapped[FollowUpActivity] = relationship()


class FollowUpBaseline(Base):
    """What the screening said about a person whose follow-ups are reported (issue 18): its outcome,
    rule-set version and pain at screening (the baseline of a change in pain).

    Copied from the screening by a database trigger when its first follow-up is written (migration
    0016), whatever writes it, so that the Overview's outcomes add the follow-ups up without
    reading the screening table (a million rows) or parsing its JSON answers. A submitted
    screening's result and answers never change, so the copy never goes stale; it is deleted with
    the screening. Never written by the app.
    """

    __tablename__ = "follow_up_baseline"

    screening_id: Mapped[int] = mapped_column(ForeignKey("screening.id", ondelete="CASCADE"), primary_key=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    ruleset_version: Mapped[str | None] = mapped_column(String(80))
    #: The screening's answers that are the baselines of the follow-up's `current_pain` and
    #: `average_pain` (0-10; the questions marked `follow_up_baseline` in the questionnaire), None
    #: if not asked.
    current_pain: Mapped[int | None] = mapped_column(Integer)
    average_pain: Mapped[int | None] = mapped_column(Integer)


class FollowUpBaselineRule(Base):
    """A rule that fired in a screening with follow-ups (`Screening.reasons`), one row each, copied
    with its `FollowUpBaseline` by the same trigger: the Overview's outcomes by rule."""

    __tablename__ = "follow_up_baseline_rule"

    screening_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_baseline.screening_id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(String(80), primary_key=True)
