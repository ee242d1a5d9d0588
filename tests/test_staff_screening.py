"""One screening in the staff portal: answers, rule trace, workflow, notes, judgements, print view."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import exc, select, text, update
from werkzeug.test import TestResponse

import rules
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE, answer_text
from app.extensions import db
from app.models import (
    REVIEW_STATUSES,
    AuditEvent,
    ClinicianJudgement,
    Notification,
    Screening,
    ScreeningNote,
    StatusChange,
)
from app.staff import review
from app.staff.explain import fact_label, plain_words
from rules.questionnaire import duration
from tests.conftest import (
    StaffAccounts,
    insert_submitted,
    sqlite_only,
    submit_screening,
)
from tests.support.rows import detached_row
from tests.support.staff_pages import QUEUE, post_form, sign_in, text_of

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def answers(ideal_answers: dict[str, object]) -> dict[str, object]:
    """The ideal neck profile, unsure about epilepsy, asking for an interpreter (in markup)."""
    return {**ideal_answers, "epilepsy": "unsure", "interpreter_needed": "yes", "interpreter_language": SCRIPT}


@pytest.fixture
def reference(app: Flask, answers: dict[str, object]) -> str:
    return submit_screening(app, answers)


@pytest.fixture
def colleague(app: Flask, staff: StaffAccounts) -> FlaskClient:
    """A second physiotherapist, signed in."""
    staff.create("colleague@clinic.example")
    client = app.test_client()
    sign_in(client, "colleague@clinic.example")
    return client


def page_of(client: FlaskClient, reference: str) -> TestResponse:
    response = client.get(f"/staff/screenings/{reference}")
    assert response.status_code == 200, response.status_code
    return response


def screening(app: Flask, reference: str) -> Screening:
    return detached_row(app, select(Screening).where(Screening.reference == reference))


# ---- What the page shows --------------------------------------------------------------------


def test_every_answer_is_shown_with_its_question(
    app: Flask, physio_client: FlaskClient, reference: str, answers: dict[str, object]
) -> None:
    page = text_of(page_of(physio_client, reference))
    questionnaire = rules.questionnaire()
    applicable = questionnaire.applicable(answers)
    assert {q.id for q in applicable} >= set(answers)
    for question in applicable:
        assert question.wording(False)[0] in page, question.id
        if question.id in answers:
            assert answer_text(answers[question.id], question) in page, question.id
    unanswered = [q for q in applicable if q.id not in answers]
    assert page.count("Not answered") == len(unanswered)


@sqlite_only
def test_not_sure_answers_are_highlighted(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    html = page_of(physio_client, reference).get_data(as_text=True)
    rows = re.findall(r'<div class="summary-list__row summary-list__row--unsure">(.*?)</div>', html, re.DOTALL)
    # Once on the first screen, under its short label, and once among all the answers.
    assert len(rows) == 2
    epilepsy = rules.questionnaire().questions["epilepsy"]
    assert epilepsy.checklist_wording() in unescape(rows[0])
    assert epilepsy.wording(False)[0] in unescape(rows[1])
    assert all('<strong class="tag tag--unsure">Not sure</strong>' in row for row in rows)


@sqlite_only
def test_the_rule_trace_indicators_and_ruleset_version_are_shown(
    app: Flask, physio_client: FlaskClient, reference: str, answers: dict[str, object]
) -> None:
    page = text_of(page_of(physio_client, reference))
    result = rules.evaluate(answers)
    assert [reason.rule_id for reason in result.reasons] == ["U-2", "C-L1"]
    ruleset = rules.ruleset()
    for reason in result.reasons:
        assert reason.rule_id in page and reason.title in page
        assert plain_words(reason.staff_rationale) in page
        for source in reason.sources:
            assert ruleset.sources[source].citation in page
    # The indicators under what they mean; no internal name anywhere on the page.
    for name in ("unsure_answers", "widespread_region_count", "chronic_pain", "nerve_type_count"):
        assert fact_label(name) in page
    names = {*result.indicators, *(derived.name for derived in ruleset.derived), *answers}
    assert not [name for name in names if "_" in name and re.search(rf"\b{name}\b", page)]
    assert result.ruleset_version in page
    assert "Clinician review" in page and "Underlying candidacy: likely" in page


def test_patient_text_is_escaped(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    for url in (f"/staff/screenings/{reference}", f"/staff/screenings/{reference}/print"):
        html = physio_client.get(url).get_data(as_text=True)
        assert SCRIPT not in html and "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@sqlite_only
def test_staff_text_is_escaped(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    url = f"/staff/screenings/{reference}"
    assert post_form(physio_client, url, url + "/notes", {"body": SCRIPT}).status_code == 303
    assert post_form(physio_client, url, url + "/judgement", {"outcome": "likely", "reason": SCRIPT}).status_code == 303
    for page in (url, url + "/print"):
        html = physio_client.get(page).get_data(as_text=True)
        assert "<script" not in html and html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


def test_a_draft_and_an_unknown_reference_are_not_found(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    [draft] = insert_submitted(
        app, [{"outcome": "likely", "submitted_at": datetime.now(UTC), "state": "draft", "answers": {"age": 45}}]
    )
    for ref in (draft, "IMS-AAAAAAAA", "IMS-\x00", "nothing-like-a-reference", reference + "X"):
        for suffix in ("", "/print"):
            assert physio_client.get(f"/staff/screenings/{ref}{suffix}").status_code == 404, ref
        response = post_form(physio_client, QUEUE, f"/staff/screenings/{ref}/notes", {"body": "x"})
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "view_screening")) is None
        assert db.session.scalar(select(ScreeningNote)) is None
    assert physio_client.get(f"/staff/screenings/{reference.lower()}").status_code == 200


def test_viewing_a_screening_is_audited(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    before = datetime.now(UTC)
    physio_client.get(f"/staff/screenings/{reference}", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    physio_client.get(f"/staff/screenings/{reference}")
    target = screening(app, reference)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "view_screening").order_by(AuditEvent.id)
        ).all()
        assert len(events) == 2
        event = events[0]
        assert (event.screening_id, event.screening_reference) == (target.id, reference)
        assert event.actor_email == "physio@clinic.example" and event.actor_id is not None
        assert event.at.tzinfo is not None and event.at.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= event.at <= datetime.now(UTC)
        assert (events[0].ip_address, events[1].ip_address) == ("203.0.113.5", "127.0.0.1")
        assert "interpreter" not in str(event.detail) and SCRIPT not in str(event.detail)  # no health data


@sqlite_only
def test_the_print_view_renders_and_is_audited(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    url = f"/staff/screenings/{reference}"
    post_form(physio_client, url, url + "/notes", {"body": "Phoned, will call back Tuesday"})
    response = physio_client.get(url + "/print")
    assert response.status_code == 200
    page = text_of(response)
    assert reference in page and "Phoned, will call back Tuesday" in page and "Physio" in page
    assert rules.questionnaire().questions["epilepsy"].wording(False)[0] in page
    assert "Confidential health information" in page
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "print_screening")).all()
        assert event.screening_reference == reference and event.actor_email == "physio@clinic.example"


# ---- Workflow -------------------------------------------------------------------------------


def tomorrow() -> date:
    """Tomorrow in the clinic's time zone: a day an appointment can be booked for, whenever the test runs."""
    return utcnow().astimezone(CLINIC_TIME_ZONE).date() + timedelta(days=1)


