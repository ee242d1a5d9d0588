"""The CSS reveal's translation of conditions into selectors (app/patient/reveal.py), kind by kind."""

from __future__ import annotations

import pytest

import rules
from app.patient import reveal
from rules import conditions

ON_PAGE = {q.id: q for q in rules.questionnaire().section("medicines").questions}  # type: ignore[union-attr]


def checked(name: str, value: str) -> str:
    return f':has(input[name="{name}"][value="{value}"]:checked)'


@pytest.mark.parametrize(
    ("data", "selector"),
    [
        ({"equals": ["blood_thinners", "yes"]}, checked("blood_thinners", "yes")),
        (
            {"one_of": ["blood_thinners", ["yes", "unsure"]]},
            f":is(*{checked('blood_thinners', 'yes')}, *{checked('blood_thinners', 'unsure')})",
        ),
        ({"includes": ["blood_thinners", "yes"]}, f":is(*{checked('blood_thinners', 'yes')})"),
        ({"answered": "blood_thinners"}, ':has(input[name="blood_thinners"]:checked)'),
        ({"not": {"equals": ["blood_thinners", "no"]}}, f":not({checked('blood_thinners', 'no')})"),
        (
            {
                "any": [
                    {"all": [{"equals": ["blood_thinners", "yes"]}, {"answered": "blood_thinners"}]},
                    {"equals": ["blood_thinners", "unsure"]},
                ]
            },
            f':is(*{checked("blood_thinners", "yes")}:has(input[name="blood_thinners"]:checked),'
            f" *{checked('blood_thinners', 'unsure')})",
        ),
    ],
)
def test_conditions_on_choices_of_the_page_become_selectors(data: object, selector: str) -> None:
    assert reveal.selector_for(conditions.parse(data, "test"), ON_PAGE) == selector


@pytest.mark.parametrize(
    "data",
    [
        {"equals": ["respondent", "proxy"]},  # another page
        {"at_least": ["blood_thinners", 1]},
        {"fact": "blood_thinners"},
        {"count_of": {"at_least": 1, "of": [{"equals": ["blood_thinners", "yes"]}]}},
        {"all": [{"equals": ["blood_thinners", "yes"]}, {"equals": ["age", 30]}]},  # one part CSS cannot say
        {"not": {"equals": ["age", 30]}},
    ],
)
def test_what_css_cannot_say_is_left_to_the_server(data: object) -> None:
    assert reveal.selector_for(conditions.parse(data, "test"), ON_PAGE) is None
