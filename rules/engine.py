"""The evaluator: answers in, outcome and its reasons out. Pure: no I/O, no clock, no Flask."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rules.conditions import Compiler, Condition
from rules.outcomes import CANDIDACY_OUTCOMES, OVERRIDING_OUTCOMES, Outcome
from rules.questionnaire import (
    NUMERIC_TYPES,
    UNSURE,
    Category,
    Question,
    Questionnaire,
    QuestionType,
)
from rules.ruleset import Rule, RuleSet

#: Raw answers copied into the indicators because staff read them at a glance (B6).
KEY_ANSWERS = (
    "age",
    "pain_duration_weeks",
    "pain_now",
    "pain_average",
    "pain_worst",
    "pain_interference",
    "needle_fear",
)


@dataclass(frozen=True)
class Reason:
    """One fired rule, with the texts as they were when the screening was judged."""

    rule_id: str
    title: str
    outcome: Outcome
    patient_text: str
    staff_rationale: str
    sources: tuple[str, ...]
    #: The answers the rule read, so staff can see why it fired.
    answers: Mapping[str, object]

    def to_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "outcome": self.outcome.value,
            "patient_text": self.patient_text,
            "staff_rationale": self.staff_rationale,
            "sources": list(self.sources),
            "answers": dict(self.answers),
        }


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    #: How well IMS fits, before safety is considered; None only when answers are too incomplete.
    candidacy: Outcome | None
    #: Every fired rule, most urgent outcome first.
    reasons: tuple[Reason, ...]
    indicators: Mapping[str, object]
    ruleset_version: str
    unsure: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())

    @property
    def rule_ids(self) -> list[str]:
        return [reason.rule_id for reason in self.reasons]

    def explaining(self) -> list[Reason]:
        """The reasons to show the patient: those behind the outcome, not every fired rule.

        A red flag's page shows only the medical reasons; a candidacy page shows why IMS may
        or may not fit and any precaution a physiotherapist will check.
        """
        if self.outcome.overrides_candidacy:
            return [r for r in self.reasons if r.outcome is self.outcome]
        return [r for r in self.reasons if r.outcome is Outcome.CLINICIAN_REVIEW or r.outcome is self.candidacy]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """Rebuild a stored result (the inverse of `to_dict`), e.g. to explain it again later."""
        indicators = dict(data["indicators"])
        return cls(
            outcome=Outcome(data["outcome"]),
            candidacy=Outcome(data["candidacy"]) if data.get("candidacy") else None,
            reasons=tuple(
                Reason(
                    r["rule_id"],
                    r["title"],
                    Outcome(r["outcome"]),
                    r["patient_text"],
                    r["staff_rationale"],
                    tuple(r["sources"]),
                    dict(r.get("answers", {})),
                )
                for r in data["reasons"]
            ),
            indicators=indicators,
            ruleset_version=data["ruleset_version"],
            unsure=tuple(indicators.get("unsure_answers", ())),
            missing=tuple(indicators.get("missing_answers", ())),
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON form used by the CLI and stored with a submitted screening."""
        return {
            "outcome": self.outcome.value,
            "candidacy": self.candidacy.value if self.candidacy else None,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "indicators": dict(self.indicators),
            "ruleset_version": self.ruleset_version,
        }


def evaluate(answers: Mapping[str, object], questionnaire: Questionnaire, ruleset: RuleSet) -> Result:
    """Judge one set of answers.

    Raises InvalidAnswers (listing every problem) when the answers do not fit the
    questionnaire. Missing and "not sure" answers are not errors: built-in facts expose them
    and the rule set's safety-net rules turn them into a clinician review.
    """
    plan = _plan(questionnaire, ruleset)
    answers, read = plan.read(answers)
    unsure, missing = read.unsure, read.missing

    facts: dict[str, object] = dict(answers)
    facts.update(
        {
            "unsure_red_flag": any(q.category is Category.RED_FLAG for q in unsure),
            "unsure_safety": any(q.category is Category.SAFETY for q in unsure),
            "missing_red_flag": any(q.category is Category.RED_FLAG for q in missing),
            "missing_safety": any(q.category is Category.SAFETY for q in missing),
            "missing_other": any(q.category is None for q in missing),
        }
    )
    fired = plan.judge(facts)  # also adds the derived facts to `facts`
    fired_rules = [entry.rule for entry in fired]
    candidacy = _candidacy(fired_rules)
    outcome = _outcome(fired_rules, candidacy)
    reasons = tuple(
        Reason(
            entry.rule.id,
            entry.rule.title,
            entry.rule.outcome,
            entry.rule.patient_text,
            entry.rule.staff_rationale,
            entry.rule.sources,
            {name: answers[name] for name in entry.reads if name in answers},
        )
        for entry in sorted(fired, key=_by_rank)  # stable: file order within an outcome
    )
    indicators: dict[str, object] = {name: answers.get(name) for name in KEY_ANSWERS}
    indicators.update({derived.name: facts[derived.name] for derived in ruleset.derived})
    indicators["candidacy"] = candidacy.value if candidacy else None
    indicators["unsure_answers"] = [q.id for q in unsure]
    indicators["missing_answers"] = [q.id for q in missing]
    return Result(
        outcome,
        candidacy,
        reasons,
        indicators,
        ruleset.ruleset_version,
        tuple(q.id for q in unsure),
        tuple(q.id for q in missing),
    )


