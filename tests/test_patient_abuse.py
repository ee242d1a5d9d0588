"""Requests no honest browser sends: tampered and extra fields, pages out of order, missing
CSRF tokens, no session. Each is refused and leaves the stored draft exactly as it was."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.forgery import with_csrf_token
from tests.support.journey import (
    CHECK,
    REASSURANCE,
    RESULT,
    SAVED,
    SECTION_IDS,
    SUBMIT,
    Journey,
    answers_before,
    form_data,
    only_screening,
    profile,
    screenings,
    seed_draft,
    unchanged,
)

IDEAL = profile("ideal_neck")


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize(
    "extra",
    [
        {"status": "submitted"},
        {"state": "submitted"},
        {"outcome": "likely"},
        {"reference": "IMS-22222222"},
        {"shoe_size": "9"},
        {"answers": "{}"},
        {"age__unit": "years"},
        {"pain_regions__unit": "months"},
    ],
)
def test_extra_fields_are_refused(app: Flask, client: FlaskClient, extra: dict[str, str]) -> None:
    seed_draft(app, client, answers_before("pain_location", IDEAL))
    journey = Journey(client)
    with unchanged(app):
        response = journey.post_step("pain_location", {**form_data("pain_location", IDEAL), **extra})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("section_id", "foreign"),
    [
        ("warning_signs", {"age": "45"}),
        ("pain_location", {"rf_saddle_numbness": "no"}),
        ("pain_location", {"warning_signs_now": "none"}),
        ("warning_signs", {"rf_saddle_numbness": "no"}),  # asked by its checklist, not on its own
        ("needles", {"blood_thinners": "no"}),
        ("more_warning_signs", {"respondent": "proxy"}),
    ],
)
def test_answers_to_another_pages_questions_are_refused(
    app: Flask, client: FlaskClient, section_id: str, foreign: dict[str, str]
) -> None:
    seed_draft(app, client, IDEAL)
    with unchanged(app):
        response = Journey(client).post_step(section_id, {**form_data(section_id, IDEAL), **foreign})
    assert response.status_code == 400


def test_a_later_page_posted_early_goes_to_the_first_unfinished_page(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    journey = Journey(client)
    with unchanged(app):
        for later in SECTION_IDS[SECTION_IDS.index("pain_history") + 1 :]:
            response = journey.post_step(later, {"action": "continue", **form_data(later, IDEAL)})
            assert (response.status_code, response.location) == (302, "/screening/pain_history"), later
            assert client.get(f"/screening/{later}").location == "/screening/pain_history"
    # Earlier pages stay open, to go back and change them.
    assert journey.page("/screening/about").checked("respondent") == {"self"}


def test_a_page_skipped_in_the_middle_is_the_one_to_finish(app: Flask, client: FlaskClient) -> None:
    answers = {
        k: v for k, v in IDEAL.items() if k not in ("pain_now", "pain_average", "pain_worst", "pain_interference")
    }
    seed_draft(app, client, answers)
    assert client.get("/screening/treatments").location == "/screening/pain_severity"
    assert client.get("/screening").location == "/screening/pain_severity"


def test_an_unknown_page_is_not_found(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, IDEAL)
    journey = Journey(client)
    assert client.get("/screening/shoe_size").status_code == 404
    with unchanged(app):
        response = journey.post_step("shoe_size", {"action": "continue"})
    assert response.status_code == 404
    assert client.get("/screening/..%2Fabout").status_code == 404


NO_SESSION_PAGES = ["/screening", CHECK, RESULT, SAVED, REASSURANCE, *(f"/screening/{s}" for s in SECTION_IDS)]


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize("path", NO_SESSION_PAGES)
def test_pages_without_a_screening_send_the_person_to_the_start(app: Flask, client: FlaskClient, path: str) -> None:
    seed_draft(app)  # someone else's draft: never reachable without its token
    response = client.get(path)
    assert (response.status_code, response.location) == (302, "/start")


def test_a_post_without_a_screening_creates_nothing(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    token = journey.csrf_token()
    response = client.post("/screening/about", data={"csrf_token": token, **form_data("about", IDEAL)})
    assert (response.status_code, response.location) == (302, "/start")
    response = client.post(SUBMIT, data={"csrf_token": token})
    assert (response.status_code, response.location) == (302, "/start")
    assert screenings(app) == []


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize("section_id", SECTION_IDS)
def test_a_page_posted_without_a_valid_csrf_token_is_refused(app: Flask, client: FlaskClient, section_id: str) -> None:
    seed_draft(app, client, answers_before(section_id, IDEAL))
    valid = Journey(client).page(f"/screening/{section_id}").csrf_token
    honest = {"action": "continue", **form_data(section_id, IDEAL)}
    with unchanged(app):
        for token in (None, "", "not-a-token", valid[:-1], valid + "x"):
            response = client.post(f"/screening/{section_id}", data=with_csrf_token(honest, token))
            assert response.status_code == 400, token
    # The same post with the page's token is accepted: only the token was wrong.
    response = client.post(f"/screening/{section_id}", data={**honest, "csrf_token": valid})
    assert response.status_code == 303


def test_consent_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    Journey(client).page("/start")
    response = client.post("/start", data={"consent": "y"})
    assert response.status_code == 400
    assert screenings(app) == []


def test_sending_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, IDEAL)
    Journey(client).page(CHECK)
    with unchanged(app):
        response = client.post(SUBMIT)
        assert response.status_code == 400
        response = client.post(SUBMIT, data={"csrf_token": "forged"})
        assert response.status_code == 400
    assert only_screening(app)["state"] == "draft"


def test_a_csrf_token_from_another_browser_is_refused(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("about", IDEAL))
    other = Journey(app.test_client())
    foreign_token = other.csrf_token()
    with unchanged(app):
        response = client.post("/screening/about", data={"csrf_token": foreign_token, **form_data("about", IDEAL)})
    assert response.status_code == 400


def test_get_with_answers_in_the_query_string_changes_nothing(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, answers_before("about", IDEAL))
    with unchanged(app):
        response = client.get("/screening/about", query_string=form_data("about", IDEAL))
    assert response.status_code == 200


@pytest.mark.one_backend  # refused or shown before the database is asked: SQLite only
@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_not_allowed(app: Flask, client: FlaskClient, method: str) -> None:
    seed_draft(app, client, IDEAL)
    with unchanged(app):
        response = getattr(client, method)("/screening/about")
    assert response.status_code == 405
