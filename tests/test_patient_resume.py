"""Save and come back later: the resume link, a new browser, wrong and expired links, purging."""

import os
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import retention
from app.clock import utcnow
from app.config import DEV_PUBLIC_BASE_URL, config_from_env
from app.extensions import db
from app.models import Screening
from app.patient import services
from tests.conftest import Clock, sqlite_only
from tests.support.journey import (
    CHECK,
    RESULT,
    SAVED,
    Journey,
    Page,
    answers_before,
    as_stored,
    only_screening,
    profile,
    screenings,
    seed_draft,
    session_data,
    set_expiry,
)

#: The link is built from PUBLIC_BASE_URL (the development default here), never from the Host header.
RESUME_LINK = re.compile(re.escape(DEV_PUBLIC_BASE_URL) + r"/resume/([A-Za-z0-9_-]+)")


def save_half_way(client: FlaskClient) -> tuple[Journey, str]:
    """Answer up to the needles page, press "Save and come back later" there; return the token."""
    journey = Journey(client)
    journey.walk(profile("ideal_neck"), until="needles")
    response = journey.answer("needles", profile("ideal_neck"), action="save")
    assert response.status_code == 303
    assert response.location == SAVED
    page = journey.page(SAVED)
    links = RESUME_LINK.findall(page.html)
    assert len(links) == 1, page.html
    return journey, links[0]


def test_save_and_come_back_later_shows_a_resume_link(app: Flask, client: FlaskClient) -> None:
    journey, token = save_half_way(client)
    assert len(token) * 6 >= 128  # base64url: 6 bits a character
    assert services.hash_token(token) == only_screening(app)["resume_token_hash"]
    page = journey.page(SAVED)
    assert "until" in page.text and "Your answers are saved" in page.text
    # The page saved with the button is kept, and the person can carry on at once.
    assert only_screening(app)["answers"]["needle_fear"] == 2
    assert "/screening" in page.links
    assert client.get("/screening").location == "/screening/pain_severity"


def test_resume_link_in_a_new_browser_continues_at_the_first_unfinished_page(app: Flask, client: FlaskClient) -> None:
    _, token = save_half_way(client)
    before = only_screening(app)["answers"]

    other = app.test_client()
    response = other.get(f"/resume/{token}")
    assert response.status_code == 302
    assert response.location == "/screening"
    assert token not in response.location
    assert "session=" in response.headers["Set-Cookie"]
    assert session_data(app, other)["screening_token"] == token

    response = other.get(response.location)
    assert response.location == "/screening/pain_severity"
    journey = Journey(other)
    assert journey.page("/screening/needles").checked("needle_fear") == {"2"}
    assert journey.page("/screening/pain_location").value("age") == "45"
    check = Page(journey.walk(profile("ideal_neck"), start=False))
    assert check.title.startswith("Check your answers")
    assert journey.visited[0] == "/screening/pain_severity"
    stored = only_screening(app)["answers"]
    assert {k: stored[k] for k in before} == before
    assert stored == as_stored(profile("ideal_neck"))


