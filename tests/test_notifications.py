"""Emails to the clinic and to patients: queued with what they announce, sent through a real
SMTP server (aiosmtpd on 127.0.0.1), retried when sending fails, and free of health details."""

import logging
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select, text

import rules
from app import notifications as outbox
from app.clock import utcnow
from app.display import answer_text
from app.extensions import db
from app.models import Notification, Screening
from tests.conftest import sqlite_only
from tests.support.booking_pages import (
    OUTCOME_CHANGES,
    SENT,
    VALID_REQUEST,
    notifications,
    post_request,
    submit_outcome,
)
from tests.support.journey import RESULT, SUBMIT, Journey, profile
from tests.support.smtp_server import Received, SMTPServer, free_port, running_smtp_server
from tests.support.staff_pages import text_of

PORTAL = "https://screen.clinic.example"
CLINIC_INBOX = "frontdesk@clinic.example"

#: Words that would tell a reader something about the person's health or result.
HEALTH_WORDS = (
    "emergency",
    "cauda",
    "see a doctor",
    "doctor",
    "red flag",
    "saddle",
    "numbness",
    "weight loss",
    "bladder",
    "bowel",
    "see_doctor",
    "clinician_review",
    "not_suitable",
    "unlikely",
    "likely",
    "possible",
    "candida",
    "candidacy",
    "candidate",
    "diagnos",
    "pain",
    "neck",
    "needle",
    "symptom",
    "allerg",
)
#: The one safety line every patient confirmation carries, whatever the result.
SAFETY_LINE = "In an emergency, call 911."


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPServer]:
    """A real SMTP server for this test, with the app pointed at it."""
    with running_smtp_server() as server:
        app.config.update(server.config(), PUBLIC_BASE_URL=PORTAL, CLINIC_INBOX=CLINIC_INBOX)
        yield server


def point_at_closed_port(app: Flask) -> None:
    """A mail server that is down: nothing listens on the port."""
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=free_port(),
        SMTP_STARTTLS=False,
        PUBLIC_BASE_URL=PORTAL,
        CLINIC_INBOX=CLINIC_INBOX,
    )


def deliver(app: Flask, send: outbox.Sender | None = None, **kwargs: object) -> tuple[int, int]:
    with app.app_context():
        return outbox.deliver_due(send or outbox.smtp_sender(app), **kwargs)  # type: ignore[arg-type]


def health_details(outcome: str) -> list[str]:
    """What an email must not say about a screening of `outcome`: question texts, answers, reasons."""
    answers = profile("ideal_neck", **OUTCOME_CHANGES[outcome])
    questions = rules.questionnaire().questions
    details = [questions[qid].text for qid in answers]
    details += [
        text
        for qid, value in answers.items()
        if len(text := answer_text(value, questions[qid])) > 3 and not text.isdigit()
    ]
    details += [reason.patient_text for reason in rules.evaluate(answers).explaining()]
    return details


def assert_no_health_details(received: Received, outcomes: list[str]) -> None:
    # The patient's own address is on their confirmation, of course; nothing else of theirs is.
    content = received.raw.replace(SAFETY_LINE, "").replace(VALID_REQUEST["email"], "").lower()
    for word in HEALTH_WORDS:
        assert word not in content, (word, received.subject)
    for outcome in outcomes:
        for detail in health_details(outcome):
            assert detail.lower() not in content, (detail, received.subject)
    for contact in (VALID_REQUEST["name"], "Quistgaard", VALID_REQUEST["phone"], "5550199", "Zebulon"):
        assert contact.lower() not in content, contact


# --- Queueing ------------------------------------------------------------------------------------


def test_urgent_screenings_queue_one_clinic_notification_each(app: Flask) -> None:
    references = {}
    for outcome in ("emergency", "see_doctor", "likely"):
        client = app.test_client()
        references[outcome] = submit_outcome(app, client, outcome)
        # Submitting again (double click, back button) queues nothing more.
        assert client.post(SUBMIT, data={"csrf_token": Journey(client).csrf_token()}).location == RESULT
    queued = notifications(app)
    assert [(n["kind"], n["reference"], n["recipient"], n["state"], n["attempts"]) for n in queued] == [
        ("clinic_urgent_screening", references["emergency"], None, "pending", 0),
        ("clinic_urgent_screening", references["see_doctor"], None, "pending", 0),
    ]


