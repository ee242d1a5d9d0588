"""Database models (typed SQLAlchemy 2.0). They hold data only: no commits, I/O or Flask."""

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Dialect, Index, String
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.extensions import Base
from rules.outcomes import CANDIDACY_OUTCOMES, Outcome

#: Every screening outcome, most urgent first: the rules' vocabulary, used unchanged by the
#: database, the staff portal, exports and the CLI.
OUTCOMES = tuple(outcome.value for outcome in Outcome)

#: How well IMS fits, before any precaution turns the outcome into `clinician_review`.
CANDIDACIES = tuple(outcome.value for outcome in CANDIDACY_OUTCOMES)

STATES = ("draft", "submitted")

#: Letters and digits that cannot be mistaken for one another when read out over the phone or
#: copied by hand: no 0/O, 1/I/L, and no U (fewer accidental words).
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "IMS-"
REFERENCE_LENGTH = 8


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


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
        # For the staff triage queue, which filters on state and outcome, oldest first.
        Index("ix_screening_triage", "state", "outcome", "submitted_at"),
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

    def __repr__(self) -> str:
        # Never the answers: reprs end up in logs, and answers are health data.
        return f"<Screening {self.reference} {self.state}>"
