"""How long the journey is for the named profiles, computed from the questionnaire and the rules
as the app walks it, and kept in the README (issue 14: warning signs first, stop when decided)."""

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import rules
from tests.support.journey import profile

README = Path(__file__).parents[1] / "README.md"

#: The six named profiles (rules/cases/profiles.yaml) and three that stop early.
PROFILES: dict[str, dict[str, object]] = {
    name: profile(name)
    for name in ("ideal_neck", "ideal_low_back", "ideal_elbow", "proxy_teen", "older_adult", "widespread")
} | {
    "ideal_low_back with new bladder trouble": profile("ideal_low_back", rf_bladder_bowel="yes"),
    "ideal_neck with weakness getting worse": profile("ideal_neck", rf_worsening_weakness="yes"),
    "ideal_neck not willing to try needles": profile("ideal_neck", willing_to_try="no"),
}


class Length(NamedTuple):
    pages: int
    questions: int
    outcome: str
    stopped_early: bool


def journey_length(answers: Mapping[str, object]) -> Length:
    """The question pages and the questions on them a person giving `answers` is shown, in
    order, up to where `rules.decided` stops the journey (the app's `step` view and check page).
    A question is what the person is asked (`Questionnaire.asked`): a checklist counts as one."""
    questionnaire = rules.questionnaire()
    applicable = {q.id for q in questionnaire.applicable(answers)}
    given: dict[str, object] = {}
    pages = questions = 0
    for section in questionnaire.applicable_sections(answers):
        pages += 1
        questions += len(questionnaire.asked(section, answers))
        given.update({q.id: answers[q.id] for q in section.questions if q.id in applicable and q.id in answers})
        decided = rules.decided(given)
        if decided is not None and questionnaire.missing(given):
            return Length(pages, questions, decided.value, True)
    return Length(pages, questions, rules.evaluate(answers).outcome.value, False)


def table() -> str:
    rows = ["| Profile | Outcome | Question pages | Questions |", "|---|---|---|---|"]
    for name, answers in PROFILES.items():
        length = journey_length(answers)
        stop = " (stops early)" if length.stopped_early else ""
        rows.append(f"| {name} | {length.outcome}{stop} | {length.pages} | {length.questions} |")
    return "\n".join(rows)


def test_the_readme_reports_the_length_of_the_journey_for_each_profile() -> None:
    assert table() in README.read_text(encoding="utf-8"), "update the README's table:\n" + table()


def test_a_typical_candidate_answers_at_most_35_questions_on_at_most_12_pages() -> None:
    """Issue 14's target, for the six named profiles (a person answering for someone else is
    asked two more questions about that, on the first page)."""
    for name in ("ideal_neck", "ideal_low_back", "ideal_elbow", "older_adult", "widespread"):
        length = journey_length(profile(name))
        assert (length.pages <= 12, length.questions <= 35) == (True, True), (name, length)
    teen = journey_length(profile("proxy_teen"))
    assert teen.pages <= 12 and teen.questions <= 35 + 2, teen


def test_an_emergency_reaches_its_advice_within_three_pages_of_consent() -> None:
    for question in ("rf_saddle_numbness", "rf_bladder_bowel", "rf_stroke_signs", "rf_exertion_chest"):
        length = journey_length(profile("ideal_low_back", **{question: "yes"}))
        assert (length.outcome, length.stopped_early) == ("emergency", True), question
        assert length.pages <= 3, question


def test_the_count_follows_the_stop_and_the_questions_that_apply() -> None:
    """Checked by hand against the questionnaire, so the count itself is right."""
    # Who (1 question for oneself), age and where (3), the emergency warning signs (1 checklist).
    assert journey_length(profile("ideal_low_back", rf_bladder_bowel="yes"))[:2] == (3, 5)
    # Someone answering for another person is asked two more questions on the first page.
    teen, neck = journey_length(profile("proxy_teen")), journey_length(profile("ideal_neck"))
    assert teen.questions - neck.questions >= 2
