"""Booking from the result page: the external link, and the in-app request to be contacted.

The request form is offered on every bookable outcome and never on emergency or see-doctor;
its contact details are validated, stored once, and encrypted at rest.
"""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app import crypto
from app.extensions import db
from app.models import AssessmentRequest, Notification
from tests.conftest import sqlite_only
from tests.support.booking_pages import (
    BOOKABLE,
    REQUEST,
    SENT,
    URGENT,
    VALID_REQUEST,
    notifications,
    post_request,
    requests,
    submit_outcome,
)
from tests.support.journey import CHECK, RESULT, Journey, Page, profile, seed_draft

BOOKING_URL = "https://booking.example.com/ims-screen"
ASK = "Ask us to contact you"

#: Every message the empty form must show, by field.
EMPTY_FORM_ERRORS = {
    "name": "Enter your full name",
    "email": "Enter an email address or a phone number, or both",
    "preferred_location": "Choose a location, or “Either location”",
    "preferred_times": "Choose at least one time, or “Any time”",
    "contact_consent": "Tick the box so that the clinic can contact you",
}
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
PHONE_FORMAT = "Enter a phone number with its area code, like 604 555 0123"


# --- Where the request is offered ----------------------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("outcome", BOOKABLE)
def test_request_is_offered_on_every_bookable_result(app: Flask, client: FlaskClient, outcome: str) -> None:
    reference = submit_outcome(app, client, outcome)
    page = Journey(client).result()
    assert REQUEST in page.links
    assert ASK in page.main
    form = Journey(client).page(REQUEST)
    assert reference in form.main
    assert {
        "name",
        "phone",
        "email",
        "preferred_location",
        "preferred_times",
        "contact_consent",
        "csrf_token",
    } <= form.field_names()
    assert "<textarea" in form.html and 'name="message"' in form.html
    assert form.back_link == RESULT


@sqlite_only
@pytest.mark.parametrize("outcome", URGENT)
def test_no_request_on_emergency_or_see_doctor(app: Flask, client: FlaskClient, outcome: str) -> None:
    app.config["BOOKING_URL"] = BOOKING_URL
    submit_outcome(app, client, outcome)
    page = Journey(client).result()
    assert REQUEST not in page.links and ASK not in page.main
    assert BOOKING_URL not in page.html
    assert client.get(REQUEST).location == RESULT
    # Posting anyway (a stale tab, a crafted request) stores nothing.
    token = Journey(client).csrf_token()
    response = client.post(REQUEST, data={**VALID_REQUEST, "csrf_token": token})
    assert response.location == RESULT
    assert client.get(SENT).location == RESULT
    assert requests(app) == []
    assert [n["kind"] for n in notifications(app)] == ["clinic_urgent_screening"]


@sqlite_only
def test_request_before_submitting_stores_nothing(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, profile())
    assert client.get(REQUEST).location == RESULT
    response = client.post(REQUEST, data={**VALID_REQUEST, "csrf_token": Journey(client).csrf_token()})
    assert response.location == RESULT
    assert client.get(RESULT).location == CHECK
    assert requests(app) == [] and notifications(app) == []


@sqlite_only
def test_request_without_a_session_goes_to_the_start(client: FlaskClient) -> None:
    assert client.get(REQUEST).location == "/start"
    assert client.get(SENT).location == "/start"


@sqlite_only
def test_request_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    response = client.post(REQUEST, data=VALID_REQUEST)
    assert response.status_code == 400
    assert requests(app) == []


#: What each typed field of the request form says about itself (WCAG 2.2 1.3.5, Identify Input
#: Purpose, and GOV.UK's patterns): the keyboard a phone shows and what a browser may fill in.
#: The activities are health details, which no browser should remember, as the questionnaire's.
INPUT_PURPOSES = {
    "name": {"type": "text", "autocomplete": "name", "spellcheck": "false"},
    "phone": {"type": "tel", "autocomplete": "tel"},
    "email": {"type": "email", "autocomplete": "email", "spellcheck": "false"},
    "activity_1": {"type": "text", "autocomplete": "off"},
    "activity_2": {"type": "text", "autocomplete": "off"},
    "activity_3": {"type": "text", "autocomplete": "off"},
}


