"""Validation of every page: clear messages beside each field and in a summary, what was
entered kept, odd numbers and exclusive choices refused, and the draft untouched on error."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import text

import rules
from app.extensions import db
from rules.questionnaire import CHOICE_TYPES, Checklist, Prompt, QuestionType, Section
from tests.support.journey import (
    SECTIONS,
    Journey,
    Page,
    answers_before,
    checklist_ticks,
    form_data,
    only_screening,
    profile,
    seed_draft,
    unchanged,
)

IDEAL = profile("ideal_neck")

# How a page's answers are read and refused does not depend on the database: those tests are
# `one_backend` (SQLite only). The tests that store what was accepted (digits, unicode, months, a
# saved half-filled page) run on both.
WHOLE_NUMBER = "Enter a whole number using digits, like 12"
AGE_RANGE = "Enter a number from 0 to 120 years"


def first_input_id(question: Prompt) -> str:
    """Where the error summary must point: the first radio or checkbox, or the input itself."""
    if isinstance(question, Checklist) or question.type in CHOICE_TYPES + (QuestionType.SCALE,):
        return f"{question.id}-0"
    return question.id


def required_here(section: Section, answers: dict[str, object]) -> list[Prompt]:
    """What `section` asks that is required and applies before any of its own questions is
    answered: its questions, and its checklists (whose items are all required)."""
    own = {q.id for q in section.questions}
    others = {qid: value for qid, value in answers.items() if qid not in own}
    applicable = {q.id for q in rules.questionnaire().applicable(others) if q.required}
    return section.prompts_among(applicable)


def asks(prompt: Prompt) -> list[str]:
    """The ids of the questions a prompt asks."""
    return list(prompt.item_ids) if isinstance(prompt, Checklist) else [prompt.id]


def post(journey: Journey, section_id: str, fields: dict[str, object]) -> Page:
    """Post a page; when it is refused, the page it redirects to (itself), showing why."""
    response = journey.post_step(section_id, {"action": "continue", **fields})
    if response.status_code == 303 and response.location == f"/screening/{section_id}":
        return journey.page(response.location)
    return Page(response)


@pytest.mark.one_backend
@pytest.mark.parametrize("section", SECTIONS, ids=[s.id for s in SECTIONS])
def test_empty_page_is_refused_with_a_message_for_each_question(
    app: Flask, client: FlaskClient, section: Section
) -> None:
    seed_draft(app, client, IDEAL)
    expected = required_here(section, IDEAL)
    assert expected, "every page has a required question"
    journey = Journey(client)
    with unchanged(app):
        page = post(journey, section.id, {})
    assert page.title.startswith("Error: ")  # refused
    assert page.title.startswith("Error: ")
    assert "There is a problem" in page.text
    assert page.error_summary_links() == [first_input_id(q) for q in expected]
    for question in expected:
        assert first_input_id(question) in page.ids, f"no element for the link to {question.id}"
    assert set(page.field_errors()) == {q.id for q in expected}
    assert all(message for message in page.field_errors().values())


@pytest.mark.one_backend
@pytest.mark.parametrize("section", SECTIONS, ids=[s.id for s in SECTIONS])
def test_a_refused_page_keeps_everything_already_entered(app: Flask, client: FlaskClient, section: Section) -> None:
    answers = profile(
        "proxy_teen",
        interpreter_needed="yes",
        interpreter_language="Punjabi",
        treatments_tried=["physio_exercise", "acupuncture"],
        needling_response="helped",
        blood_thinners="yes",
        blood_thinner_names=["apixaban", "aspirin"],
        epilepsy="yes",
        last_seizure="over_12_months",
        skin_changes=["colder", "puffy"],
    )
    seed_draft(app, client, answers_before(section.id, answers))
    left_out = required_here(section, answers)[0]
    kept = {q.id: answers[q.id] for q in section.questions if q.id in answers and q.id not in asks(left_out)}
    journey = Journey(client)
    page = post(journey, section.id, form_data(section, kept))
    assert page.title.startswith("Error: ")  # refused
    assert set(page.field_errors()) == {left_out.id}
    for name, ticked in checklist_ticks(section, kept).items():
        assert page.checked(name) == set(ticked), name
    for question in section.questions:
        if question.id not in kept or section.checklist_of(question.id) is not None:
            continue
        value = kept[question.id]
        if question.type is QuestionType.MULTIPLE:
            assert isinstance(value, list)
            assert page.checked(question.id) == set(value), question.id
        elif question.type in (QuestionType.SINGLE, QuestionType.SCALE):
            assert page.checked(question.id) == {str(value)}, question.id
        elif question.type is QuestionType.DURATION:
            assert page.value(question.id) == str(value)
            assert page.selected(question.id + "__unit") == "weeks"
        else:
            assert page.value(question.id) == str(value), question.id


@pytest.mark.one_backend
def test_what_was_typed_is_kept_even_when_it_is_not_a_number(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    page = post(Journey(client), "pain_location", {"age": "forty", "pain_regions": ["neck", "lower_back"]})
    assert page.title.startswith("Error: ")  # refused
    assert page.value("age") == "forty"
    assert page.checked("pain_regions") == {"neck", "lower_back"}
    assert page.field_errors() == {"age": WHOLE_NUMBER, "main_region": "Select an answer"}


@pytest.mark.one_backend
def test_a_proxy_answer_missing_its_follow_up_keeps_what_was_chosen(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client)
    page = post(Journey(client), "about", {"respondent": "proxy", "proxy_relationship": "carer"})
    assert page.title.startswith("Error: ")  # refused
    assert page.checked("respondent") == {"proxy"}
    assert page.checked("proxy_relationship") == {"carer"}
    assert page.field_errors() == {"proxy_person_can_consent": "Select an answer"}


@pytest.mark.one_backend
def test_a_refused_duration_keeps_its_unit(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    page = post(Journey(client), "pain_history", {"pain_duration_weeks": "3", "pain_duration_weeks__unit": "months"})
    assert page.title.startswith("Error: ")  # refused
    assert page.value("pain_duration_weeks") == "3"
    assert page.selected("pain_duration_weeks__unit") == "months"


AGE_PAGE = {"pain_regions": ["neck"], "main_region": "neck"}


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", WHOLE_NUMBER),
        ("12.5", WHOLE_NUMBER),
        ("4_5", WHOLE_NUMBER),
        ("1e2", WHOLE_NUMBER),
        ("4 5", WHOLE_NUMBER),
        ("0x2A", WHOLE_NUMBER),
        ("−1", WHOLE_NUMBER),  # a Unicode minus sign
        ("四十五", WHOLE_NUMBER),
        ("\x00", WHOLE_NUMBER),
        ("45\x00", WHOLE_NUMBER),
        ("<script>alert(1)</script>", WHOLE_NUMBER),
        ("-1", AGE_RANGE),
        ("121", AGE_RANGE),
        ("999", AGE_RANGE),
        ("1" * 400, AGE_RANGE),
        ("9" * 10_000, None),  # too long to read: either clear message will do
        ("", "Enter a number from 0 to 120"),
        ("   ", "Enter a number from 0 to 120"),
    ],
)
def test_age_that_is_not_a_whole_number_in_range_gets_a_clear_message(
    app: Flask, client: FlaskClient, typed: str, message: str | None
) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    with unchanged(app):
        page = post(Journey(client), "pain_location", {**AGE_PAGE, "age": typed})
    assert page.title.startswith("Error: ")  # refused
    errors = page.field_errors()
    assert set(errors) == {"age"}
    assert errors["age"] == message if message else errors["age"] in (WHOLE_NUMBER, AGE_RANGE)
    assert page.error_summary_links() == ["age"]
    assert "<script>alert" not in page.html
    if "<script>" in typed:
        assert str(escape(typed)) in page.html


@pytest.mark.parametrize(
    ("typed", "stored"), [("45", 45), (" 45 ", 45), ("0", 0), ("120", 120), ("045", 45), ("４５", 45)]
)
def test_age_in_digits_is_accepted(app: Flask, client: FlaskClient, typed: str, stored: int) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    response = Journey(client).post_step("pain_location", {**AGE_PAGE, "age": typed})
    assert response.status_code == 303, Page(response).field_errors()
    assert only_screening(app)["answers"]["age"] == stored


DURATION_TOO_LONG = "Enter a length of time up to 100 years"
AT_LEAST_A_DAY = "Enter a length of time of at least 1 day"


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        ("abc", "weeks", WHOLE_NUMBER),
        ("2.5", "years", WHOLE_NUMBER),
        ("101", "years", DURATION_TOO_LONG),
        ("1201", "months", DURATION_TOO_LONG),
        ("5201", "weeks", DURATION_TOO_LONG),
        ("9" * 400, "months", DURATION_TOO_LONG),
        ("9" * 400, "years", DURATION_TOO_LONG),
        ("9" * 400, "weeks", DURATION_TOO_LONG),
        ("-1", "weeks", AT_LEAST_A_DAY),
        ("0", "days", AT_LEAST_A_DAY),
        ("0", "weeks", AT_LEAST_A_DAY),
        ("0", "months", AT_LEAST_A_DAY),
        ("0", "years", AT_LEAST_A_DAY),
        ("000", "weeks", AT_LEAST_A_DAY),
        ("36401", "days", DURATION_TOO_LONG),
        ("", "months", "Enter how long, like 3 days or 2 years"),
        ("3", "fortnights", "Choose days, weeks, months or years"),
        ("3", "", "Choose days, weeks, months or years"),
    ],
)
def test_duration_that_cannot_be_used_gets_a_clear_message(
    app: Flask, client: FlaskClient, amount: str, unit: str, message: str | None
) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    fields = {**form_data("pain_history", IDEAL), "pain_duration_weeks": amount, "pain_duration_weeks__unit": unit}
    with unchanged(app):
        page = post(Journey(client), "pain_history", fields)
    assert page.title.startswith("Error: ")  # refused
    errors = page.field_errors()
    assert set(errors) == {"pain_duration_weeks"}
    if message is not None:
        assert errors["pain_duration_weeks"] == message
    assert page.error_summary_links() == ["pain_duration_weeks"]


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11", "Enter a number from 0 to 10"),
        ("-1", "Enter a number from 0 to 10"),
        ("five", "Select an answer"),
        ("5.5", "Select an answer"),
    ],
)
def test_scale_outside_its_range_is_refused(app: Flask, client: FlaskClient, value: str, message: str) -> None:
    seed_draft(app, client, answers_before("pain_severity", IDEAL))
    fields = {**form_data("pain_severity", IDEAL), "pain_now": value}
    with unchanged(app):
        page = post(Journey(client), "pain_severity", fields)
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"pain_now": message}
    assert page.error_summary_links() == ["pain_now-0"]


@pytest.mark.one_backend
def test_single_choice_that_is_not_offered_is_refused(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client)
    with unchanged(app):
        page = post(Journey(client), "about", {"respondent": "everyone"})
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"respondent": "Select one of the answers shown"}


@pytest.mark.one_backend
def test_the_main_area_must_be_one_of_the_areas_ticked(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    fields = {"age": "45", "pain_regions": ["neck", "upper_back"], "main_region": "shoulder"}
    with unchanged(app):
        page = post(Journey(client), "pain_location", fields)
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"main_region": "Choose an area you ticked above, or tick this one above too"}
    assert page.error_summary_links() == ["main_region-0"]
    assert (page.value("age"), page.checked("pain_regions"), page.checked("main_region")) == (
        "45",
        {"neck", "upper_back"},
        {"shoulder"},
    )
    # Ticking a shoulder on the body map makes the same main area fine.
    response = Journey(client).post_step("pain_location", {**fields, "pain_regions": ["neck", "shoulder_left"]})
    assert response.status_code == 303
    assert only_screening(app)["answers"]["main_region"] == "shoulder"


@pytest.mark.one_backend
@pytest.mark.parametrize("regions", [["neck", "tail"], ["neck", "neck"], ["<b>neck</b>"]])
def test_multiple_choice_that_is_not_offered_is_refused(app: Flask, client: FlaskClient, regions: list[str]) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    with unchanged(app):
        page = post(Journey(client), "pain_location", {"age": "45", "pain_regions": regions, "main_region": "neck"})
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"pain_regions": "Select one of the answers shown"}
    assert "<b>neck</b>" not in page.html


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("section_id", "question_id", "choices", "label", "follow_up"),
    [
        ("pain_history", "other_diagnoses", ["none", "osteoarthritis"], "None of these", {}),
        ("pain_history", "other_diagnoses", ["osteoarthritis", "unsure"], "Not sure", {}),
        ("pain_history", "other_diagnoses", ["none", "unsure"], "None of these", {}),
        ("nerve_feelings", "nerve_symptoms", ["burning", "none"], "None of these", {}),
        ("treatments", "treatments_tried", ["none", "massage"], "None yet", {}),
        ("medicines", "immune_treatment", ["chemotherapy", "none"], "None of these", {}),
        ("medicines", "lung_condition", ["copd_emphysema", "unsure"], "Not sure", {}),
        ("medicines", "implants", ["none", "joint_replacement"], "None of these", {"implant_near_pain": "no"}),
        ("muscles", "skin_changes", ["colder", "none"], "None of these", {}),
    ],
)
def test_an_exclusive_choice_with_another_is_refused(
    app: Flask,
    client: FlaskClient,
    section_id: str,
    question_id: str,
    choices: list[str],
    label: str,
    follow_up: dict[str, str],
) -> None:
    seed_draft(app, client, answers_before(section_id, IDEAL))
    fields = {**form_data(section_id, IDEAL), question_id: choices, **follow_up}
    with unchanged(app):
        page = post(Journey(client), section_id, fields)
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {question_id: f"“{label}” cannot be selected together with other answers"}
    assert page.checked(question_id) == set(choices)


@pytest.mark.one_backend
def test_a_follow_up_that_applies_must_be_answered(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("medicines", IDEAL))
    fields = form_data("medicines", {**IDEAL, "blood_thinners": "yes"})
    page = post(Journey(client), "medicines", fields)
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"blood_thinner_names": "Select at least one"}
    assert page.error_summary_links() == ["blood_thinner_names-0"]


def test_free_text_longer_than_allowed_is_refused_and_unicode_is_kept(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("needles", IDEAL))
    journey = Journey(client)
    fields = {**form_data("needles", IDEAL), "interpreter_needed": "yes"}
    page = post(journey, "needles", {**fields, "interpreter_language": "x" * 61})
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"interpreter_language": "Use 60 characters or fewer"}
    language = "ਪੰਜਾਬੀ (Punjabi) 中文 <i>"
    response = journey.post_step("needles", {**fields, "interpreter_language": language})
    assert response.status_code == 303
    assert only_screening(app)["answers"]["interpreter_language"] == language
    page = journey.page("/screening/needles")
    assert page.value("interpreter_language") == language
    assert "<i>" not in page.html


def test_save_and_come_back_later_on_an_empty_page_saves_nothing_and_gives_the_link(
    app: Flask, client: FlaskClient
) -> None:
    seed_draft(app, client)
    before = only_screening(app)["answers"]
    response = Journey(client).answer("about", {}, action="save")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/screening/saved")
    assert only_screening(app)["answers"] == before


def test_a_very_long_number_gets_the_range_and_the_other_answers_are_kept(app: Flask, client: FlaskClient) -> None:
    """Digits too many to be any real answer: the question's range, not "use digits"."""
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    with unchanged(app):
        page = post(
            Journey(client),
            "pain_location",
            {"pain_regions": ["neck", "chest"], "main_region": "neck", "age": "9" * 5000},
        )
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"age": AGE_RANGE}
    assert page.checked("pain_regions") == {"neck", "chest"}
    assert page.checked("main_region") == {"neck"}
    assert page.value("age") == "9" * 5000  # what was typed is kept, to shorten


