"""Check your answers, submitting once and only once, and the result page of every outcome."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

import rules
from app.display import answer_text
from app.extensions import db
from app.models import Screening
from app.patient import services
from tests.support.journey import (
    CHECK,
    REASSURANCE,
    RESULT,
    SAVED,
    SECTIONS,
    SUBMIT,
    Journey,
    Page,
    answers_before,
    as_stored,
    form_data,
    only_screening,
    profile,
    screenings,
    seed_draft,
    unchanged,
)

BOOKING_URL = "https://booking.example.com/ims-screen"


def test_check_page_lists_every_answer_by_page_with_change_links(client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    page = Page(Journey(client).walk(answers))
    assert page.back_link == f"/screening/{SECTIONS[-1].id}"
    headings = re.findall(r'<h2 class="summary-heading">(.*?)</h2>', page.html)
    assert headings == [section.title for section in SECTIONS]
    questions = rules.questionnaire().questions
    checklists = {c.id: c for section in SECTIONS for c in section.checklists}
    in_checklist = {item: c.id for c in checklists.values() for item in c.item_ids}
    rows = re.findall(r'<div class="summary-list__row">(.*?)</div>', page.html, re.DOTALL)
    shown = {}  # question or checklist id -> its row
    for row in rows:
        [href] = re.findall(r'href="([^"]+)"', row)
        qid = href.rpartition("#question-")[2]
        shown[qid] = row
        section = checklists[qid].section_id if qid in checklists else questions[qid].section_id
        assert href == f"/screening/{section}?return_to=check#question-{qid}"
    assert {in_checklist.get(qid, qid) for qid in answers} == set(shown) - {"skin_changes"}
    for qid, value in as_stored(answers).items():
        if qid in in_checklist:  # one row for the checklist: every warning sign answered "no"
            assert value == "no" and "None of these" in shown[in_checklist[qid]], qid
            continue
        assert str(answer_text(value, questions[qid])).replace("'", "&#39;") in shown[qid], qid
    for expected in (
        "Myself",
        "45 years",
        "52 weeks",  # as given
        "5 out of 10",
        "Neck; Right shoulder; Upper back, between the shoulder blades",
    ):
        assert expected in page.text
    assert "Not answered (optional)" in page.text  # skin_changes was left out
    assert f'action="{SUBMIT}"' in page.html


def test_change_link_returns_to_the_check_page_after_saving(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk(answers)
    page = journey.page("/screening/pain_severity?return_to=check")
    assert page.value("return_to") == "check"
    assert "Save and return to your answers" in page.text
    assert page.checked("pain_now") == {"5"}
    response = journey.answer("pain_severity", {**answers, "pain_now": 7}, return_to="check")
    assert response.status_code == 303
    check = client.get(response.location)
    assert check.location == CHECK
    assert "7 out of 10" in journey.page(CHECK).text
    assert only_screening(app)["answers"]["pain_now"] == 7


def test_a_refused_change_keeps_the_way_back_to_the_check_page(client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"))
    token = journey.page("/screening/pain_severity?return_to=check").csrf_token
    response = client.post("/screening/pain_severity", data={"csrf_token": token, "return_to": "check"})
    assert (response.status_code, response.location) == (303, "/screening/pain_severity?return_to=check")
    page = journey.page(response.location)
    assert page.title.startswith("Error: ")
    assert page.value("return_to") == "check"


def test_missing_answers_block_sending(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("more_warning_signs", profile("ideal_neck")))
    journey = Journey(client)
    check = journey.page(CHECK)
    assert "Some questions still need an answer" in check.text
    assert "/screening/more_warning_signs" in check.links
    assert "Not answered" in check.text
    assert f'action="{SUBMIT}"' not in check.html
    with unchanged(app):
        response = client.post(SUBMIT, data={"csrf_token": journey.csrf_token()})
        assert response.status_code == 303
        assert client.get(response.location).location == "/screening/more_warning_signs"
    assert only_screening(app)["state"] == "draft"


def test_submitting_twice_stores_one_result(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk(answers)
    token = journey.page(CHECK).csrf_token
    first = client.post(SUBMIT, data={"csrf_token": token})
    assert (first.status_code, first.location) == (303, RESULT)
    stored = only_screening(app)
    second = client.post(SUBMIT, data={"csrf_token": token})  # a double click, or a refresh
    assert (second.status_code, second.location) == (303, RESULT)
    assert only_screening(app) == stored

    expected = rules.evaluate(as_stored(answers))
    assert stored["state"] == "submitted"
    assert stored["outcome"] == expected.outcome.value == "likely"
    assert stored["candidacy"] == expected.candidacy.value  # type: ignore[union-attr]
    assert stored["ruleset_version"] == expected.ruleset_version
    assert stored["reasons"] == expected.to_dict()["reasons"]
    assert all(reason["patient_text"] and reason["rule_id"] for reason in stored["reasons"])
    assert stored["indicators"] == expected.to_dict()["indicators"]
    assert stored["submitted_at"] is not None
    assert stored["answers"] == as_stored(answers)


def test_after_sending_no_page_can_change_the_answers(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk(answers)
    journey.submit()
    token = journey.csrf_token()
    changed = profile("ideal_neck", age=30, pain_now=9, rf_saddle_numbness="yes", willing_to_try="no")
    with unchanged(app):
        for section in SECTIONS:
            path = f"/screening/{section.id}"
            # The Back button after sending.
            assert (client.get(path).status_code, client.get(path).location) == (303, RESULT)
            response = client.post(
                path, data={"csrf_token": token, "action": "continue", **form_data(section, changed)}
            )
            assert (response.status_code, response.location) == (303, RESULT), path
        for path in (CHECK, SAVED, REASSURANCE):
            assert client.get(path).location == RESULT
        assert client.get("/screening").location == RESULT
        assert client.post(SUBMIT, data={"csrf_token": token}).location == RESULT
    assert journey.result().status == 200


def test_the_result_page_needs_a_sent_screening(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, profile())
    assert client.get(RESULT).location == CHECK


OUTCOMES: dict[str, tuple[dict[str, object], str, str | None]] = {
    "emergency": ({"rf_saddle_numbness": "yes"}, "Get emergency care now", None),
    "see_doctor": ({"rf_weight_loss": "yes"}, "See a doctor before any physiotherapy", None),
    "not_suitable": ({"willing_to_try": "no"}, "Needle treatment is not right for you", "general"),
    "clinician_review": ({"metal_allergy": "yes"}, "A physiotherapist needs to check", "ims"),
    "likely": ({}, "IMS may well help you", "ims"),
    "possible": ({"pain_duration_weeks": 8}, "IMS might help you", "ims"),
    "unlikely": ({"pain_duration_weeks": 3}, "IMS is probably not the best first step", "general"),
}
BOOKING_HEADINGS = {"ims": "Book an IMS assessment", "general": "Book a physiotherapy assessment"}


@pytest.mark.one_backend  # how a stored result reads, not how it is stored: SQLite only
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_result_page_of_every_outcome(app: Flask, client: FlaskClient, outcome: str) -> None:
    app.config["BOOKING_URL"] = BOOKING_URL
    changes, headline, booking = OUTCOMES[outcome]
    answers = profile("ideal_neck", **changes)
    expected = rules.evaluate(answers)
    assert expected.outcome.value == outcome  # the case itself is right

    journey = Journey(client)
    journey.walk(answers)
    if outcome == "emergency":  # sent the moment the answer was given: no check page
        assert journey.visited[-1] == RESULT
    else:
        assert journey.submit().location == RESULT
    stored = only_screening(app)
    assert stored["outcome"] == outcome
    page = journey.result()
    main = page.main
    assert page.title.startswith("Your result")
    assert re.search(r"<h1[^>]*>(.*?)</h1>", page.html, re.DOTALL).group(1).startswith(headline)  # type: ignore[union-attr]
    assert main.startswith(headline)
    assert stored["reference"] in main
    assert "not a diagnosis" in main
    # The rule-set version is for staff (the screening page, the print view), not the patient.
    assert stored["ruleset_version"] not in page.html and "Rule set" not in main
    for reason in expected.explaining():
        assert reason.patient_text in main
    if booking is None:
        assert "Book" not in main
        assert BOOKING_URL not in page.html
    else:
        assert BOOKING_HEADINGS[booking] in main
        other = BOOKING_HEADINGS["general" if booking == "ims" else "ims"]
        assert other not in main
        assert f'href="{BOOKING_URL}"' in page.html
    if outcome == "emergency":
        call = main.index("Call 911")
        assert call < main.index("emergency department") < main.index("Why we suggest this")
        assert call < main.index(stored["reference"])
        assert "If things change" not in main  # the advice already sends the person to care
    else:
        safety_net = rules.questionnaire().safety_net
        assert safety_net is not None and "If things change" in main
        for tier in safety_net.tiers:
            assert tier.text in main
            for sign in tier.signs:
                assert sign.text in main


def test_booking_link_appears_only_when_configured(app: Flask, client: FlaskClient) -> None:
    assert not app.config["BOOKING_URL"]
    journey = Journey(client)
    journey.walk(profile("ideal_neck"))
    journey.submit()
    page = journey.result()
    assert "Book an IMS assessment" in page.main
    assert "Book online" not in page.main
    assert "booking" not in page.html.lower().replace("booking_kind", "")
    assert app.config["CLINIC_PHONE"] in page.main


def test_result_for_someone_else_says_so(client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("proxy_teen"))
    journey.submit()
    assert "This is about the person you answered for." in journey.result().main


def test_only_one_of_two_screenings_is_sent(app: Flask) -> None:
    """Two people on one database: sending one leaves the other a draft."""
    first, second = Journey(app.test_client()), Journey(app.test_client())
    first.walk(profile("ideal_neck"))
    second.walk(profile("ideal_elbow"))
    first.submit()
    assert [row["state"] for row in screenings(app)] == ["submitted", "draft"]
    assert second.page(CHECK).status == 200


SAFETY_SENTENCE = "This is about keeping you safe"
OWN_CHOICE_SENTENCE = "would rather not have needle treatment"


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("changes", "rule_ids", "says", "never_says"),
    [
        ({"willing_to_try": "no"}, {"CI-1"}, [OWN_CHOICE_SENTENCE], [SAFETY_SENTENCE, "should not be used"]),
        ({"acute_illness": "yes"}, {"CI-8"}, [SAFETY_SENTENCE], [OWN_CHOICE_SENTENCE]),
        (
            {"acute_illness": "yes", "willing_to_try": "no"},
            {"CI-1", "CI-8"},
            [SAFETY_SENTENCE, OWN_CHOICE_SENTENCE],
            [],
        ),
        ({"pain_duration_weeks": 3}, {"C-U1"}, ["if the pain persists"], []),
        ({"other_diagnoses": ["organ_problem"]}, {"C-U2"}, [], ["if the pain persists"]),
    ],
)
def test_every_sentence_of_a_result_fits_its_reasons(
    app: Flask,
    client: FlaskClient,
    changes: dict[str, object],
    rule_ids: set[str],
    says: list[str],
    never_says: list[str],
) -> None:
    answers = profile("ideal_neck", **changes)
    assert {r.rule_id for r in rules.evaluate(answers).explaining()} >= rule_ids  # the case itself is right
    seed_draft(app, client, answers)  # every answer, as a journey stopped early would not have them all
    journey = Journey(client)
    journey.submit()
    main = " ".join(journey.result().main.split())
    for sentence in says:
        assert sentence in main
    for sentence in never_says:
        assert sentence not in main


@pytest.mark.one_backend
def test_declining_needles_does_not_hide_a_warning_sign_left_open(app: Flask, client: FlaskClient) -> None:
    """Issue 20: the not-suitable page still says a physiotherapist will go through the warning
    sign the person was not sure about, and lists what to act on."""
    answers = profile("ideal_neck", willing_to_try="no", rf_unsteady_walking="unsure")
    Journey(client).walk(answers)
    assert Journey(client).submit().location == RESULT
    main = Journey(client).result().main
    assert main.startswith("Needle treatment is not right for you")
    unsure_text = rules.ruleset().rule("U-1").patient_text
    assert rules.ruleset().rule("CI-1").patient_text in main and unsure_text in main
    assert "If things change" in main
    assert only_screening(app)["outcome"] == "not_suitable"


def test_sending_writes_the_result_in_one_statement(app: Flask) -> None:
    """Issue 16: the submit is one UPDATE whose RETURNING puts the result on the screening; it
    used to read the row back with a second SELECT."""
    screening_id, _ = seed_draft(app, answers=profile("ideal_neck"))
    with app.app_context():
        screening = db.session.get(Screening, screening_id)
        assert screening is not None and screening.refused_page is None  # loaded before counting
        statements: list[str] = []

        def count(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement.split()[0])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            services.submit_screening(screening)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert statements == ["UPDATE"]
        assert (screening.state, screening.outcome) == ("submitted", "likely")
        db.session.commit()
    assert only_screening(app)["outcome"] == "likely"


def test_a_screening_sent_in_the_session_that_started_it_carries_its_result(app: Flask) -> None:
    """The result is on the object whatever the session had loaded of it (a draft begun and sent
    in one session had none of the result's attributes; an early version left them empty)."""
    with app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = profile("ideal_neck")
        services.submit_screening(screening)
        assert (screening.state, screening.outcome, screening.candidacy) == ("submitted", "likely", "likely")
        assert screening.stored_result().outcome.value == "likely"
