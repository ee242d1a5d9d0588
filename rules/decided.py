"""Whether the answers so far already decide the outcome, so the journey can stop early.

`decided` answers one question after each page: can any way of answering the rest still change
the outcome? It names an outcome only when none can, and only for the outcomes that override
candidacy (emergency, see_doctor, not_suitable): a candidacy needs every answer, so the journey
runs to the end for it.

The rules are read as data, in three-valued (Kleene) logic. A name read from an unanswered
question, or from a derived fact that depends on one, is unknown; every condition is then true
(whatever the unanswered questions turn out to be), false (likewise), or unknown. Each step
keeps every value some completion could give, so the answer is sound by construction: when
`decided` names an outcome, every completion of the answers gets it from `engine.evaluate`.
`tests/test_rules_decided.py` checks that over generated answers and their completions.

A completion answers every required question that applies (applying may change with the new
answers, through `enable_when`), may answer optional ones, and leaves the answers given as
they are. The answers as they stand are counted as one more completion, so that when the
journey stops and judges them, `evaluate(answers)` gives the decided outcome too. That costs
nothing with the shipped rules: it only keeps `answered` on an unanswered question, and the
missing_* facts, unknown, and no emergency, see_doctor or not_suitable rule reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from rules import conditions
from rules.conditions import Condition
from rules.engine import MISSING_FACTS, UNSURE_FACTS
from rules.outcomes import OVERRIDING_OUTCOMES, Outcome
from rules.questionnaire import UNSURE, Question, Questionnaire, QuestionType
from rules.ruleset import Derived, RuleSet

#: A truth value in three-valued logic: True, False, or None for unknown.
Truth: TypeAlias = bool | None


@dataclass(frozen=True)
class Unknown:
    """A value the unanswered questions decide: one of `candidates`, or anything when None.

    Candidates are listed only where they are few: the choices of a single-choice question (and
    None, for no answer), a derived fact's True and False, the possible values of a count.
    """

    candidates: tuple[object, ...] | None = None


#: A value about which nothing is known.
UNKNOWN = Unknown()


def decided(answers: Mapping[str, object], questionnaire: Questionnaire, ruleset: RuleSet) -> Outcome | None:
    """The outcome every completion of these answers gets, if it overrides candidacy; else None.

    An outcome is decided when one of its rules holds whatever the unanswered questions turn out
    to be, and no rule with a more urgent outcome can hold. Raises InvalidAnswers, as `evaluate`
    does, when the answers do not fit the questionnaire (an answer to a question that does not
    apply among them).
    """
    facts = _facts(answers, questionnaire, ruleset)
    for outcome in OVERRIDING_OUTCOMES:  # most urgent first, as `engine._outcome`
        fired = [truth(rule.when, facts) for rule in ruleset.rules if rule.outcome is outcome]
        if True in fired:
            return outcome
        if None in fired:
            return None  # this outcome may or may not come: nothing less urgent is decided
    return None


def truth_given(
    condition: Condition, answers: Mapping[str, object], questionnaire: Questionnaire, ruleset: RuleSet
) -> Truth:
    """Whether `condition` (over questions and derived facts) holds in every completion of these
    answers (True), in none (False), or not known (None): the test `decided` puts to each rule,
    for any condition. Raises InvalidAnswers as `decided` does."""
    return truth(condition, _facts(answers, questionnaire, ruleset))


def _facts(answers: Mapping[str, object], questionnaire: Questionnaire, ruleset: RuleSet) -> dict[str, object]:
    """The questions' values, the built-in facts and the derived facts, as far as the answers decide them."""
    facts = _answer_facts(questionnaire.validate(answers), questionnaire)
    for derived in ruleset.derived:  # in file order: each may read those before it
        facts[derived.name] = _derived_value(derived, facts)
    return facts


def truth(condition: Condition, facts: Mapping[str, object]) -> Truth:
    """Whether `condition` holds over `facts`, in which a value may be an `Unknown`.

    True or False when every value the unknowns may take gives that; None when that is not
    known. `all` is False as soon as one part is False, `any` True as soon as one part is True,
    and `count_of` compares its bounds (the parts that hold; those plus the unknown ones) with
    its minimum, so a single unknown part does not make the whole unknown when it cannot matter.
    A comparison on an unknown value is evaluated on each candidate, when there are candidates.
    """
    return condition.accept(_Kleene(facts))


