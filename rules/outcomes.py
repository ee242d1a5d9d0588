"""The one outcome vocabulary used everywhere: rules, database, staff portal, exports, CLI."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A screening outcome. Declared from most to least urgent; `rank` follows that order."""

    EMERGENCY = "emergency"
    SEE_DOCTOR = "see_doctor"
    NOT_SUITABLE = "not_suitable"
    CLINICIAN_REVIEW = "clinician_review"
    LIKELY = "likely"
    POSSIBLE = "possible"
    UNLIKELY = "unlikely"

    @property
    def rank(self) -> int:
        """0 for the most urgent outcome; used to order fired rules and triage queues."""
        return list(Outcome).index(self)


#: The outcomes a candidacy rule may give; they describe how well IMS fits, not safety.
CANDIDACY_OUTCOMES = (Outcome.LIKELY, Outcome.POSSIBLE, Outcome.UNLIKELY)

#: Outcomes that stop any booking prompt: the person needs medical care first.
MEDICAL_OUTCOMES = (Outcome.EMERGENCY, Outcome.SEE_DOCTOR)