def test_assessment_request_queues_clinic_and_patient_emails(app: Flask) -> None:
    with_email, without_email = app.test_client(), app.test_client()
    first = submit_outcome(app, with_email, "possible")
    assert post_request(with_email).location == SENT
    second = submit_outcome(app, without_email, "not_suitable")
    assert post_request(without_email, email=None).location == SENT
    assert [(n["kind"], n["reference"], n["recipient"]) for n in notifications(app)] == [
        ("clinic_new_request", first, None),
        ("patient_request_confirmation", first, VALID_REQUEST["email"]),
        ("clinic_new_request", second, None),
    ]


# --- Sending through SMTP ------------------------------------------------------------------------


def test_emails_reach_the_smtp_server_without_health_details(app: Flask, smtp: SMTPServer) -> None:
    references = {}
    for outcome in ("emergency", "see_doctor", "clinician_review"):
        client = app.test_client()
        references[outcome] = submit_outcome(app, client, outcome)
        if outcome == "clinician_review":
            assert post_request(client).location == SENT
    assert deliver(app) == (4, 0)

    received = smtp.messages
    assert len(received) == 4
    by_reference: dict[str, list[Received]] = {}
    for message in received:
        assert message.message["From"] == app.config["MAIL_FROM"]
        [reference] = [r for r in references.values() if r in message.subject]
        by_reference.setdefault(reference, []).append(message)

    for outcome in ("emergency", "see_doctor"):
        [urgent] = by_reference[references[outcome]]
        assert urgent.recipients == [CLINIC_INBOX]
        assert "prompt attention" in urgent.subject
        assert f"{PORTAL}/staff/screenings/{references[outcome]}" in urgent.body
        assert_no_health_details(urgent, [outcome])
    # The two urgent outcomes read alike: the email does not say which it was.
    emergency, see_doctor = (by_reference[references[o]][0] for o in ("emergency", "see_doctor"))
    assert emergency.body.replace(references["emergency"], "REF") == see_doctor.body.replace(
        references["see_doctor"], "REF"
    )

    request_mail = {tuple(m.recipients): m for m in by_reference[references["clinician_review"]]}
    clinic, patient = request_mail[(CLINIC_INBOX,)], request_mail[(VALID_REQUEST["email"],)]
    assert "new assessment request" in clinic.subject
    assert f"{PORTAL}/staff/screenings/{references['clinician_review']}" in clinic.body
    assert VALID_REQUEST["email"] not in clinic.raw
    assert patient.message["To"] == VALID_REQUEST["email"]
    assert references["clinician_review"] in patient.subject and references["clinician_review"] in patient.body
    assert app.config["CLINIC_PHONE"] in patient.body
    assert "/staff/" not in patient.body  # the staff portal is no use to a patient
    for message in (clinic, patient):
        assert_no_health_details(message, ["clinician_review"])

    queued = notifications(app)
    assert {n["state"] for n in queued} == {"sent"}
    assert all(n["attempts"] == 1 and n["sent_at"] is not None and n["last_error"] is None for n in queued)
    assert deliver(app) == (0, 0)  # nothing is sent twice
    assert len(smtp.messages) == 4


def test_a_withdrawn_emergency_answer_is_told_to_the_clinic_without_health_details(
    app: Flask, smtp: SMTPServer
) -> None:
    client = app.test_client()
    reference = submit_outcome(app, client, "emergency")
    token = Journey(client).page(RESULT).csrf_token
    assert client.post("/screening/chose-by-mistake", data={"csrf_token": token}).status_code == 303
    assert [n["kind"] for n in notifications(app)] == ["clinic_urgent_screening", "clinic_emergency_withdrawn"]
    assert deliver(app) == (2, 0)
    [withdrawn] = [m for m in smtp.messages if "withdrawn" in m.subject]
    assert withdrawn.recipients == [CLINIC_INBOX]
    assert reference in withdrawn.subject
    assert f"{PORTAL}/staff/screenings/{reference}" in withdrawn.body
    assert_no_health_details(withdrawn, ["emergency"])


