"""One topic per page: the walk from the first page to "Check your answers", progress, Back
links, follow-up questions, discarded answers, wording for someone else, needle reassurance."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

import rules
from rules.questionnaire import duration, duration_weeks
from tests.support.journey import (
    CHECK,
    REASSURANCE,
    SECTIONS,
    Duration,
    Journey,
    Page,
    answers_before,
    as_stored,
    form_data,
    only_screening,
    profile,
    question_field_names,
    seed_draft,
)

#: What the pages say and link to do not depend on the database backend (conftest.sqlite_only says
#: when that matters): one backend is enough.
pytestmark = pytest.mark.one_backend


def test_every_page_in_order_from_consent_to_check_your_answers(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    location = journey.consent().location
    count = len(SECTIONS)
    for number, section in enumerate(SECTIONS, start=1):
        assert location == f"/screening/{section.id}"
        page = journey.page(location)
        assert f"Step {number} of {count}" in page.text
        assert page.title.startswith(f"{section.title} (step {number} of {count})")
        assert len(re.findall(r"<h1[ >]", page.html)) == 1
        assert page.back_link == ("/start" if number == 1 else f"/screening/{SECTIONS[number - 2].id}")
        # One topic per page: the page's own questions, no other page's.
        own = question_field_names(section)
        posted = page.field_names() - {"csrf_token", "action", "return_to"}
        assert {name.removesuffix("__unit") for name in posted} <= own
        response = journey.answer(section.id, answers)
        assert response.status_code == 303, Page(response).field_errors()
        location = response.location
    # The last page leads on to wherever is next: with everything answered, the check page.
    assert client.get(location).location == CHECK
    assert only_screening(app)["answers"] == as_stored(answers)


def test_walk_helper_visits_every_page_then_the_check_page(client: FlaskClient) -> None:
    journey = Journey(client)
    page = Page(journey.walk(profile("ideal_neck")))
    assert journey.visited == [f"/screening/{s.id}" for s in SECTIONS] + [CHECK]
    assert page.title.startswith("Check your answers")


def test_back_link_of_a_page_opens_the_previous_page_with_its_answers(client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk(answers, until="more_warning_signs")
    back = journey.page("/screening/more_warning_signs").back_link
    assert back == "/screening/pain_history"
    previous = journey.page(back)
    assert previous.value("pain_duration_weeks") == "52"  # as given
    assert previous.selected("pain_duration_weeks__unit") == "weeks"
    assert previous.checked("pain_onset") == {"gradual"}


def test_follow_up_on_the_same_page_is_hidden_until_its_answer_reveals_it(client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"), until="medicines")
    page = journey.page("/screening/medicines")
    assert re.search(r'class="question question--conditional" id="question-blood_thinner_names"', page.html)
    css = client.get("/screening/questions.css").get_data(as_text=True)
    assert "form.question-page #question-blood_thinner_names" in css
    # Blood thinners are ticked in the bleeding checklist (a ticked item is its "yes").
    assert re.search(
        r'form\.question-page:has\(input\[name="bleeding"\]\[value="blood_thinners"\]:checked\) '
        r"#question-blood_thinner_names \{ display: block; \}",
        css,
    )
    # Unconditional questions are never hidden.
    assert 'class="question" id="question-immune_treatment"' in page.html


def pregnancy_offered(page: Page) -> set[str]:
    """The conditions offered in the health checklist (the pregnancy question is one of them)."""
    return {str(i["value"]) for i in page.inputs if i.get("name") == "health_conditions"}


def test_question_that_does_not_apply_from_an_earlier_page_is_not_shown(client: FlaskClient) -> None:
    """The pregnancy question applies from age 10 to 60 only."""
    older = Journey(client)
    older.walk(profile("older_adult"), until="medicines")
    assert "pregnant" not in pregnancy_offered(older.page("/screening/medicines"))
    check = Page(older.walk(profile("older_adult"), start=False))
    assert "pregnant" not in check.text.lower()


def test_question_that_applies_from_an_earlier_page_is_shown(app: Flask) -> None:
    journey = Journey(app.test_client())
    journey.walk(profile("ideal_neck"), until="medicines")
    assert "pregnant" in pregnancy_offered(journey.page("/screening/medicines"))


def test_an_answer_to_a_question_that_does_not_apply_is_ignored(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"), until="about")
    response = journey.answer("about", profile("ideal_neck"), proxy_relationship="family")
    assert response.status_code == 303
    journey.walk(profile("ideal_neck"), until="needles", start=False)
    response = journey.answer("needles", profile("ideal_neck"), interpreter_language="French")
    assert response.status_code == 303
    stored = only_screening(app)["answers"]
    assert "proxy_relationship" not in stored
    assert "interpreter_language" not in stored


def test_changing_blood_thinners_to_no_discards_their_names(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck", blood_thinners="yes", blood_thinner_names=["warfarin", "aspirin"])
    journey = Journey(client)
    journey.walk(answers)
    assert only_screening(app)["answers"]["blood_thinner_names"] == ["warfarin", "aspirin"]
    assert journey.page("/screening/medicines").checked("blood_thinner_names") == {"warfarin", "aspirin"}

    # The names stay ticked (only hidden) in the browser, so they are posted again with "No".
    response = journey.answer("medicines", {**answers, "blood_thinners": "no"}, return_to="check")
    assert response.status_code == 303
    stored = only_screening(app)["answers"]
    assert stored["blood_thinners"] == "no"
    assert "blood_thinner_names" not in stored
    assert journey.page("/screening/medicines").checked("blood_thinner_names") == set()
    assert "Warfarin" not in journey.page(CHECK).text


def test_changing_respondent_from_proxy_to_self_discards_the_proxy_answers(app: Flask, client: FlaskClient) -> None:
    answers = profile("proxy_teen")
    journey = Journey(client)
    journey.walk(answers)
    assert only_screening(app)["answers"]["proxy_relationship"] == "parent_guardian"
    response = journey.answer("about", {**answers, "respondent": "self"})
    assert response.status_code == 303
    stored = only_screening(app)["answers"]
    assert stored["respondent"] == "self"
    assert "proxy_relationship" not in stored
    assert "proxy_person_can_consent" not in stored
    assert "Where do you have pain?" in journey.page("/screening/pain_location").text


def test_a_change_on_one_page_discards_answers_on_another(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk(answers)
    assert only_screening(app)["answers"]["pregnant"] == "no"
    journey.answer("pain_location", {**answers, "age": 74}, return_to="check")
    assert "pregnant" not in only_screening(app)["answers"]


def test_a_change_that_makes_a_question_apply_leads_back_to_it(app: Flask, client: FlaskClient) -> None:
    answers = profile("older_adult")
    journey = Journey(client)
    journey.walk(answers)
    response = journey.answer("pain_location", {**answers, "age": 40}, return_to="check")
    assert response.status_code == 303
    # The first page with a question that now applies: the pregnancy warning signs, asked
    # among the emergency signs from age 10 to 60.
    assert client.get(response.location).location == "/screening/warning_signs"
    page = journey.page("/screening/warning_signs")
    assert "rf_pregnancy_signs" in {str(i["value"]) for i in page.inputs if i.get("name") == "warning_signs_now"}


@pytest.mark.parametrize(
    ("profile_name", "on_question_page", "on_check_page"),
    [
        pytest.param(
            "proxy_teen",
            {
                "Where does the person have pain?": True,
                "Where do you have pain?": False,
                "You are answering for someone else": True,
            },
            {"How old is the person?": True, "How old are you?": False},
            id="for someone else",
        ),
        pytest.param(
            "ideal_neck",
            {"Where do you have pain?": True, "the person": False, "You are answering for someone else": False},
            {"How old are you?": True, "How old is the person?": False},
            id="for yourself",
        ),
    ],
)
def test_the_wording_follows_whom_the_answers_are_about(
    client: FlaskClient, profile_name: str, on_question_page: dict[str, bool], on_check_page: dict[str, bool]
) -> None:
    """What the pain-location page and "Check your answers" say (True) and do not say (False)."""
    answers = profile(profile_name)
    journey = Journey(client)
    journey.walk(answers, until="pain_location")
    question_page = journey.page("/screening/pain_location")
    check_page = Page(journey.walk(answers, start=False))
    for page, expected in ((question_page, on_question_page), (check_page, on_check_page)):
        assert {text: text in page.text for text in expected} == expected


def _needles(**changes: object) -> dict[str, object]:
    needles = rules.questionnaire().section("needles")
    assert needles is not None
    answers = profile("ideal_neck", **changes)
    return {q.id: answers[q.id] for q in needles.questions if q.id in answers}


REASSURED = {
    "fear 4": _needles(needle_fear=4),
    "fear 10": _needles(needle_fear=10),
    "fainted": _needles(needle_fainting="yes"),
    "not sure about fainting": _needles(needle_fainting="unsure"),
    "avoided care": _needles(needle_avoidance="yes"),
    "not sure about trying": _needles(willing_to_try="unsure"),
}
NOT_REASSURED = {
    "fear 3": _needles(needle_fear=3),
    "fear 0": _needles(needle_fear=0),
}


@pytest.mark.parametrize("needles", REASSURED.values(), ids=REASSURED.keys())
def test_needle_reassurance_follows_the_needles_page(
    app: Flask, client: FlaskClient, needles: dict[str, object]
) -> None:
    seed_draft(app, client, answers_before("needles", profile("ideal_neck")))
    journey = Journey(client)
    response = journey.answer("needles", needles)
    assert response.status_code == 303
    assert response.location == REASSURANCE
    page = journey.page(REASSURANCE)
    assert "About needles" in page.text
    assert page.back_link == "/screening/needles"
    assert "/screening/pain_severity" in page.links
    journey.page("/screening/pain_severity")


@pytest.mark.parametrize("needles", NOT_REASSURED.values(), ids=NOT_REASSURED.keys())
def test_no_needle_reassurance_without_fear_fainting_or_doubt(
    app: Flask, client: FlaskClient, needles: dict[str, object]
) -> None:
    seed_draft(app, client, answers_before("needles", profile("ideal_neck")))
    response = Journey(client).answer("needles", needles)
    assert response.status_code == 303
    assert response.location == "/screening/pain_severity"


def test_walk_passes_through_the_reassurance_page(client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck", needle_fear=7))
    needles = journey.visited.index("/screening/needles")
    assert journey.visited[needles + 1 : needles + 3] == [REASSURANCE, "/screening/pain_severity"]


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (Duration(3, "days"), "3 days"),
        (Duration(1, "days"), "1 day"),
        (Duration(13, "weeks"), "13 weeks"),
        (Duration(3, "months"), "3 months"),
        (Duration(2, "years"), "2 years"),
    ],
)
def test_a_duration_is_stored_as_given_and_shown_back_so(
    app: Flask, client: FlaskClient, given: Duration, shown: str
) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck", pain_duration_weeks=given))
    assert only_screening(app)["answers"]["pain_duration_weeks"] == duration(given.amount, given.unit)  # type: ignore[arg-type]
    page = journey.page("/screening/pain_history")
    assert (page.value("pain_duration_weeks"), page.selected("pain_duration_weeks__unit")) == (
        str(given.amount),
        given.unit,
    )
    assert shown in journey.page(CHECK).text


def test_a_duration_stored_in_weeks_before_units_were_kept_is_shown_in_weeks(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, profile("ideal_neck", pain_duration_weeks=13))
    journey = Journey(client)
    page = journey.page("/screening/pain_history")
    assert (page.value("pain_duration_weeks"), page.selected("pain_duration_weeks__unit")) == ("13", "weeks")
    assert "13 weeks (about 3 months)" in journey.page(CHECK).text


@pytest.mark.parametrize(
    ("amount", "unit", "weeks"),
    [
        (1, "days", 0),
        (6, "days", 0),
        (41, "days", 5),
        (42, "days", 6),
        (7, "weeks", 7),
        (1, "months", 4),
        (3, "months", 13),
        (6, "months", 26),
        (18, "months", 78),
        (1, "years", 52),
        (2, "years", 104),
        (100, "years", 5200),
    ],
)
def test_duration_units_convert_to_weeks(app: Flask, client: FlaskClient, amount: int, unit: str, weeks: int) -> None:
    seed_draft(app, client, answers_before("pain_history", profile()))
    answers = profile(pain_duration_weeks=Duration(amount, unit))
    response = Journey(client).answer("pain_history", answers)
    assert response.status_code == 303, Page(response).field_errors()
    stored = only_screening(app)["answers"]["pain_duration_weeks"]
    assert stored == duration(amount, unit)
    assert duration_weeks(stored) == weeks


def test_form_data_posts_only_the_pages_own_questions() -> None:
    data = form_data("pain_history", profile("ideal_neck"))
    assert data == {
        "pain_duration_weeks": "52",
        "pain_duration_weeks__unit": "weeks",
        "pain_onset": "gradual",
        "pain_trend": "same",
        "other_diagnoses": ["none"],
    }
