"""What a rule change would have changed: stored results compared with the current rules' results.

Pure functions over stored results (dicts, as screenings store them) and fresh `Result`s; the app
feeds them from the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rules.engine import Result


@dataclass(frozen=True)
class Change:
    """How one screening's result would differ under the current rules."""

    reference: str
    old_outcome: str
    new_outcome: str
    rules_added: tuple[str, ...]
    rules_removed: tuple[str, ...]

    @property
    def outcome_changed(self) -> bool:
        return self.old_outcome != self.new_outcome


@dataclass
class Report:
    replayed: int = 0
    changes: list[Change] = field(default_factory=list)
    #: Screenings whose stored answers the current questionnaire no longer accepts.
    not_replayable: dict[str, list[str]] = field(default_factory=dict)

    @property
    def outcome_moves(self) -> Counter[tuple[str, str]]:
        """(old outcome, new outcome) -> how many screenings would move so."""
        return Counter((c.old_outcome, c.new_outcome) for c in self.changes if c.outcome_changed)

    def by_rule(self) -> dict[str, dict[str, list[str]]]:
        """Rule id -> {"added": [references], "removed": [references]}, for rules that fire differently."""
        result: dict[str, dict[str, list[str]]] = {}
        for change in self.changes:
            for rule_id in change.rules_added:
                result.setdefault(rule_id, {"added": [], "removed": []})["added"].append(change.reference)
            for rule_id in change.rules_removed:
                result.setdefault(rule_id, {"added": [], "removed": []})["removed"].append(change.reference)
        return dict(sorted(result.items()))


def compare(
    reference: str, stored_outcome: str, stored_reasons: Sequence[Mapping[str, object]], current: Result
) -> Change | None:
    """The difference between a stored result and the current one, or None when they agree."""
    old_rules = {str(reason["rule_id"]) for reason in stored_reasons}
    new_rules = set(current.rule_ids)
    if stored_outcome == current.outcome.value and old_rules == new_rules:
        return None
    return Change(
        reference,
        stored_outcome,
        current.outcome.value,
        tuple(sorted(new_rules - old_rules)),
        tuple(sorted(old_rules - new_rules)),
    )


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Agreement between two raters beyond chance (1 perfect, 0 chance level); None without data.

    Used for the rules' outcome against the physiotherapists' own outcome.
    """
    pairs = list(pairs)
    if not pairs:
        return None
    total = len(pairs)
    observed = sum(a == b for a, b in pairs) / total
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in first) / (total * total)
    if expected == 1:
        return 1.0 if observed == 1 else 0.0
    return (observed - expected) / (1 - expected)
