"""Follow-up after treatment on the staff screening page (issue 18): each patient's trajectory as a
chart (server-side SVG) and tables, what became of each invitation, and who may see it."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.clock import utcnow
from app.display import local_date
from app.extensions import db
from app.models import AuditEvent, ClinicSwitch, FollowUp, Notification, Screening
from tests.support.outcomes import Answered, Unanswered, seed, seed_committed
from tests.support.staff_pages import text_of


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The cells of each row of one table, as text (header and data cells alike)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table is not None, f"no table {table_id}"
    return [
        [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    ]


def polylines(html: str) -> dict[str, str]:
    """Each series of the trajectory chart: its key -> the points of its line."""
    return {
        key: points
        for points, key in re.findall(r'<polyline points="([^"]*)" class="chart__line chart__line--(\w+)"', html)
    }


def page(client: FlaskClient, reference: str) -> str:
    response = client.get(f"/staff/screenings/{reference}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_trajectory_is_drawn_and_tabulated_from_the_baseline_on(app: Flask, physio_client: FlaskClient) -> None:
    reference = seed_committed(
        app,
        pain_now=7,
        pain_average=6,
        activities=("Lifting my child", "Gardening"),
        follow_ups=(
            Answered(2, pgic=2, current_pain=3, average_pain=4, scores={1: 5, 2: 3}),
            Answered(6, pgic=1, current_pain=2, average_pain=2, scores={1: 8}),
            Unanswered(12, open=True),
        ),
    )
    html = page(physio_client, reference)
    rows = table_rows(html, "trajectory-table")
    assert rows[0] == [
        "Time point",
        "Response",
        "Pain now",
        "Average pain, past week",
        "Overall change (PGIC)",
        "Had IMS",
    ]
    assert [row[0] for row in rows[1:]] == ["At screening", "2 weeks", "6 weeks", "12 weeks"]
    assert [row[2:] for row in rows[1:]] == [
        ["7", "6", "Baseline", "–"],
        ["3", "4", "Much better (2)", "Yes, 4 sessions"],
        ["2", "2", "Very much better (1)", "Yes, 4 sessions"],
        ["–", "–", "–", "–"],
    ]
    assert [row[1].split(",")[0] for row in rows[1:]] == ["Screening", "Answered", "Answered", "Sent"]
    assert rows[4][1].startswith("Sent, not answered yet")
    assert table_rows(html, "activities-table")[1:] == [
        ["Lifting my child", "5", "8", "–"],
        ["Gardening", "3", "–", "–"],
    ]
    # The chart: four columns 111 units apart from x=91.5; 0 to 10 over 164 units up from y=172.
    assert polylines(html) == {
        "current_pain": "91.5,57.2 202.5,122.8 313.5,139.2",
        "average_pain": "91.5,73.6 202.5,106.4 313.5,139.2",
    }
    assert html.count('class="chart__marker chart__marker--current_pain"') == 3 + 1  # and the legend's
    assert 'aria-labelledby="trajectory-chart-title"' in html and "the numbers are in the table beside it" in html
    text = text_of(physio_client.get(f"/staff/screenings/{reference}"))
    assert "2 of 3 follow-ups answered" in text and "Follow-up (2 of 3 answered)" in text


def test_each_invitation_says_what_became_of_it(app: Flask, physio_client: FlaskClient) -> None:
    now = utcnow()
    with app.app_context():
        expired = seed(follow_ups=(Unanswered(2), Unanswered(6, sent=False)))
        stopped = seed(follow_ups=(Answered(2, pgic=4), Unanswered(6, open=True)), stopped_at=now - timedelta(days=1))
        started = seed(follow_ups=(Unanswered(2, open=True),))
        db.session.flush()
        # Answers saved page by page but never sent: not shown as answers.
        row = db.session.scalars(select(FollowUp).where(FollowUp.screening_id == started.id)).one()
        row.current_pain, row.average_pain, row.started_at = 1, 1, now
        db.session.commit()
        references = expired.reference, stopped.reference, started.reference

    def responses(reference: str) -> list[str]:
        return [row[1].split(",")[0] for row in table_rows(page(physio_client, reference), "trajectory-table")[2:]]

    assert responses(references[0]) == ["Not answered (link expired)", "Email not sent yet"]
    assert responses(references[1]) == ["Answered", "Stopped by the patient"]
    assert "The patient stopped follow-up questions on" in text_of(
        physio_client.get(f"/staff/screenings/{references[1]}")
    )
    started_rows = table_rows(page(physio_client, references[2]), "trajectory-table")
    assert started_rows[2][1].startswith("Being answered") and started_rows[2][2:] == ["–", "–", "–", "–"]
    # Only the baseline is drawn: two columns 222 units apart from x=147.
    assert polylines(page(physio_client, references[2])) == {"current_pain": "147.0,73.6", "average_pain": "147.0,73.6"}


def test_a_follow_up_already_due_is_not_promised_for_a_day_past(app: Flask, physio_client: FlaskClient) -> None:
    """An appointment recorded late: its first time point fell due yesterday and is still within its
    send window, so it goes out at the next send, not "on" yesterday."""
    with app.app_context():
        late = seed()
        late.appointment_at = utcnow() - timedelta(weeks=2, days=1)
        db.session.commit()
        reference, due = late.reference, late.appointment_at + timedelta(weeks=2)
    text = text_of(physio_client.get(f"/staff/screenings/{reference}"))
    with app.test_request_context():
        day = local_date(due)
    assert "the next, 2 weeks after the appointment of" in text
    assert f"fell due on {day}: it is emailed within minutes, when the server next sends emails." in text
    assert f"on {day}." not in text


def test_without_follow_ups_the_page_says_why(app: Flask, physio_client: FlaskClient) -> None:
    with app.app_context():
        waiting = seed()
        refused = seed()
        refused.assessment_request.follow_up_consent_at = None  # type: ignore[union-attr]
        not_booked = seed()
        not_booked.review_status, not_booked.appointment_at = "contacted", None
        waiting.appointment_at = utcnow() - timedelta(days=3)
        late = seed()  # booked 21 days after the appointment: its 2-week point is past its 7 days
        late.appointment_at = utcnow() - timedelta(days=21)
        too_late = seed()  # recorded 19 weeks after: every point is past
        db.session.commit()
        references = waiting.reference, refused.reference, not_booked.reference, late.reference, too_late.reference
    texts = [text_of(physio_client.get(f"/staff/screenings/{reference}")) for reference in references]
    assert "the next is emailed 2 weeks after the appointment of" in texts[0]
    assert "the next is emailed 6 weeks after the appointment of" in texts[3]
    assert "No follow-up will be sent: the appointment of" in texts[4]
    assert "had passed by more than 7 days" in texts[4]
    assert "No follow-up: the patient did not agree to follow-up questions." in texts[1]
    assert (
        "they are emailed 2, 6, 12 weeks after the first appointment, once the screening is marked booked" in texts[2]
    )
    assert all(
        "trajectory-table" not in physio_client.get(f"/staff/screenings/{r}").get_data(as_text=True) for r in references
    )


def test_a_follow_up_email_is_listed_with_the_others(app: Flask, physio_client: FlaskClient) -> None:
    with app.app_context():
        screening = seed(follow_ups=(Unanswered(2, open=True),))
        db.session.flush()
        follow_up = db.session.scalars(select(FollowUp).where(FollowUp.screening_id == screening.id)).one()
        db.session.add(
            Notification(
                kind="patient_follow_up",
                screening_id=screening.id,
                follow_up_id=follow_up.id,
                recipient="pat@example.org",
                state="cancelled",
            )
        )
        db.session.commit()
        reference = screening.reference
    text = text_of(physio_client.get(f"/staff/screenings/{reference}"))
    assert "Follow-up questions to the patient: not sent: the person stopped the follow-ups before it went out" in text


def test_viewing_the_trajectory_is_audited_and_printed_with_the_screening(
    app: Flask, physio_client: FlaskClient
) -> None:
    reference = seed_committed(app, follow_ups=(Answered(2, pgic=3, current_pain=5, average_pain=5),))
    page(physio_client, reference)
    printed = physio_client.get(f"/staff/screenings/{reference}/print")
    assert printed.status_code == 200 and "A little better (3)" in text_of(printed)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.screening_reference == reference).order_by(AuditEvent.id)
        ).all()
    assert actions == ["view_screening", "print_screening"]


def test_judging_blind_hides_the_trajectory_until_the_physiotherapist_has_judged(
    app: Flask, physio_client: FlaskClient
) -> None:
    reference = seed_committed(app, outcome="likely", follow_ups=(Answered(2, pgic=1),))
    with app.app_context():
        db.session.add(ClinicSwitch(name="blind_judgement", enabled=True))
        db.session.commit()
    hidden = text_of(physio_client.get(f"/staff/screenings/{reference}"))
    assert "The rules' outcome is hidden" in hidden
    assert "Follow-up after treatment" not in hidden and "Very much better" not in hidden
    assert "Very much better" not in text_of(physio_client.get(f"/staff/screenings/{reference}/print"))
    with app.app_context():
        db.session.get(ClinicSwitch, "blind_judgement").enabled = False  # type: ignore[union-attr]
        db.session.commit()
    assert "Very much better (1)" in text_of(physio_client.get(f"/staff/screenings/{reference}"))


def test_the_trajectory_is_for_signed_in_staff_only(app: Flask, client: FlaskClient) -> None:
    reference = seed_committed(app, follow_ups=(Answered(2, pgic=1),))
    response = client.get(f"/staff/screenings/{reference}")
    assert response.status_code == 302 and response.location.startswith("/staff/sign-in")
    with app.app_context():
        assert db.session.scalars(select(Screening.follow_ups_stopped_at)).one() is None  # nothing changed
