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


@dataclass
class FollowUpReport:
    """How a proposed rule set would have sorted the patients whose follow-up says how they fared:
    for each move from the stored outcome to the proposed one, how many improved (much or very much
    better) and how many did not."""

    #: The time point read (weeks after the first appointment), or None for each patient's latest answer.
    week: int | None = None
    #: (stored outcome, proposed outcome) -> [improved, not improved].
    moves: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    #: Screenings whose stored answers the current questionnaire no longer accepts.
    not_replayable: dict[str, list[str]] = field(default_factory=dict)

    def add(self, old_outcome: str, new_outcome: str, improved: bool) -> None:
        """Count one patient."""
        counts = self.moves.setdefault((old_outcome, new_outcome), [0, 0])
        counts[0 if improved else 1] += 1

    @property
    def patients(self) -> int:
        return sum(sum(counts) for counts in self.moves.values())

    def by(self, side: int) -> dict[str, list[int]]:
        """Outcome -> [improved, not improved], by the stored outcome (`side` 0) or the proposed one (1)."""
        totals: dict[str, list[int]] = {}
        for outcomes, (improved, not_improved) in self.moves.items():
            counts = totals.setdefault(outcomes[side], [0, 0])
            counts[0] += improved
            counts[1] += not_improved
        return totals
