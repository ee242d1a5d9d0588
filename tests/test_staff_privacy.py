"""A patient's privacy request: find by reference, readable copy, deletion; admins only, audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AssessmentRequest, AuditEvent, Screening, StaffUser
from app.patient import booking, services
from app.staff.review import add_note
from tests.conftest import csrf_token_from


def submitted_with_request(app: Flask, answers: dict[str, object]) -> str:
    with app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = dict(answers)
        services.submit_screening(screening)
        booking.request_assessment(
            screening,
            booking.ContactDetails(
                name="Morgan Lee",
                email="morgan@example.com",
                phone="604 555 0142",
                preferred_location="Vancouver",
                preferred_times=["saturday"],
                message="Evenings please",
            ),
        )
        author = db.session.scalars(select(StaffUser)).first()
        if author is not None:
            add_note(screening, "Left a voicemail", author)
        db.session.commit()
        return screening.reference


def test_a_physio_cannot_open_privacy_requests(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submitted_with_request(app, ideal_answers)
    assert physio_client.get("/staff/patient-requests/").status_code == 403
    assert physio_client.get(f"/staff/patient-requests/{reference}/copy").status_code == 403


def test_an_admin_finds_a_screening_by_the_quoted_reference(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submitted_with_request(app, ideal_answers)
    page = admin_client.get("/staff/patient-requests/", query_string={"reference": reference.lower()[4:]})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert reference in html and "Morgan Lee" in html
    missing = admin_client.get("/staff/patient-requests/", query_string={"reference": "IMS-ZZZZZZZZ"})
    assert "No submitted screening has the reference" in missing.get_data(as_text=True)


def test_the_readable_copy_holds_everything_and_is_audited(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submitted_with_request(app, ideal_answers)
    response = admin_client.get(f"/staff/patient-requests/{reference}/copy", query_string={"download": 1})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{reference}.html"'
    assert response.headers["Cache-Control"] == "no-store"
    for expected in (
        "Morgan Lee",
        "morgan@example.com",
        "604 555 0142",
        "Evenings please",
        "How long have you had this pain?",
        "1 year",
        "Left a voicemail",
        "clinic new request",
    ):
        assert expected in html, expected
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "copy_for_patient")) == 1


def test_deleting_needs_the_reference_typed_and_leaves_only_the_audit_record(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submitted_with_request(app, ideal_answers)
    page = admin_client.get("/staff/patient-requests/", query_string={"reference": reference})
    token = csrf_token_from(page.get_data(as_text=True))
    wrong = admin_client.post(
        f"/staff/patient-requests/{reference}/delete", data={"csrf_token": token, "confirm_reference": "IMS-WRONG"}
    )
    assert wrong.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Screening)) == 1
    right = admin_client.post(
        f"/staff/patient-requests/{reference}/delete",
        data={"csrf_token": token, "confirm_reference": reference.lower()},
    )
    assert right.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Screening)) == 0
        assert db.session.scalar(select(func.count()).select_from(AssessmentRequest)) == 0
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delete_screening")).one()
        assert event.screening_reference == reference
        assert event.actor_email == "admin@clinic.example"
    assert admin_client.get(f"/staff/patient-requests/{reference}/copy").status_code == 404