def change_status(client: FlaskClient, reference: str, status: str) -> TestResponse:
    """Post a status change; a booking comes with its appointment (tomorrow at 14:30), as the form asks."""
    url = f"/staff/screenings/{reference}"
    appointment = (
        {"appointment_date": tomorrow().isoformat(), "appointment_time": "14:30"} if status == "booked" else {}
    )
    return post_form(client, url, url + "/status", {"status": status, **appointment})


def book(client: FlaskClient, reference: str, day: date | str, at: str = "09:00") -> TestResponse:
    url = f"/staff/screenings/{reference}"
    return post_form(
        client, url, url + "/status", {"status": "booked", "appointment_date": str(day), "appointment_time": at}
    )


@sqlite_only
def test_booking_needs_the_appointment_and_keeps_it(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    url = f"/staff/screenings/{reference}"
    refused = post_form(physio_client, url, url + "/status", {"status": "booked"})
    assert refused.status_code == 400
    page = unescape(refused.get_data(as_text=True))
    # Said beside the date, where it is entered, and in the page's title, as every refused form is.
    assert re.search(
        r'id="appointment_date-error"[^>]*>.*?' + re.escape("Enter the appointment's date and time"), page, re.DOTALL
    )
    assert "<title>Error: Screening " in page
    # The date given and the time not: said beside the time, which is what is missing.
    url = f"/staff/screenings/{reference}"
    only_date = post_form(physio_client, url, url + "/status", {"status": "booked", "appointment_date": "2026-12-20"})
    assert re.search(
        r'id="appointment_time-error"[^>]*>.*?' + re.escape("Enter the appointment's date and time"),
        unescape(only_date.get_data(as_text=True)),
        re.DOTALL,
    )
    assert screening(app, reference).review_status == "new"
    assert change_status(physio_client, reference, "booked").status_code == 303
    booked = screening(app, reference)
    assert booked.review_status == "booked"
    # 14:30 in Vancouver, in the clinic's zone.
    assert booked.appointment_at == datetime.combine(tomorrow(), time(14, 30), CLINIC_TIME_ZONE)
    assert "Appointment:" in page_of(physio_client, reference).get_data(as_text=True)


@sqlite_only
def test_an_appointment_before_the_screening_was_sent_is_refused_keeping_what_was_entered(
    app: Flask, physio_client: FlaskClient, answers: dict[str, object]
) -> None:
    """21 November for a screening sent on 6 December: a slip, and follow-ups would be promised for
    days already past."""
    reference = submit_screening(app, answers, submitted_at=datetime(2026, 12, 6, 18, tzinfo=UTC))  # 10:00 PST
    refused = book(physio_client, reference, "2026-11-21", "09:15")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    expected = "The appointment cannot be before the screening was sent, on 6 December 2026: check the date."
    assert expected in unescape(page)
    assert re.search(r'id="appointment_date-error"[^>]*>.*?' + re.escape("cannot be before"), unescape(page), re.DOTALL)
    assert 'value="2026-11-21"' in page and 'value="09:15"' in page  # what was entered, kept
    assert re.search(r'<option selected value="booked">|<option value="booked" selected>', page)
    assert (screening(app, reference).review_status, screening(app, reference).appointment_at) == ("new", None)
    assert book(physio_client, reference, "2026-12-06", "08:00").status_code == 303  # the same day is fine


@sqlite_only
def test_an_appointment_more_than_a_year_ahead_is_refused(
    app: Flask, physio_client: FlaskClient, reference: str
) -> None:
    too_far = tomorrow() + timedelta(days=366)
    refused = book(physio_client, reference, too_far)
    assert refused.status_code == 400
    assert "The appointment is more than a year ahead (after " in unescape(refused.get_data(as_text=True))
    assert "check the year" in unescape(refused.get_data(as_text=True))
    assert screening(app, reference).review_status == "new"
    assert book(physio_client, reference, tomorrow() + timedelta(days=300)).status_code == 303


def test_a_screening_moves_along_the_workflow_and_the_timeline_shows_who_and_when(
    app: Flask, physio_client: FlaskClient, colleague: FlaskClient, reference: str
) -> None:
    moves = [
        (physio_client, "in_review"),
        (colleague, "contacted"),
        (physio_client, "booked"),
        (colleague, "declined"),
        (physio_client, "in_review"),
        (physio_client, "referred"),
    ]
    for client, status in moves:
        response = change_status(client, reference, status)
        assert response.status_code == 303, (status, text_of(response)[:300])
        assert response.location.endswith(f"/staff/screenings/{reference}")  # its top: the confirmation
    assert screening(app, reference).review_status == "referred"
    with app.app_context():
        changes = db.session.scalars(select(StatusChange).order_by(StatusChange.id)).all()
        assert [(c.from_status, c.to_status, c.author.email.split("@")[0]) for c in changes] == [
            ("new", "in_review", "physio"),
            ("in_review", "contacted", "colleague"),
            ("contacted", "booked", "physio"),
            ("booked", "declined", "colleague"),
            ("declined", "in_review", "physio"),
            ("in_review", "referred", "physio"),
        ]
        assert all(c.changed_at.utcoffset() == timedelta(0) for c in changes)
    timeline = page_of(physio_client, reference).get_data(as_text=True).split('<ol class="timeline">')[1]
    timeline = text_of_html(timeline.split("</ol>")[0])
    assert "New → In review, by Physio," in timeline
    assert "In review → Contacted, by Colleague," in timeline
    assert "Booked → Declined, by Colleague," in timeline
    assert timeline.index("→ Contacted") < timeline.index("→ Booked") < timeline.index("→ Referred elsewhere")
    assert re.search(r"by Physio, \d{1,2} \w{3} \d{4}, \d\d:\d\d", timeline)


def text_of_html(html: str) -> str:
    return re.sub(r"\s+,", ",", re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))).strip()


