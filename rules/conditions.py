"""The closed condition vocabulary that rules and `enable_when` are written in.

A condition is a one-key mapping in the data files, for example::

    all:
      - equals: [rf_saddle_numbness, "yes"]
      - at_least: [age, 12]

Operators: ``all``, ``any``, ``not`` combine conditions; ``equals``, ``one_of``,
``includes``, ``includes_any``, ``at_least``, ``at_most`` compare one answer (or derived
value); ``answered`` tests presence; ``fact`` reads a named derived fact; ``count_of``
counts how many of several conditions hold.

Code that translates conditions into something else (the web app's CSS reveal and FHIR export)
does it with a `Visitor`, one method per kind, rather than by testing classes.

An unanswered question makes every comparison on it false (and so ``not`` of it true).
That is deliberate and safe only because the rule set also has explicit safety-net rules
for missing and "not sure" answers: a gap is always caught by a rule, never by chance.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from rules.errors import DataError

T = TypeVar("T")


class Facts(Protocol):
    """What a condition can read: answers and derived values, by name."""

    def value(self, name: str) -> object | None:
        """The answer or derived value called `name`, or None when there is none."""


class Condition:
    """A boolean test over the facts. Subclasses are small frozen dataclasses."""

    def holds(self, facts: Facts) -> bool:
        raise NotImplementedError

    def names(self) -> Iterator[str]:
        """Every question id or derived name the condition reads."""
        raise NotImplementedError

    def compared_values(self) -> Iterator[tuple[str, object]]:
        """(name, value) pairs the condition compares, so loaders can check the values exist."""
        return iter(())

    def accept(self, visitor: Visitor[T]) -> T:
        """`visitor`'s method for this kind of condition, called with it (see `Visitor`)."""
        return visitor.otherwise(self)


@dataclass(frozen=True)
class All(Condition):
    conditions: tuple[Condition, ...]

    def holds(self, facts: Facts) -> bool:
        return all(c.holds(facts) for c in self.conditions)

    def names(self) -> Iterator[str]:
        for condition in self.conditions:
            yield from condition.names()

    def compared_values(self) -> Iterator[tuple[str, object]]:
        for condition in self.conditions:
            yield from condition.compared_values()

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_all(self)


@dataclass(frozen=True)
class AnyOf(All):
    def holds(self, facts: Facts) -> bool:
        return any(c.holds(facts) for c in self.conditions)

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_any(self)


@dataclass(frozen=True)
class CountOf(All):
    """True when at least `minimum` of the conditions hold."""

    minimum: int = 1

    def holds(self, facts: Facts) -> bool:
        return sum(c.holds(facts) for c in self.conditions) >= self.minimum

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_count_of(self)


@dataclass(frozen=True)
class Not(Condition):
    condition: Condition

    def holds(self, facts: Facts) -> bool:
        return not self.condition.holds(facts)

    def names(self) -> Iterator[str]:
        return self.condition.names()

    def compared_values(self) -> Iterator[tuple[str, object]]:
        return self.condition.compared_values()

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_not(self)


@dataclass(frozen=True)
class Answered(Condition):
    name: str

    def holds(self, facts: Facts) -> bool:
        return facts.value(self.name) is not None

    def names(self) -> Iterator[str]:
        yield self.name

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_answered(self)


@dataclass(frozen=True)
class Fact(Answered):
    """A named derived fact is true."""

    def holds(self, facts: Facts) -> bool:
        return facts.value(self.name) is True

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_fact(self)


@dataclass(frozen=True)
class Equals(Condition):
    name: str
    expected: object

    def holds(self, facts: Facts) -> bool:
        return facts.value(self.name) == self.expected

    def names(self) -> Iterator[str]:
        yield self.name

    def compared_values(self) -> Iterator[tuple[str, object]]:
        yield self.name, self.expected

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_equals(self)


@dataclass(frozen=True)
class OneOf(Condition):
    name: str
    expected: tuple[object, ...]

    def holds(self, facts: Facts) -> bool:
        return facts.value(self.name) in self.expected

    def names(self) -> Iterator[str]:
        yield self.name

    def compared_values(self) -> Iterator[tuple[str, object]]:
        for value in self.expected:
            yield self.name, value

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_one_of(self)


@dataclass(frozen=True)
class IncludesAny(OneOf):
    """A multiple-choice answer contains at least one of the values."""

    def holds(self, facts: Facts) -> bool:
        chosen = facts.value(self.name)
        return isinstance(chosen, (list, tuple)) and any(v in chosen for v in self.expected)

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_includes_any(self)


@dataclass(frozen=True)
class AtLeast(Condition):
    name: str
    bound: int | float

    def holds(self, facts: Facts) -> bool:
        value = facts.value(self.name)
        return _is_number(value) and value >= self.bound  # type: ignore[operator]

    def names(self) -> Iterator[str]:
        yield self.name

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_at_least(self)


@dataclass(frozen=True)
class AtMost(AtLeast):
    def holds(self, facts: Facts) -> bool:
        value = facts.value(self.name)
        return _is_number(value) and value <= self.bound  # type: ignore[operator]

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.visit_at_most(self)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class UnhandledCondition(TypeError):
    """A visitor was given a kind of condition it has no method for, and no `otherwise`."""


