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


WARNING_SIGNS = rules.questionnaire().section("warning_signs")
assert WARNING_SIGNS is not None
CHECKLIST = WARNING_SIGNS.checklists[0].id
ITEMS = {item: CHECKLIST for item in WARNING_SIGNS.checklists[0].item_ids}
SIGNS = {q.id: q for q in WARNING_SIGNS.questions}


@pytest.mark.parametrize(
    ("data", "selector"),
    [
        ({"equals": ["rf_stroke_signs", "yes"]}, checked(CHECKLIST, "rf_stroke_signs")),
        (
            {"equals": ["rf_stroke_signs", "unsure"]},
            checked(CHECKLIST, "unsure") + checked(f"{CHECKLIST}__unsure", "rf_stroke_signs"),
        ),
        (
            {"one_of": ["rf_stroke_signs", ["yes", "unsure"]]},
            f":is(*{checked(CHECKLIST, 'rf_stroke_signs')},"
            f" *{checked(CHECKLIST, 'unsure')}{checked(f'{CHECKLIST}__unsure', 'rf_stroke_signs')})",
        ),
        ({"answered": "rf_stroke_signs"}, f':has(input[name="{CHECKLIST}"]:checked)'),
    ],
)
def test_a_checklist_item_reveals_its_follow_up_when_ticked_or_marked_not_sure(data: object, selector: str) -> None:
    assert reveal.selector_for(conditions.parse(data, "test"), SIGNS, ITEMS) == selector


@pytest.mark.parametrize(
    "data",
    [{"equals": ["rf_stroke_signs", "no"]}, {"one_of": ["rf_stroke_signs", ["no", "unsure"]]}],
)
def test_a_checklist_item_answered_no_is_left_to_the_server(data: object) -> None:
    """ "No" is no checkbox of its own: it is every item not ticked once the checklist is answered."""
    assert reveal.selector_for(conditions.parse(data, "test"), SIGNS, ITEMS) is None


def test_not_sure_reveals_which_ones_in_css() -> None:
    css = reveal.stylesheet()
    hidden = f"form.question-page #{CHECKLIST}__unsure-reveal"
    assert hidden in css.split("{ display: none; }")[0]
    assert (
        f'form.question-page:has(input[name="{CHECKLIST}"][value="unsure"]:checked) #{CHECKLIST}__unsure-reveal'
        " { display: block; }"
    ) in css