@sqlite_only
def test_the_status_choices_are_the_allowed_moves(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    html = page_of(physio_client, reference).get_data(as_text=True)
    form = html.split(f'action="/staff/screenings/{reference}/status"')[1].split("</form>")[0]
    assert tuple(re.findall(r'<option[^>]*value="([a-z_]+)"', form)) == review.NEXT_STATUSES["new"]


@sqlite_only
def test_every_move_the_workflow_does_not_allow_is_refused(
    app: Flask, physio_client: FlaskClient, reference: str
) -> None:
    assert set(review.NEXT_STATUSES) == set(REVIEW_STATUSES)
    for current in REVIEW_STATUSES:
        for target in (*REVIEW_STATUSES, "bogus", ""):
            with app.app_context():
                db.session.execute(update(Screening).values(review_status=current))
                db.session.commit()
            response = change_status(physio_client, reference, target)
            if target in review.NEXT_STATUSES[current]:
                assert response.status_code == 303, (current, target)
                assert screening(app, reference).review_status == target
            else:
                assert response.status_code == 400, (current, target)
                assert screening(app, reference).review_status == current
                if target in REVIEW_STATUSES:
                    assert (
                        f"A screening that is {review.STATUS_LABELS[current].lower()} cannot become "
                        f"{review.STATUS_LABELS[target].lower()}."
                    ) in text_of(response)


@sqlite_only
def test_disallowed_moves_are_refused_with_a_message(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    response = change_status(physio_client, reference, "new")
    assert response.status_code == 400
    assert "A screening that is new cannot become new." in text_of(response)
    assert change_status(physio_client, reference, "declined").status_code == 303
    response = change_status(physio_client, reference, "booked")
    assert response.status_code == 400
    assert "A screening that is declined cannot become booked." in text_of(response)
    with app.app_context():
        assert [(c.from_status, c.to_status) for c in db.session.scalars(select(StatusChange))] == [("new", "declined")]


# ---- Notes ----------------------------------------------------------------------------------


def add_note(client: FlaskClient, reference: str, body: str) -> TestResponse:
    url = f"/staff/screenings/{reference}"
    return post_form(client, url, url + "/notes", {"body": body})


def test_notes_are_appended_with_author_and_time(
    app: Flask, physio_client: FlaskClient, colleague: FlaskClient, reference: str
) -> None:
    assert add_note(physio_client, reference, "  Left a voicemail.  ").status_code == 303
    assert add_note(colleague, reference, "Booked for Tuesday\nat the Surrey clinic.").status_code == 303
    html = page_of(physio_client, reference).get_data(as_text=True)
    notes = re.findall(r'<p class="note__meta">(.*?)</p>\s*<p class="note__body">(.*?)</p>', html, re.DOTALL)
    assert [(meta.split(",")[0], unescape(body)) for meta, body in notes] == [
        ("Physio", "Left a voicemail."),
        ("Colleague", "Booked for Tuesday\nat the Surrey clinic."),
    ]
    assert all(re.search(r"\d{4}, \d\d:\d\d", meta) for meta, _ in notes)
    with app.app_context():
        stored = db.session.scalars(select(ScreeningNote).order_by(ScreeningNote.id)).all()
        assert [n.author.email for n in stored] == ["physio@clinic.example", "colleague@clinic.example"]


@sqlite_only
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write the note before adding it"),
        ("   \n  ", "Write the note before adding it"),
        ("x" * (review.NOTE_MAX_LENGTH + 1), "4000"),
    ],
)
def test_an_empty_or_overlong_note_is_refused(
    app: Flask, physio_client: FlaskClient, reference: str, body: str, message: str
) -> None:
    response = add_note(physio_client, reference, body)
    assert response.status_code == 400 and message in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(ScreeningNote)) is None


