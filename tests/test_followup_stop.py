"""Stopping follow-ups (issue 18): every invitation's stop link asks first (a GET changes nothing,
as mail scanners open links) and its button stops at once; RFC 8058's one-click POST stops with
no CSRF token or Origin, the only endpoint so exempt; stopping twice is the same as once; a stop
token opens nothing. On SQLite and PostgreSQL."""

from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import followup
from app.extensions import db
from app.models import Screening
from tests.conftest import Clock, StaffAccounts, sqlite_only
from tests.support.followup import advance_weeks, invite, notify, weeks_invited
from tests.support.journey import Page
from tests.test_security import table_contents

#: A post as a mail provider's server sends it: HTTPS, form-encoded, no Origin, no Referer, no cookie.
ONE_CLICK = {"base_url": "https://localhost", "data": {"List-Unsubscribe": "One-Click"}}


def stopped_at(app: Flask, screening_id: int) -> datetime | None:
    with app.app_context():
        return db.session.scalar(select(Screening.follow_ups_stopped_at).where(Screening.id == screening_id))


def test_the_stop_link_asks_first_and_its_button_stops_at_once(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    before = table_contents(app)
    page = Page(client.get(links.stop))
    assert page.status == 200 and page.title.startswith("Stop the follow-up emails?")
    assert table_contents(app) == before  # opening the link (a scanner, a preview) changes nothing
    response = client.post(links.stop, data={"csrf_token": page.csrf_token})
    assert response.status_code == 303 and response.location == links.stop
    when = stopped_at(app, screening_id)
    assert when is not None
    assert Page(client.get(links.stop)).title.startswith("Follow-up emails stopped")
    clock.advance(minutes=5)
    again = client.post(links.stop, data={"csrf_token": page.csrf_token})
    assert again.status_code == 303 and stopped_at(app, screening_id) == when  # idempotent
    for _ in range(12):
        advance_weeks(clock, 1)
        assert notify(app) == []
    assert weeks_invited(app, screening_id) == [2]


def test_the_button_needs_its_csrf_token(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    assert client.post(links.stop, data={}).status_code == 400
    assert (
        client.post(links.stop, data={"List-Unsubscribe": "One-Click"}, base_url="https://localhost").status_code == 400
    )
    assert stopped_at(app, screening_id) is None


def test_one_click_unsubscribe_stops_without_a_token_and_twice_is_once(app: Flask, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    mail_server = app.test_client()
    response = mail_server.post(links.one_click, **ONE_CLICK)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert "Follow-up emails stopped" in Page(response).title
    when = stopped_at(app, screening_id)
    assert when is not None
    clock.advance(minutes=1)
    assert mail_server.post(links.one_click, **ONE_CLICK).status_code == 200  # type: ignore[arg-type]
    assert stopped_at(app, screening_id) == when
    advance_weeks(clock, 4)
    assert notify(app) == []


def test_one_click_needs_its_body_and_its_get_only_asks(app: Flask, client: FlaskClient, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    assert client.post(links.one_click, base_url="https://localhost", data={}).status_code == 400
    before = table_contents(app)
    page = Page(client.get(links.one_click))
    assert page.status == 200 and page.title.startswith("Stop the follow-up emails?")
    assert table_contents(app) == before
    # Its button posts to the stop link, with the CSRF token, as any form does.
    assert f'action="{links.stop}"' in page.html
    assert stopped_at(app, screening_id) is None


@sqlite_only
def test_an_unknown_stop_token_stops_nothing_and_a_stop_token_opens_nothing(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    screening_id, links = invite(app, clock)
    stop_token, open_token = links.stop.rsplit("/", 1)[1], links.open.rsplit("/", 1)[1]
    for path in (f"/resume/stop-follow-ups/{open_token}", f"/resume/unsubscribe/{open_token}", links.stop + "x"):
        assert Page(client.get(path)).status == 404, path
        assert client.post(path, **ONE_CLICK).status_code in (400, 404), path  # type: ignore[arg-type]
    assert client.get(f"/resume/follow-up/{stop_token}").status_code == 404
    assert stopped_at(app, screening_id) is None


def test_staff_see_the_follow_up_emails_and_a_cancelled_one(app: Flask, staff: StaffAccounts, clock: Clock) -> None:
    screening_id, links = invite(app, clock)
    advance_weeks(clock, 4)
    with app.app_context():
        followup.schedule_due(app.config)  # the 6-week email, queued...
        db.session.commit()
        reference = db.session.get(Screening, screening_id).reference  # type: ignore[union-attr]
    page = Page(app.test_client().get(links.stop))
    app.test_client().post(links.one_click, **ONE_CLICK)  # type: ignore[arg-type]
    assert page.status == 200
    physio = staff.signed_in_client("physio@clinic.example", "physio")
    html = Page(physio.get(f"/staff/screenings/{reference}")).main
    assert "Follow-up questions to the patient: not sent" in html  # development: the console only
    assert "Follow-up questions to the patient: not sent: the person stopped the follow-ups" in html
