"""The named clinical cases: answers in, the outcome and the exact rules that fire out.

The cases are data, in ``rules/cases/*.yaml``, so that a physiotherapist can read and extend
them. Each case starts from a complete profile (``profiles.yaml``), changes or removes a few
answers, and states what the clinical logic (clinical-evidence.md section b, the rule texts
and the precedence in ruleset.yaml's header) says must happen: the outcome, optionally the
underlying candidacy, and the exact set of rule ids that fire. A case may also state what
``rules.decided`` says of its answers (``decided``: an outcome, or null for "keep asking"), as
those in ``early_stops.yaml`` do. Cases in ``invalid.yaml`` instead name the problems
``InvalidAnswers`` must report.

A case whose clinically right expectation the rule set does not meet carries an
``xfail_reason``; it runs as a strict expected failure, so fixing the rules makes it pass
loudly rather than silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

import rules
from rules import conditions
from rules.datafile import load_yaml
from rules.outcomes import OVERRIDING_OUTCOMES, Outcome
from rules.questionnaire import UNSURE, Category

CASES_DIR = Path(rules.__file__).resolve().parent / "cases"
PROFILES_FILE = CASES_DIR / "profiles.yaml"

CASE_KEYS = {
    "name",
    "given",
    "change",
    "remove",
    "outcome",
    "candidacy",
    "fired",
    "decided",
    "problems",
    "xfail_reason",
}
EXPECTATION_KEYS = {"outcome", "candidacy", "fired", "decided"}

Answers = dict[str, object]
Case = dict[str, object]


def load_profiles() -> dict[str, Answers]:
    data = load_yaml(PROFILES_FILE)
    assert isinstance(data, Mapping), f"{PROFILES_FILE.name}: expects a mapping of profile name -> answers"
    return {name: dict(answers) for name, answers in data.items()}


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        if path == PROFILES_FILE:
            continue
        data = load_yaml(path)
        assert isinstance(data, list), f"{path.name}: expects a list of cases"
        cases.extend({**case, "file": path.name} for case in data)
    return cases


PROFILES = load_profiles()
CASES = load_cases()


def is_invalid(case: Case) -> bool:
    return "problems" in case


def checked(cases: list[Case]) -> list[Case]:
    """The valid-answer cases whose expectations are asserted (not expected failures)."""
    return [case for case in cases if not is_invalid(case) and "xfail_reason" not in case]


def answers_for(case: Case) -> Answers:
    """The case's answers: its profile, plus `change`, minus `remove`."""
    answers = dict(PROFILES[case["given"]])
    answers.update(case.get("change") or {})
    for qid in case.get("remove") or []:
        assert qid in answers, f"{case['name']}: removes {qid!r}, which {case['given']} does not answer"
        del answers[qid]
    return answers


def as_param(case: Case) -> object:
    marks = ()
    if "xfail_reason" in case:
        marks = (pytest.mark.xfail(strict=True, reason=" ".join(str(case["xfail_reason"]).split())),)
    return pytest.param(case, id=str(case["name"]), marks=marks)


@pytest.mark.parametrize("case", [as_param(case) for case in CASES])
def test_named_case(case: Case) -> None:
    answers = answers_for(case)
    if is_invalid(case):
        with pytest.raises(rules.InvalidAnswers) as raised:
            rules.evaluate(answers)
        problems = raised.value.problems
        for expected in case["problems"]:
            assert any(expected in problem for problem in problems), f"{expected!r} not in {problems}"
        return

    result = rules.evaluate(answers)
    actual: dict[str, object] = {"outcome": result.outcome.value}
    expected: dict[str, object] = {"outcome": case["outcome"]}
    if "candidacy" in case:
        actual["candidacy"] = result.candidacy.value if result.candidacy else None
        expected["candidacy"] = case["candidacy"]
    if "fired" in case:
        actual["fired"] = sorted(result.rule_ids)
        expected["fired"] = sorted(case["fired"])
    if "decided" in case:
        decided = rules.decided(answers)
        actual["decided"] = decided.value if decided else None
        expected["decided"] = case["decided"]
    assert actual == expected


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile_is_valid_and_complete(name: str) -> None:
    answers = PROFILES[name]
    rules.questionnaire().validate(answers)  # raises InvalidAnswers on any problem
    assert [q.id for q in rules.questionnaire().missing(answers)] == []