@sqlite_only
def test_portal_link_is_the_staff_screening_route(app: Flask, smtp: SMTPServer, physio_client: FlaskClient) -> None:
    reference = submit_outcome(app, app.test_client(), "emergency")
    app.config["PUBLIC_BASE_URL"] = PORTAL + "/"  # a trailing slash makes no double slash
    assert deliver(app) == (1, 0)
    [link] = [line for line in smtp.messages[0].body.splitlines() if line.startswith("https://")]
    with app.test_request_context():
        route = url_for("staff.screening", reference=reference)
    assert link == PORTAL + route
    assert physio_client.get(urlsplit(link).path).status_code == 200


# --- Failures: recorded, retried, never in the patient's way -------------------------------------


def test_mail_server_down_never_breaks_a_submission_and_is_retried(app: Flask) -> None:
    point_at_closed_port(app)
    urgent, requester = app.test_client(), app.test_client()
    urgent_reference = submit_outcome(app, urgent, "emergency")  # asserts the 303 to the result
    assert Journey(urgent).result().status == 200
    request_reference = submit_outcome(app, requester, "likely")
    assert post_request(requester).location == SENT
    assert request_reference in Journey(requester).page(SENT).main

    first_try = utcnow()
    assert deliver(app, now=first_try) == (0, 3)
    queued = notifications(app)
    assert [n["reference"] for n in queued] == [urgent_reference, request_reference, request_reference]
    for n in queued:
        assert (n["state"], n["attempts"], n["sent_at"]) == ("pending", 1, None)
        assert n["last_error"].startswith("ConnectionRefusedError")
        assert n["next_attempt_at"] == first_try + outbox.RETRY_DELAYS[0]
    assert deliver(app, now=first_try + outbox.RETRY_DELAYS[0] - timedelta(seconds=1)) == (0, 0)  # not yet due

    # The server is back: the next run sends everything.
    with running_smtp_server() as server:
        app.config.update(server.config())
        assert deliver(app, now=first_try + outbox.RETRY_DELAYS[0]) == (3, 0)
        assert len(server.messages) == 3
    assert [(n["state"], n["attempts"], n["last_error"]) for n in notifications(app)] == [("sent", 2, None)] * 3


def test_gives_up_after_every_retry_and_keeps_the_failure_visible(app: Flask) -> None:
    point_at_closed_port(app)
    submit_outcome(app, app.test_client(), "see_doctor")
    now = utcnow()
    delays = []
    for attempt in range(1, len(outbox.RETRY_DELAYS) + 2):
        assert deliver(app, now=now) == (0, 1), attempt
        [n] = notifications(app)
        assert n["attempts"] == attempt
        if attempt <= len(outbox.RETRY_DELAYS):
            assert n["state"] == "pending"
            delays.append(n["next_attempt_at"] - now)
            now = n["next_attempt_at"]
    assert tuple(delays) == outbox.RETRY_DELAYS
    [n] = notifications(app)
    assert n["state"] == "failed" and n["last_error"].startswith("ConnectionRefusedError")
    # Failed is final: no later run tries again behind the staff's back.
    assert deliver(app, now=now + timedelta(days=30)) == (0, 0)
    assert notifications(app)[0]["attempts"] == len(outbox.RETRY_DELAYS) + 1


def test_a_refused_address_does_not_hold_up_the_others(app: Flask, smtp: SMTPServer) -> None:
    client = app.test_client()
    submit_outcome(app, client, "likely")
    assert post_request(client).location == SENT
    smtp.refuse(VALID_REQUEST["email"])

    assert deliver(app) == (1, 1)
    states = {n["kind"]: (n["state"], n["last_error"]) for n in notifications(app)}
    assert states["clinic_new_request"] == ("sent", None)
    state, error = states["patient_request_confirmation"]
    assert state == "pending"
    assert error.startswith("SMTPRecipientsRefused") and "550" in error
    # The server's reply quotes the address; the error column is not encrypted, so it must not.
    assert "quistgaard" not in error.lower() and "[patient address]" in error
    with app.app_context():
        raw = db.session.execute(text("SELECT last_error FROM notification WHERE last_error IS NOT NULL")).scalar_one()
        assert "quistgaard" not in raw.lower()
    assert [m.recipients for m in smtp.messages] == [[CLINIC_INBOX]]


