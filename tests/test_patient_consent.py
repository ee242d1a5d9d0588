"""Landing page, privacy notice and consent: nothing is stored before the person agrees."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

import rules
from app.patient import services
from tests.support.journey import Journey, Page, screenings, session_data


def test_landing_explains_ims_and_offers_privacy_notice_and_start(client: FlaskClient) -> None:
    page = Journey(client).page("/")
    assert "Intramuscular Stimulation (IMS)" in page.text
    assert "/privacy" in page.links
    assert "/start" in page.links
    assert "Start the screening" in page.text


@pytest.mark.one_backend
def test_landing_says_what_ims_aims_to_do_and_promises_nothing(client: FlaskClient) -> None:
    """Patient text never promises (docs/clinical-evidence.md, "What IMS is"): Gunn's account is
    his view, the needle's effect an aim, and the evidence limited."""
    page = Journey(client).page("/")
    assert "The needle helps" not in page.text
    assert "In Dr. Gunn's view, irritated nerves can keep muscles tight and sore." in page.text
    assert "The needle aims to help the muscle relax and return to its normal length." in page.text
    assert "Research on IMS is still limited, and it does not help everyone." in page.text


@pytest.mark.one_backend
def test_consent_page_describes_the_questions_in_the_order_they_come(client: FlaskClient) -> None:
    """What the page says comes first is what comes first (rules/data/questionnaire.yaml)."""
    titles = [section.title for section in rules.questionnaire().sections]
    assert titles[:3] == ["Who this is for", "Age and where it hurts", "Warning signs that need care now"]
    page = Journey(client).page("/start")
    assert (
        "It first asks who it is for, your age and where it hurts. Then it asks about warning signs that "
        "need a doctor, your health, how you feel about needles, your pain and what you have tried."
    ) in page.text


def test_privacy_notice_page_exists(client: FlaskClient) -> None:
    page = Journey(client).page("/privacy")
    assert "privacy" in page.title.lower()


def test_nothing_is_stored_before_consent(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    for path in ("/", "/privacy", "/start", "/no-consent"):
        journey.page(path)
    assert screenings(app) == []
    cookie = client.get_cookie("session")
    assert cookie is None or "screening_token" not in session_data(app, client)


def test_declining_stores_nothing_and_offers_the_clinic(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    consent = journey.page("/start")
    assert "/no-consent" in consent.links
    declined = journey.page("/no-consent")
    assert "Nothing has been saved" in declined.text
    assert app.config["CLINIC_PHONE"] in declined.text
    assert screenings(app) == []
    # Declining leaves no way into the questions.
    response = client.get("/screening/about")
    assert response.status_code == 302
    assert response.location == "/start"


def test_consent_without_ticking_the_box_is_refused_with_a_clear_error(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    token = journey.page("/start").csrf_token
    response = client.post("/start", data={"csrf_token": token})
    assert response.status_code == 400
    page = Page(response)
    assert page.title.startswith("Error:")
    assert "Tick the box to agree" in page.text
    assert page.error_summary_links() == ["consent"]
    assert "consent" in page.ids
    assert screenings(app) == []


def test_consent_creates_a_draft_with_consent_time_and_a_hashed_token(app: Flask, client: FlaskClient) -> None:
    response = Journey(client).consent()
    assert response.location == "/screening/about"
    [draft] = screenings(app)
    assert draft["state"] == "draft"
    assert draft["answers"] == {}
    assert draft["consented_at"] is not None
    assert draft["expires_at"] > draft["consented_at"]
    token = session_data(app, client)["screening_token"]
    assert draft["resume_token_hash"] == services.hash_token(token)
    # The raw token is in no column of the row.
    assert all(token not in str(value) for value in draft.values())


def test_consenting_again_starts_a_new_screening_and_leaves_the_first(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.consent()
    first_token = session_data(app, client)["screening_token"]
    journey.consent()
    second_token = session_data(app, client)["screening_token"]
    assert first_token != second_token
    assert [row["state"] for row in screenings(app)] == ["draft", "draft"]
