"""The follow-up pages (issue 18): opened from the email's link, which leaves the URL at once; the
questions, their validation, the check and the thanks with the safety net; the link's limits
(expired, used, stopped, unknown, someone else's); and answers that never change the screening's
stored result. On SQLite and PostgreSQL where the database takes part."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import RESULT_COLUMNS, Screening
from tests.conftest import Clock, sqlite_only
from tests.support.followup import ANSWERS, answer_all, expire, invite, only_follow_up
from tests.support.journey import Page, session_data

INVALID = "This link no longer works"


def stored_screening(app: Flask, screening_id: int) -> dict[str, object]:
    with app.app_context():
        screening = db.session.get(Screening, screening_id)
        assert screening is not None
        return {name: getattr(screening, name) for name in (*RESULT_COLUMNS, "answers", "outcome_rank", "state")}


def open_page(client: FlaskClient, path: str, status: int = 200) -> Page:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.location)
    return Page(response)


def test_answering_stores_the_answers_and_changes_nothing_in_the_screening(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    screening_id, links = invite(app, clock, activities=("Lifting my child", "Sitting at work"))
    before = stored_screening(app, screening_id)
    thanks = answer_all(client, links.open, {"activity_1": "4", "activity_2": "10"})
    assert "Answers sent" in thanks.title and "If things change" in thanks.main
    assert only_follow_up(app, screening_id) | {"token_expires_at": None} == {
        "answered": True,
        "current_pain": 3,
        "average_pain": 4,
        "pgic": 2,
        "had_ims": "yes",
        "ims_sessions": 5,
        "scores": [(1, 4), (2, 10)],
        "language": "en-CA",
        "token_expires_at": None,
    }
    assert stored_screening(app, screening_id) == before


def test_the_link_leaves_the_url_and_the_cookie_holds_no_answer(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock)
    response = client.get(links.open)
    assert response.status_code == 302 and response.location == "/follow-up"
    assert response.location.count("/") == 1  # no token in the address the browser goes on to
    first = client.get("/follow-up").location
    assert first == "/follow-up/pain"
    page = Page(client.post(first, data={"csrf_token": open_page(client, first).csrf_token, **ANSWERS["pain"]}))
    assert page.status == 303
    cookie = session_data(app, client)
    # The token, when it was last used, and the usual CSRF secret and language: no answer.
    assert set(cookie) <= {"follow_up_token", "follow_up_last_used", "csrf_token", "language"}
    assert cookie["follow_up_token"] == links.open.rsplit("/", 1)[1]
    assert isinstance(cookie["follow_up_last_used"], int)


def test_the_pages_read_well_and_ask_one_thing_at_a_time(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock, activities=("Gardening",))
    client.get(links.open)
    pain = open_page(client, "/follow-up/pain")
    assert pain.title == "Your pain (question page 1 of 4) | IMS Screen"
    assert "Questions 2 weeks after your first appointment" in pain.main
    # 0 to 10 as radios in a fieldset, each end named by its words too.
    assert [i["value"] for i in pain.inputs if i.get("name") == "current_pain"] == [str(n) for n in range(11)]
    assert '0<span class="visually-hidden">, no pain</span>' in pain.html
    assert '10<span class="visually-hidden">, worst pain you can imagine</span>' in pain.html
    change = open_page(client, "/follow-up/change")
    assert [i["value"] for i in change.inputs if i.get("name") == "pgic"] == [str(n) for n in range(1, 8)]
    assert "Very much better" in change.main and "Very much worse" in change.main
    ims = open_page(client, "/follow-up/ims")
    assert {i["value"] for i in ims.inputs if i.get("name") == "had_ims"} == {"yes", "no", "not_sure"}
    # The sessions question sits in the reveal under "Yes" (CSS only, see site.css `.reveal`).
    assert 'class="choice__input reveal__trigger" id="had_ims-0"' in ims.html and 'id="sessions-reveal"' in ims.html
    activities = open_page(client, "/follow-up/activities")
    assert "Gardening" in activities.main and "activity_1" in activities.field_names()
    assert activities.back_link == "/follow-up/ims"


def test_without_activities_there_is_no_activities_page(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock)
    client.get(links.open)
    assert open_page(client, "/follow-up/pain").title.startswith("Your pain (question page 1 of 3)")
    assert client.get("/follow-up/activities").location == "/follow-up"


@pytest.mark.parametrize(
    ("page", "data", "errors"),
    [
        (
            "pain",
            {},
            {
                "current_pain": "Select a number from 0 to 10 for how bad your pain is right now",
                "average_pain": "Select a number from 0 to 10 for your pain on average over the past week",
            },
        ),
        (
            "pain",
            {"current_pain": "11", "average_pain": "4"},
            {"current_pain": "Select a number from 0 to 10 for how bad your pain is right now"},
        ),
        ("change", {"pgic": "0"}, {"pgic": "Select how your pain problem has changed"}),
        ("ims", {}, {"had_ims": "Select whether you have had IMS"}),
        ("ims", {"had_ims": "yes"}, {"ims_sessions": "Enter about how many IMS sessions you have had"}),
        (
            "ims",
            {"had_ims": "yes", "ims_sessions": "four"},
            {"ims_sessions": "Enter the number of sessions as a whole number, like 4"},
        ),
        ("ims", {"had_ims": "yes", "ims_sessions": "100"}, {"ims_sessions": "Enter a number of sessions from 1 to 99"}),
        (
            "ims",
            {"had_ims": "yes", "ims_sessions": "4²"},
            {"ims_sessions": "Enter the number of sessions as a whole number, like 4"},
        ),
        ("activities", {}, {"activity_1": "Select a number from 0 to 10 for “Gardening”"}),
    ],
)
@sqlite_only
def test_a_wrong_answer_is_explained_and_what_was_typed_is_kept(
    app: Flask, client: FlaskClient, clock: Clock, page: str, data: dict[str, str], errors: dict[str, str]
) -> None:
    screening_id, links = invite(app, clock, activities=("Gardening",))
    client.get(links.open)
    path = f"/follow-up/{page}"
    refused = Page(client.post(path, data={"csrf_token": open_page(client, path).csrf_token, **data}))
    assert refused.status == 400
    assert refused.title.startswith("Error: ")
    assert refused.field_errors() == errors
    assert [link.split("-")[0] for link in refused.error_summary_links()] == list(errors)
    for name, value in data.items():  # nothing typed is lost
        radios = {i.get("value") for i in refused.inputs if i.get("name") == name and i.get("type") == "radio"}
        if radios and value not in radios:
            assert refused.checked(name) == set(), name  # a value no radio has (a forged post)
            continue
        shown = refused.checked(name) if radios else {refused.value(name)}
        assert shown == {value}, name
    assert only_follow_up(app, screening_id)["current_pain"] is None  # nothing saved
    assert client.get("/follow-up").location == "/follow-up/pain"


@sqlite_only
@pytest.mark.parametrize("posted", [{"current_pain": ["2", "3"], "average_pain": "1"}, {"current_pain": "x" * 5000}])
def test_tampered_posts_are_refused_without_a_server_error(
    app: Flask, client: FlaskClient, clock: Clock, posted: dict[str, object]
) -> None:
    _, links = invite(app, clock)
    client.get(links.open)
    response = client.post(
        "/follow-up/pain", data={"csrf_token": open_page(client, "/follow-up/pain").csrf_token, **posted}
    )
    assert response.status_code == 400


@sqlite_only
def test_sessions_in_persian_digits_are_understood(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    client.get(links.open)
    path = "/follow-up/ims"
    response = client.post(
        path, data={"csrf_token": open_page(client, path).csrf_token, "had_ims": "yes", "ims_sessions": "۱۲"}
    )
    assert response.status_code == 303
    assert only_follow_up(app, screening_id)["ims_sessions"] == 12


@sqlite_only
def test_the_sessions_box_brings_up_a_number_keypad(app: Flask, client: FlaskClient, clock: Clock) -> None:
    """GOV.UK's whole-number input: type text with inputmode numeric (not type number, which
    changes a value on scroll and refuses what the server would explain), checked on the server."""
    _, links = invite(app, clock)
    client.get(links.open)
    path = "/follow-up/ims"
    shown = open_page(client, path)
    refused = Page(client.post(path, data={"csrf_token": shown.csrf_token, "had_ims": "yes", "ims_sessions": "four"}))
    assert refused.field_errors() == {"ims_sessions": "Enter the number of sessions as a whole number, like 4"}
    for page in (shown, refused):
        [sessions] = [i for i in page.inputs if i.get("name") == "ims_sessions"]
        expected = {"type": "text", "inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        assert {key: sessions.get(key) for key in expected} == expected


@pytest.mark.one_backend
def test_the_check_page_gives_a_scale_answer_out_of_10_as_the_screenings_does(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    _, links = invite(app, clock, activities=("Gardening",))
    client.get(links.open)
    for page, answer in (*ANSWERS.items(), ("activities", {"activity_1": "7"})):
        path = f"/follow-up/{page}"
        client.post(path, data={"csrf_token": open_page(client, path).csrf_token, **answer})
    check = open_page(client, "/follow-up/check")
    rows = dict(
        zip(
            re.findall(r'<dt class="summary-list__key">(.*?)</dt>', check.html, re.DOTALL),
            re.findall(r'<dd class="summary-list__value">(.*?)</dd>', check.html, re.DOTALL),
            strict=True,
        )
    )
    assert rows == {
        "How bad is your pain right now?": "3 out of 10",
        "Over the past week, how bad has your pain been on average?": "4 out of 10",
        "Since your first appointment, how has your pain problem changed overall?": "Much better",
        "Have you had IMS (dry needling) since your screening?": "Yes",
        "About how many IMS sessions have you had?": "5",  # a count, not a scale
        "Gardening": "7 out of 10",
    }


def test_sessions_are_forgotten_after_no_and_change_links_come_back_to_the_check(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    screening_id, links = invite(app, clock)
    answer = {**ANSWERS}
    client.get(links.open)
    for page in ("pain", "change", "ims"):
        path = f"/follow-up/{page}"
        client.post(path, data={"csrf_token": open_page(client, path).csrf_token, **answer[page]})
    check = open_page(client, "/follow-up/check")
    assert "/follow-up/ims?return_to=check#had_ims-0" in check.links
    form = open_page(client, "/follow-up/ims?return_to=check")
    assert form.checked("had_ims") == {"yes"} and form.value("ims_sessions") == "5"
    response = client.post(
        "/follow-up/ims",
        data={"csrf_token": form.csrf_token, "had_ims": "no", "ims_sessions": "5", "return_to": "check"},
    )
    assert response.location == "/follow-up"
    assert client.get("/follow-up").location == "/follow-up/check"
    stored = only_follow_up(app, screening_id)
    assert (stored["had_ims"], stored["ims_sessions"], stored["answered"]) == ("no", None, False)


def test_the_check_page_sends_only_complete_answers(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    client.get(links.open)
    assert client.get("/follow-up/check").location == "/follow-up"
    token = open_page(client, "/follow-up/pain").csrf_token
    assert client.post("/follow-up/send", data={"csrf_token": token}).location == "/follow-up"
    assert only_follow_up(app, screening_id)["answered"] is False
    assert client.post("/follow-up/send", data={}).status_code == 400  # no CSRF token


def test_things_worse_lead_the_thanks_with_what_to_do(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock)
    ANSWERS["change"]["pgic"] = "6"
    try:
        thanks = answer_all(client, links.open)
    finally:
        ANSWERS["change"]["pgic"] = "2"
    assert "You told us things are worse" in thanks.main
    assert thanks.main.index("You told us things are worse") < thanks.main.index("If things change")
    assert "Call 911" in thanks.main


def test_an_answered_link_is_used_up(app: Flask, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    first = app.test_client()
    answer_all(first, links.open)
    before = only_follow_up(app, screening_id)
    for browser in (first, app.test_client()):
        page = open_page(browser, links.open, 404)
        assert INVALID in page.title and "Your pain" not in page.main
        assert open_page(browser, "/follow-up/pain", 404).title.startswith(INVALID)
    assert only_follow_up(app, screening_id) == before


def test_an_expired_link_shows_a_kind_page_and_no_data(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock, activities=("Carrying shopping",))
    client.get(links.open)
    expire(app, screening_id)
    for path in (links.open, "/follow-up", "/follow-up/pain", "/follow-up/activities", "/follow-up/check"):
        page = open_page(client, path, 404)
        assert page.title.startswith(INVALID) and "Carrying shopping" not in page.html, path


def test_the_link_expires_after_the_configured_days(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock)
    clock.advance(hours=app.config["FOLLOW_UP_LINK_DAYS"] * 24 - 1)
    assert client.get(links.open).status_code == 302
    clock.advance(hours=2)
    assert client.get(links.open).status_code == 404


@sqlite_only
def test_an_unknown_or_altered_token_opens_nothing(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock)
    for path in (links.open[:-1], links.open + "x", "/resume/follow-up/" + "A" * 43, "/resume/follow-up/%00"):
        assert open_page(client, path, 404).title.startswith(INVALID), path
    assert open_page(client, "/follow-up", 404).title.startswith(INVALID)


def test_one_patients_link_never_opens_anothers_follow_up(app: Flask, clock: Clock) -> None:
    first_id, first_links = invite(app, clock, activities=("Walking the dog",))
    clock.advance(hours=-2 * 7 * 24)  # the second person was booked at the same time
    second_id, second_links = invite(app, clock, activities=("Playing piano",))
    browser = app.test_client()
    browser.get(first_links.open)
    assert "Walking the dog" in open_page(browser, "/follow-up/activities").main
    browser.get(second_links.open)  # the browser now holds the second person's link only
    page = open_page(browser, "/follow-up/activities")
    assert "Playing piano" in page.main and "Walking the dog" not in page.html
    answer_all(browser, second_links.open, {"activity_1": "5"})
    assert only_follow_up(app, second_id)["answered"] is True
    assert only_follow_up(app, first_id)["current_pain"] is None
    # The first person's link still opens theirs, and nothing of the second's.
    other = app.test_client()
    other.get(first_links.open)
    assert "Playing piano" not in open_page(other, "/follow-up/activities").html


@sqlite_only
def test_a_browser_left_unused_forgets_the_follow_up(app: Flask, client: FlaskClient, clock: Clock) -> None:
    _, links = invite(app, clock)
    client.get(links.open)
    clock.advance(minutes=app.config["PATIENT_IDLE_MINUTES"] + 1)
    assert open_page(client, "/follow-up/pain", 404).title.startswith(INVALID)
    assert client.get(links.open).status_code == 302  # the email's link still works


def test_a_stopped_follow_up_cannot_be_opened(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    client.get(links.open)
    stop_page = open_page(client, links.stop)
    client.post(links.stop, data={"csrf_token": stop_page.csrf_token})
    assert open_page(client, "/follow-up/pain", 404).title.startswith(INVALID)
    assert open_page(client, links.open, 404).title.startswith(INVALID)
    with app.app_context():
        assert db.session.scalars(select(Screening.follow_ups_stopped_at)).one() is not None
    assert only_follow_up(app, screening_id)["answered"] is False