@sqlite_only
def test_an_unexpected_error_is_recorded_too(app: Flask) -> None:
    """A non-SMTP error (here a bug) must count as a failed attempt, not end the run and block the queue."""
    submit_outcome(app, app.test_client(), "emergency")
    submit_outcome(app, app.test_client(), "see_doctor")
    calls = []

    def broken(message: EmailMessage) -> None:
        calls.append(message["Subject"])
        if len(calls) == 1:
            raise UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range(128)")

    assert deliver(app, broken) == (1, 1)
    first, second = notifications(app)
    assert (first["state"], first["attempts"]) == ("pending", 1)
    assert first["last_error"].startswith("UnicodeEncodeError")
    assert (second["state"], second["attempts"]) == ("sent", 1)


# --- Without an SMTP server configured -----------------------------------------------------------


@sqlite_only
def test_development_without_smtp_host_logs_the_email(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    app.config.update(SMTP_HOST="", IMS_ENV="development", PUBLIC_BASE_URL=PORTAL)
    reference = submit_outcome(app, app.test_client(), "emergency")
    with caplog.at_level(logging.INFO, logger="app.notifications"):
        assert deliver(app) == (1, 0)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "app.notifications")
    assert "no SMTP_HOST" in logged
    assert reference in logged and f"{PORTAL}/staff/screenings/{reference}" in logged
    assert notifications(app)[0]["state"] == "sent"


@sqlite_only
def test_production_without_smtp_host_records_a_failure(app: Flask) -> None:
    app.config.update(SMTP_HOST="", IMS_ENV="production")
    submit_outcome(app, app.test_client(), "see_doctor")
    assert deliver(app) == (0, 1)
    [n] = notifications(app)
    assert (n["state"], n["attempts"]) == ("pending", 1)
    assert n["last_error"] == "SMTPException: SMTP_HOST is not configured"


def test_a_due_notification_is_claimed_by_one_worker_only(app) -> None:
    """Two workers that read the same due row: the second claim fails, so the email goes once."""
    from app import notifications
    from app.clock import utcnow
    from app.extensions import db
    from app.models import Notification

    with app.app_context():
        row = Notification(kind="clinic_new_request")
        db.session.add(row)
        db.session.commit()
        # What a second worker read before the first claimed it (never added to this session).
        other_workers_copy = Notification(id=row.id, next_attempt_at=row.next_attempt_at)
        now = utcnow()
        assert notifications._claim(row, now) is True
        assert notifications._claim(other_workers_copy, now) is False


def test_a_notification_whose_screening_was_deleted_is_not_sent(app) -> None:
    from app import notifications
    from app.extensions import db
    from app.models import Notification

    sent: list[object] = []
    with app.app_context():
        db.session.add(Notification(kind="clinic_urgent_screening", screening_id=None))
        db.session.commit()
        assert notifications.deliver_due(sent.append) == (0, 0)
        row = db.session.query(Notification).one()
        assert (row.state, row.last_error) == ("failed", "screening deleted before sending")
    assert sent == []


# --- How an email went: recorded when sent, read by the staff page --------------------------------


def delivered_by(app: Flask, reference: str) -> list[str | None]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Notification.delivered_by)
                .join(Screening, Screening.id == Notification.screening_id)
                .where(Screening.reference == reference)
            )
        )


@sqlite_only
def test_the_staff_page_says_how_an_email_really_went_not_how_the_web_server_would_send_it(
    app: Flask, smtp: SMTPServer, physio_client: FlaskClient
) -> None:
    """`flask notify` (cron) may have a mail server where the web server has none, or the other way
    round: the page reads how each email went, recorded when it was sent."""
    by_smtp = submit_outcome(app, app.test_client(), "emergency")
    assert deliver(app) == (1, 0) and len(smtp.messages) == 1
    assert delivered_by(app, by_smtp) == ["smtp"]
    app.config["SMTP_HOST"] = ""  # the web server's own settings name no mail server
    page = text_of(physio_client.get(f"/staff/screenings/{by_smtp}"))
    assert "Clinic told of the urgent result: sent " in page and "console" not in page

    to_console = submit_outcome(app, app.test_client(), "see_doctor")
    app.config.update(SMTP_HOST="", IMS_ENV="development")
    assert deliver(app) == (1, 0)
    assert delivered_by(app, to_console) == ["console"]
    app.config["SMTP_HOST"] = "smtp.clinic.example"  # the web server names one; that email never went through it
    page = text_of(physio_client.get(f"/staff/screenings/{to_console}"))
    assert "Clinic told of the urgent result: not sent: written to the server's console only" in page