@pytest.mark.one_backend
def test_a_very_long_duration_gets_the_longest_allowed(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    fields = {
        **form_data("pain_history", IDEAL),
        "pain_duration_weeks": "1" + "0" * 4400,
        "pain_duration_weeks__unit": "weeks",
    }
    page = post(Journey(client), "pain_history", fields)
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"pain_duration_weeks": "Enter a length of time up to 100 years"}


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("section_id", "question_id", "values"),
    [
        ("about", "respondent", ["self", "proxy"]),
        ("about", "respondent", ["self", "self"]),
        ("pain_location", "main_region", ["neck", "upper_back"]),
        ("pain_severity", "pain_now", ["2", "9"]),  # a 0 to 10 scale
    ],
)
def test_a_single_choice_posted_twice_is_refused_not_read_as_the_first(
    app: Flask, client: FlaskClient, section_id: str, question_id: str, values: list[str]
) -> None:
    seed_draft(app, client, answers_before(section_id, IDEAL))
    journey = Journey(client)
    fields = {**form_data(section_id, IDEAL), question_id: values}
    with unchanged(app):
        page = post(journey, section_id, fields)
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {question_id: "Select one answer only"}
    assert question_id in page.error_summary_links()[0]
    # The other answers on the page are kept to send again.
    others = {qid for qid in form_data(section_id, IDEAL) if qid != question_id}
    for qid in others:
        assert page.checked(qid) or page.value(qid), qid


