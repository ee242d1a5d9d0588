"""The evaluator: answers in, outcome and its reasons out. Pure: no I/O, no clock, no Flask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.conditions import Condition
from rules.outcomes import CANDIDACY_OUTCOMES, OVERRIDING_OUTCOMES, Outcome
from rules.questionnaire import Category, Questionnaire
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

#: The built-in facts (`ruleset.BUILTIN_FACTS`) by the category of question they watch: one is
#: true when an applicable question of its category was answered "not sure", or has no answer.
UNSURE_FACTS: Mapping[Category, str] = {Category.RED_FLAG: "unsure_red_flag", Category.SAFETY: "unsure_safety"}
MISSING_FACTS: Mapping[Category | None, str] = {
    Category.RED_FLAG: "missing_red_flag",
    Category.SAFETY: "missing_safety",
    None: "missing_other",
}


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
    #: A warning sign left open ("not sure", or no answer): shown even beside a contraindication.
    open_warning_sign: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "outcome": self.outcome.value,
            "patient_text": self.patient_text,
            "staff_rationale": self.staff_rationale,
            "sources": list(self.sources),
            "answers": dict(self.answers),
            "open_warning_sign": self.open_warning_sign,
        }


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    #: How well IMS fits, before precautions and contraindications are considered. None when
    #: answers are too incomplete, and when a red flag or the age decided the screening: then
    #: how well IMS would fit is not a finding (`candidacy_set_aside` says what the candidacy
    #: rules alone gave, for staff).
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

    @property
    def candidacy_set_aside(self) -> Outcome | None:
        """What the candidacy rules alone gave, when a red flag or the age set candidacy aside."""
        value = self.indicators.get("candidacy_set_aside")
        return Outcome(str(value)) if value else None

    def explaining(self) -> list[Reason]:
        """The reasons to show the patient: those behind the outcome, not every fired rule.

        A red flag's page shows only the medical reasons; a not-suitable page its reasons and any
        warning sign left open, which a contraindication must not hide (issue 20); a candidacy
        page shows why IMS may or may not fit and any precaution a physiotherapist will check.
        """
        if self.outcome is Outcome.NOT_SUITABLE:
            return [r for r in self.reasons if r.outcome is self.outcome or r.open_warning_sign]
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
                    bool(r.get("open_warning_sign", False)),
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
    answers = questionnaire.validate(answers)
    applicable = questionnaire.applicable(answers)
    unsure = [q for q in applicable if q.id in answers and q.is_unsure(answers[q.id])]
    missing = [q for q in applicable if q.required and q.id not in answers]  # `Questionnaire.missing`

    questions = questionnaire.questions
    facts = _Facts({qid: questions[qid].rule_value(value) for qid, value in answers.items()})
    facts.update({name: any(q.category is category for q in unsure) for category, name in UNSURE_FACTS.items()})
    facts.update({name: any(q.category is category for q in missing) for category, name in MISSING_FACTS.items()})
    for derived in ruleset.derived:  # in file order: each may read those before it
        facts[derived.name] = derived.compute(facts)
    fired = [rule for rule in ruleset.rules if rule.when.holds(facts)]
    fit = _candidacy(fired)
    outcome = _outcome(fired, fit)
    # A red flag means the pain may come from what the doctor must rule out, so how well IMS
    # fits is not known yet; under 12, IMS is not offered. No candidacy is stored then, and
    # staff read what the candidacy rules gave under `candidacy_set_aside`.
    set_aside = outcome.medical or any(rule.sets_aside_candidacy for rule in fired)
    candidacy = None if set_aside else fit
    reasons = tuple(
        Reason(
            rule.id,
            rule.title,
            rule.outcome,
            rule.patient_text,
            rule.staff_rationale,
            rule.sources,
            {name: answers[name] for name in answers_read(rule.when, ruleset) if name in answers},
            rule.open_warning_sign,
        )
        for rule in sorted(fired, key=_by_rank)  # stable: file order within an outcome
    )
    indicators: dict[str, object] = {name: facts.get(name) for name in KEY_ANSWERS}  # a duration in weeks
    indicators.update({derived.name: facts[derived.name] for derived in ruleset.derived})
    indicators["candidacy"] = candidacy.value if candidacy else None
    indicators["candidacy_set_aside"] = fit.value if set_aside and fit else None
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


class _Facts(dict[str, object]):
    """Answers, built-in and derived facts by name, as conditions read them (`conditions.Facts`)."""

    def value(self, name: str) -> object | None:
        return self.get(name)


def _by_rank(rule: Rule) -> int:
    return rule.outcome.rank


def answers_read(condition: Condition, ruleset: RuleSet) -> tuple[str, ...]:
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
