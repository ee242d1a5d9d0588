"""The outcome catalogue: every outcome described once, consistently, with what the app needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules.outcomes import CANDIDACY_OUTCOMES, CATALOGUE, OVERRIDING_OUTCOMES, Outcome

ROOT = Path(__file__).resolve().parent.parent


def test_every_outcome_is_described_once() -> None:
    assert list(CATALOGUE) == list(Outcome)


def test_the_flags_name_the_outcomes_the_evidence_gives_them() -> None:
    assert [o for o in Outcome if o.medical] == [Outcome.EMERGENCY, Outcome.SEE_DOCTOR]
    assert [o for o in Outcome if not o.bookable] == [Outcome.EMERGENCY, Outcome.SEE_DOCTOR]
    assert OVERRIDING_OUTCOMES == (Outcome.EMERGENCY, Outcome.SEE_DOCTOR, Outcome.NOT_SUITABLE)
    assert CANDIDACY_OUTCOMES == (Outcome.LIKELY, Outcome.POSSIBLE, Outcome.UNLIKELY)


@pytest.mark.parametrize("outcome", list(Outcome))
def test_an_outcome_has_labels_a_result_page_a_badge_style_and_a_colour(outcome: Outcome) -> None:
    assert outcome.patient_label and outcome.staff_label
    assert not (outcome.medical and outcome.bookable), "a medical outcome sends the person to a doctor, not a booking"
    assert (ROOT / "templates" / "patient" / "results" / f"{outcome.value}.html").is_file()
    css = (ROOT / "app" / "static" / "css" / "staff.css").read_text(encoding="utf-8")
    assert re.search(rf"\.badge--{re.escape(outcome.badge)}\s*\{{", css)
    # Its colour, in site.css's palette, draws its chart bars and its badge.
    palette = (ROOT / "app" / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert re.search(rf"--colour-outcome-{re.escape(outcome.value)}:\s*#", palette)
    assert f"var(--colour-outcome-{outcome.value})" in css


def test_staff_labels_are_distinct() -> None:
    labels = [outcome.staff_label for outcome in Outcome]
    assert len(set(labels)) == len(labels)