class _Read(NamedTuple):
    """One pass of the questionnaire over a set of answers (see `_answers_pass`)."""

    #: `Questionnaire.applicable`: the questions that apply, in order.
    applicable: list[Question]
    #: The answers (not None) to questions that apply.
    answered: dict[str, object]
    #: Whether each of those answers is certainly valid (False may also mean "not sure").
    acceptable: bool
    #: The questions that apply answered "not sure" (`Question.is_unsure`).
    unsure: list[Question]
    #: The required questions that apply and have no answer (`Questionnaire.missing`).
    missing: list[Question]


class _Fired(NamedTuple):
    rank: int
    rule: Rule
    #: The answers the rule reads, following derived facts down to them, in the order found.
    reads: tuple[str, ...]


def _by_rank(entry: _Fired) -> int:
    return entry.rank


class _Plan:
    """A questionnaire and rule set prepared once for evaluating many answer sets quickly.

    The questionnaire's pass over the answers becomes one generated function, and so do the
    derived facts with every rule's condition (`conditions.Compiler`). Results are exactly those
    of the plain definitions (`Questionnaire.validate`, `applicable` and `missing`,
    `Condition.holds`, `Derived.compute`); `tests/test_rules_*` hold both to the named cases.
    """

    def __init__(self, questionnaire: Questionnaire, ruleset: RuleSet) -> None:
        self.questionnaire = questionnaire
        self.ruleset = ruleset
        self.known = frozenset(q.id for q in questionnaire)
        self.answers_pass = _answers_pass(questionnaire)
        self.judge = _judge(ruleset)

    def read(self, answers: object) -> tuple[dict[str, object], _Read]:
        """The answers without empty values, and the pass over them; raises InvalidAnswers as
        `Questionnaire.validate` does.

        The pass accepts answers it can see are valid; anything it is unsure of goes to
        `Questionnaire.validate`, which names every problem.
        """
        if isinstance(answers, Mapping):
            read = self.answers_pass(answers)
            if read.acceptable and len(read.answered) == len(answers):  # each answer is to a question that applies
                return dict(answers), read
            given = {qid: value for qid, value in answers.items() if value is not None}
            # Every answer given is to a question that applies, and any None is to a known one.
            if read.acceptable and len(given) == len(read.answered) and all(qid in self.known for qid in answers):
                return given, read
        checked = self.questionnaire.validate(answers)
        return checked, self.answers_pass(checked)


def _answers_pass(questionnaire: Questionnaire) -> Callable[[Mapping[str, object]], _Read]:
    """`_Read` for a set of answers, from one generated function with a few lines per question
    (`Questionnaire.applicable`, `missing` and `Question.is_unsure`, written out)."""
    compiler = Compiler()
    body = ["answered = {}", "applicable = []", "acceptable = True", "unsure = []", "missing = []"]
    for question in questionnaire:
        qid, this = compiler.constant(question.id), compiler.constant(question)
        steps = [
            f"applicable.append({this})",
            f"value = answers.get({qid})",
            "if value is not None:",
            f"    answered[{qid}] = value",
            f"    if not {_valid_answer_test(question, compiler)}:",
            "        acceptable = False",
        ]
        if question.type is QuestionType.TEXT or UNSURE in question.choice_values:  # others cannot be unsure
            unsure = compiler.constant(UNSURE)
            steps += [
                f"    if value == {unsure} or (isinstance(value, list) and {unsure} in value):",
                f"        unsure.append({this})",
            ]
        if question.required:
            steps += ["else:", f"    missing.append({this})"]
        if question.enable_when is not None:
            body.append(f"if {compiler.expression(question.enable_when, facts='answered')}:")
            steps = ["    " + step for step in steps]
        body.extend(steps)
    body.append(f"return {compiler.constant(_Read)}(applicable, answered, acceptable, unsure, missing)")
    return compiler.function("answers", body)  # type: ignore[return-value]


