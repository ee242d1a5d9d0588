"""Staff see assessment requests: contact details on the screening, emails' state, queue filters."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.patient import booking, services


def submitted(app: Flask, answers: dict[str, object], name: str | None = None, location: str = "Vancouver") -> str:
    with app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = dict(answers)
        services.submit_screening(screening)
        if name:
            booking.request_assessment(
                screening,
                booking.ContactDetails(
                    name=name,
                    email="pat@example.com",
                    phone="604 555 0177",
                    preferred_location=location,
                    preferred_times=["weekday_evening"],
                    message="Please call after 5",
                ),
            )
        db.session.commit()
        return screening.reference


def test_the_screening_page_shows_the_contact_request_and_its_emails(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submitted(app, ideal_answers, name="Jordan Singh")
    html = physio_client.get(f"/staff/screenings/{reference}").get_data(as_text=True)
    for expected in (
        "Jordan Singh",
        "604 555 0177",
        "pat@example.com",
        "Weekday evenings",
        "Please call after 5",
        "Clinic told of the request",
        "Confirmation to the patient",
        "waiting to be sent",
    ):
        assert expected in html, expected


def test_the_queue_finds_requests_by_location_and_by_full_name(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    vancouver = submitted(app, ideal_answers, name="Jordan Singh", location="Vancouver")
    surrey = submitted(app, ideal_answers, name="Ana Lima", location="Surrey")
    no_request = submitted(app, ideal_answers)

    def listed(**query: str) -> set[str]:
        html = physio_client.get("/staff/", query_string=query).get_data(as_text=True)
        return {ref for ref in (vancouver, surrey, no_request) if ref in html}

    assert listed() == {vancouver, surrey, no_request}
    assert listed(location="Surrey") == {surrey}
    assert listed(name="  jordan   SINGH ") == {vancouver}
    assert listed(name="Jordan") == set()  # exact names only: they are stored encrypted
    assert "asked to be contacted" in physio_client.get("/staff/", query_string={"location": "Vancouver"}).get_data(
        as_text=True
    )


def test_the_screening_page_draws_the_body_map_with_the_chosen_regions(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    import re

    reference = submitted(app, ideal_answers)  # neck, right shoulder, upper back
    html = physio_client.get(f"/staff/screenings/{reference}").get_data(as_text=True)
    marked = set(re.findall(r'data-region="([a-z_]+)"[^>]*class="is-on"', html))
    assert marked == {"neck", "shoulder_right", "upper_back"}
    assert 'type="checkbox"' not in html.split('id="answers"')[1]  # a picture, not a form
