"""What a person can print or save (issue 18): a letter for the doctor after a doctor's or an
emergency result, and a summary of any result, each as a page and as a PDF (WeasyPrint, app/pdf.py).

The PDFs are read back with pypdf: what a doctor reads is the text in the file. Making one takes a
few tenths of a second, so only a few tests make one.
"""

import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import select, update

import rules
from app import pdf
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE, answer_text
from app.extensions import db
from app.models import Screening
from app.patient import views
from rules.outcomes import Outcome
from tests.conftest import sqlite_only
from tests.support.booking_pages import OUTCOME_CHANGES, submit_outcome
from tests.support.journey import CHECK, RESULT, SUBMIT, Journey, Page, profile, seed_draft

LETTER = "/screening/letter"
LETTER_PDF = "/screening/letter.pdf"
SUMMARY = "/screening/summary"
SUMMARY_PDF = "/screening/summary.pdf"
URGENT = ("emergency", "see_doctor")

#: The warning sign each urgent outcome's answers report (tests/support/booking_pages.URGENT),
#: the rule it fires, and that rule's title: the clinical name the doctor reads.
REPORTED = {"emergency": ("rf_saddle_numbness", "RF-E1"), "see_doctor": ("rf_weight_loss", "RF-U2")}


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, its lines joined by spaces (a sentence may wrap anywhere)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def words(text: str) -> str:
    """`text` with its white space collapsed, as `pdf_text` gives it."""
    return " ".join(text.split())


def stored(app: Flask, reference: str) -> Screening:
    with app.app_context():
        screening = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        db.session.expunge(screening)
        return screening


def english_date(screening: Screening) -> str:
    assert screening.submitted_at is not None
    local = screening.submitted_at.astimezone(CLINIC_TIME_ZONE)
    return f"{local.day} {local:%B %Y}"


def assert_is_the_pdf_of(response: object, reference: str) -> bytes:
    """A PDF, to save (not shown in the browser), named by the reference alone, kept by no cache."""
    assert response.status_code == 200, response.status_code  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == f"attachment; filename={reference}.pdf"
    assert headers["Cache-Control"] == "no-store"
    data: bytes = response.data  # type: ignore[attr-defined]
    assert data.startswith(b"%PDF-")
    return data


# --- The letter for the doctor --------------------------------------------------------------


@pytest.mark.parametrize("outcome", URGENT)
def test_the_letter_lists_the_warning_signs_reported_for_the_doctor_as_a_page_and_a_pdf(
    app: Flask, client: FlaskClient, outcome: str
) -> None:
    reference = submit_outcome(app, client, outcome)
    screening = stored(app, reference)
    question_id, rule_id = REPORTED[outcome]
    question = rules.questionnaire().questions[question_id]
    rule = next(rule for rule in rules.ruleset().rules if rule.id == rule_id)
    with app.test_request_context():
        reported = f"{question.checklist_wording()} {answer_text('yes', question)}"
    expected = [
        "Warning signs for a doctor to check",
        f"{rule.title} (rule {rule_id})",
        reported,  # the sign the person reported, and their answer
        words(rule.patient_text),  # what they were told
        reference,
        english_date(screening),
        app.config["CLINIC_NAME"],
        app.config["CLINIC_PHONE"],
        "Locations: " + "; ".join(app.config["CLINIC_LOCATIONS"]),
        "This is a screening, not a diagnosis.",
        f"rule set version {screening.ruleset_version}",
    ]

    page = Journey(client).page(LETTER)
    assert page.title.startswith("A letter for the doctor")
    for text in expected:
        assert text in page.main, text
    assert "bilingual--two" not in page.html and "translation not yet reviewed" not in page.main  # English only
    assert page.back_link == RESULT

    data = assert_is_the_pdf_of(client.get(LETTER_PDF), reference)
    text = pdf_text(data)
    for line in expected:
        assert line in text, line
    # The last line, the rule set's version, never stands alone on a page of its own.
    last_page = " ".join(PdfReader(io.BytesIO(data)).pages[-1].extract_text().split())
    assert len(last_page) > len(expected[-1]) + 40, last_page
    # Every answer the rule read, "no" included: what was asked and not reported.
    [reason] = [reason for reason in screening.stored_result().reasons if reason.rule_id == rule_id]
    denied = [qid for qid, value in reason.answers.items() if value == "no"]
    assert denied
    for other_id in denied:
        assert words(rules.questionnaire().questions[other_id].checklist_wording()) + " No" in text, other_id


