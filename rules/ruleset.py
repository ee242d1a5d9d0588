"""The IMS candidacy rule set, loaded from ``data/ruleset.yaml`` and checked against the questionnaire."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rules import conditions
from rules.conditions import Condition
from rules.datafile import DATA_DIR, load_yaml
from rules.errors import DataError
from rules.outcomes import Outcome
from rules.questionnaire import Questionnaire

#: Facts the evaluator computes itself from the questionnaire's categories; rules may read them.
BUILTIN_FACTS = {
    "unsure_red_flag": 'A red-flag question that applies was answered "not sure".',
    "unsure_safety": 'A safety (contraindication or precaution) question that applies was answered "not sure".',
    "missing_red_flag": "A red-flag question that applies has no answer.",
    "missing_safety": "A safety question that applies has no answer.",
    "missing_other": "Another required question that applies has no answer.",
}

RULE_KEYS = {
    "id",
    "title",
    "outcome",
    "when",
    "patient_text",
    "staff_rationale",
    "sources",
    "even_if_unlikely",
    "sets_aside_candidacy",
    "open_warning_sign",
}


@dataclass(frozen=True)
class Source:
    id: str
    citation: str
    url: str | None = None


@dataclass(frozen=True)
class Derived:
    """A named value computed from the answers: a boolean fact (`when`) or a count (`count`)."""

    name: str
    description: str
    condition: Condition | None = None
    counted: tuple[Condition, ...] = ()

    def compute(self, facts: conditions.Facts) -> bool | int:
        if self.condition is not None:
            return self.condition.holds(facts)
        return sum(c.holds(facts) for c in self.counted)

    def reads(self) -> list[Condition]:
        return [self.condition] if self.condition is not None else list(self.counted)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    outcome: Outcome
    when: Condition
    #: What the patient reads: plain words, never a diagnosis, always the next step.
    patient_text: str
    #: What the physiotherapist reads: the clinical reasoning, and any deviation from the evidence.
    staff_rationale: str
    sources: tuple[str, ...]
    #: A clinician_review rule that applies even when candidacy is "unlikely" (safety nets).
    even_if_unlikely: bool = False
    #: A not_suitable rule after which no candidacy is stored, because IMS is not offered at
    #: all (under 12). Red flags always set candidacy aside (`engine.evaluate`).
    sets_aside_candidacy: bool = False
    #: A safety net for a warning sign left open ("not sure", or no answer): its text is shown
    #: with a not_suitable result too, which outranks it (`Result.explaining`).
    open_warning_sign: bool = False


@dataclass(frozen=True)
class ChangelogEntry:
    version: str
    date: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: str
    digest: str
    rules: tuple[Rule, ...]
    derived: tuple[Derived, ...]
    sources: Mapping[str, Source] = field(default_factory=dict)
    #: Newest first.
    changelog: tuple[ChangelogEntry, ...] = ()

    @property
    def ruleset_version(self) -> str:
        """Human version plus content hash, e.g. ``1.0.0+3f2a9c41d0be``: what a screening was judged by."""
        return f"{self.version}+{self.digest[:12]}"

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def load_ruleset(
    questionnaire: Questionnaire,
    path: Path = DATA_DIR / "ruleset.yaml",
    sources_path: Path = DATA_DIR / "sources.yaml",
    changelog_path: Path | None = None,
) -> RuleSet:
    """Load the rule set and check it against the questionnaire; raise DataError listing every problem."""
    data = load_yaml(path)
    sources_data = load_yaml(sources_path)
    changelog_path = changelog_path or path.with_name("changelog.yaml")
    builder = _Builder(path.name, questionnaire)
    sources = builder.sources(sources_data, sources_path.name)
    ruleset = builder.build(data, sources, _digest(questionnaire.source_data, data, sources_data))
    changelog = builder.changelog(load_yaml(changelog_path), changelog_path.name, ruleset.version)
    ruleset = RuleSet(
        ruleset.name, ruleset.version, ruleset.digest, ruleset.rules, ruleset.derived, ruleset.sources, changelog
    )
    if builder.problems:
        raise DataError(*builder.problems)
    return ruleset


def _digest(*parts: object) -> str:
    """A content hash of the parsed data, so formatting changes do not change the version."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Builder:
    def __init__(self, filename: str, questionnaire: Questionnaire) -> None:
        self.filename = filename
        self.questionnaire = questionnaire
        self.questions = questionnaire.questions
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.filename}: {where}: {message}")

    def sources(self, data: object, filename: str) -> dict[str, Source]:
        if not isinstance(data, Mapping):
            self.problems.append(f"{filename}: expects a mapping of source id to citation")
            return {}
        result = {}
        for source_id, entry in data.items():
            if isinstance(entry, str):
                result[source_id] = Source(source_id, entry)
            elif isinstance(entry, Mapping) and entry.get("citation"):
                result[source_id] = Source(source_id, entry["citation"], entry.get("url"))
            else:
                self.problems.append(f"{filename}: {source_id}: needs a `citation`")
        return result

    def changelog(self, data: object, filename: str, current_version: str) -> tuple[ChangelogEntry, ...]:
        if not isinstance(data, list):
            self.problems.append(f"{filename}: expects a list of entries, newest first")
            return ()
        entries = []
        for index, item in enumerate(data):
            if not isinstance(item, Mapping) or not item.get("version") or not item.get("changes"):
                self.problems.append(f"{filename}: entry {index + 1} needs a `version`, a `date` and `changes`")
                continue
            entries.append(
                ChangelogEntry(
                    str(item["version"]),
                    str(item.get("date", "")),
                    tuple(" ".join(str(c).split()) for c in item["changes"]),
                )
            )
        if current_version and current_version not in {entry.version for entry in entries}:
            self.problems.append(
                f"{filename}: no entry for the current version {current_version}: say what changed and why"
            )
        return tuple(entries)

    def build(self, data: object, sources: Mapping[str, Source], digest: str) -> RuleSet:
        if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
            self.problem("top level", "expects `name`, `version`, `derived` and a `rules` list")
            return RuleSet("", "", digest, (), (), sources)
        known = set(self.questions) | set(BUILTIN_FACTS)
        derived = []
        for name, entry in (data.get("derived") or {}).items():
            item = self._derived(name, entry, known)
            if item is not None:
                derived.append(item)
                known.add(name)
        rules = []
        seen: set[str] = set()
        for index, entry in enumerate(data["rules"]):
            rule = self._rule(entry, f"rules[{index}]", known, sources)
            if rule is None:
                continue
            if rule.id in seen:
                self.problem(f"rule {rule.id}", "duplicate rule id")
            seen.add(rule.id)
            rules.append(rule)
        return RuleSet(
            str(data.get("name", "")), str(data.get("version", "")), digest, tuple(rules), tuple(derived), sources
        )

    def _derived(self, name: str, entry: object, known: set[str]) -> Derived | None:
        where = f"derived {name}"
        if name in self.questions or name in BUILTIN_FACTS:
            self.problem(where, "the name is already a question id or a built-in fact")
        if not isinstance(entry, Mapping) or not entry.get("description") or not ({"when", "count"} & set(entry)):
            self.problem(where, "needs a `description` and either `when` (a condition) or `count` (a list)")
            return None
        try:
            if "when" in entry:
                item = Derived(name, entry["description"], condition=conditions.parse(entry["when"], where))
            else:
                counted = conditions.parse({"any": entry["count"]}, where)
                item = Derived(name, entry["description"], counted=counted.conditions)  # type: ignore[attr-defined]
        except DataError as error:
            self.problems.extend(f"{self.filename}: {p}" for p in error.problems)
            return None
        for condition in item.reads():
            self._check_condition(condition, where, known)
        return item

    def _rule(self, entry: object, where: str, known: set[str], sources: Mapping[str, Source]) -> Rule | None:
        if not isinstance(entry, Mapping) or not entry.get("id"):
            self.problem(where, "a rule needs an `id`")
            return None
        where = f"rule {entry['id']}"
        for key in set(entry) - RULE_KEYS:
            self.problem(where, f"unknown key {key!r}")
        for key in ("title", "outcome", "when", "patient_text", "staff_rationale"):
            if not entry.get(key):
                self.problem(where, f"missing `{key}`")
        if not entry.get("sources"):
            self.problem(where, "has no source: every rule must cite the clinical evidence")
        for source_id in entry.get("sources") or []:
            if source_id not in sources:
                self.problem(where, f"cites {source_id!r}, which is not in sources.yaml")
        try:
            outcome = Outcome(str(entry.get("outcome")))
        except ValueError:
            self.problem(where, f"unknown outcome {entry.get('outcome')!r}")
            return None
        if entry.get("even_if_unlikely") and outcome is not Outcome.CLINICIAN_REVIEW:
            self.problem(where, "`even_if_unlikely` only makes sense for a clinician_review rule")
        if entry.get("sets_aside_candidacy") and outcome is not Outcome.NOT_SUITABLE:
            self.problem(where, "`sets_aside_candidacy` is for not_suitable rules (red flags always set it aside)")
        if entry.get("open_warning_sign") and outcome is not Outcome.CLINICIAN_REVIEW:
            self.problem(where, "`open_warning_sign` is for clinician_review safety nets")
        if not entry.get("when"):
            return None
        try:
            when = conditions.parse(entry["when"], f"{self.filename}: {where}: when")
        except DataError as error:
            self.problems.extend(error.problems)
            return None
        self._check_condition(when, where, known)
        return Rule(
            id=entry["id"],
            title=entry.get("title", ""),
            outcome=outcome,
            when=when,
            patient_text=" ".join(str(entry.get("patient_text", "")).split()),
            staff_rationale=" ".join(str(entry.get("staff_rationale", "")).split()),
            sources=tuple(entry.get("sources") or ()),
            even_if_unlikely=bool(entry.get("even_if_unlikely", False)),
            sets_aside_candidacy=bool(entry.get("sets_aside_candidacy", False)),
            open_warning_sign=bool(entry.get("open_warning_sign", False)),
        )

    def _check_condition(self, condition: Condition, where: str, known: set[str]) -> None:
        for name in condition.names():
            if name not in known:
                self.problem(where, f"reads {name!r}, which is neither a question id nor an earlier derived fact")
        for name, value in condition.compared_values():
            question = self.questions.get(name)
            if question is not None and question.choices and value not in question.choice_values:
                self.problem(where, f"compares {name} with {value!r}, which is not one of its choices")