def test_a_nul_character_is_stored_without_it(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    assert add_note(physio_client, reference, "Called\x00 back").status_code == 303
    url = f"/staff/screenings/{reference}"
    assert (
        post_form(physio_client, url, url + "/judgement", {"outcome": "likely", "reason": "Fine\x00"}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.scalar(select(ScreeningNote.body)) == "Called back"
        assert db.session.scalar(select(ClinicianJudgement.reason)) == "Fine"


def test_the_staffs_records_cannot_be_edited_in_the_database(
    app: Flask, physio_client: FlaskClient, reference: str
) -> None:
    url = f"/staff/screenings/{reference}"
    add_note(physio_client, reference, "The original note")
    change_status(physio_client, reference, "in_review")
    post_form(physio_client, url, url + "/judgement", {"outcome": "likely", "reason": "Original reason"})
    for model, column, value in [
        (ScreeningNote, "body", "rewritten"),
        (StatusChange, "to_status", "booked"),
        (ClinicianJudgement, "reason", "rewritten"),
    ]:
        table = model.__tablename__
        with app.app_context():
            with pytest.raises(exc.DBAPIError, match="append-only"):
                db.session.execute(text(f"UPDATE {table} SET {column} = :value"), {"value": value})
            db.session.rollback()
            assert db.session.execute(text(f"SELECT {column} FROM {table}")).scalar() != value
        with app.app_context():  # the ORM is refused too
            row = db.session.scalar(select(model))
            setattr(row, column, value)
            with pytest.raises(exc.DBAPIError, match="append-only"):
                db.session.commit()
            db.session.rollback()


@sqlite_only
def test_there_is_no_way_to_edit_or_delete_a_note_on_the_web(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if "note" in rule.rule:
            assert rule.methods is not None and rule.methods <= {"POST", "OPTIONS"}, rule
            assert rule.endpoint == "staff.add_note"


# ---- Judgement ------------------------------------------------------------------------------


def record_judgement(client: FlaskClient, reference: str, outcome: str, reason: str) -> TestResponse:
    url = f"/staff/screenings/{reference}"
    return post_form(client, url, url + "/judgement", {"outcome": outcome, "reason": reason})


def test_a_judgement_sits_beside_the_rules_outcome(app: Flask, physio_client: FlaskClient, reference: str) -> None:
    assert screening(app, reference).outcome == "clinician_review"
    response = record_judgement(physio_client, reference, "not_suitable", "Seizure last month; not safe to needle")
    assert response.status_code == 303
    stored = screening(app, reference)
    assert (stored.outcome, stored.clinician_outcome) == ("clinician_review", "not_suitable")
    assert stored.outcome_rank == rules.Outcome("clinician_review").rank  # the queue's order is the rules'
    assert stored.candidacy == "likely" and [r["rule_id"] for r in stored.reasons or []] == ["U-2", "C-L1"]
    with app.app_context():
        [judgement] = db.session.scalars(select(ClinicianJudgement)).all()
        assert (judgement.outcome, judgement.reason, judgement.author.email) == (
            "not_suitable",
            "Seizure last month; not safe to needle",
            "physio@clinic.example",
        )
    page = text_of(page_of(physio_client, reference))
    assert "Outcome and why Clinician review" in page and "Physiotherapist's outcome: Not suitable" in page
    assert "Seizure last month; not safe to needle" in page
    queue = physio_client.get(QUEUE).get_data(as_text=True)
    row = next(r for r in queue.split("<tr") if reference in r)
    assert 'badge--clinician_review">Clinician review' in row and 'badge--not_suitable">Not suitable' in row
    # A later judgement becomes the current one; the first stays in the history.
    assert (
        record_judgement(physio_client, reference, "likely", "Seen: it was a faint, not a seizure").status_code == 303
    )
    assert screening(app, reference).clinician_outcome == "likely"
    assert screening(app, reference).outcome == "clinician_review"
    with app.app_context():
        assert len(db.session.scalars(select(ClinicianJudgement)).all()) == 2


@sqlite_only
@pytest.mark.parametrize(
    ("outcome", "reason", "message"),
    [
        ("likely", "", "Give the reason for your judgement"),
        ("likely", "   ", "Give the reason for your judgement"),
        ("bogus", "A reason", "Not a valid choice"),
        ("", "A reason", ""),
    ],
)
def test_a_judgement_needs_an_outcome_and_a_reason(
    app: Flask, physio_client: FlaskClient, reference: str, outcome: str, reason: str, message: str
) -> None:
    response = record_judgement(physio_client, reference, outcome, reason)
    assert response.status_code == 400 and message in text_of(response)
    assert screening(app, reference).clinician_outcome is None
    with app.app_context():
        assert db.session.scalar(select(ClinicianJudgement)) is None


def test_a_screening_judged_by_a_question_since_retired_still_shows(app: Flask, physio_client: FlaskClient) -> None:
    """Rule set 1.2.0 split `unwell_now` in two; screenings stored before keep the old id."""
    reason = {
        "rule_id": "CI-8",
        "title": "Unwell now",
        "outcome": "not_suitable",
        "patient_text": "While you are unwell, needle treatment should wait.",
        "staff_rationale": "Acute medical illness.",
        "sources": ["S16"],
        "answers": {"unwell_now": "yes"},
    }
    (reference,) = insert_submitted(
        app,
        [
            {
                "outcome": "not_suitable",
                "submitted_at": datetime.now(UTC),
                "answers": {"unwell_now": "yes"},
                "reasons": [reason],
            }
        ],
    )
    page = text_of(page_of(physio_client, reference))
    assert "CI-8" in page and "Answers it read: Are you unwell at the moment" in page
    assert "unwell_now" not in page
    # Among the answers too, as the question was worded, under its own heading.
    retired = page[page.index("Questions no longer asked") :]
    assert (
        "Are you unwell at the moment with an infection, a fever or another illness that a doctor is treating? Yes"
        in retired
    )


def test_answers_to_the_questions_split_in_1_7_0_still_read_as_words(app: Flask, physio_client: FlaskClient) -> None:
    """Questionnaire 1.7.0 retired the bundled hands-and-walking and headache questions; a
    screening sent before keeps their answers, which staff must still see."""
    (reference,) = insert_submitted(
        app,
        [
            {
                "outcome": "see_doctor",
                "submitted_at": datetime.now(UTC),
                "answers": {"respondent": "self", "rf_hands_walking": "yes", "rf_sudden_headache": "unsure"},
            }
        ],
    )
    page = text_of(page_of(physio_client, reference))
    retired = page[page.index("Questions no longer asked") :]
    assert "Have your hands become clumsy or numb, or have you become unsteady when walking? Yes" in retired
    assert "unlike anything you have had before? Not sure" in retired


@sqlite_only
def test_a_red_flag_screening_stores_no_candidacy_and_shows_what_the_rules_gave(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submit_screening(app, {**ideal_answers, "rf_calf_swelling": "yes", "calf_swelling_detail": "swollen"})
    with app.app_context():
        screening = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        assert screening.outcome == "emergency" and screening.candidacy is None
    page = text_of(page_of(physio_client, reference))
    assert "If the warning sign is cleared, the candidacy rules give: likely" in page
    assert "Underlying candidacy" not in page
    # The candidacy rule is not shown as a second result beside the emergency.
    trace = page[page.index("How the rules decided Emergency") :]
    assert "If the warning sign is cleared" in trace and "Would give: Likely Fits the typical IMS candidate" in trace


def test_a_duration_is_shown_as_the_patient_gave_it(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submit_screening(app, {**ideal_answers, "pain_duration_weeks": duration(3, "days")})
    page = text_of(page_of(physio_client, reference))
    assert "How long have you had this pain? 3 days" in " ".join(page.split())
    queue = text_of(physio_client.get(QUEUE))
    assert "Neck, 3 days" in queue  # the queue's one-line summary


# ---- Judging without the rules' answer in view --------------------------------------------------


@sqlite_only
def test_the_judgement_form_chooses_no_outcome_for_the_physiotherapist(
    app: Flask, physio_client: FlaskClient, reference: str
) -> None:
    html = page_of(physio_client, reference).get_data(as_text=True)
    select_html = re.search(r'<select[^>]*id="outcome"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert select_html is not None
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select_html.group(1))
    # A browser shows the first option of a select with none selected: it must be the blank one.
    assert options[0] == (' value=""', "Choose an outcome")
    assert not [attrs for attrs, _ in options if "selected" in attrs]
    response = record_judgement(physio_client, reference, "", "Seen in clinic")
    assert response.status_code == 400 and "Choose your outcome" in text_of(response)


def judge_blind(client: FlaskClient, enabled: bool) -> TestResponse:
    data = {"enabled": "y"} if enabled else {}
    return post_form(client, "/staff/rules/", "/staff/rules/blind-judgement", data)


def test_judging_blind_hides_the_rules_outcome_until_the_physiotherapist_has_judged(
    app: Flask, staff: StaffAccounts, physio_client: FlaskClient, colleague: FlaskClient, reference: str
) -> None:
    admin = staff.signed_in_client("admin@clinic.example", "admin")
    assert judge_blind(admin, True).status_code == 303
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "change_clinic_switch")).all()
        assert event.detail == {"switch": "blind_judgement", "enabled": True}
    titles = [reason["title"] for reason in screening(app, reference).reasons or []]  # U-2 and C-L1

    html = page_of(physio_client, reference).get_data(as_text=True)
    page = text_of(page_of(physio_client, reference))
    assert "The rules' outcome is hidden until you record your own" in page
    assert "badge--clinician_review" not in html and "How the rules decided" not in page
    assert not [title for title in titles if title in page]
    queue = physio_client.get(QUEUE).get_data(as_text=True)
    assert "Hidden until you judge" in queue and "badge--clinician_review" not in queue
    assert not [title for title in titles if title in queue]
    printed = physio_client.get(f"/staff/screenings/{reference}/print").get_data(as_text=True)
    assert "badge--clinician_review" not in printed and "Clinician review" not in printed

    assert record_judgement(physio_client, reference, "likely", "Epilepsy controlled for years").status_code == 303
    page = text_of(page_of(physio_client, reference))
    assert "Outcome and why Clinician review" in page and "How the rules decided" in page
    assert "(judged blind)" in page
    # The colleague has not judged it yet: still hidden from them, and their judgement is blind too.
    assert "The rules' outcome is hidden" in text_of(page_of(colleague, reference))
    assert record_judgement(colleague, reference, "clinician_review", "Ask about the seizures").status_code == 303
    # A second judgement by someone who has seen the outcome is not blind.
    assert record_judgement(physio_client, reference, "clinician_review", "Agreed after talking").status_code == 303
    with app.app_context():
        judgements = db.session.scalars(select(ClinicianJudgement).order_by(ClinicianJudgement.id)).all()
        assert [j.blind for j in judgements] == [True, True, False]
        blind_flags = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "record_judgement").order_by(AuditEvent.id)
        ).all()
        assert [event.detail["blind"] for event in blind_flags] == [True, True, False]

    assert judge_blind(admin, False).status_code == 303
    assert "The rules' outcome is hidden" not in text_of(page_of(colleague, reference))


def test_an_emergency_is_never_hidden_and_its_judgement_is_not_blind(
    app: Flask, staff: StaffAccounts, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    admin = staff.signed_in_client("admin@clinic.example", "admin")
    assert judge_blind(admin, True).status_code == 303
    emergency = submit_screening(app, {**ideal_answers, "rf_saddle_numbness": "yes"})
    page = text_of(page_of(physio_client, emergency))
    assert "Outcome and why Emergency" in page and "The rules' outcome is hidden" not in page
    queue = physio_client.get(QUEUE).get_data(as_text=True)
    assert "badge--emergency" in queue and "Hidden until you judge" not in queue
    assert record_judgement(physio_client, emergency, "emergency", "Sent to emergency").status_code == 303
    with app.app_context():
        assert db.session.scalars(select(ClinicianJudgement.blind)).all() == [False]


@sqlite_only
def test_only_an_admin_switches_judging_blind(app: Flask, physio_client: FlaskClient) -> None:
    response = post_form(physio_client, QUEUE, "/staff/rules/blind-judgement", {"enabled": "y"})
    assert response.status_code == 403
    with app.app_context():
        assert review.judges_blind() is False


@sqlite_only
def test_an_email_only_written_to_the_console_is_not_called_sent(
    app: Flask, physio_client: FlaskClient, reference: str
) -> None:
    with app.app_context():
        found = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        db.session.add(
            Notification(kind="clinic_urgent_screening", screening_id=found.id, state="sent", sent_at=datetime.now(UTC))
        )
        db.session.commit()
    app.config["SMTP_HOST"] = ""  # development: emails go to the console
    page = text_of(page_of(physio_client, reference))
    assert "Clinic told of the urgent result: not sent: written to the server's console only" in page
    app.config["SMTP_HOST"] = "smtp.clinic.example"
    page = text_of(page_of(physio_client, reference))
    assert "Clinic told of the urgent result: sent " in page and "console" not in page


def test_free_text_is_shown_as_the_patients_own_words_and_the_interpreter_language_reaches_the_queue(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    """Issue 17: staff read English, but what the patient typed is shown as typed, and marked so."""
    answers = {**ideal_answers, "interpreter_needed": "yes", "interpreter_language": "ਪੰਜਾਬੀ (Punjabi)"}
    reference = submit_screening(app, answers)
    page = text_of(page_of(physio_client, reference))
    assert "“ਪੰਜਾਬੀ (Punjabi)” (the patient's own words, as typed)" in page
    assert "ਪੰਜਾਬੀ (Punjabi)" in text_of(physio_client.get(QUEUE))
