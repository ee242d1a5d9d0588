"""Helpers for the booking and email tests: a submitted screening of a chosen outcome, and the
assessment request form filled in through the pages (CSRF on)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import AssessmentRequest, Notification, Screening
from tests.support.journey import RESULT, SUBMIT, Journey, Page, profile, seed_draft

REQUEST = "/screening/request-assessment"
SENT = "/screening/request-sent"

#: Changes to the `ideal_neck` profile that give each outcome (as in test_patient_submit).
BOOKABLE: dict[str, dict[str, object]] = {
    "clinician_review": {"metal_allergy": "yes"},
    "likely": {},
    "possible": {"pain_duration_weeks": 8},
    "unlikely": {"pain_duration_weeks": 3},
    "not_suitable": {"willing_to_try": "no"},
}
URGENT: dict[str, dict[str, object]] = {
    "emergency": {"rf_saddle_numbness": "yes"},
    "see_doctor": {"rf_weight_loss": "yes"},
}
OUTCOME_CHANGES = {**BOOKABLE, **URGENT}

#: A complete, valid request. Distinctive values, so that finding them anywhere is meaningful.
VALID_REQUEST: dict[str, Any] = {
    "name": "Jordan Émile Quistgaard",
    "phone": "604 555 0199",
    "email": "jordan.quistgaard@example.org",
    "preferred_location": "Vancouver",
    "preferred_times": ["weekday_morning", "saturday"],
    "message": "Please avoid Monday calls, Zebulon line",
    "contact_consent": "y",
}


def submit_outcome(app: Flask, client: FlaskClient, outcome: str) -> str:
    """Give `client` a draft that yields `outcome`, send it through the page; return its reference."""
    seed_draft(app, client, profile("ideal_neck", **OUTCOME_CHANGES[outcome]))
    response = client.post(SUBMIT, data={"csrf_token": Journey(client).csrf_token()})
    assert response.status_code == 303 and response.location == RESULT, response.status_code
    with app.app_context():
        screening = db.session.scalars(select(Screening).order_by(Screening.id.desc())).first()
        assert screening is not None and screening.outcome == outcome, screening and screening.outcome
        return screening.reference


def post_request(client: FlaskClient, **changes: Any) -> TestResponse:
    """Open the request form and send it: VALID_REQUEST with `changes` (None leaves a field out)."""
    page = client.get(REQUEST)
    assert page.status_code == 200, (page.status_code, page.location)
    data = {**VALID_REQUEST, **changes, "csrf_token": Page(page).csrf_token}
    return client.post(REQUEST, data={name: value for name, value in data.items() if value is not None})


def requests(app: Flask) -> list[dict[str, Any]]:
    """Every stored assessment request, decrypted, oldest first."""
    with app.app_context():
        return [
            {
                "screening": row.screening.reference,
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "message": row.message,
                "preferred_location": row.preferred_location,
                "preferred_times": row.preferred_times,
                "name_search_hash": row.name_search_hash,
            }
            for row in db.session.scalars(select(AssessmentRequest).order_by(AssessmentRequest.id))
        ]


def notifications(app: Flask) -> list[dict[str, Any]]:
    """Every notification, oldest first, with its screening's reference."""
    with app.app_context():
        rows = db.session.execute(
            select(Notification, Screening.reference)
            .outerjoin(Screening, Screening.id == Notification.screening_id)
            .order_by(Notification.id)
        ).all()
        return [
            {
                "id": n.id,
                "kind": n.kind,
                "reference": reference,
                "recipient": n.recipient,
                "state": n.state,
                "attempts": n.attempts,
                "last_error": n.last_error,
                "next_attempt_at": n.next_attempt_at,
                "sent_at": n.sent_at,
            }
            for n, reference in rows
        ]
