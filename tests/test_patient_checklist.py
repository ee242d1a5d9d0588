"""Checklists: several yes/no/not-sure questions asked as one set of checkboxes (issue 14), while
each is stored as its own answer. Ticks to answers and back, the messages, the check page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import Form

import rules
from app.patient.forms import CHECKLIST_MISSING, NOT_SURE_SUFFIX, ChecklistField
from rules.questionnaire import UNSURE, Checklist
from tests.support.journey import (
    CHECK,
    RESULT,
    Journey,
    Page,
    answers_before,
    form_data,
    only_screening,
    profile,
    seed_draft,
    unchanged,
)

SECTION = rules.questionnaire().section("warning_signs")
assert SECTION is not None
[CHECKLIST] = SECTION.checklists
NAME = CHECKLIST.id
NOT_SURE = NAME + NOT_SURE_SUFFIX
ITEMS = CHECKLIST.item_ids
IDEAL = profile("ideal_neck")
NONE_OF_THESE = dict.fromkeys(ITEMS, "no")


class ChecklistForm(Form):
    """The checklist's field alone, outside any request: the conversion is the field's own."""

    warning_signs_now = ChecklistField(CHECKLIST.text, [], checklist=CHECKLIST)


def posted(ticked: list[str], not_sure: list[str] = ()) -> ChecklistField:  # type: ignore[assignment]
    form = ChecklistForm(MultiDict([*((NAME, v) for v in ticked), *((NOT_SURE, v) for v in not_sure)]))
    form.validate()
    return form.warning_signs_now


def shown(answers: dict[str, object | None]) -> ChecklistField:
    return ChecklistForm(data={NAME: answers}).warning_signs_now


# --- Ticks to answers and back, in the field ----------------------------------------------------


def test_ticked_items_are_yes_and_every_other_item_no() -> None:
    field = posted(["rf_bladder_bowel", "rf_calf_swelling"])
    assert field.data == {**NONE_OF_THESE, "rf_bladder_bowel": "yes", "rf_calf_swelling": "yes"}
    assert field.errors == []


def test_none_of_these_is_no_to_every_item() -> None:
    assert posted(["none"]).data == NONE_OF_THESE


def test_items_marked_not_sure_are_unsure_beside_those_ticked() -> None:
    field = posted(["rf_stroke_signs", "unsure"], ["rf_severe_headache", "rf_sexual_change"])
    assert field.data == {
        **NONE_OF_THESE,
        "rf_stroke_signs": "yes",
        "rf_severe_headache": UNSURE,
        "rf_sexual_change": UNSURE,
    }


def test_the_not_sure_list_counts_only_under_not_sure() -> None:
    """Left ticked in the hidden list after "not sure" was unticked: ignored, as a follow-up
    that no longer applies is."""
    assert posted(["none"], ["rf_severe_headache"]).data == NONE_OF_THESE


@pytest.mark.parametrize(
    ("ticked", "not_sure", "message", "error_in"),
    [
        (["none", "rf_bladder_bowel"], [], "“None of these” cannot be selected together with other answers", "ticked"),
        (["none", "unsure"], ["rf_bladder_bowel"], "“None of these” cannot be selected together", "ticked"),
        (
            ["rf_bladder_bowel", "unsure"],
            ["rf_bladder_bowel"],
            "“New trouble with the bladder or bowels” is selected and also marked not sure: select one or the other",
            "ticked",
        ),
        (["unsure"], [], "Select the ones you are not sure about", "not_sure"),
        (["rf_shoe_size"], [], "Select from the answers shown", "ticked"),
        (["rf_bladder_bowel", "rf_bladder_bowel"], [], "Select from the answers shown", "ticked"),
        (["unsure"], ["rf_shoe_size"], "Select from the answers shown", "not_sure"),
    ],
)
def test_what_cannot_be_read_is_refused_with_a_clear_message(
    ticked: list[str], not_sure: list[str], message: str, error_in: str
) -> None:
    field = posted(ticked, not_sure)
    assert field.data is None
    assert len(field.errors) == 1 and field.errors[0].startswith(message), field.errors
    assert field.error_in == error_in
    assert field.error_anchor == (f"{NOT_SURE}-0" if error_in == "not_sure" else f"{NAME}-0")
    assert field.ticked == ticked  # shown again as posted


def test_nothing_ticked_is_no_answer() -> None:
    field = posted([])
    assert field.data is None and field.errors == []  # the page's validator says what to do


@pytest.mark.parametrize(
    ("answers", "ticked", "not_sure"),
    [
        (NONE_OF_THESE, ["none"], []),
        ({**NONE_OF_THESE, "rf_calf_swelling": "yes"}, ["rf_calf_swelling"], []),
        (
            {**NONE_OF_THESE, "rf_calf_swelling": "yes", "rf_stroke_signs": UNSURE},
            ["rf_calf_swelling", "unsure"],
            ["rf_stroke_signs"],
        ),
        ({**NONE_OF_THESE, "rf_stroke_signs": None}, [], []),  # one asked again: not "None of these"
        ({}, [], []),
    ],
)
def test_stored_answers_are_shown_as_the_ticks_that_give_them(
    answers: dict[str, object | None], ticked: list[str], not_sure: list[str]
) -> None:
    field = shown(answers)
    assert (field.ticked, field.not_sure) == (ticked, not_sure)


@given(st.fixed_dictionaries({item: st.sampled_from(["yes", "no", UNSURE]) for item in ITEMS}))
def test_any_answers_shown_as_ticks_and_posted_back_are_the_same_answers(answers: dict[str, object]) -> None:
    field = shown(answers)
    again = posted(field.ticked, field.not_sure)
    assert again.errors == []
    assert again.data == answers


# --- Through the pages -------------------------------------------------------------------------


def post(journey: Journey, data: dict[str, object], action: str = "continue") -> Page:
    """Post the page; when it is refused, the page it redirects to (itself), showing why."""
    response = journey.post_step("warning_signs", {"action": action, **data})
    if response.status_code == 303 and response.location == "/screening/warning_signs":
        return journey.page(response.location)
    return Page(response)


def test_the_page_asks_one_question_and_stores_an_answer_for_each_item(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("warning_signs", IDEAL))
    journey = Journey(client)
    page = journey.page("/screening/warning_signs")
    # The checklist, "Which are you not sure about?", each sign's plainer rewording (shown only
    # for a sign marked not sure) and the details asked after a "yes" (shown only then).
    follow_ups = {q.id for q in SECTION.questions if q.id not in ITEMS}
    assert {f"{item}_plain" for item in ITEMS} | {"headache_detail", "calf_swelling_detail"} == follow_ups
    assert page.html.count("<legend") == 2 + len(follow_ups)
    assert {i.get("name") for i in page.inputs} - {"csrf_token", "action", "return_to"} == {NAME, NOT_SURE} | follow_ups
    response = journey.post_step(
        "warning_signs",
        {"action": "continue", NAME: ["unsure"], NOT_SURE: ["rf_calf_swelling"], "rf_calf_swelling_plain": "no"},
    )
    assert response.location == "/screening/pain_history"
    stored = only_screening(app)["answers"]
    assert {item: stored[item] for item in ITEMS} == {**NONE_OF_THESE, "rf_calf_swelling": UNSURE}
    assert stored["rf_calf_swelling_plain"] == "no"
    again = journey.page("/screening/warning_signs")
    assert (again.checked(NAME), again.checked(NOT_SURE)) == ({"unsure"}, {"rf_calf_swelling"})


def test_a_ticked_emergency_sign_sends_the_screening_at_once(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("warning_signs", IDEAL))
    response = Journey(client).post_step("warning_signs", {"action": "continue", NAME: ["rf_after_needling"]})
    assert response.location == "/screening/result"
    stored = only_screening(app)
    assert (stored["outcome"], stored["answers"]["rf_after_needling"]) == ("emergency", "yes")


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("data", "message", "link"),
    [
        ({}, str(CHECKLIST_MISSING), f"{NAME}-0"),
        (
            {NAME: ["none", "unsure"], NOT_SURE: ["rf_sexual_change"]},
            "“None of these” cannot be selected together",
            f"{NAME}-0",
        ),
        ({NAME: ["unsure"]}, "Select the ones you are not sure about", f"{NOT_SURE}-0"),
        ({NAME: ["yes"]}, "Select from the answers shown", f"{NAME}-0"),
    ],
)
def test_a_refused_checklist_says_why_beside_it_and_in_the_summary(
    app: Flask, client: FlaskClient, data: dict[str, object], message: str, link: str
) -> None:
    seed_draft(app, client, answers_before("warning_signs", IDEAL))
    with unchanged(app):
        page = post(Journey(client), data)
    assert page.status == 200  # the page it redirected to, showing the refusal once
    assert page.title.startswith("Error: ")
    assert page.error_summary_links() == [link]
    assert link in page.ids
    [(where, shown_message)] = page.field_errors().items()
    assert where == link.rsplit("-", 1)[0] and message in shown_message
    # The checklist's fieldset is described by its error, or the "not sure" one by it.
    assert re.search(rf'<fieldset class="fieldset" aria-describedby="[^"]*{where}-error', page.html)
    for name, values in data.items():  # ticked as posted (a made-up value has no checkbox)
        offered = {str(i.get("value")) for i in page.inputs if i.get("name") == name}
        assert page.checked(name) == set(values) & offered  # type: ignore[arg-type]


def test_save_and_come_back_later_keeps_a_valid_checklist_and_not_a_refused_one(
    app: Flask, client: FlaskClient
) -> None:
    answers = {**IDEAL, "rf_calf_swelling": UNSURE, "rf_calf_swelling_plain": "no"}
    seed_draft(app, client, answers_before("pain_history", answers))
    journey = Journey(client)
    refused = post(journey, {NAME: ["none", "unsure"], NOT_SURE: ["rf_sexual_change"]}, action="save")
    assert refused.response.location == "/screening/saved"
    kept = only_screening(app)["answers"]
    assert {item: kept[item] for item in ITEMS} == {**NONE_OF_THESE, "rf_calf_swelling": UNSURE}


@pytest.mark.one_backend
@pytest.mark.parametrize(
    "data",
    [
        pytest.param({NAME: ["none", "rf_sexual_change"]}, id="ticked with None of these"),
        pytest.param({NAME: ["rf_sexual_change", "unsure"], NOT_SURE: ["rf_sexual_change"]}, id="ticked and not sure"),
    ],
)
def test_a_ticked_warning_sign_in_a_contradictory_list_still_gets_the_emergency_advice(
    app: Flask, client: FlaskClient, data: dict[str, object]
) -> None:
    """A contradiction elsewhere in the list does not hold back a sign the person ticked: the
    advice comes at once, and "I chose this by mistake" is there if the tick was a slip."""
    seed_draft(app, client, answers_before("warning_signs", IDEAL))
    response = post(Journey(client), data, action="continue").response
    assert response.location == RESULT
    stored = only_screening(app)
    assert (stored["outcome"], stored["answers"]["rf_sexual_change"]) == ("emergency", "yes")


@pytest.mark.one_backend
def test_a_post_with_an_expired_token_shows_the_ticks_again(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("warning_signs", IDEAL))
    data = {NAME: ["unsure"], NOT_SURE: ["rf_stroke_signs", "rf_calf_swelling"], "csrf_token": "expired"}
    with unchanged(app):
        page = post(Journey(client), data)
    assert page.status == 400 and "press “Continue” again" in page.text
    assert page.checked(NAME) == {"unsure"}
    assert page.checked(NOT_SURE) == {"rf_stroke_signs", "rf_calf_swelling"}


@pytest.mark.one_backend
def test_the_not_sure_list_is_posted_only_to_its_own_page(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    with unchanged(app):
        response = Journey(client).post_step(
            "pain_location", {"action": "continue", **form_data("pain_location", IDEAL), NOT_SURE: ["rf_stroke_signs"]}
        )
    assert response.status_code == 400


# --- "Check your answers" -------------------------------------------------------------------------


def checklist_row(page: Page) -> str:
    rows = [row for row in re.findall(r'<div class="summary-list__row">(.*?)</div>', page.html, re.S) if NAME in row]
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ["None of these"]),
        ({"rf_calf_swelling": UNSURE}, ["One calf or leg that is painful, swollen and warm (not sure)"]),
        (
            {"rf_sexual_change": UNSURE, "rf_calf_swelling": UNSURE},
            [
                "New numbness of the genitals, or new problems with erection or ejaculation (not sure)",
                "One calf or leg that is painful, swollen and warm (not sure)",
            ],
        ),
    ],
)
def test_the_check_page_shows_the_checklist_as_one_row_of_what_was_ticked(
    app: Flask, client: FlaskClient, changes: dict[str, object], expected: list[str]
) -> None:
    seed_draft(app, client, {**IDEAL, **changes})
    page = Journey(client).page(CHECK)
    row = checklist_row(page)
    assert CHECKLIST.text in row
    assert re.findall(r"<li>(.*?)</li>", row) == (expected if len(expected) > 1 else [])
    assert all(text in row for text in expected)
    assert 'href="/screening/warning_signs?return_to=check#question-warning_signs_now"' in row
    for item in CHECKLIST.items:  # each sign's full question is for staff, not a row of its own
        assert item.text not in page.text


@pytest.mark.one_backend
def test_the_check_page_row_is_worded_for_someone_else(app: Flask, client: FlaskClient) -> None:
    answers = {**profile("proxy_teen"), "rf_severe_headache": UNSURE}
    seed_draft(app, client, answers)
    row = checklist_row(Journey(client).page(CHECK))
    assert CHECKLIST.text_proxy in row
    assert "unlike any they have had before (not sure)" in row


def test_a_checklist_is_one_prompt_of_its_page_and_one_question_asked() -> None:
    questionnaire = rules.questionnaire()
    assert SECTION.prompts == (CHECKLIST, *(q for q in SECTION.questions if q.id not in ITEMS))
    assert questionnaire.asked(SECTION, IDEAL) == [CHECKLIST]
    assert isinstance(CHECKLIST, Checklist) and CHECKLIST.is_checklist
    assert [q.id for q in questionnaire.applicable(IDEAL) if q.section_id == SECTION.id] == list(ITEMS)


# --- Hints said once ----------------------------------------------------------------------------


def sentences(text: str | None) -> set[str]:
    return {sentence for sentence in re.split(r"(?<=[.?!])\s+", text or "") if sentence}


@pytest.mark.parametrize("for_someone_else", [False, True], ids=["self", "someone_else"])
def test_no_checklist_hint_repeats_under_one_of_its_items(for_someone_else: bool) -> None:
    """A checklist's hint is read before its boxes and an item's under its box (and both by a
    screen reader): a sentence in both is read twice."""
    for section in rules.questionnaire().sections:
        for checklist in section.checklists:
            said = sentences(checklist.wording(for_someone_else)[1])
            for item in checklist.items:
                assert not said & sentences(item.wording(for_someone_else)[1]), (checklist.id, item.id)


@pytest.mark.one_backend
def test_the_medicines_page_says_once_not_to_stop_a_medicine(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("medicines", IDEAL))
    page = Journey(client).page("/screening/medicines")
    assert page.text.count("Do not stop or change any medicine because of this screening.") == 1
    # Under the blood-thinner box, which it is about.
    assert re.search(
        r"A medicine that thins the blood or stops it from clotting</label>\s*"
        r'<p class="hint choice__hint" id="[^"]+">Do not stop or change any medicine',
        page.html,
    )
