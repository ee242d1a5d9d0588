"""The journey stops as soon as the answers decide the outcome (issue 14): an emergency is sent
the moment it is answered, with a way to take back a mis-tap; a doctor referral or a reason not
to needle goes to a short check of the answers that decided it."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, Screening
from tests.support.journey import (
    CHECK,
    RESULT,
    SUBMIT,
    Journey,
    Page,
    only_screening,
    profile,
    screenings,
)

EMERGENCY_PAGES = ["/screening/about", "/screening/pain_location", "/screening/warning_signs", RESULT]
MISTAKE = "/screening/chose-by-mistake"


def notification_kinds(app: Flask) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [(n.kind, n.screening_id) for n in db.session.scalars(select(Notification).order_by(Notification.id))]


def test_an_emergency_answer_is_sent_at_once_and_shows_the_advice_on_the_next_page(
    app: Flask, client: FlaskClient
) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_low_back", rf_bladder_bowel="yes"))
    assert journey.visited == EMERGENCY_PAGES  # three pages of questions after consent
    stored = only_screening(app)
    assert (stored["state"], stored["outcome"]) == ("submitted", "emergency")
    # Only what was asked is stored; the rest is recorded as not asked, for staff.
    assert "pain_duration_weeks" not in stored["answers"]
    assert "pain_duration_weeks" in stored["indicators"]["missing_answers"]
    assert stored["candidacy"] is None
    # The clinic is told now, in case the person closes the page.
    assert notification_kinds(app) == [("clinic_urgent_screening", stored["id"])]
    page = journey.result()
    assert "Get emergency care now" in page.main and "911" in page.main
    assert "I chose this by mistake" in page.main
    assert client.get(CHECK).location == RESULT  # no check page for it


def test_an_emergency_answer_is_sent_even_with_save_and_come_back_later(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck", rf_calf_swelling="yes", calf_swelling_detail="swollen")
    journey = Journey(client)
    journey.walk(answers, until="warning_signs")
    response = journey.answer("warning_signs", answers, action="save")
    assert response.location == RESULT
    assert only_screening(app)["outcome"] == "emergency"


def test_a_mis_tapped_emergency_answer_is_asked_again_and_staff_see_it_was_withdrawn(
    app: Flask, client: FlaskClient, physio_client: FlaskClient
) -> None:
    answers = profile("ideal_neck")
    journey = Journey(client)
    journey.walk({**answers, "rf_stroke_signs": "yes"})
    [emergency] = screenings(app)
    token = journey.result().csrf_token

    response = client.post(MISTAKE, data={"csrf_token": token})
    assert client.get(response.location).location == "/screening/warning_signs"
    page = journey.page("/screening/warning_signs")
    # The answers of the rule that fired are asked again (so the warning signs' checklist is
    # unanswered, not "None of these"); every other answer is kept.
    assert page.checked("warning_signs_now") == set()
    assert journey.page("/screening/pain_location").value("age") == "45"

    old, draft = screenings(app)
    assert "rf_stroke_signs" not in draft["answers"]
    assert draft["answers"]["rf_saddle_numbness"] == "no"
    assert old["id"] == emergency["id"] and old["outcome"] == "emergency"  # kept as it was sent
    assert old["emergency_withdrawn_at"] is not None and old["resume_token_hash"] is None
    assert (draft["state"], draft["continues_id"]) == ("draft", old["id"])
    assert draft["resume_token_hash"] == emergency["resume_token_hash"]
    assert notification_kinds(app)[-1] == ("clinic_emergency_withdrawn", old["id"])

    # Answered "no" this time, the journey carries on to the end.
    check = Page(journey.walk(answers, start=False))
    assert check.title.startswith("Check your answers")
    assert journey.submit().location == RESULT
    assert screenings(app)[1]["outcome"] == "likely"

    staff_page = Page(physio_client.get(f"/staff/screenings/{old['reference']}"))
    assert "Withdrawn" in staff_page.main and draft["reference"] in staff_page.main
    later = Page(physio_client.get(f"/staff/screenings/{draft['reference']}"))
    assert "Carries on from" in later.main and old["reference"] in later.main
    assert "Withdrawn" in Page(physio_client.get("/staff/")).main


@pytest.mark.one_backend
def test_only_an_unwithdrawn_emergency_can_be_withdrawn_and_only_with_the_form(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck", rf_exertion_chest="yes"))
    token = journey.result().csrf_token
    assert client.post(MISTAKE).status_code == 400  # no CSRF token
    assert len(screenings(app)) == 1
    client.post(MISTAKE, data={"csrf_token": token})
    journey.walk(profile("ideal_neck"), start=False)
    journey.submit()
    before = screenings(app)
    assert client.post(MISTAKE, data={"csrf_token": token}).location == RESULT  # a likely result
    assert screenings(app) == before


@pytest.mark.parametrize(
    ("changes", "last_page", "outcome", "deciding"),
    [
        pytest.param({"rf_worsening_weakness": "yes"}, "more_warning_signs", "see_doctor", {"doctor_signs"}),
        pytest.param({"willing_to_try": "no"}, "needles", "not_suitable", {"willing_to_try"}),
    ],
)
def test_a_decided_referral_skips_the_rest_and_checks_only_the_deciding_answers(
    app: Flask, client: FlaskClient, changes: dict[str, object], last_page: str, outcome: str, deciding: set[str]
) -> None:
    journey = Journey(client)
    page = Page(journey.walk(profile("ideal_neck", **changes)))
    assert journey.visited[-2:] == [f"/screening/{last_page}", CHECK]
    assert "no more questions" in page.main
    changes_shown = {link.rpartition("#question-")[2] for link in page.links if "#question-" in link}
    assert changes_shown == deciding
    assert page.back_link == f"/screening/{last_page}"
    assert f'action="{SUBMIT}"' in page.html
    assert journey.submit().location == RESULT
    stored = only_screening(app)
    assert stored["outcome"] == outcome
    assert "pain_now" not in stored["answers"]  # a candidacy page, never reached
    assert ("clinic_urgent_screening", stored["id"]) in notification_kinds(app) or outcome == "not_suitable"


def test_changing_a_deciding_answer_carries_the_questions_on(client: FlaskClient) -> None:
    answers = profile("ideal_neck", rf_worsening_weakness="yes")
    journey = Journey(client)
    journey.walk(answers)
    response = journey.answer("more_warning_signs", {**answers, "rf_worsening_weakness": "no"}, return_to="check")
    assert client.get(response.location).location == "/screening/medicines"


def test_a_screening_can_not_be_sent_before_its_outcome_is_decided(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"), until="more_warning_signs")
    token = journey.page("/screening/more_warning_signs").csrf_token
    response = client.post(SUBMIT, data={"csrf_token": token})
    assert client.get(response.location).location == "/screening/more_warning_signs"
    with app.app_context():
        assert db.session.scalars(select(Screening)).one().state == "draft"


def test_still_not_sure_about_an_emergency_sign_when_asked_plainly_means_same_day_advice(
    app: Flask, client: FlaskClient
) -> None:
    answers = profile("ideal_neck", rf_severe_headache="unsure")
    journey = Journey(client)
    journey.walk(answers, until="warning_signs")
    # "Not sure" brings the plainer question, which must be answered too.
    response = journey.answer("warning_signs", answers)
    assert (response.status_code, response.location) == (303, "/screening/warning_signs")  # refused
    page = journey.page(response.location)
    assert page.title.startswith("Error: ")
    assert set(page.field_errors()) == {"rf_severe_headache_plain"}
    page = Page(journey.walk({**answers, "rf_severe_headache_plain": "unsure"}, start=False))
    assert journey.visited == ["/screening/warning_signs", CHECK]  # nothing later can change it
    assert "no more questions" in page.main
    assert journey.submit().location == RESULT
    result = journey.result()
    assert "See a doctor" in result.main and "8-1-1" in result.main and "today" in result.main
    assert "Book" not in result.main
    stored = only_screening(app)
    assert stored["outcome"] == "see_doctor"
    assert [reason["rule_id"] for reason in stored["reasons"]][:2] == ["RF-U12", "U-1"]


def test_a_yes_to_the_plainer_question_is_the_emergency_it_asks_about(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(
        profile("ideal_neck", rf_calf_swelling="unsure", rf_calf_swelling_plain="yes", calf_swelling_detail="swollen")
    )
    assert journey.visited == EMERGENCY_PAGES
    assert only_screening(app)["outcome"] == "emergency"