@pytest.mark.one_backend
def test_a_number_or_text_posted_twice_is_refused(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("needles", IDEAL))
    with unchanged(app):
        page = post(Journey(client), "pain_location", {**AGE_PAGE, "age": ["45", "46"]})
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"age": "Give one answer only"}
    with unchanged(app):
        page = post(
            Journey(client),
            "needles",
            {
                **form_data("needles", IDEAL),
                "interpreter_needed": "yes",
                "interpreter_language": ["Punjabi", "Tagalog"],
            },
        )
    assert page.title.startswith("Error: ")  # refused
    assert page.field_errors() == {"interpreter_language": "Give one answer only"}


def test_save_and_come_back_later_keeps_the_stored_answer_of_a_choice_posted_twice(
    app: Flask, client: FlaskClient
) -> None:
    seed_draft(app, client, IDEAL)
    response = Journey(client).post_step(
        "about", {**form_data("about", IDEAL), "action": "save", "respondent": ["self", "proxy"]}
    )
    assert response.status_code == 303
    assert only_screening(app)["answers"]["respondent"] == IDEAL["respondent"]


# ---- A refused page: POST-redirect-GET, shown once, kept encrypted ----------------------------


def test_a_refused_page_redirects_to_itself_and_shows_what_was_posted_once(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    journey = Journey(client)
    fields = {"action": "continue", "age": "forty", "pain_regions": ["neck", "chest"]}
    response = journey.post_step("pain_location", fields)
    assert (response.status_code, response.location) == (303, "/screening/pain_location")

    page = journey.page(response.location)
    assert page.title.startswith("Error: ")
    assert 'id="error-summary"' in page.html and "autofocus" in page.html
    assert page.value("age") == "forty" and page.checked("pain_regions") == {"neck", "chest"}
    assert page.field_errors() == {"age": WHOLE_NUMBER, "main_region": "Select an answer"}

    again = journey.page(response.location)  # a reload, or Back to it: the saved answers
    assert not again.title.startswith("Error: ")
    assert again.value("age") in ("", None) and again.field_errors() == {}


def test_a_refused_page_is_kept_encrypted_and_goes_with_its_draft(app: Flask, client: FlaskClient) -> None:
    screening_id, _ = seed_draft(app, client, answers_before("pain_location", IDEAL))
    Journey(client).post_step("pain_location", {"action": "continue", "age": "forty-two", "pain_regions": ["neck"]})
    with app.app_context():
        rows = db.session.execute(text("SELECT section_id, content FROM refused_page")).all()
        assert [row.section_id for row in rows] == ["pain_location"]
        assert "forty-two" not in rows[0].content and "neck" not in rows[0].content
        db.session.execute(text("DELETE FROM screening WHERE id = :id"), {"id": screening_id})
        db.session.commit()
        assert db.session.execute(text("SELECT count(*) FROM refused_page")).scalar() == 0


def test_a_refused_page_left_for_another_is_forgotten(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    journey = Journey(client)
    journey.post_step("pain_location", {"action": "continue", "age": "forty"})
    assert not journey.page("/screening/about").title.startswith("Error: ")
    page = journey.page("/screening/pain_location")
    assert not page.title.startswith("Error: ")
    assert page.value("age") == str(IDEAL["age"])