def test_every_case_is_well_formed() -> None:
    rule_ids = {rule.id for rule in rules.ruleset().rules}
    outcomes = {outcome.value for outcome in Outcome}
    problems = []
    for case in CASES:
        where = f"{case['file']}: {case.get('name')!r}"
        keys = set(case) - {"file"}
        if unknown := keys - CASE_KEYS:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(case.get("name"), str) or not case["name"].strip():
            problems.append(f"{where}: needs a `name` sentence")
        if case.get("given") not in PROFILES:
            problems.append(f"{where}: `given` must be one of {sorted(PROFILES)}")
        if not isinstance(case.get("change") or {}, Mapping):
            problems.append(f"{where}: `change` must be a mapping")
        if not isinstance(case.get("remove") or [], list):
            problems.append(f"{where}: `remove` must be a list")
        if is_invalid(case):
            if keys & EXPECTATION_KEYS:
                problems.append(f"{where}: an invalid-input case expects problems, not an outcome")
            if not case["problems"] or not all(isinstance(p, str) for p in case["problems"]):
                problems.append(f"{where}: `problems` must be a non-empty list of substrings")
            continue
        if case.get("outcome") not in outcomes:
            problems.append(f"{where}: `outcome` must be one of {sorted(outcomes)}")
        if "candidacy" in case and case["candidacy"] not in {"likely", "possible", "unlikely", None}:
            problems.append(f"{where}: `candidacy` must be likely, possible, unlikely or null")
        if "decided" in case and case["decided"] not in {*(o.value for o in OVERRIDING_OUTCOMES), None}:
            problems.append(f"{where}: `decided` must be emergency, see_doctor, not_suitable or null")
        if "fired" not in case and "xfail_reason" not in case:
            problems.append(f"{where}: needs `fired`, the exact set of rule ids expected")
        fired = case.get("fired") or []
        if unknown_ids := set(fired) - rule_ids:
            problems.append(f"{where}: fires unknown rule ids {sorted(unknown_ids)}")
        if len(set(fired)) != len(fired):
            problems.append(f"{where}: a rule id is listed twice in `fired`")
    assert problems == []


def test_no_case_is_decided_early_as_anything_but_its_outcome() -> None:
    """`rules.decided` may say "keep asking" of any case, but never names an outcome it does not get."""
    contradicted = []
    for case in checked(CASES):
        decided = rules.decided(answers_for(case))
        if decided is not None and decided.value != case["outcome"]:
            contradicted.append(f"{case['name']}: decided {decided.value}, outcome {case['outcome']}")
    assert contradicted == []


def test_case_names_are_unique() -> None:
    names = [case["name"] for case in CASES]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_every_rule_fires_in_at_least_one_case() -> None:
    fired = {rule_id for case in checked(CASES) for rule_id in case["fired"]}
    assert [rule.id for rule in rules.ruleset().rules if rule.id not in fired] == []


def test_every_outcome_is_reached_by_at_least_one_case() -> None:
    reached = {case["outcome"] for case in checked(CASES)}
    assert [outcome.value for outcome in Outcome if outcome.value not in reached] == []


def test_every_not_sure_answer_has_a_case_giving_clinician_review() -> None:
    """Each red-flag or safety question's "not sure" is shown to reach clinician_review via U-1 or
    U-2; the plainer rewording of an emergency warning sign, still "not sure", reaches same-day
    medical advice (RF-U12); "not sure" to the detail of a warning sign answered "yes" may keep
    the referral (emergency or see_doctor), and is shown too (U-1)."""
    safety_net = {Category.RED_FLAG: "U-1", Category.SAFETY: "U-2"}
    questions = rules.questionnaire().questions
    uncovered = []
    for question in questions.values():
        if question.category is None or UNSURE not in question.choice_values:
            continue
        rewording = isinstance(question.enable_when, conditions.Equals) and question.enable_when.expected == UNSURE
        detail = question.enable_when is not None and any(
            questions[name].category is Category.RED_FLAG and (name, "yes") in question.enable_when.compared_values()
            for name in question.enable_when.names()
        )
        if rewording:
            outcomes, rule = {Outcome.SEE_DOCTOR.value}, "RF-U12"
        elif detail:
            outcomes, rule = {Outcome.EMERGENCY.value, Outcome.SEE_DOCTOR.value, Outcome.CLINICIAN_REVIEW.value}, None
        else:
            outcomes, rule = {Outcome.CLINICIAN_REVIEW.value}, None
        if not any(
            question.is_unsure(answers_for(case).get(question.id))
            and case["outcome"] in outcomes
            and safety_net[question.category] in case["fired"]
            and (rule is None or rule in case["fired"])
            for case in checked(CASES)
        ):
            uncovered.append(question.id)
    assert uncovered == []