class Visitor(Generic[T]):
    """One method per kind of condition, so code outside the evaluator can translate conditions
    (into CSS selectors, FHIR enableWhen, ...) without testing their classes itself.

    `condition.accept(visitor)` calls the method for the condition's kind; a visitor recurses by
    calling `accept` on the parts it wants. Each method not overridden calls `otherwise`, which
    raises: a visitor either handles every kind or says what the rest mean.
    """

    def otherwise(self, condition: Condition) -> T:
        raise UnhandledCondition(f"{type(self).__name__} has no case for {condition!r}")

    def visit_all(self, condition: All) -> T:
        return self.otherwise(condition)

    def visit_any(self, condition: AnyOf) -> T:
        return self.otherwise(condition)

    def visit_count_of(self, condition: CountOf) -> T:
        return self.otherwise(condition)

    def visit_not(self, condition: Not) -> T:
        return self.otherwise(condition)

    def visit_answered(self, condition: Answered) -> T:
        return self.otherwise(condition)

    def visit_fact(self, condition: Fact) -> T:
        return self.otherwise(condition)

    def visit_equals(self, condition: Equals) -> T:
        return self.otherwise(condition)

    def visit_one_of(self, condition: OneOf) -> T:
        return self.otherwise(condition)

    def visit_includes_any(self, condition: IncludesAny) -> T:
        """Both ``includes`` (one value) and ``includes_any``."""
        return self.otherwise(condition)

    def visit_at_least(self, condition: AtLeast) -> T:
        return self.otherwise(condition)

    def visit_at_most(self, condition: AtMost) -> T:
        return self.otherwise(condition)


def parse(data: object, where: str) -> Condition:
    """Build a condition from its data-file form; `where` names the place for error messages."""
    if not isinstance(data, Mapping) or len(data) != 1:
        raise DataError(f"{where}: a condition is a mapping with exactly one operator, got {data!r}")
    ((operator, operand),) = data.items()
    parser = _PARSERS.get(operator)
    if parser is None:
        known = ", ".join(sorted(_PARSERS))
        raise DataError(f"{where}: unknown condition operator {operator!r} (known: {known})")
    return parser(operand, f"{where}.{operator}")


def _conditions(operand: object, where: str) -> tuple[Condition, ...]:
    if not isinstance(operand, Sequence) or isinstance(operand, str) or not operand:
        raise DataError(f"{where}: expects a non-empty list of conditions")
    return tuple(parse(item, f"{where}[{i}]") for i, item in enumerate(operand))


def _pair(operand: object, where: str) -> tuple[str, object]:
    if (
        not isinstance(operand, Sequence)
        or isinstance(operand, str)
        or len(operand) != 2
        or not isinstance(operand[0], str)
    ):
        raise DataError(f"{where}: expects [name, value], got {operand!r}")
    return operand[0], operand[1]


def _name(operand: object, where: str) -> str:
    if not isinstance(operand, str) or not operand:
        raise DataError(f"{where}: expects a question id or fact name, got {operand!r}")
    return operand


def _values(name: str, values: object, where: str) -> tuple[object, ...]:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise DataError(f"{where}: expects [{name}, [value, ...]] with a non-empty list")
    return tuple(values)


def _number(name: str, bound: object, where: str) -> int | float:
    if not _is_number(bound):
        raise DataError(f"{where}: the bound for {name} must be a number, got {bound!r}")
    return bound  # type: ignore[return-value]


def _parse_count_of(operand: object, where: str) -> Condition:
    if not isinstance(operand, Mapping) or set(operand) != {"at_least", "of"}:
        raise DataError(f"{where}: expects {{at_least: N, of: [conditions]}}")
    minimum = operand["at_least"]
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
        raise DataError(f"{where}.at_least: expects a whole number of at least 1")
    return CountOf(_conditions(operand["of"], f"{where}.of"), minimum)


def _parse_equals(operand: object, where: str) -> Condition:
    return Equals(*_pair(operand, where))


def _parse_one_of(operand: object, where: str) -> Condition:
    name, values = _pair(operand, where)
    return OneOf(name, _values(name, values, where))


def _parse_includes(operand: object, where: str) -> Condition:
    name, value = _pair(operand, where)
    return IncludesAny(name, (value,))


def _parse_includes_any(operand: object, where: str) -> Condition:
    name, values = _pair(operand, where)
    return IncludesAny(name, _values(name, values, where))


def _parse_at_least(operand: object, where: str) -> Condition:
    name, bound = _pair(operand, where)
    return AtLeast(name, _number(name, bound, where))


def _parse_at_most(operand: object, where: str) -> Condition:
    name, bound = _pair(operand, where)
    return AtMost(name, _number(name, bound, where))


_PARSERS = {
    "all": lambda operand, where: All(_conditions(operand, where)),
    "any": lambda operand, where: AnyOf(_conditions(operand, where)),
    "not": lambda operand, where: Not(parse(operand, where)),
    "count_of": _parse_count_of,
    "answered": lambda operand, where: Answered(_name(operand, where)),
    "fact": lambda operand, where: Fact(_name(operand, where)),
    "equals": _parse_equals,
    "one_of": _parse_one_of,
    "includes": _parse_includes,
    "includes_any": _parse_includes_any,
    "at_least": _parse_at_least,
    "at_most": _parse_at_most,
}

#: The operator names, for the data dictionary and documentation.
OPERATORS = tuple(sorted(_PARSERS))
