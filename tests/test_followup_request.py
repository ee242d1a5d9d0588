"""The optional consent to follow-ups on the assessment request form (issue 18), the activities
asked with it, the privacy notice, and follow-ups in privacy requests and retention: part of the
screening, copied and deleted with it. On SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from app import retention
from app.clock import utcnow
from app.extensions import db
from app.models import AssessmentRequest, FollowUp, FollowUpActivity, FollowUpActivityScore, Screening
from tests.conftest import Clock, StaffAccounts, csrf_token_from, sqlite_only
from tests.support.booking_pages import REQUEST, SENT, post_request, submit_outcome
from tests.support.followup import answer_all, booked, invite
from tests.support.journey import Page


def consent_and_activities(app: Flask) -> tuple[bool, list[str]]:
    with app.app_context():
        request = db.session.scalars(select(AssessmentRequest)).one()
        names = [a.name for a in db.session.scalars(select(FollowUpActivity).order_by(FollowUpActivity.position))]
        return request.follow_up_consent_at is not None, names


def test_the_box_is_optional_and_never_needed_to_book(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "likely")
    page = Page(client.get(REQUEST))
    assert "Questions after your appointment (optional)" in page.main
    assert "at about 2, 6, and 12 weeks after your first appointment" in page.main
    assert "follow_up_consent" in page.field_names() and page.checked("follow_up_consent") == set()
    # Activities typed without ticking the box are not kept: they serve the follow-ups only.
    assert post_request(client, activity_1="Gardening").location == SENT
    assert consent_and_activities(app) == (False, [])


def test_consenting_keeps_when_and_the_activities_encrypted(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "possible")
    response = post_request(
        client, follow_up_consent="y", activity_1="  Lifting   my son ", activity_2="", activity_3="Driving"
    )
    assert response.location == SENT
    assert consent_and_activities(app) == (True, ["Lifting my son", "Driving"])
    with app.app_context():
        assert [
            p for (p,) in db.session.execute(text("SELECT position FROM follow_up_activity ORDER BY position"))
        ] == [1, 2]
        raw = " ".join(name for (name,) in db.session.execute(text("SELECT name FROM follow_up_activity")))
        assert "Lifting" not in raw and "Driving" not in raw


@sqlite_only
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"follow_up_consent": "y", "email": None},
            "email",
            "Enter an email address to get the questions after your appointment, or untick that box",
        ),
        ({"follow_up_consent": "y", "activity_2": "x" * 81}, "activity_2", "Use 80 characters or fewer"),
    ],
)
def test_consent_needs_an_email_and_short_activities(
    app: Flask, client: FlaskClient, changes: dict[str, object], field: str, message: str
) -> None:
    submit_outcome(app, client, "likely")
    refused = Page(post_request(client, **changes))
    assert refused.status == 400
    assert refused.field_errors()[field] == message
    assert field in refused.error_summary_links()
    assert refused.checked("follow_up_consent") == {"y"}  # what was ticked and typed is kept
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AssessmentRequest)) == 0


@sqlite_only
def test_the_privacy_notice_explains_follow_ups(client: FlaskClient) -> None:
    page = Page(client.get("/privacy"))
    assert "Questions after your appointment" in page.main
    assert "at about 2, 6, and 12 weeks" in page.main and "stopping takes effect at once" in page.main


def test_a_privacy_request_copies_and_deletes_the_follow_ups(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    screening_id, links = invite(app, clock, activities=("Swimming lengths",))
    answer_all(app.test_client(), links.open, {"activity_1": "6"})
    admin_client = staff.signed_in_client("admin@clinic.example", "admin")  # signed in after the weeks went by
    with app.app_context():
        reference = db.session.get(Screening, screening_id).reference  # type: ignore[union-attr]
    copy = admin_client.get(f"/staff/patient-requests/{reference}/copy").get_data(as_text=True)
    for expected in (
        "Questions after your appointment",
        "Everyday activity 1: Swimming lengths",
        "2 weeks after your first appointment",
        "How bad is your pain right now?</dt>",
        "Much better",
        "patient follow up (sent)",
    ):
        assert expected in copy, expected
    page = admin_client.get("/staff/patient-requests/", query_string={"reference": reference})
    token = csrf_token_from(page.get_data(as_text=True))
    response = admin_client.post(
        f"/staff/patient-requests/{reference}/delete", data={"csrf_token": token, "confirm_reference": reference}
    )
    assert response.status_code == 303
    with app.app_context():
        for model in (FollowUp, FollowUpActivity, FollowUpActivityScore):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model


def test_retention_purges_follow_up_activities_with_their_screening(app: Flask) -> None:
    # Consented and named activities, but never booked: purged after the retention period,
    # with everything of the screening.
    booked(app, status="contacted", activities=("Running",))
    with app.app_context():
        later = utcnow() + timedelta(days=app.config["SCREENING_RETENTION_DAYS"] + 1)
        assert len(retention.purge_old_screenings(app.config["SCREENING_RETENTION_DAYS"], now=later)) == 1
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(FollowUpActivity)) == 0
