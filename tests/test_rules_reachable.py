"""Every rule can still fire, and every red-flag rule can still decide a screening (issue 20).

Narrowing a question (asking a broad question, then a detail) must not leave a rule that no
way of answering the questionnaire reaches: when the hand question was split, progressive
weakness or clumsiness had to keep its route to a doctor. So for each rule this searches for a
complete, valid set of answers, as the journey would collect them, under which the rule fires;
for a red-flag rule, under which its outcome is the screening's outcome (no more urgent rule
fires). The search walks the questionnaire in order, tries a few answers for each question that
applies, and abandons a branch as soon as three-valued logic (`rules.decided.truth_given`) says
no way of finishing it can reach the target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import rules
from rules import conditions
from rules.conditions import Condition
from rules.decided import truth_given
from rules.engine import MISSING_FACTS
from rules.outcomes import Outcome
from rules.questionnaire import Question, QuestionType
from rules.ruleset import Rule

QUESTIONNAIRE = rules.questionnaire()
RULESET = rules.ruleset()
QUESTIONS = list(QUESTIONNAIRE)
RED_FLAG_OUTCOMES = (Outcome.EMERGENCY, Outcome.SEE_DOCTOR)
#: Steps the search may take for one rule before it gives up (found within a few hundred).
BUDGET = 20_000


def _bounds(name: str) -> set[float]:
    """The numbers the rule set compares a question (or a fact on it) with, and either side."""
    found: set[float] = set()

    def walk(condition: Condition) -> None:
        if isinstance(condition, conditions.AtLeast):  # AtMost too
            if condition.name == name:
                found.update({condition.bound - 1, condition.bound, condition.bound + 1})
        for part in getattr(condition, "conditions", ()):
            walk(part)
        if isinstance(condition, conditions.Not):
            walk(condition.condition)

    for rule in RULESET.rules:
        walk(rule.when)
    for derived in RULESET.derived:
        for condition in derived.reads():
            walk(condition)
    for question in QUESTIONS:
        if question.enable_when is not None:
            walk(question.enable_when)
    return found


def _candidates(question: Question) -> Iterator[object]:
    """A few answers that between them reach every branch a rule or follow-up can take."""
    if question.type is QuestionType.SINGLE:
        yield from question.choice_values
    elif question.type is QuestionType.MULTIPLE:
        exclusive = {c.value for c in question.choices if c.exclusive}
        plain = [c.value for c in question.choices if not c.exclusive]
        yield from ([value] for value in plain)
        yield from ([value] for value in exclusive)
        if len(plain) > 1:
            yield plain
    elif question.type is QuestionType.TEXT:
        yield "Punjabi"
    else:  # a number, a scale or a duration, at each bound a rule compares it with
        low, high = question.minimum or 0, question.maximum or 0
        numbers = sorted({low, high, *(int(b) for b in _bounds(question.id) if low <= b <= high)})
        if question.type is QuestionType.DURATION:
            yield from ({"amount": n, "unit": "weeks"} for n in numbers if n > 0)
        else:
            yield from numbers
    if not question.required:
        yield None


def witness(target: Condition, accept: Callable[[dict[str, object]], bool]) -> dict[str, object] | None:
    """Complete, valid answers for which `accept` is true, or None if the search finds none.

    `target` is the condition `accept` checks, over questions and derived facts: the search
    abandons a branch where no completion can satisfy it.
    """
    steps = 0

    def search(answers: dict[str, object], index: int) -> dict[str, object] | None:
        nonlocal steps
        while index < len(QUESTIONS) and QUESTIONS[index] not in QUESTIONNAIRE.applicable(answers):
            index += 1
        if index == len(QUESTIONS):
            return answers if accept(answers) else None
        question = QUESTIONS[index]
        for value in _candidates(question):
            steps += 1
            if steps > BUDGET:
                return None
            tried = answers if value is None else {**answers, question.id: value}
            if QUESTIONNAIRE.problems(tried) or truth_given(target, tried, QUESTIONNAIRE, RULESET) is False:
                continue
            if (found := search(tried, index + 1)) is not None:
                return found
        return None

    return search({}, 0)


def _deciding(rule: Rule) -> Condition:
    """The rule fires and no rule with a more urgent outcome does."""
    more_urgent = [other.when for other in RULESET.rules if other.outcome.rank < rule.outcome.rank]
    return conditions.All((rule.when, conditions.Not(conditions.AnyOf(tuple(more_urgent)))))


@pytest.mark.parametrize("rule", [r for r in RULESET.rules if r.outcome in RED_FLAG_OUTCOMES], ids=lambda r: r.id)
def test_every_red_flag_rule_can_still_decide_a_screening(rule: Rule) -> None:
    def decides(answers: dict[str, object]) -> bool:
        result = rules.evaluate(answers)
        return rule.id in result.rule_ids and result.outcome is rule.outcome

    answers = witness(_deciding(rule), decides)
    assert answers is not None, f"no way of answering reaches {rule.id} as the outcome"
    assert QUESTIONNAIRE.missing(answers) == []


#: The rules that fire on missing answers (M-), which complete answers never have.
FOR_MISSING_ANSWERS = {r.id for r in RULESET.rules if set(r.when.names()) & set(MISSING_FACTS.values())}


@pytest.mark.parametrize(
    "rule",
    [r for r in RULESET.rules if r.outcome not in RED_FLAG_OUTCOMES and r.id not in FOR_MISSING_ANSWERS],
    ids=lambda r: r.id,
)
def test_every_other_rule_can_still_fire(rule: Rule) -> None:
    answers = witness(rule.when, lambda answers: rule.id in rules.evaluate(answers).rule_ids)
    assert answers is not None, f"no way of answering fires {rule.id}"


def test_a_condition_no_answers_can_meet_is_found_unreachable() -> None:
    """The search can fail, and says so: nobody answers both for themselves and for another."""
    both = conditions.All((conditions.Equals("respondent", "self"), conditions.Equals("respondent", "proxy")))
    assert witness(both, lambda answers: True) is None
    possible = conditions.Equals("hand_symptoms_detail", "one_hand")
    assert witness(possible, lambda answers: answers["hand_symptoms_detail"] == "one_hand") is not None