def test_an_emergency_letter_page_says_call_911_before_anything_else(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "emergency")
    page = Journey(client).page(LETTER)
    main = re.search(r"<main[^>]*>(.*)</main>", page.html, re.DOTALL)
    assert main is not None
    assert main.group(1).lstrip().startswith('<div class="panel panel--emergency screen-only" role="alert">')
    assert main.group(1).index('href="tel:911"') < main.group(1).index(LETTER_PDF)


def test_the_result_pages_link_the_letter_after_their_advice_and_every_result_its_summary(
    app: Flask, client: FlaskClient
) -> None:
    for outcome in OUTCOME_CHANGES:
        person = app.test_client()
        submit_outcome(app, person, outcome)
        html = Journey(person).page(RESULT).html
        assert f'href="{SUMMARY}"' in html, outcome
        if outcome in URGENT:
            assert html.index(f'href="{LETTER}"') > html.index("</h1>"), outcome
            if outcome == "emergency":  # 911 first, the letter never before it
                assert html.index('href="tel:911"') < html.index(f'href="{LETTER}"')
        else:
            assert LETTER not in html, outcome
            assert person.get(LETTER).location == RESULT, outcome  # no letter without a doctor to give it to


@pytest.mark.one_backend
def test_a_farsi_screenings_letter_holds_english_and_farsi_side_by_side(app: Flask) -> None:
    _, token = seed_draft(app, answers=profile("ideal_neck", **OUTCOME_CHANGES["emergency"]), language="fa")
    person = app.test_client()
    assert person.get(f"/resume/{token}").location == "/screening"  # the link opens in the screening's language
    assert person.post(SUBMIT, data={"csrf_token": Journey(person).csrf_token()}).location == RESULT
    screening = stored(app, only_reference(app))
    question = rules.questionnaire().questions["rf_saddle_numbness"]
    rule = next(rule for rule in rules.ruleset().rules if rule.id == "RF-E1")
    with app.test_request_context(), force_locale("fa"):
        farsi = {
            "outcome": gettext(Outcome.EMERGENCY.patient_label),
            "sign": gettext(question.checklist_wording()),
            "yes": answer_text("yes", question),
            "told": gettext(rule.patient_text),
        }
    assert all(text and not re.search("[A-Za-z]", text) for text in farsi.values()), "the catalogue is in Farsi"

    page = Journey(person).page(LETTER)
    assert '<html lang="fa" dir="rtl">' in page.html
    assert '<div class="bilingual__part" lang="fa" dir="rtl">' in page.html
    for text in (rule.title, words(rule.patient_text), english_date(screening), *farsi.values()):
        assert text in page.main, text
    # Named as the staff pages name an unreviewed translation.
    assert "Farsi (translation not yet reviewed)" in page.main

    text = pdf_text(assert_is_the_pdf_of(person.get(LETTER_PDF), screening.reference)).replace("\u200c", "")
    for expected in (rule.title, question.checklist_wording(), english_date(screening), screening.reference):
        assert words(expected) in text, expected
    for farsi_text in farsi.values():  # each word: a line of Farsi may wrap anywhere
        for word in farsi_text.replace("\u200c", "").split():
            assert word.strip(".،") in text, word


def only_reference(app: Flask) -> str:
    with app.app_context():
        return db.session.scalars(select(Screening.reference)).one()


# --- Only the person's own, submitted screening --------------------------------------------


def test_another_session_cannot_fetch_a_letter_or_a_summary(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "emergency")
    for path in (LETTER, LETTER_PDF, SUMMARY, SUMMARY_PDF):
        stranger = app.test_client()  # no screening at all
        assert stranger.get(path).location == "/start", path
    someone_else = app.test_client()
    other_reference = submit_outcome(app, someone_else, "see_doctor")
    for path in (LETTER, SUMMARY):
        page = Journey(someone_else).page(path)
        assert other_reference in page.main and reference not in page.main, path
    # The addresses name no screening: naming another one in them changes nothing.
    assert other_reference not in client.get(f"{LETTER}?reference={other_reference}").get_data(as_text=True)


