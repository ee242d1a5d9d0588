"""The audit trail: one event per staff action, with who, what, which screening, when and where;
and rows the database refuses to change or delete."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import exc, func, select, text

from app.extensions import db
from app.models import AuditEvent, Screening
from app.staff.admin.audit_trail import ACTION_LABELS
from tests.conftest import STAFF_PASSWORD, StaffAccounts, submit_screening
from tests.support.staff_pages import PASSWORD, TWO_FACTOR, post_form, sign_in, sign_out

EMAIL = "physio@clinic.example"


def events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return found


class Trail:
    """Reads the events added since the last look."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.seen = 0

    def new(self) -> list[AuditEvent]:
        found = events(self.app)
        fresh, self.seen = found[self.seen :], len(found)
        return fresh

    def one(self, action: str) -> AuditEvent:
        fresh = self.new()
        assert [e.action for e in fresh] == [action], [e.action for e in fresh]
        return fresh[0]


def test_every_staff_action_writes_one_event(
    app: Flask, staff: StaffAccounts, ideal_answers: dict[str, object]
) -> None:
    account = staff.create(EMAIL)
    reference = submit_screening(app, ideal_answers)
    with app.app_context():
        screening_id = db.session.scalar(select(Screening.id).where(Screening.reference == reference))
    trail = Trail(app)
    client = app.test_client()
    start = datetime.now(UTC)

    assert sign_in(client, password="not the password").status_code == 401
    failed = trail.one("sign_in_failed")
    assert (failed.actor_id, failed.actor_email) == (None, EMAIL)
    assert sign_in(client, "Nobody@Clinic.example", STAFF_PASSWORD).status_code == 401
    unknown = trail.one("sign_in_failed")
    assert (unknown.actor_id, unknown.actor_email) == (None, "nobody@clinic.example")
    for event in (failed, unknown):
        assert STAFF_PASSWORD not in str(event.detail) and "not the password" not in str(event.detail)

    assert sign_in(client).status_code == 303
    signed_in = trail.one("sign_in")
    assert (signed_in.actor_id, signed_in.actor_email, signed_in.detail) == (account, EMAIL, {"method": "password"})

    url = f"/staff/screenings/{reference}"
    assert client.get(url).status_code == 200
    viewed = trail.one("view_screening")
    assert client.get(url + "/print").status_code == 200
    printed = trail.one("print_screening")

    def act(action: str, data: dict[str, str]) -> AuditEvent:
        """Post a form of the screening page: the page view, then exactly one event for the action."""
        response = post_form(client, url, url + action, data)
        assert response.status_code == 303
        fresh = trail.new()
        assert fresh[0].action == "view_screening"
        assert len(fresh) == 2, [e.action for e in fresh]
        return fresh[1]

    changed = act("/status", {"status": "in_review"})
    assert (changed.action, changed.detail) == ("change_status", {"from_status": "new", "to_status": "in_review"})
    note = act("/notes", {"body": "Phoned; no answer"})
    judgement = act("/judgement", {"outcome": "possible", "reason": "Mostly joint pain"})
    assert note.action == "add_note" and judgement.action == "record_judgement"
    assert judgement.detail == {"outcome": "possible", "rules_outcome": "likely", "blind": False}
    assert "Phoned" not in str(note.detail) and "joint" not in str(judgement.detail)  # no health text

    for event in (viewed, printed, changed, note, judgement):
        assert (event.actor_id, event.actor_email) == (account, EMAIL), event.action
        assert (event.screening_id, event.screening_reference) == (screening_id, reference), event.action
    for event in events(app):
        assert event.ip_address == "127.0.0.1"
        assert event.at.utcoffset() == timedelta(0)
        assert start - timedelta(seconds=1) <= event.at <= datetime.now(UTC)

    assert sign_out(client).status_code == 303
    signed_out = trail.one("sign_out")
    assert (signed_out.actor_id, signed_out.screening_id) == (account, None)
    # A refused action writes nothing.
    assert sign_in(client).status_code == 303
    trail.new()
    response = client.post(url + "/status", data={"status": "in_review"})  # no CSRF token
    assert response.status_code == 400 and trail.new() == []


def test_two_factor_steps_and_password_changes_are_audited(app: Flask, staff: StaffAccounts) -> None:
    account = staff.create(EMAIL, mfa=True)
    totp = pyotp.TOTP(staff.totp_secret(account))
    trail = Trail(app)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    assert trail.new() == []  # the password step alone is not a sign-in
    wrong = f"{(int(totp.now()) + 3) % 10**6:06d}"
    assert post_form(client, TWO_FACTOR, TWO_FACTOR, {"code": wrong}).status_code == 401
    failed = trail.one("sign_in_failed")
    assert (failed.actor_id, failed.detail) == (account, {"step": "second_factor"})
    assert post_form(client, TWO_FACTOR, TWO_FACTOR, {"code": totp.now()}).status_code == 303
    assert trail.one("sign_in").detail == {"method": "totp"}
    response = post_form(
        client,
        PASSWORD,
        PASSWORD,
        {
            "current_password": STAFF_PASSWORD,
            "new_password": "new and longer passphrase",
            "confirm_password": "new and longer passphrase",
        },
    )
    assert response.status_code == 303
    changed = trail.one("password_changed")
    assert changed.actor_id == account and "passphrase" not in str(changed.detail)


def test_audit_events_cannot_be_changed_or_deleted(app: Flask, physio_client: FlaskClient) -> None:
    assert len(events(app)) == 1  # the sign-in
    with app.app_context():
        for statement in (
            "UPDATE audit_event SET action = 'nothing'",
            "UPDATE audit_event SET actor_email = NULL",
            "DELETE FROM audit_event",
        ):
            with pytest.raises(exc.DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
    with app.app_context():  # through the ORM as well
        event = db.session.scalar(select(AuditEvent))
        assert event is not None
        event.actor_email = "someone-else@clinic.example"
        with pytest.raises(exc.DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalar(select(AuditEvent)))
        with pytest.raises(exc.DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
    [event] = events(app)
    assert (event.action, event.actor_email) == ("sign_in", EMAIL)
    with app.app_context():  # appending still works
        db.session.add(AuditEvent(action="test_event"))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 2


def test_deleting_a_screening_keeps_its_audit_trail(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submit_screening(app, ideal_answers)
    assert physio_client.get(f"/staff/screenings/{reference}").status_code == 200
    with app.app_context():
        db.session.delete(db.session.scalar(select(Screening).where(Screening.reference == reference)))
        db.session.commit()
    assert [e.screening_reference for e in events(app) if e.action == "view_screening"] == [reference]


def test_every_audited_action_has_words_in_the_audit_trail() -> None:
    """Staff read the trail and filter it by action: a new action must not appear as a code."""
    source = "\n".join(path.read_text() for path in (Path(__file__).parents[1] / "app").rglob("*.py"))
    recorded = set(re.findall(r'audit\.record\(\s*"([a-z_]+)"', source))
    recorded |= set(re.findall(r'_audited_export_filter\(\s*"([a-z_]+)"', source))
    assert {"view_screening", "export_csv", "export_fhir_ndjson", "replay_rules"} <= recorded  # the search works
    assert recorded - set(ACTION_LABELS) == set()
