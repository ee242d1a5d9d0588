"""Follow-up invitations (issue 18): `flask notify` invites each time point of a booked, consenting
screening once, at its week after the first appointment, never without consent, never after
stopping, never for a deleted screening; the email names the clinic and carries links only.
On SQLite and PostgreSQL, with the app's clock moved forward."""

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, select

from app import followup, measures
from app.clock import utcnow
from app.extensions import db
from app.models import FollowUp, Notification, Screening
from app.patient.services import hash_token
from tests.conftest import Clock
from tests.support.followup import advance_weeks, booked, links_in, notify, weeks_invited
from tests.support.smtp_server import SMTPServer, running_smtp_server
from tests.test_notifications import HEALTH_WORDS, SAFETY_LINE

PORTAL = "https://screen.clinic.example"


def pending_follow_up_emails(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Notification.state).where(Notification.kind == "patient_follow_up")))


def test_each_time_point_is_invited_once_at_its_week(app: Flask, clock: Clock) -> None:
    screening_id = booked(app)
    invited = []
    # Every day for 13 weeks, as the timer runs `notify` every minute (a day apart is enough here).
    for day in range(1, 13 * 7 + 1):
        clock.advance(hours=24)
        for message in notify(app):
            invited.append((day, message["To"]))
    assert invited == [(14, "pat@example.org"), (42, "pat@example.org"), (84, "pat@example.org")]
    assert weeks_invited(app, screening_id) == [2, 6, 12]
    with app.app_context():
        rows = db.session.scalars(select(FollowUp).order_by(FollowUp.week)).all()
        appointment = db.session.get(Screening, screening_id).appointment_at  # type: ignore[union-attr]
        assert [row.due_at - appointment for row in rows] == [timedelta(weeks=w) for w in (2, 6, 12)]
        assert all(row.sent_at is not None and row.token_hash and row.stop_token_hash for row in rows)
    assert pending_follow_up_emails(app) == ["sent", "sent", "sent"]
    advance_weeks(clock, 30)
    assert notify(app) == []


def test_running_notify_twice_at_once_invites_once(app: Flask, clock: Clock) -> None:
    screening_id = booked(app)
    advance_weeks(clock, 2)
    with app.app_context():
        assert followup.schedule_due(app.config) == 1
        assert followup.schedule_due(app.config) == 0  # a second run sees the first's row
        screening = db.session.get(Screening, screening_id)
        assert screening is not None
        # A second process that read the screening before the first wrote: the database refuses
        # the second row of the same week, and only its savepoint is undone.
        assert followup._invite(screening, 2, utcnow(), "pat@example.org", utcnow()) is False
        db.session.commit()
    assert weeks_invited(app, screening_id) == [2]
    assert pending_follow_up_emails(app) == ["pending"]


@pytest.mark.parametrize(
    "booking",
    [
        {"consent": False},
        {"email": None},
        {"status": "contacted"},
        {"status": "declined"},
    ],
    ids=["no consent", "no email", "not booked yet", "declined"],
)
def test_never_invited_without_consent_an_email_and_a_booking(
    app: Flask, clock: Clock, booking: dict[str, object]
) -> None:
    screening_id = booked(app, **booking)  # type: ignore[arg-type]
    for _ in range(13):
        advance_weeks(clock, 1)
        assert notify(app) == []
    assert weeks_invited(app, screening_id) == []


def test_never_invited_after_stopping_and_a_queued_email_is_cancelled(app: Flask, clock: Clock) -> None:
    screening_id = booked(app)
    advance_weeks(clock, 2)
    assert len(notify(app)) == 1
    advance_weeks(clock, 4)
    with app.app_context():
        followup.schedule_due(app.config)  # the 6-week email is queued, not yet sent...
        followup.stop(db.session.get(Screening, screening_id))  # type: ignore[arg-type]
        db.session.commit()
    assert notify(app) == []  # ...and never goes out
    assert pending_follow_up_emails(app) == ["sent", "cancelled"]
    for _ in range(8):
        advance_weeks(clock, 1)
        assert notify(app) == []
    assert weeks_invited(app, screening_id) == [2, 6]


def test_a_queued_email_is_cancelled_if_stopped_before_it_is_sent_even_without_stop(app: Flask, clock: Clock) -> None:
    """Stopped by any other route (the flag alone): the sender checks again just before sending."""
    screening_id = booked(app)
    advance_weeks(clock, 2)
    with app.app_context():
        followup.schedule_due(app.config)
        db.session.get(Screening, screening_id).follow_ups_stopped_at = utcnow()  # type: ignore[union-attr]
        db.session.commit()
    assert notify(app) == []
    assert pending_follow_up_emails(app) == ["cancelled"]


def test_never_invited_for_a_deleted_screening(app: Flask, clock: Clock) -> None:
    screening_id = booked(app)
    advance_weeks(clock, 2)
    with app.app_context():
        followup.schedule_due(app.config)
        db.session.commit()
        db.session.execute(delete(Screening).where(Screening.id == screening_id))  # a purge or privacy deletion
        db.session.commit()
    assert notify(app) == []
    with app.app_context():
        notification = db.session.scalars(select(Notification)).one()
        assert (notification.screening_id, notification.follow_up_id, notification.state) == (None, None, "failed")
        assert db.session.scalars(select(FollowUp)).all() == []
    advance_weeks(clock, 10)
    assert notify(app) == []