def test_the_resume_link_reaches_the_letter_in_another_browser(app: Flask) -> None:
    _, token = seed_draft(app, answers=profile("ideal_neck", **OUTCOME_CHANGES["see_doctor"]))
    person = app.test_client()
    person.get(f"/resume/{token}")
    person.post(SUBMIT, data={"csrf_token": Journey(person).csrf_token()})
    other_device = app.test_client()
    assert other_device.get(LETTER).location == "/start"
    other_device.get(f"/resume/{token}")
    assert only_reference(app) in Journey(other_device).page(LETTER).main


def test_a_draft_has_no_letter_and_no_summary(app: Flask, client: FlaskClient) -> None:
    seed_draft(app, client, profile("ideal_neck", **OUTCOME_CHANGES["emergency"]))  # not sent yet
    for path in (LETTER, LETTER_PDF, SUMMARY, SUMMARY_PDF):
        response = client.get(path)
        assert response.status_code == 302 and response.location == CHECK, path


def test_once_the_result_is_no_longer_shown_neither_is_the_letter(app: Flask, client: FlaskClient) -> None:
    submit_outcome(app, client, "see_doctor")
    with app.app_context():
        days = app.config["RESULT_VISIBLE_DAYS"] + 0.1
        db.session.execute(update(Screening).values(submitted_at=utcnow() - timedelta(days=days)))
        db.session.commit()
    for path in (LETTER, LETTER_PDF, SUMMARY, SUMMARY_PDF):
        assert client.get(path).location == RESULT, path
    sent = Journey(client).page(RESULT)
    assert sent.title.startswith("This screening has been sent to the clinic")
    assert LETTER not in sent.html and SUMMARY not in sent.html


# --- The summary of any result -------------------------------------------------------------


def test_the_summary_of_every_outcome_shows_its_reasons_and_next_step(app: Flask) -> None:
    for outcome in OUTCOME_CHANGES:
        person = app.test_client()
        reference = submit_outcome(app, person, outcome)
        screening = stored(app, reference)
        result = Page(person.get(RESULT))
        summary = Journey(person).page(SUMMARY)
        assert summary.title.startswith("Your result, to print"), outcome
        reasons = screening.stored_result().explaining()
        assert reasons, outcome
        for reason in reasons:
            assert words(reason.patient_text) in summary.main, (outcome, reason.rule_id)
        # The headline and the next step as the result page shows them.
        headline = re.search(r"<h1[^>]*>(.*?)</h1>", result.html, re.DOTALL)
        assert headline is not None and headline.group(1) in summary.html, outcome
        next_step = re.findall(r"<h2>([^<]*)</h2>", result.html)
        # Less what is no use on paper: the links to the copies, and taking an answer back.
        shown = [
            h for h in next_step if h not in ("Keep a copy", "A letter for the doctor", "Chose an answer by mistake?")
        ]
        assert shown == re.findall(r"<h2>([^<]*)</h2>", summary.html), outcome
        for text in (reference, english_date(screening), app.config["CLINIC_NAME"], app.config["CLINIC_PHONE"]):
            assert text in summary.main, (outcome, text)
        assert f'href="{SUMMARY_PDF}"' in summary.html and "I chose this by mistake" not in summary.html


def test_the_summary_as_a_pdf(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "likely")
    screening = stored(app, reference)
    text = pdf_text(assert_is_the_pdf_of(client.get(SUMMARY_PDF), reference))
    for expected in (
        words(Outcome.LIKELY.patient_label),
        *(words(reason.patient_text) for reason in screening.stored_result().explaining()),
        "Book an IMS assessment",
        reference,
        english_date(screening),
        app.config["CLINIC_NAME"],
        "This screening is not a diagnosis",
    ):
        assert expected in text, expected
    assert "Save as a PDF file" not in text and "Ask us to contact you" not in text  # no buttons on paper


# --- Limits and failures ---------------------------------------------------------------------


@sqlite_only
def test_pdfs_are_limited_per_address_and_pages_are_not(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PDF_LIMIT", "1 per minute")
    submit_outcome(app, client, "see_doctor")
    assert client.get(SUMMARY_PDF).status_code == 200
    assert client.get(LETTER_PDF).status_code == 429  # one count for both
    assert client.get(LETTER).status_code == 200 and client.get(SUMMARY).status_code == 200


@sqlite_only
def test_without_pango_a_pdf_is_not_available_and_the_pages_still_are(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(html: str) -> bytes:
        raise pdf.Unavailable("no Pango here")

    monkeypatch.setattr(pdf, "from_html", unavailable)
    submit_outcome(app, client, "emergency")
    response = client.get(LETTER_PDF)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert client.get(LETTER).status_code == 200
