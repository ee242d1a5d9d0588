"""Helpers for the follow-up tests (issue 18): a booked screening whose person agreed to
follow-ups, `flask notify`'s two steps with the emails caught, and the links in those emails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import rules
from app import followup, notifications
from app.clock import utcnow
from app.extensions import db
from app.models import AssessmentRequest, FollowUp, FollowUpActivity, Screening
from tests.conftest import Clock
from tests.support.journey import Page, profile

#: One week, for the app's clock.
WEEK_HOURS = 7 * 24

#: A follow-up's answers as its pages post them, page by page.
ANSWERS = {
    "pain": {"current_pain": "3", "average_pain": "4"},
    "change": {"pgic": "2"},
    "ims": {"had_ims": "yes", "ims_sessions": "5"},
}


def booked(
    app: Flask,
    *,
    consent: bool = True,
    email: str | None = "pat@example.org",
    activities: tuple[str, ...] = (),
    appointment_at: datetime | None = None,
    language: str = "en-CA",
    status: str = "booked",
) -> int:
    """A submitted, judged screening with an assessment request, booked for `appointment_at`
    (now by default), its person agreeing to follow-ups or not; return its id."""
    answers = profile("ideal_neck")
    now = utcnow()
    with app.app_context():
        screening = Screening(
            answers=answers,
            state="submitted",
            submitted_at=now,
            consented_at=now,
            expires_at=now,
            language=language,
            review_status=status,
            appointment_at=appointment_at or now,
            **Screening.result_columns(rules.evaluate(answers)),
        )
        db.session.add(screening)
        db.session.add(
            AssessmentRequest(
                screening=screening,
                name="Robin Tester",
                email=email,
                phone="604 555 0123",
                name_search_hash="x",
                preferred_location="any",
                preferred_times=["any"],
                contact_consent_at=now,
                follow_up_consent_at=now if consent else None,
            )
        )
        for position, name in enumerate(activities, start=1):
            db.session.add(FollowUpActivity(screening=screening, position=position, name=name))
        db.session.commit()
        return screening.id


def notify(app: Flask, now: datetime | None = None) -> list[EmailMessage]:
    """What `flask notify` does (schedule, then deliver), with the emails caught; return them."""
    sent: list[EmailMessage] = []
    with app.app_context():
        followup.schedule_due(app.config, now)
        db.session.commit()
        notifications.deliver_due(sent.append, now=now)
    return [message for message in sent if message["List-Unsubscribe"]]


def advance_weeks(clock: Clock, weeks: float) -> None:
    clock.advance(hours=weeks * WEEK_HOURS)


def weeks_invited(app: Flask, screening_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(FollowUp.week).where(FollowUp.screening_id == screening_id).order_by(FollowUp.week)
            )
        )


@dataclass(frozen=True)
class Links:
    """The links of one follow-up email, as paths."""

    open: str
    stop: str
    one_click: str


def links_in(message: EmailMessage) -> Links:
    body = message.get_content()
    (open_link,) = re.findall(r"https?://[^/\s]+(/resume/follow-up/\S+)", body)
    (stop_link,) = re.findall(r"https?://[^/\s]+(/resume/stop-follow-ups/\S+)", body)
    one_click = re.fullmatch(r"<https?://[^/\s]+(/resume/unsubscribe/\S+)>", message["List-Unsubscribe"])
    assert one_click is not None, message["List-Unsubscribe"]
    return Links(open_link, stop_link, one_click.group(1))


def invite(app: Flask, clock: Clock, **booking: Any) -> tuple[int, Links]:
    """A booked, consenting screening, two weeks on, invited: its id and its email's links."""
    screening_id = booked(app, **booking)
    advance_weeks(clock, 2)
    (message,) = notify(app)
    return screening_id, links_in(message)


def answer_all(client: FlaskClient, open_link: str, scores: dict[str, str] | None = None) -> Page:
    """Open a follow-up from its link, answer every page and send; return the thank-you page."""
    response = client.get(open_link)
    assert response.status_code == 302 and response.location == "/follow-up", response.status_code
    pages = dict(ANSWERS, activities=scores or {})
    location = client.get("/follow-up").location
    while location.startswith("/follow-up/") and location != "/follow-up/check":
        page = location.rsplit("/", 1)[1]
        form = Page(client.get(location))
        response = client.post(location, data={"csrf_token": form.csrf_token, **pages[page]})
        assert response.status_code == 303, (page, response.status_code, Page(response).field_errors())
        location = response.location
        if location == "/follow-up":
            location = client.get(location).location
    check = Page(client.get("/follow-up/check"))
    response = client.post("/follow-up/send", data={"csrf_token": check.csrf_token})
    assert response.status_code == 303 and response.location == "/follow-up/thank-you"
    return Page(client.get(response.location))


def only_follow_up(app: Flask, screening_id: int, week: int = 2) -> dict[str, Any]:
    with app.app_context():
        row = db.session.scalars(
            select(FollowUp).where(FollowUp.screening_id == screening_id, FollowUp.week == week)
        ).one()
        return {
            "answered": row.answered_at is not None,
            "current_pain": row.current_pain,
            "average_pain": row.average_pain,
            "pgic": row.pgic,
            "had_ims": row.had_ims,
            "ims_sessions": row.ims_sessions,
            "scores": sorted((score.activity.position, score.score) for score in row.activity_scores),
            "language": row.language,
            "token_expires_at": row.token_expires_at,
        }


def expire(app: Flask, screening_id: int, when: datetime | None = None) -> None:
    """Move a follow-up link's expiry to `when` (a moment ago by default)."""
    with app.app_context():
        for row in db.session.scalars(select(FollowUp).where(FollowUp.screening_id == screening_id)):
            row.token_expires_at = when or utcnow() - timedelta(seconds=1)
        db.session.commit()


@contextmanager
def server_app(database_url: str, encryption_keys: str) -> Iterator[Flask]:
    """An app on another server's database (the browser tests'), with that server's keys, so
    that what one encrypts the other reads."""
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ENCRYPTION_KEYS": encryption_keys,
            "NOTIFY_IN_BACKGROUND": False,
        }
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def invite_on(app: Flask, **booking: Any) -> Links:
    """A booked, consenting screening, its first appointment two weeks ago, invited now: the
    links of its email (for a server whose clock the test does not move)."""
    booked(app, appointment_at=utcnow() - timedelta(weeks=2, minutes=1), **booking)
    (message,) = notify(app)
    return links_in(message)