def _judge(ruleset: RuleSet) -> Callable[[dict[str, object]], list[_Fired]]:
    """One generated function that adds every derived fact to the facts (`Derived.compute`, in
    order) and returns the rules whose condition holds, in file order.

    Each fact is read from the dict once, into a local variable, however many rules read it.
    """
    compiler = Compiler()
    derived_names = {derived.name for derived in ruleset.derived}
    conditions = [c for derived in ruleset.derived for c in derived.reads()] + [rule.when for rule in ruleset.rules]
    read = dict.fromkeys(name for condition in conditions for name in condition.names())
    body = [
        f"{compiler.local(name)} = facts.get({compiler.constant(name)})" for name in read if name not in derived_names
    ]
    for derived in ruleset.derived:
        value = (
            compiler.expression(derived.condition, facts="facts")
            if derived.condition is not None
            else compiler.count(derived.counted, facts="facts")
        )
        body += [f"facts[{compiler.constant(derived.name)}] = {compiler.local(derived.name)} = {value}"]
    body.append("fired = []")
    for rule in ruleset.rules:
        entry = _Fired(rule.outcome.rank, rule, _answers_read(rule.when, ruleset))
        body += [
            f"if {compiler.expression(rule.when, facts='facts')}:",
            f"    fired.append({compiler.constant(entry)})",
        ]
    body.append("return fired")
    return compiler.function("facts", body)  # type: ignore[return-value]


def _valid_answer_test(question: Question, compiler: Compiler) -> str:
    """An expression on `value` that is True only for answers `question.problem_with` accepts
    (it may be False for an odd valid one, which then takes the slow path)."""
    if question.type in NUMERIC_TYPES:
        return (
            f"(type(value) is int and {compiler.constant(question.minimum)} <= value"
            f" <= {compiler.constant(question.maximum)})"
        )
    if question.type is QuestionType.TEXT:
        longest = question.max_length
        test = compiler.constant(
            lambda value: type(value) is str and bool(value.strip()) and (longest is None or len(value) <= longest)
        )
        return f"{test}(value)"
    values = frozenset(question.choice_values)
    if question.type is QuestionType.SINGLE:
        return f"(type(value) is str and value in {compiler.constant(values)})"
    exclusive = frozenset(c.value for c in question.choices if c.exclusive)

    def acceptable_list(value: object) -> bool:
        if type(value) is not list or not value:
            return False
        for item in value:
            if type(item) is not str:
                return False
        chosen = set(value)
        return len(chosen) == len(value) and chosen <= values and (len(chosen) == 1 or chosen.isdisjoint(exclusive))

    return f"{compiler.constant(acceptable_list)}(value)"


def _answers_read(condition: Condition, ruleset: RuleSet) -> tuple[str, ...]:
    """The names a condition reads, following derived facts down to answers, in the order found."""
    derived = {d.name: d for d in ruleset.derived}
    read: list[str] = []
    visited: set[str] = set()
    pending = list(condition.names())
    while pending:
        name = pending.pop(0)
        if name in visited:
            continue
        visited.add(name)
        if name in derived:
            for read_condition in derived[name].reads():
                pending.extend(read_condition.names())
        else:
            read.append(name)
    return tuple(read)


#: Plans for the last few (questionnaire, rule set) pairs; the app only ever uses one.
_PLANS: dict[tuple[int, int], _Plan] = {}
_MAX_PLANS = 8


def prepare(questionnaire: Questionnaire, ruleset: RuleSet) -> None:
    """Build the evaluator for this questionnaire and rule set ahead of the first `evaluate`."""
    _plan(questionnaire, ruleset)


def _plan(questionnaire: Questionnaire, ruleset: RuleSet) -> _Plan:
    key = (id(questionnaire), id(ruleset))
    plan = _PLANS.get(key)
    # The plan holds both objects, so their ids cannot be reused while it is cached.
    if plan is None or plan.questionnaire is not questionnaire or plan.ruleset is not ruleset:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.pop(next(iter(_PLANS)))
        plan = _PLANS[key] = _Plan(questionnaire, ruleset)
    return plan


_RANKS = {outcome: outcome.rank for outcome in Outcome}


def _candidacy(fired: list[Rule]) -> Outcome | None:
    """The least favourable candidacy among fired candidacy rules (unlikely over possible over likely)."""
    found = [rule.outcome for rule in fired if rule.outcome in CANDIDACY_OUTCOMES]
    return max(found, key=_RANKS.__getitem__) if found else None


def _outcome(fired: list[Rule], candidacy: Outcome | None) -> Outcome:
    """Precedence (clinical-evidence.md B0): red flags, then absolute contraindications, then candidacy.

    A precaution turns likely/possible into clinician_review and leaves unlikely alone, except
    for safety-net rules (`even_if_unlikely`), which never let a gap pass silently.
    """
    outcomes = {rule.outcome for rule in fired}
    for urgent in OVERRIDING_OUTCOMES:
        if urgent in outcomes:
            return urgent
    reviews = [rule for rule in fired if rule.outcome is Outcome.CLINICIAN_REVIEW]
    if candidacy is None:
        # Only reachable with required answers missing, which a safety-net rule reports.
        return Outcome.CLINICIAN_REVIEW
    if candidacy is Outcome.UNLIKELY:
        return Outcome.CLINICIAN_REVIEW if any(r.even_if_unlikely for r in reviews) else candidacy
    return Outcome.CLINICIAN_REVIEW if reviews else candidacy
