"""The CSRF token of a question page lasts as long as the patient's idle time, and a post with
an expired or invalid token shows the same page again with its answers, asking to send again."""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Clock, sqlite_only
from tests.support.journey import (
    CHECK,
    Journey,
    Page,
    answers_before,
    form_data,
    only_screening,
    profile,
    seed_draft,
    unchanged,
)

IDEAL = profile("ideal_neck")
PAGE = "/screening/pain_location"
AGE_PAGE = form_data("pain_location", IDEAL)
BEFORE = answers_before("pain_location", IDEAL)
SEND_AGAIN = "Your answers on this page have not been saved yet. Check them, then press “Continue” again"


@sqlite_only
def test_the_csrf_token_lasts_as_long_as_the_patient_idle_time(app: Flask) -> None:
    assert app.config["WTF_CSRF_TIME_LIMIT"] == app.config["PATIENT_IDLE_MINUTES"] * 60 == 7200


@sqlite_only
def test_a_page_read_for_over_an_hour_is_still_accepted(app: Flask, client: FlaskClient, clock: Clock) -> None:
    seed_draft(app, client, BEFORE)
    journey = Journey(client)
    token = journey.page(PAGE).csrf_token
    clock.advance(minutes=110)
    response = client.post(PAGE, data={"csrf_token": token, "action": "continue", **AGE_PAGE})
    assert response.status_code == 303
    assert only_screening(app)["answers"]["age"] == IDEAL["age"]


def assert_asked_to_send_again(page: Page, label: str = "Continue") -> None:
    assert page.status == 400
    assert page.title.startswith("Error: ")
    assert page.error_summary_links() == ["continue"]
    assert SEND_AGAIN.replace("Continue", label) in page.text
    assert "continue" in page.ids
    # The posted answers are on the page, ready to send.
    assert page.value("age") == str(IDEAL["age"])
    assert page.checked("pain_regions") == set(IDEAL["pain_regions"])
    assert page.checked("main_region") == {IDEAL["main_region"]}


@sqlite_only
def test_an_expired_token_keeps_the_answers_and_asks_to_press_continue_again(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    seed_draft(app, client, BEFORE)
    journey = Journey(client)
    old_token = journey.page(PAGE).csrf_token
    clock.advance(minutes=100)
    journey.page(PAGE)  # the browser is used meanwhile (another tab): not idle
    clock.advance(minutes=30)  # the first tab's token is now 130 minutes old
    with unchanged(app):
        response = client.post(PAGE, data={"csrf_token": old_token, "action": "continue", **AGE_PAGE})
    page = Page(response)
    assert_asked_to_send_again(page)
    # Pressing Continue again, with the fresh token of the page shown, saves and moves on.
    response = client.post(PAGE, data={"csrf_token": page.csrf_token, "action": "continue", **AGE_PAGE})
    assert response.status_code == 303
    assert only_screening(app)["answers"]["age"] == IDEAL["age"]


@sqlite_only
@pytest.mark.parametrize("kind", [None, "", "not-a-token", "from another browser", "tampered"])
@pytest.mark.parametrize("action", ["continue", "save"])
def test_an_invalid_token_saves_nothing_and_shows_the_page_again(
    app: Flask, client: FlaskClient, kind: str | None, action: str
) -> None:
    seed_draft(app, client, BEFORE)
    journey = Journey(client)
    valid = journey.page(PAGE).csrf_token
    tokens = {
        "from another browser": lambda: Journey(app.test_client()).csrf_token(),
        "tampered": lambda: valid[:-2] + ("AA" if valid[-2:] != "AA" else "BB"),
    }
    token = tokens[kind]() if kind in tokens else kind
    data = {"action": action, **AGE_PAGE} | ({} if token is None else {"csrf_token": token})
    with unchanged(app):
        page = Page(client.post(PAGE, data=data))
    assert_asked_to_send_again(page)
    assert page.csrf_token != token


@sqlite_only
def test_sending_again_from_the_check_page_keeps_the_way_back(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, IDEAL)
    with unchanged(app):
        page = Page(client.post(PAGE, data={"csrf_token": "x", "return_to": "check", "action": "continue", **AGE_PAGE}))
    assert_asked_to_send_again(page, "Save and return to your answers")
    assert page.value("return_to") == "check"
    response = client.post(
        PAGE, data={"csrf_token": page.csrf_token, "return_to": "check", "action": "continue", **AGE_PAGE}
    )
    assert response.location == "/screening"
    assert client.get("/screening").location == CHECK


@sqlite_only
def test_a_page_that_could_not_be_shown_gets_the_plain_refusal(app: Flask, client: FlaskClient, clock: Clock) -> None:
    seed_draft(app, client, answers_before("pain_history", IDEAL))
    with unchanged(app):
        for path, data in [
            ("/screening/needles", form_data("needles", IDEAL)),  # not reached yet
            ("/screening/shoe_size", {}),  # no such page
            (PAGE, {"shoe_size": "9"}),  # a field no page has
        ]:
            page = Page(client.post(path, data={"csrf_token": "x", **data}))
            assert page.status == 400, path
            assert "Something was wrong with that request" in page.text
            assert not page.field_names() - {"csrf_token"}, "no answers on the page"
        clock.advance(minutes=121)  # the browser has forgotten the screening
        page = Page(client.post(PAGE, data={"csrf_token": "x", **AGE_PAGE}))
        assert page.status == 400 and "Something was wrong with that request" in page.text


@sqlite_only
@pytest.mark.parametrize("who", ["no screening", "submitted"])
def test_without_an_open_draft_the_refusal_is_plain(app: Flask, client: FlaskClient, who: str) -> None:
    if who == "submitted":
        journey = Journey(client)
        journey.walk(IDEAL)
        journey.submit()
    page = Page(client.post(PAGE, data={"csrf_token": "x", **AGE_PAGE}))
    assert page.status == 400
    assert "Something was wrong with that request" in page.text


@sqlite_only
def test_other_patient_forms_keep_the_plain_refusal(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, IDEAL)
    for path in ("/start", "/screening/submit"):
        page = Page(client.post(path, data={"csrf_token": "x"}))
        assert page.status == 400
        assert "Something was wrong with that request" in page.text
    assert only_screening(app)["state"] == "draft"