def _answer_facts(answers: Mapping[str, object], questionnaire: Questionnaire) -> dict[str, object]:
    """The questions' values and the built-in facts, as far as the answers given decide them.

    Mirrors `Questionnaire.applicable`: a question applies when its `enable_when` holds over the
    questions before it that apply. An answered question applies in every completion (an answer
    to a question that does not apply is refused); an unanswered one has no value when it
    cannot apply, and is unknown when it may.
    """
    facts: dict[str, object] = {}
    open_questions: list[Question] = []
    for question in questionnaire:
        if question.id in answers:
            facts[question.id] = question.rule_value(answers[question.id])
        elif question.enable_when is not None and truth(question.enable_when, facts) is False:
            facts[question.id] = None
        else:
            facts[question.id] = _unanswered(question)
            open_questions.append(question)
    answered = [q for q in questionnaire if q.id in answers]
    for category, name in UNSURE_FACTS.items():
        if any(q.category is category and q.is_unsure(answers[q.id]) for q in answered):
            facts[name] = True
        elif any(q.category is category and UNSURE in q.choice_values for q in open_questions):
            facts[name] = Unknown((True, False))
        else:
            facts[name] = False
    # Nothing is missing in a completion; the answers as they stand may lack some.
    missing = {q.category for q in questionnaire.missing(answers)}
    for maybe_category, name in MISSING_FACTS.items():
        facts[name] = Unknown((True, False)) if maybe_category in missing else False
    return facts


def _unanswered(question: Question) -> Unknown:
    """An unanswered question that may apply: any valid answer, or none."""
    if question.type is QuestionType.SINGLE:
        return Unknown((*question.choice_values, None))
    return UNKNOWN


def _derived_value(derived: Derived, facts: Mapping[str, object]) -> object:
    """`Derived.compute` in three-valued logic.

    A count of parts some of which are unknown may be anything from the parts that hold to those
    plus the unknown ones; every value between is kept as a candidate, so `at_least: [count, n]`
    is decided as soon as either bound settles it.
    """
    if derived.condition is not None:
        return _value(truth(derived.condition, facts))
    parts = [truth(part, facts) for part in derived.counted]
    low = parts.count(True)
    high = low + parts.count(None)
    return low if low == high else Unknown(tuple(range(low, high + 1)))


def _value(known: Truth) -> object:
    return Unknown((True, False)) if known is None else known


def _all_of(truths: Iterable[Truth]) -> Truth:
    truths = list(truths)
    if False in truths:
        return False
    return None if None in truths else True


def _any_of(truths: Iterable[Truth]) -> Truth:
    truths = list(truths)
    if True in truths:
        return True
    return None if None in truths else False


class _Kleene(conditions.Visitor[Truth]):
    """Conditions in three-valued logic; a kind of condition it does not know raises."""

    def __init__(self, facts: Mapping[str, object]) -> None:
        self.facts = facts

    def visit_all(self, condition: conditions.All) -> Truth:
        return _all_of(part.accept(self) for part in condition.conditions)

    def visit_any(self, condition: conditions.AnyOf) -> Truth:
        return _any_of(part.accept(self) for part in condition.conditions)

    def visit_count_of(self, condition: conditions.CountOf) -> Truth:
        parts = [part.accept(self) for part in condition.conditions]
        if parts.count(True) >= condition.minimum:
            return True
        if parts.count(True) + parts.count(None) < condition.minimum:
            return False
        return None

    def visit_not(self, condition: conditions.Not) -> Truth:
        inner = condition.condition.accept(self)
        return None if inner is None else not inner

    def visit_answered(self, condition: conditions.Answered) -> Truth:
        return self._compare(condition, condition.name)

    def visit_fact(self, condition: conditions.Fact) -> Truth:
        return self._compare(condition, condition.name)

    def visit_equals(self, condition: conditions.Equals) -> Truth:
        return self._compare(condition, condition.name)

    def visit_one_of(self, condition: conditions.OneOf) -> Truth:
        return self._compare(condition, condition.name)

    def visit_includes_any(self, condition: conditions.IncludesAny) -> Truth:
        return self._compare(condition, condition.name)

    def visit_at_least(self, condition: conditions.AtLeast) -> Truth:
        return self._compare(condition, condition.name)

    def visit_at_most(self, condition: conditions.AtMost) -> Truth:
        return self._compare(condition, condition.name)

    def _compare(self, condition: Condition, name: str) -> Truth:
        """A test of one value: its own `holds` on the value, or on each value it may take."""
        value = self.facts.get(name)
        if not isinstance(value, Unknown):
            return condition.holds(_One(name, value))
        if value.candidates is None:
            return None
        results = {condition.holds(_One(name, candidate)) for candidate in value.candidates}
        return results.pop() if len(results) == 1 else None


@dataclass(frozen=True)
class _One:
    """One named value, as the facts a single comparison reads (`conditions.Facts`)."""

    name: str
    given: object

    def value(self, name: str) -> object | None:
        return self.given if name == self.name else None