def test_resume_link_of_a_submitted_screening_opens_its_result(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"))
    journey.submit()
    token = session_data(app, client)["screening_token"]
    other = app.test_client()
    assert other.get(f"/resume/{token}").location == "/screening"
    assert other.get("/screening").location == RESULT
    assert other.get(RESULT).status_code == 200


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize("token", ["wrong", "A" * 43, "", "%00", "x" * 5000])
def test_a_wrong_resume_link_shows_a_not_found_page(app: Flask, client: FlaskClient, token: str) -> None:
    seed_draft(app)
    response = client.get(f"/resume/{token}")
    assert response.status_code == 404
    if token:
        assert "This link no longer works" in Page(response).text
        assert "/start" in Page(response).links
        assert client.get_cookie("session") is None


def test_an_almost_right_token_does_not_open_the_draft(app: Flask, client: FlaskClient) -> None:
    _, token = seed_draft(app)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/resume/{flipped}").status_code == 404
    if token.upper() != token:
        assert client.get(f"/resume/{token.upper()}").status_code == 404
    assert client.get(f"/resume/{token}").status_code == 302


def test_an_expired_draft_cannot_be_resumed(app: Flask, client: FlaskClient) -> None:
    _, token = save_half_way(client)
    set_expiry(app, only_screening(app)["id"], utcnow() - timedelta(seconds=1))
    other = app.test_client()
    response = other.get(f"/resume/{token}")
    assert response.status_code == 404
    assert "This link no longer works" in Page(response).text
    # Nor in the browser that already had it open.
    for path in ("/screening", "/screening/medicines", "/screening/about", CHECK):
        response = client.get(path)
        assert response.status_code in (302, 404)
        if response.status_code == 302:
            assert response.location == "/start"
    assert client.get("/screening/about").location == "/start"


def test_an_expired_draft_in_an_open_browser_gets_the_not_found_page(app: Flask, client: FlaskClient) -> None:
    screening_id, _ = seed_draft(app, client, answers_before("muscles", profile()))
    set_expiry(app, screening_id, utcnow() - timedelta(minutes=1))
    journey = Journey(client)
    response = client.get("/screening/muscles")
    assert response.status_code == 404
    assert "This link no longer works" in Page(response).text
    # The stale token is dropped from the cookie, so the next page starts afresh.
    assert client.get("/screening/muscles").location == "/start"
    token = journey.csrf_token()
    response = client.post("/screening/muscles", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.location == "/start"


def test_saving_a_page_moves_the_expiry_forward(app: Flask, client: FlaskClient) -> None:
    screening_id, _ = seed_draft(app, client, answers_before("muscles", profile()))
    soon = utcnow() + timedelta(hours=1)
    set_expiry(app, screening_id, soon)
    Journey(client).answer("muscles", profile())
    expires = only_screening(app)["expires_at"]
    assert expires > soon + timedelta(days=app.config["DRAFT_RETENTION_DAYS"] - 1)


def test_purge_deletes_only_expired_drafts(app: Flask) -> None:
    now = utcnow()
    expired, _ = seed_draft(app, answers={"respondent": "self"})
    live, _ = seed_draft(app)
    submitted, _ = seed_draft(app, answers=profile())
    with app.app_context():
        from app.models import Screening

        screening = db.session.get(Screening, submitted)
        assert screening is not None
        services.submit_screening(screening)
        db.session.commit()
    set_expiry(app, expired, now - timedelta(days=1))
    set_expiry(app, submitted, now - timedelta(days=30))  # long past its draft expiry

    with app.app_context():
        assert retention.purge_expired_drafts(dry_run=True) == 1
        db.session.commit()
    assert {row["id"] for row in screenings(app)} == {expired, live, submitted}

    with app.app_context():
        assert retention.purge_expired_drafts() == 1
        db.session.commit()
    rows = {row["id"]: row for row in screenings(app)}
    assert set(rows) == {live, submitted}
    assert rows[submitted]["state"] == "submitted"

    with app.app_context():
        assert retention.purge_expired_drafts() == 0


def test_purge_counts_a_draft_expiring_exactly_now(app: Flask) -> None:
    now = utcnow()
    draft, _ = seed_draft(app)
    set_expiry(app, draft, now)
    with app.app_context():
        assert retention.purge_expired_drafts(now=now - timedelta(seconds=1)) == 0
        assert retention.purge_expired_drafts(now=now) == 1
        db.session.commit()
    assert screenings(app) == []


def test_save_and_come_back_later_keeps_the_valid_answers_of_a_half_filled_page(app, client) -> None:
    """A person can leave mid-page: what they answered well is kept, nothing invalid is stored."""
    import re

    from tests.conftest import csrf_token_from

    page = client.get("/start")
    client.post("/start", data={"consent": "y", "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    page = client.get("/screening/about")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/screening/about", data={"csrf_token": token, "respondent": "self", "action": "continue"})
    assert response.location == "/screening/pain_location"
    response = client.post(
        "/screening/pain_location",
        data={"csrf_token": token, "age": "forty", "pain_regions": ["neck", "lower_back"], "action": "save"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/screening/saved")
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Screening

        stored = db.session.scalars(select(Screening)).one().answers
    assert stored == {"respondent": "self", "pain_regions": ["neck", "lower_back"]}
    assert re.search(r"/resume/[A-Za-z0-9_-]{43}", client.get("/screening/saved").get_data(as_text=True))


def test_opening_a_resume_link_keeps_a_staff_sign_in_in_the_same_browser(app, physio_client) -> None:
    """Staff often try the patient journey themselves: a resume link must not sign them out."""
    from app.extensions import db
    from app.patient import services

    with app.app_context():
        _, token = services.start_screening(7)
        db.session.commit()
    assert physio_client.get(f"/resume/{token}").status_code == 302
    assert physio_client.get("/staff/").status_code == 200


# --- A browser left unused forgets its screening --------------------------------------------


def test_a_browser_left_unused_for_two_hours_stops_showing_the_answers(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    journey, token = save_half_way(client)
    saved_answers = only_screening(app)["answers"]
    clock.advance(minutes=119)
    assert journey.get("/screening/about").status_code == 200  # used again: the timer restarts
    clock.advance(minutes=119)
    assert journey.get(CHECK).status_code in (200, 302)

    clock.advance(minutes=121)
    page = journey.page("/screening/about")
    assert page.title.startswith("This browser has closed your screening")
    assert "2 hours" in page.main and "Save and come back later" in page.main
    assert not (page.field_names() - {"csrf_token"}), "no answers on the page"
    assert "screening_token" not in session_data(app, client)
    assert journey.get("/screening").location == "/start"  # forgotten, not just hidden once

    # The answers are kept, and the resume link opens them again.
    assert only_screening(app)["answers"] == saved_answers
    assert journey.get(f"/resume/{token}").status_code == 302
    assert journey.get("/screening/about").status_code == 200


def test_the_result_page_is_forgotten_too(app: Flask, client: FlaskClient, clock: Clock) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"))
    assert journey.submit().location == RESULT
    clock.advance(minutes=121)
    assert journey.page(RESULT).title.startswith("This browser has closed your screening")
    assert journey.get(RESULT).location == "/start"


def test_a_cookie_from_before_the_time_out_existed_is_treated_as_idle(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, profile("ideal_neck"))
    with client.session_transaction() as session:
        del session["screening_last_used"]
    assert Journey(client).page(CHECK).title.startswith("This browser has closed your screening")


def test_the_idle_time_is_set_by_patient_idle_minutes(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PATIENT_IDLE_MINUTES", "45")
    assert config_from_env(os.environ, str(tmp_path))["PATIENT_IDLE_MINUTES"] == 45


# --- A link to another screening, in a browser that has one open -----------------------------

CHOICE_TITLE = "Another screening is open in this browser"


def choose(client: FlaskClient, token: str, choice: str | None) -> Page:
    page = Page(client.get(f"/resume/{token}"))
    data = {"csrf_token": page.csrf_token} | ({} if choice is None else {"choice": choice})
    return Page(client.post(f"/resume/{token}", data=data))


@sqlite_only
def test_a_link_to_another_screening_asks_before_replacing_the_open_one(app: Flask, client: FlaskClient) -> None:
    _, open_token = seed_draft(app, client, answers_before("muscles", profile()))
    _, link_token = seed_draft(app, answers=answers_before("needles", profile()))
    page = Journey(client).page(f"/resume/{link_token}")
    assert page.title.startswith(CHOICE_TITLE)
    assert "Save and come back later" in page.main  # says how to get back to the open one
    # A form to choose, and neither screening's answers.
    assert page.field_names() == {"csrf_token", "choice"}
    assert {"open", "link"} == {str(i["value"]) for i in page.inputs if i.get("name") == "choice"}
    assert "45" not in page.main and "Neck" not in page.main
    assert session_data(app, client)["screening_token"] == open_token  # nothing replaced yet


@sqlite_only
def test_choosing_the_open_screening_keeps_it(app: Flask, client: FlaskClient) -> None:
    _, open_token = seed_draft(app, client, answers_before("muscles", profile()))
    _, link_token = seed_draft(app)
    response = choose(client, link_token, "open").response
    assert (response.status_code, response.location) == (303, "/screening")
    assert session_data(app, client)["screening_token"] == open_token
    assert client.get("/screening").location == "/screening/muscles"


@sqlite_only
def test_choosing_the_link_opens_its_screening_and_keeps_a_staff_sign_in(
    app: Flask, physio_client: FlaskClient
) -> None:
    Journey(physio_client).consent()  # a physiotherapist trying the journey, signed in
    _, link_token = seed_draft(app, answers=answers_before("needles", profile()))
    response = choose(physio_client, link_token, "link").response
    assert (response.status_code, response.location) == (303, "/screening")
    assert session_data(app, physio_client)["screening_token"] == link_token
    assert physio_client.get("/screening").location == "/screening/needles"
    assert physio_client.get("/staff/").status_code == 200


@sqlite_only
@pytest.mark.parametrize("choice", [None, "both", "other"])
def test_no_choice_or_a_made_up_one_asks_again(app: Flask, client: FlaskClient, choice: str | None) -> None:
    _, open_token = seed_draft(app, client)
    _, link_token = seed_draft(app)
    page = choose(client, link_token, choice)
    assert page.status == 400
    assert page.title.startswith("Error: " + CHOICE_TITLE)
    assert page.field_errors() == {"choice": "Select which screening you want to use"}
    assert page.error_summary_links() == ["choice-0"]
    assert session_data(app, client)["screening_token"] == open_token


@sqlite_only
def test_the_choice_needs_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    _, open_token = seed_draft(app, client)
    _, link_token = seed_draft(app)
    response = client.post(f"/resume/{link_token}", data={"choice": "link"})
    assert response.status_code == 400
    assert session_data(app, client)["screening_token"] == open_token


@sqlite_only
def test_the_link_of_the_screening_already_open_just_continues(app: Flask, client: FlaskClient) -> None:
    _, token = seed_draft(app, client, answers_before("muscles", profile()))
    response = client.get(f"/resume/{token}")
    assert (response.status_code, response.location) == (302, "/screening")


@sqlite_only
def test_a_link_after_the_open_screening_was_forgotten_just_opens(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    seed_draft(app, client)
    _, link_token = seed_draft(app)
    clock.advance(minutes=121)  # the open one is forgotten anyway
    assert client.get(f"/resume/{link_token}").location == "/screening"
    assert session_data(app, client)["screening_token"] == link_token


@sqlite_only
def test_a_link_when_the_open_screening_has_expired_just_opens(app: Flask, client: FlaskClient) -> None:
    open_id, _ = seed_draft(app, client)
    _, link_token = seed_draft(app)
    set_expiry(app, open_id, utcnow() - timedelta(minutes=1))
    assert client.get(f"/resume/{link_token}").location == "/screening"
    assert session_data(app, client)["screening_token"] == link_token


# --- After submission, the link shows the result for RESULT_VISIBLE_DAYS ---------------------


def submitted_link(app: Flask, client: FlaskClient) -> tuple[str, Page]:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"))
    journey.submit()
    return session_data(app, client)["screening_token"], journey.result()


def backdate_submission(app: Flask, days: float) -> None:
    from sqlalchemy import update

    from app.models import Screening

    with app.app_context():
        db.session.execute(update(Screening).values(submitted_at=utcnow() - timedelta(days=days)))
        db.session.commit()


def test_the_link_shows_the_result_within_the_window(app: Flask, client: FlaskClient) -> None:
    token, result = submitted_link(app, client)
    backdate_submission(app, days=29.9)
    other = app.test_client()
    assert other.get(f"/resume/{token}").location == "/screening"
    assert other.get("/screening").location == RESULT
    assert Journey(other).result().main == result.main


def test_after_the_window_the_link_says_only_that_it_was_sent(app: Flask, client: FlaskClient) -> None:
    token, result = submitted_link(app, client)
    reference = only_screening(app)["reference"]
    backdate_submission(app, days=30.1)
    other = app.test_client()
    assert other.get(f"/resume/{token}").location == "/screening"
    assert other.get("/screening").location == RESULT
    page = Journey(other).result()
    assert page.title.startswith("This screening has been sent to the clinic")
    assert reference in page.main
    assert app.config["CLINIC_PHONE"] in page.main
    assert "30 days" in page.main
    # Neither the outcome nor the answers.
    headline = re.search(r"<h1[^>]*>(.*?)</h1>", result.html, re.DOTALL)
    assert headline and re.sub(r"<[^>]+>", "", headline.group(1)).strip() not in page.main
    assert "Why we suggest this" not in page.main and "Rule set" not in page.main
    for path in ("/screening/request-assessment", "/screening/request-sent", CHECK, "/screening/about"):
        assert other.get(path).location in (RESULT, "/screening/result"), path


def test_the_window_is_set_by_result_visible_days(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    assert config_from_env(os.environ, str(tmp_path))["RESULT_VISIBLE_DAYS"] == 30
    monkeypatch.setenv("RESULT_VISIBLE_DAYS", "14")
    assert config_from_env(os.environ, str(tmp_path))["RESULT_VISIBLE_DAYS"] == 14


def test_a_draft_from_an_earlier_questionnaire_carries_on_without_its_retired_answers(
    app: Flask, client: FlaskClient
) -> None:
    """A draft lives for days; a new questionnaire may retire a question or a choice meanwhile."""
    answers = profile("ideal_neck")
    older = {k: v for k, v in answers.items() if k not in ("acute_illness", "long_term_condition")}  # new in 1.2.0
    older |= {"unwell_now": "no", "pain_onset": "struck_by_lightning"}  # a retired question; a value not offered
    draft_id, _ = seed_draft(app, client)
    with app.app_context():  # stored as an earlier version left it, without today's checks
        db.session.get(Screening, draft_id).answers = older  # type: ignore[union-attr]
        db.session.commit()
    journey = Journey(client)
    assert client.get("/screening").location == "/screening/pain_history"  # the onset is asked again
    check = Page(journey.walk(answers, start=False))
    assert check.title.startswith("Check your answers")
    assert journey.submit().location == "/screening/result"
    stored = only_screening(app)
    assert stored["outcome"] == "likely"
    assert "unwell_now" not in stored["answers"] and stored["answers"]["pain_onset"] == answers["pain_onset"]