def test_a_time_point_missed_by_more_than_a_week_is_skipped(app: Flask, clock: Clock) -> None:
    """An appointment recorded late: asking "2 weeks after" at week 5 would ask about the wrong time."""
    screening_id = booked(app, appointment_at=utcnow() - timedelta(weeks=5))
    assert notify(app) == []
    advance_weeks(clock, 1)
    assert len(notify(app)) == 1  # week 6
    assert weeks_invited(app, screening_id) == [6]
    clock.advance(hours=app.config["FOLLOW_UP_SEND_DAYS"] * 24 + 1)
    assert notify(app) == []


def test_the_weeks_follow_the_configuration(app: Flask, clock: Clock) -> None:
    app.config["FOLLOW_UP_WEEKS"] = (1, 4)
    assert measures.follow_up_weeks(app.config) == (1, 4)
    screening_id = booked(app)
    for _ in range(13):
        advance_weeks(clock, 1)
        notify(app)
    assert weeks_invited(app, screening_id) == [1, 4]


def test_the_email_names_the_clinic_and_carries_links_but_no_health_details(app: Flask, clock: Clock) -> None:
    app.config["PUBLIC_BASE_URL"] = PORTAL
    booked(app, activities=("Lifting my granddaughter Zebulon",))
    advance_weeks(clock, 2)
    (message,) = notify(app)
    body = message.get_content()
    assert message["To"] == "pat@example.org"
    assert app.config["CLINIC_NAME"] in message["Subject"] and app.config["CLINIC_NAME"] in body
    links = links_in(message)
    assert f"{PORTAL}{links.open}" in body and f"{PORTAL}{links.stop}" in body
    # RFC 8058: the one-click address, and the header that says a POST there unsubscribes.
    assert message["List-Unsubscribe"] == f"<{PORTAL}{links.one_click}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As sent: the plain address, not RFC 2047 encoded words (which a long line would become).
    assert f"\r\nList-Unsubscribe: <{PORTAL}{links.one_click}>\r\n".encode() in message.as_bytes()
    # The From name is the app's, as on every email it sends; the rest says nothing of IMS either.
    content = f"{message['Subject']}\n{body}".replace(SAFETY_LINE, "").lower()
    for word in (*HEALTH_WORDS, "treatment", "zebulon", "robin tester", "604 555 0123"):
        assert word not in content, word
    assert not re.search(r"\bims\b|needl", content)
    # The tokens are 256-bit and stored only hashed, the link's with an expiry.
    open_token, stop_token = links.open.rsplit("/", 1)[1], links.stop.rsplit("/", 1)[1]
    assert links.one_click.endswith(stop_token) and open_token != stop_token
    assert len(open_token) >= 43 and len(stop_token) >= 43
    with app.app_context():
        row = db.session.scalars(select(FollowUp)).one()
        assert (row.token_hash, row.stop_token_hash) == (hash_token(open_token), hash_token(stop_token))
        assert row.token_expires_at == row.sent_at + timedelta(days=app.config["FOLLOW_UP_LINK_DAYS"])  # type: ignore[operator]
        stored = repr([getattr(row, c.key) for c in FollowUp.__table__.columns])
        assert open_token not in stored and stop_token not in stored


def test_the_email_is_in_the_language_of_the_screening(app: Flask, clock: Clock) -> None:
    booked(app, language="pa")
    advance_weeks(clock, 2)
    (message,) = notify(app)
    assert message["Content-Language"] == "pa"


def test_a_failed_attempt_is_retried_with_a_new_link(app: Flask, clock: Clock) -> None:
    booked(app)
    advance_weeks(clock, 2)

    def refuse(message: object) -> None:
        raise OSError("connection refused")

    with app.app_context():
        followup.schedule_due(app.config)
        db.session.commit()
        from app import notifications

        assert notifications.deliver_due(refuse) == (0, 1)
        first_hash = db.session.scalars(select(FollowUp.token_hash)).one()
        assert db.session.scalars(select(FollowUp.sent_at)).one() is None
    clock.advance(minutes=2)
    (message,) = notify(app)
    with app.app_context():
        row = db.session.scalars(select(FollowUp)).one()
        assert row.token_hash == hash_token(links_in(message).open.rsplit("/", 1)[1]) != first_hash
        assert row.sent_at is not None


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPServer]:
    with running_smtp_server() as server:
        app.config.update(server.config(), PUBLIC_BASE_URL=PORTAL)
        yield server


def test_flask_notify_invites_and_sends_through_smtp(
    app: Flask, runner: FlaskCliRunner, smtp: SMTPServer, clock: Clock
) -> None:
    booked(app)
    advance_weeks(clock, 2)
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert "invited to 1 follow-up(s)" in result.output and "sent 1 email(s)" in result.output
    (received,) = smtp.messages
    assert received.recipients == ["pat@example.org"]
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/resume/follow-up/" in received.body
    again = runner.invoke(args=["notify"])
    assert "invited to 0 follow-up(s)" in again.output and len(smtp.messages) == 1


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("setting", "weeks"),
    [(None, (2, 6, 12)), ("12, 2,6", (2, 6, 12)), ("4", (4,)), ("0", None), ("2,x", None), ("²", None), ("", None)],
)
def test_follow_up_weeks_are_read_from_the_environment(
    tmp_path: Path, setting: str | None, weeks: tuple[int, ...] | None
) -> None:
    from app.config import ConfigError, config_from_env

    environ = {} if setting is None else {"FOLLOW_UP_WEEKS": setting}
    if weeks is None:
        with pytest.raises(ConfigError, match="FOLLOW_UP_WEEKS"):
            config_from_env(environ, str(tmp_path))
    else:
        assert config_from_env(environ, str(tmp_path))["FOLLOW_UP_WEEKS"] == weeks
