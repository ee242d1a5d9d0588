"""What a person can print, or save as a PDF, to take away (issue 18): a summary of any result,
and, when the result sends them to a doctor, a letter for that doctor with the warning signs they
reported.

Both are read from the result stored at submission (`Screening.stored_result`), never judged
again, so the paper says what the result page said. The letter is written in English for the
doctor and, when the person reads the pages in another language, in that language beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import rules
from app.models import Screening
from rules.outcomes import Outcome
from rules.questionnaire import Question


@dataclass(frozen=True)
class ReportedAnswer:
    """One answer a warning sign's rule read, as the person gave it."""

    question: Question
    value: object


@dataclass(frozen=True)
class WarningSign:
    """A rule that sent the person to a doctor, with the answers behind it."""

    rule_id: str
    #: The rule's title: a clinical name for the doctor ("Possible cauda equina warning signs").
    title: str
    #: What the result page told the person about it.
    patient_text: str
    answers: tuple[ReportedAnswer, ...]


def has_letter(screening: Screening) -> bool:
    """Whether the screening's result sends the person to a doctor, who can be given a letter."""
    return screening.state == "submitted" and screening.outcome is not None and Outcome(screening.outcome).medical


def signs_reported(screening: Screening) -> list[WarningSign]:
    """The warning signs behind a doctor's or an emergency result: each rule that decided it (as
    its result page lists them), with the answers it read, every one of them, so that a "no"
    beside a "yes" tells the doctor what was asked and not reported."""
    if not has_letter(screening):
        raise ValueError(f"{screening!r} has no result that sends the person to a doctor")
    signs = []
    for reason in screening.stored_result().explaining():
        answers = tuple(
            ReportedAnswer(question, value)
            for question_id, value in reason.answers.items()
            if (question := _question(question_id)) is not None
        )
        signs.append(WarningSign(reason.rule_id, reason.title, reason.patient_text, answers))
    return signs


def _question(question_id: str) -> Question | None:
    """A question asked now, or once (its answer may be kept from before it was retired)."""
    questionnaire = rules.questionnaire()
    if question_id in questionnaire.questions:
        return questionnaire.questions[question_id]
    return next((question for question in questionnaire.retired if question.id == question_id), None)


def pdf_filename(screening: Screening) -> str:
    """The name a PDF is saved under: the reference alone, which says nothing of the result."""
    return f"{screening.reference}.pdf"
