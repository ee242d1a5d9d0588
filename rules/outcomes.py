"""The one outcome vocabulary used everywhere: rules, database, staff portal, exports, CLI.

Each outcome is declared once, in `Outcome`, and described once, in `CATALOGUE`: its labels for
patients and staff, whether it sends the person to a doctor, whether its result offers booking,
and the style of its badge. The web app reads these; it names no outcome itself. A new outcome
is a member here, a row in the catalogue, and its result page and cases.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    @property
    def details(self) -> OutcomeDetails:
        return CATALOGUE[self]

    @property
    def patient_label(self) -> str:
        return self.details.patient_label

    @property
    def staff_label(self) -> str:
        return self.details.staff_label

    @property
    def medical(self) -> bool:
        return self.details.medical

    @property
    def bookable(self) -> bool:
        return self.details.bookable

    @property
    def overrides_candidacy(self) -> bool:
        return self.details.overrides_candidacy

    @property
    def is_candidacy(self) -> bool:
        return self.details.is_candidacy

    @property
    def badge(self) -> str:
        return self.details.badge


@dataclass(frozen=True)
class OutcomeDetails:
    """What the app needs to know about an outcome, besides its name and rank."""

    #: The headline of the patient's result page.
    patient_label: str
    #: The short name staff read in the queue, filters, reports and exports.
    staff_label: str
    #: The style of its badge on staff pages (a CSS modifier: `badge--<badge>`, also used for
    #: its count in the queue). A new outcome may share an existing style.
    badge: str
    #: The person needs a doctor first: the clinic is told at once and no booking is offered.
    medical: bool = False
    #: The result page offers to book an assessment, or to be contacted about one.
    bookable: bool = True
    #: A red flag or contraindication: it decides the outcome whatever the candidacy, and its
    #: result page explains only the rules that gave it.
    overrides_candidacy: bool = False
    #: A candidacy rule may give it: it says how well IMS fits, not whether it is safe.
    is_candidacy: bool = False


#: Every outcome, described once. Checked complete when this module is imported.
CATALOGUE: dict[Outcome, OutcomeDetails] = {
    Outcome.EMERGENCY: OutcomeDetails(
        patient_label="Get emergency care now",
        staff_label="Emergency",
        badge="emergency",
        medical=True,
        bookable=False,
        overrides_candidacy=True,
    ),
    Outcome.SEE_DOCTOR: OutcomeDetails(
        patient_label="See a doctor before any physiotherapy",
        staff_label="See doctor",
        badge="see_doctor",
        medical=True,
        bookable=False,
        overrides_candidacy=True,
    ),
    Outcome.NOT_SUITABLE: OutcomeDetails(
        patient_label="Needle treatment is not right for you at the moment",
        staff_label="Not suitable",
        badge="not_suitable",
        overrides_candidacy=True,
    ),
    Outcome.CLINICIAN_REVIEW: OutcomeDetails(
        patient_label="A physiotherapist needs to check a few things first",
        staff_label="Clinician review",
        badge="clinician_review",
    ),
    Outcome.LIKELY: OutcomeDetails(
        patient_label="IMS may well help you",
        staff_label="Likely",
        badge="likely",
        is_candidacy=True,
    ),
    Outcome.POSSIBLE: OutcomeDetails(
        patient_label="IMS might help you: an assessment will tell",
        staff_label="Possible",
        badge="possible",
        is_candidacy=True,
    ),
    Outcome.UNLIKELY: OutcomeDetails(
        patient_label="IMS is probably not the best first step for you",
        staff_label="Unlikely",
        badge="unlikely",
        is_candidacy=True,
    ),
}


def _check_catalogue() -> None:
    missing = [outcome.value for outcome in Outcome if outcome not in CATALOGUE]
    if missing:
        raise AssertionError(f"rules/outcomes.py: no catalogue entry for {', '.join(missing)}")
    for outcome, details in CATALOGUE.items():
        if details.medical and details.bookable:
            raise AssertionError(f"rules/outcomes.py: {outcome}: a medical outcome cannot offer booking")
        if details.is_candidacy and details.overrides_candidacy:
            raise AssertionError(f"rules/outcomes.py: {outcome}: a candidacy cannot override candidacy")


_check_catalogue()

#: The outcomes a candidacy rule may give; they describe how well IMS fits, not safety.
CANDIDACY_OUTCOMES = tuple(outcome for outcome in Outcome if outcome.is_candidacy)

#: Outcomes that decide the result whatever the candidacy, most urgent first.
OVERRIDING_OUTCOMES = tuple(outcome for outcome in Outcome if outcome.overrides_candidacy)
