"""The condition vocabulary: truth tables, missing answers, and malformed data."""

from __future__ import annotations

import pytest

from rules import conditions
from rules.errors import DataError


class Facts(dict):
    def value(self, name: str) -> object | None:
        return self.get(name)


def holds(data: object, **facts: object) -> bool:
    condition = conditions.parse(data, "test")
    return condition.holds(Facts(facts))


@pytest.mark.parametrize(
    ("data", "facts", "expected"),
    [
        ({"equals": ["a", "yes"]}, {"a": "yes"}, True),
        ({"equals": ["a", "yes"]}, {"a": "no"}, False),
        ({"one_of": ["a", ["x", "y"]]}, {"a": "y"}, True),
        ({"one_of": ["a", ["x", "y"]]}, {"a": "z"}, False),
        ({"includes": ["a", "x"]}, {"a": ["w", "x"]}, True),
        ({"includes": ["a", "x"]}, {"a": ["w"]}, False),
        ({"includes": ["a", "x"]}, {"a": "x"}, False),  # a single answer is not a list
        ({"includes_any": ["a", ["x", "y"]]}, {"a": ["y"]}, True),
        ({"includes_any": ["a", ["x", "y"]]}, {"a": ["z"]}, False),
        ({"at_least": ["n", 12]}, {"n": 12}, True),
        ({"at_least": ["n", 12]}, {"n": 11}, False),
        ({"at_most": ["n", 5]}, {"n": 5}, True),
        ({"at_most": ["n", 5]}, {"n": 6}, False),
        ({"at_least": ["n", 1]}, {"n": True}, False),  # booleans are not numbers
        ({"answered": "a"}, {"a": "no"}, True),
        ({"fact": "f"}, {"f": True}, True),
        ({"fact": "f"}, {"f": 1}, False),  # only a real True is a fact
        ({"all": [{"fact": "f"}, {"fact": "g"}]}, {"f": True, "g": True}, True),
        ({"all": [{"fact": "f"}, {"fact": "g"}]}, {"f": True, "g": False}, False),
        ({"any": [{"fact": "f"}, {"fact": "g"}]}, {"f": False, "g": True}, True),
        ({"any": [{"fact": "f"}, {"fact": "g"}]}, {"f": False, "g": False}, False),
        ({"not": {"fact": "f"}}, {"f": False}, True),
        (
            {"count_of": {"at_least": 2, "of": [{"fact": "f"}, {"fact": "g"}, {"fact": "h"}]}},
            {"f": True, "h": True},
            True,
        ),
        ({"count_of": {"at_least": 2, "of": [{"fact": "f"}, {"fact": "g"}, {"fact": "h"}]}}, {"h": True}, False),
    ],
)
def test_operator_truth_table(data: object, facts: dict[str, object], expected: bool) -> None:
    assert holds(data, **facts) is expected


@pytest.mark.parametrize(
    "data",
    [
        {"equals": ["a", "yes"]},
        {"one_of": ["a", ["yes"]]},
        {"includes": ["a", "yes"]},
        {"at_least": ["a", 0]},
        {"at_most": ["a", 10]},
        {"answered": "a"},
        {"fact": "a"},
    ],
)
def test_a_missing_answer_never_satisfies_a_comparison(data: object) -> None:
    assert holds(data) is False
    assert holds({"not": data}) is True  # which is why the rule set has explicit M- rules


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"equal": ["a", 1]}, "unknown condition operator 'equal'"),
        ({"equals": ["a", 1], "any": []}, "exactly one operator"),
        ("a", "exactly one operator"),
        ({"all": []}, "non-empty list"),
        ({"equals": ["a"]}, "expects [name, value]"),
        ({"one_of": ["a", "yes"]}, "non-empty list"),
        ({"at_least": ["a", "3"]}, "must be a number"),
        ({"count_of": {"at_least": 0, "of": [{"fact": "f"}]}}, "at least 1"),
        ({"answered": ""}, "question id or fact name"),
    ],
)
def test_malformed_conditions_name_the_place_and_problem(data: object, message: str) -> None:
    with pytest.raises(DataError) as raised:
        conditions.parse(data, "rule X-1.when")
    assert "rule X-1.when" in str(raised.value)
    assert message in str(raised.value)


def test_names_and_compared_values_cover_nested_conditions() -> None:
    condition = conditions.parse(
        {"all": [{"equals": ["a", "yes"]}, {"not": {"includes_any": ["b", ["x", "y"]]}}, {"at_least": ["c", 3]}]},
        "test",
    )
    assert list(condition.names()) == ["a", "b", "c"]
    assert list(condition.compared_values()) == [("a", "yes"), ("b", "x"), ("b", "y")]


class KindNames(conditions.Visitor[str]):
    """The operator each condition was written with, found through the visitor alone."""

    def visit_all(self, condition: conditions.All) -> str:
        return "all(" + ", ".join(part.accept(self) for part in condition.conditions) + ")"

    def visit_any(self, condition: conditions.AnyOf) -> str:
        return "any(" + ", ".join(part.accept(self) for part in condition.conditions) + ")"

    def visit_count_of(self, condition: conditions.CountOf) -> str:
        return f"count_of({condition.minimum}: " + ", ".join(part.accept(self) for part in condition.conditions) + ")"

    def visit_not(self, condition: conditions.Not) -> str:
        return f"not({condition.condition.accept(self)})"

    def visit_answered(self, condition: conditions.Answered) -> str:
        return "answered"

    def visit_fact(self, condition: conditions.Fact) -> str:
        return "fact"

    def visit_equals(self, condition: conditions.Equals) -> str:
        return "equals"

    def visit_one_of(self, condition: conditions.OneOf) -> str:
        return "one_of"

    def visit_includes_any(self, condition: conditions.IncludesAny) -> str:
        return "includes_any"

    def visit_at_least(self, condition: conditions.AtLeast) -> str:
        return "at_least"

    def visit_at_most(self, condition: conditions.AtMost) -> str:
        return "at_most"


def test_the_visitor_reaches_one_method_per_kind_whatever_the_class_hierarchy() -> None:
    condition = conditions.parse(
        {
            "any": [
                {"all": [{"equals": ["a", "yes"]}, {"one_of": ["a", ["x"]]}, {"includes": ["b", "x"]}]},
                {"count_of": {"at_least": 1, "of": [{"answered": "c"}, {"fact": "f"}]}},
                {"not": {"includes_any": ["b", ["x", "y"]]}},
                {"at_least": ["n", 1]},
                {"at_most": ["n", 9]},
            ]
        },
        "test",
    )
    assert condition.accept(KindNames()) == (
        "any(all(equals, one_of, includes_any), count_of(1: answered, fact), not(includes_any), at_least, at_most)"
    )


def test_a_kind_a_visitor_does_not_handle_goes_to_otherwise() -> None:
    class OnlyEquals(conditions.Visitor[str]):
        def visit_equals(self, condition: conditions.Equals) -> str:
            return condition.name

        def otherwise(self, condition: conditions.Condition) -> str:
            return "?"

    assert conditions.parse({"equals": ["a", 1]}, "test").accept(OnlyEquals()) == "a"
    assert conditions.parse({"at_most": ["a", 1]}, "test").accept(OnlyEquals()) == "?"
    with pytest.raises(conditions.UnhandledCondition, match="Visitor has no case"):
        conditions.parse({"fact": "f"}, "test").accept(conditions.Visitor[str]())