@sqlite_only
def test_contact_fields_say_what_they_hold_so_phones_show_the_right_keyboard(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    typed = {"hidden", "checkbox", "radio"}
    for page in (Journey(client).page(REQUEST), Page(post_request(client, phone="12345", email="jordan"))):
        fields = {str(i["name"]): i for i in page.inputs if i.get("type") not in typed}
        assert set(fields) == set(INPUT_PURPOSES)
        for name, expected in INPUT_PURPOSES.items():
            assert {key: fields[name].get(key) for key in expected} == expected, name
    # The server still checks them as before: a browser never has the last word (novalidate).
    assert "novalidate" in page.html
    assert page.field_errors() == {"phone": PHONE_FORMAT, "email": EMAIL_FORMAT}


# --- Validation ----------------------------------------------------------------------------------


@sqlite_only
def test_empty_request_shows_every_message(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    token = Journey(client).page(REQUEST).csrf_token
    page = Page(client.post(REQUEST, data={"csrf_token": token}))
    assert page.status == 400
    assert page.title.startswith("Error:")
    assert page.field_errors() == EMPTY_FORM_ERRORS
    assert page.error_summary_links() == [
        "name",
        "email",
        "preferred_location-0",
        "preferred_times-0",
        "contact_consent",
    ]
    for message in EMPTY_FORM_ERRORS.values():
        assert message in page.main
    assert requests(app) == []


@sqlite_only
def test_invalid_contact_details_are_refused(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    cases: list[tuple[dict[str, object], str, str | None]] = [
        ({"email": "jordan"}, "email", EMAIL_FORMAT),
        ({"email": "jordan@example"}, "email", EMAIL_FORMAT),
        ({"email": "jordan@@example.org"}, "email", EMAIL_FORMAT),
        ({"email": "jo rdan@example.org"}, "email", EMAIL_FORMAT),
        ({"email": "@example.org"}, "email", EMAIL_FORMAT),
        # Header syntax would send the confirmation to someone other than the address typed.
        ({"email": "me:other@example.org"}, "email", EMAIL_FORMAT),
        ({"email": "me<other@example.org"}, "email", EMAIL_FORMAT),
        ({"email": "a,b@example.org"}, "email", EMAIL_FORMAT),
        ({"email": "x" * 250 + "@example.org"}, "email", "Use 254 characters or fewer"),
        ({"phone": "12345"}, "phone", PHONE_FORMAT),
        ({"phone": "604-555-01AB"}, "phone", PHONE_FORMAT),
        ({"phone": "call me"}, "phone", PHONE_FORMAT),
        ({"phone": "1" * 16}, "phone", PHONE_FORMAT),
        ({"name": "   "}, "name", "Enter your full name"),
        ({"name": "N" * 121}, "name", "Use 120 characters or fewer"),
        ({"message": "m" * 1001}, "message", "Use 1000 characters or fewer"),
        ({"preferred_location": "Burnaby"}, "preferred_location", "Not a valid choice."),
        ({"preferred_times": ["weekday_morning", "midnight"]}, "preferred_times", None),
        ({"email": None, "phone": None}, "email", EMPTY_FORM_ERRORS["email"]),
        ({"email": "  ", "phone": " "}, "email", EMPTY_FORM_ERRORS["email"]),
        ({"contact_consent": None}, "contact_consent", EMPTY_FORM_ERRORS["contact_consent"]),
    ]
    for changes, field, message in cases:
        page = Page(post_request(client, **changes))
        assert page.status == 400, changes
        errors = page.field_errors()
        assert list(errors) == [field], (changes, errors)
        if message is not None:
            assert errors[field] == message, (changes, errors)
        # What the person typed is kept, so that they only fix the problem.
        if field != "name":
            assert page.value("name") == VALID_REQUEST["name"]
    assert requests(app) == []


@sqlite_only
@pytest.mark.parametrize(
    "contact",
    [
        {"email": None},
        {"phone": None},
        {"phone": "+1 (604) 555-0199", "email": None},
        {"phone": "604.555.0199", "email": "josé.tremblay+ims@exemple.ca"},
    ],
)
def test_phone_or_email_is_enough(app: Flask, client: FlaskClient, contact: dict[str, str | None]) -> None:
    submit_outcome(app, client, "possible")
    response = post_request(client, **contact)
    assert response.status_code == 303, Page(response).field_errors()
    [stored] = requests(app)
    expected = {**VALID_REQUEST, **contact}
    assert stored["email"] == expected["email"]
    assert stored["phone"] == expected["phone"]


# --- A valid request -----------------------------------------------------------------------------


def test_valid_request_is_stored_once_and_confirmed(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "clinician_review")
    response = post_request(client, name="  Jordan Émile Quistgaard ", email=" jordan.quistgaard@example.org ")
    assert response.status_code == 303
    assert response.location == SENT
    sent = Journey(client).page(SENT)
    assert sent.title.startswith("Request sent")
    assert reference in sent.main
    assert "We will email you a confirmation" in sent.main
    assert RESULT in sent.links

    [stored] = requests(app)
    assert stored == {
        "screening": reference,
        "name": VALID_REQUEST["name"],
        "email": VALID_REQUEST["email"],
        "phone": VALID_REQUEST["phone"],
        "message": VALID_REQUEST["message"],
        "preferred_location": "Vancouver",
        "preferred_times": ["weekday_morning", "saturday"],
        "name_search_hash": stored["name_search_hash"],
    }

    # The result page now says the request was made, instead of offering it again.
    result = Journey(client).result()
    assert "We have your request to be contacted" in result.main
    assert SENT in result.links and REQUEST not in result.links

    # A second request (back button, another tab) changes nothing.
    assert client.get(REQUEST).location == SENT
    token = Journey(client).csrf_token()
    again = client.post(REQUEST, data={**VALID_REQUEST, "name": "Someone Else", "csrf_token": token})
    assert again.location == SENT
    assert requests(app) == [stored]
    assert [n["kind"] for n in notifications(app)] == ["clinic_new_request", "patient_request_confirmation"]


@sqlite_only
def test_confirmation_without_email_does_not_promise_one(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "unlikely")
    assert post_request(client, email=None).location == SENT
    sent = Journey(client).page(SENT)
    assert reference in sent.main
    assert "confirmation" not in sent.main


@sqlite_only
def test_sent_page_without_a_request_goes_to_the_result(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    assert client.get(SENT).location == RESULT


@sqlite_only
@pytest.mark.parametrize(
    "locations, any_label",
    [
        (["North Shore, 12 Lonsdale Ave", "Richmond", "Kelowna"], "Any location"),
        (["Victoria", "Nanaimo"], "Either location"),
    ],
)
def test_location_choices_come_from_the_configuration(
    app: Flask, client: FlaskClient, locations: list[str], any_label: str
) -> None:
    app.config["CLINIC_LOCATIONS"] = locations
    submit_outcome(app, client, "likely")
    page = Journey(client).page(REQUEST)
    radios = [i for i in page.inputs if i.get("name") == "preferred_location"]
    assert [r["value"] for r in radios] == [*locations, "any"]
    assert any_label in page.main
    assert "Vancouver" not in page.main
    assert Page(post_request(client, preferred_location="Vancouver")).field_errors() == {
        "preferred_location": "Not a valid choice."
    }
    assert post_request(client, preferred_location=locations[-1]).location == SENT
    assert requests(app)[0]["preferred_location"] == locations[-1]


@sqlite_only
def test_either_location_is_stored_as_any(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    assert post_request(client, preferred_location="any", preferred_times=["any"]).location == SENT
    [stored] = requests(app)
    assert (stored["preferred_location"], stored["preferred_times"]) == ("any", ["any"])


# --- The external booking link -------------------------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("outcome", ["likely", "not_suitable"])
def test_external_booking_link_only_when_configured(app: Flask, client: FlaskClient, outcome: str) -> None:
    submit_outcome(app, client, outcome)
    page = Journey(client).result()
    assert "Book online" not in page.main
    assert [link for link in page.links if link.startswith("http")] == []
    assert REQUEST in page.links

    app.config["BOOKING_URL"] = BOOKING_URL
    page = Journey(client).result()
    assert "Book online" in page.main
    assert BOOKING_URL in page.links
    assert REQUEST in page.links and ASK in page.main  # both ways to book


# --- Encrypted at rest ---------------------------------------------------------------------------


def test_contact_details_are_not_stored_in_clear(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "possible")
    assert post_request(client).location == SENT
    secrets = {field: VALID_REQUEST[field] for field in ("name", "email", "phone", "message")}
    with app.app_context():
        row = db.session.execute(text("SELECT name, email, phone, message FROM assessment_request")).one()
        raw = dict(row._mapping)
        for field, value in secrets.items():
            assert raw[field] != value
            for secret in secrets.values():
                assert secret not in raw[field]
            assert "Quistgaard" not in raw[field] and "0199" not in raw[field]
            assert crypto.decrypt(raw[field]) == value
        # The patient's address on the confirmation email is encrypted too.
        recipients = (
            db.session.execute(text("SELECT recipient FROM notification WHERE recipient IS NOT NULL")).scalars().all()
        )
        assert len(recipients) == 1 and "quistgaard" not in recipients[0].lower()
        assert crypto.decrypt(recipients[0]) == VALID_REQUEST["email"]
        # Nor does the name leak through another column or table.
        for table in ("assessment_request", "notification", "screening", "audit_event"):
            for values in db.session.execute(text(f"SELECT * FROM {table}")).all():
                assert "quistgaard" not in repr(tuple(values)).lower(), table


@sqlite_only
def test_sqlite_file_holds_no_contact_details(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "likely")
    assert post_request(client).location == SENT
    with app.app_context():
        path = Path(db.engine.url.database or "")
    # Outside any transaction (the app's begin IMMEDIATE), so the WAL is copied into the file.
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    files = [
        p for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")) if p.exists()
    ]
    content = b"".join(p.read_bytes() for p in files)
    assert reference.encode() in content  # the check reads the data that was written
    for secret in ("Quistgaard", "quistgaard@example.org", "604 555 0199", "Zebulon"):
        assert secret.encode("utf-8") not in content, secret
    assert "Émile".encode() not in content


def test_search_hash_finds_the_request_by_name(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "likely")
    assert post_request(client).location == SENT
    with app.app_context():

        def found(name: str) -> list[str]:
            query = select(AssessmentRequest).where(AssessmentRequest.name_search_hash == crypto.search_hash(name))
            return [r.screening.reference for r in db.session.scalars(query)]

        for typed in ("Jordan Émile Quistgaard", "jordan émile quistgaard", "  JORDAN   ÉMILE\tQUISTGAARD "):
            assert found(typed) == [reference], typed
        assert found("Jordan Quistgaard") == []
        assert found("Jordan Emile Quistgaard") == []  # exact match only: no accent folding
        stored_hash = db.session.scalar(select(AssessmentRequest.name_search_hash))
        assert "quistgaard" not in (stored_hash or "").lower() and len(stored_hash or "") == 64
        assert db.session.scalar(select(Notification.id).where(Notification.kind == "clinic_new_request"))
