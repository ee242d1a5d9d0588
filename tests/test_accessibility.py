"""Accessibility of every page type and state, patient and staff, in Chromium: axe-core (WCAG 2.0
to 2.2, A and AA, with its target-size rule turned on) plus what axe cannot see: one <h1>, titles
per step with "Error:" on errors, the error summary focused after a failed submit, a visible label
for every control, form controls and buttons of at least 24x24 px."""

import json
import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app.config import DEV_SECRET_KEY
from app.extensions import db
from tests.conftest import app_on
from tests.support.booking_pages import BOOKABLE
from tests.support.browser import (
    BOOKING_URL,
    DESKTOP,
    OUTCOMES,
    PHONE,
    Audit,
    Server,
    answers_for,
    click_and_wait,
    fill_step,
    open_answered_draft,
    send_request,
    start,
    submit,
    tab_to,
    walk_steps,
)
from tests.support.followup import invite_on, server_app
from tests.support.journey import answers_before, seed_draft
from tests.support.outcomes import Answered, Unanswered, seed

from .conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser
NewPage = Callable[..., Any]


def test_the_audit_fails_a_page_with_the_problems_it_looks_for(new_page: NewPage) -> None:
    """The audit itself: an image without a text alternative, a field without a label and a
    button of 10x10 px each fail it, by name and place (else every audit below could pass blind)."""
    page = new_page(PHONE)
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Broken</title></head><body><main><h1>Broken</h1>'
        '<img src="data:,"><input id="unlabelled" type="text">'
        '<button style="width:10px;height:10px;padding:0;font-size:4px">x</button></main></body></html>'
    )
    audit = Audit()
    audit(page, "broken")
    with pytest.raises(AssertionError) as failed:
        audit.check()
    report = str(failed.value)
    assert "broken: axe image-alt (critical) at ['img']" in report
    assert "broken: axe label (critical) at ['#unlabelled']" in report
    assert "broken: small target <button" in report


def test_patient_pages(new_page: NewPage, screenshot: Any, server: Server) -> None:
    audit = Audit()
    page = new_page(PHONE)
    page.goto("/")
    audit(page, "landing")
    page.goto("/privacy")
    audit(page, "privacy")
    page.goto("/start")
    audit(page, "consent")
    click_and_wait(page, page.get_by_role("button", name="Agree and start"))
    audit(page, "consent (error)", error=True)
    page.check("#consent")
    click_and_wait(page, page.get_by_role("button", name="Agree and start"))

    step_titles = []

    def empty_then_answered(page: Any, section: str) -> None:
        # Each step as it opens, then sent empty to show its errors; walk_steps then answers it.
        audit(page, section)
        step_titles.append(page.title())
        click_and_wait(page, page.locator("button[value=continue]"))
        if page.locator(".error-summary").count():
            audit(page, f"{section} (error)", error=True)
            if section == "about":
                screenshot(page, "question-with-error")

    walk_steps(
        page, answers_for("likely"), empty_then_answered, on_reassurance=lambda page: audit(page, "needles-and-you")
    )
    assert len(set(step_titles)) == len(step_titles), f"step titles repeat: {step_titles}"
    audit(page, "check your answers")
    submit(page)
    audit(page, "result likely")
    click_and_wait(page, page.get_by_role("link", name="Ask us to contact you"))
    audit(page, "request form")
    page.check("#follow_up_consent")  # its activities, revealed, are audited with the errors
    click_and_wait(page, page.locator("main form button[type=submit]"))
    audit(page, "request form (error)", error=True)

    # The follow-up after treatment (issue 18), from its email's link to the thanks.
    with server_app(server.env["DATABASE_URL"], server.env["ENCRYPTION_KEYS"]) as app:
        links = invite_on(app, activities=("Gardening",))
    follow_up = new_page(PHONE)
    follow_up.goto(links.open)
    continue_button = follow_up.get_by_role("button", name="Continue")
    click_and_wait(follow_up, continue_button)
    audit(follow_up, "follow-up pain (error)", error=True)
    follow_up.check("#current_pain-3")
    follow_up.check("#average_pain-4")
    click_and_wait(follow_up, continue_button)
    audit(follow_up, "follow-up change")
    follow_up.check("#pgic-1")
    click_and_wait(follow_up, continue_button)
    follow_up.check("#had_ims-0")
    click_and_wait(follow_up, continue_button)
    audit(follow_up, "follow-up IMS, sessions revealed (error)", error=True)
    follow_up.fill("#ims_sessions", "3")
    click_and_wait(follow_up, continue_button)
    audit(follow_up, "follow-up activities")
    follow_up.check("#activity_1-6")
    click_and_wait(follow_up, continue_button)
    audit(follow_up, "follow-up check your answers")
    click_and_wait(follow_up, follow_up.get_by_role("button", name="Send answers"))
    audit(follow_up, "follow-up thanks")
    follow_up.goto(links.open)
    audit(follow_up, "follow-up link no longer works")
    follow_up.goto(links.stop)
    audit(follow_up, "follow-up stop")

    saver = new_page(PHONE)
    start(saver)
    click_and_wait(saver, saver.locator("button[value=save]"))
    audit(saver, "saved")
    audit.check()


def test_a_checklist_with_not_sure_revealed_and_its_errors(new_page: NewPage, server: Server) -> None:
    """The warning signs' checklist with "Which are you not sure about?" revealed, refused for
    each of its own reasons (the empty page is audited by test_patient_pages)."""
    audit = Audit()
    page = new_page(PHONE)
    with app_on(server.env["DATABASE_URL"]) as app:
        _, token = seed_draft(app, answers=answers_before("warning_signs", answers_for("likely")))
    page.goto(f"{server.base}/resume/{token}")
    assert page.url.endswith("/screening/warning_signs"), page.url
    page.get_by_label("I’m not sure about one of these").check()
    audit(page, "warning signs, not sure revealed")
    click_and_wait(page, page.locator("button[value=continue]"))
    audit(page, "warning signs, which not sure (error)", error=True)
    page.get_by_label("None of these").check()
    click_and_wait(page, page.locator("button[value=continue]"))
    audit(page, "warning signs, none with not sure (error)", error=True)
    audit.check()


#: axe's rules on languages: the page's, and each element's own (the switcher names each language in itself).
LANGUAGE_RULES = {"html-has-lang", "html-lang-valid", "valid-lang"}


@pytest.mark.parametrize("tag", ["fa", "zh-Hant"])
def test_a_checklist_the_check_page_and_an_emergency_in_another_language(
    new_page: NewPage, server: Server, tag: str
) -> None:
    """In Farsi (right to left) and Chinese Traditional: a question page with a checklist (its
    "not sure" part revealed), the check page and the emergency result, each opened through a
    resume link in the language its draft was last worked on in (the English pages are audited
    above)."""
    audit = Audit()
    with app_on(server.env["DATABASE_URL"]) as app:
        _, checklist = seed_draft(app, answers=answers_before("warning_signs", answers_for("likely")), language=tag)
        _, emergency = seed_draft(app, answers=answers_for("emergency"), language=tag)
    page = new_page(PHONE)
    page.goto(f"/resume/{checklist}")
    assert page.url.endswith("/screening/warning_signs"), page.url
    page.locator("input[name=warning_signs_now][value=unsure]").check()
    audit(page, f"{tag} warning signs, not sure revealed")
    page = new_page(PHONE)
    page.goto(f"/resume/{emergency}")
    assert page.url.endswith("/screening/check"), page.url
    audit(page, f"{tag} check your answers")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith("/screening/result"), page.url
    assert page.locator('.panel--emergency a[href="tel:911"]').count() == 1
    audit(page, f"{tag} result emergency")
    assert page.locator("html").get_attribute("lang") == tag
    click_and_wait(page, page.locator('main a[href="/screening/letter"]'))
    audit(page, f"{tag} letter for the doctor (English and {tag} side by side)")
    assert LANGUAGE_RULES <= audit.passed, f"axe did not check the lang attributes: {LANGUAGE_RULES - audit.passed}"
    audit.check()


@pytest.mark.parametrize("outcome", [outcome for outcome in OUTCOMES if outcome != "likely"])
def test_result_pages(new_page: NewPage, server: Server, outcome: str) -> None:
    audit = Audit()
    page = new_page(PHONE)
    open_answered_draft(page, server, outcome)  # every step page is audited by test_patient_pages
    submit(page)
    audit(page, f"result {outcome}")
    if outcome in ("emergency", "see_doctor"):
        click_and_wait(page, page.locator('main a[href="/screening/letter"]'))
        audit(page, f"letter for the doctor, {outcome}")
    if outcome == "see_doctor":  # one summary: every outcome's is its result page's body
        page.goto("/screening/summary")
        audit(page, f"summary, {outcome}")
    audit.check()


def test_staff_pages(new_page: NewPage, server: Server, staff_session: dict[str, Any]) -> None:
    audit = Audit()
    page = new_page(DESKTOP)
    page.goto("/staff/sign-in")
    page.evaluate(BREAK_THE_PAGE)
    audit(page, "self-test")
    for expected in ("axe image-alt", "axe target-size", "small target <button"):
        assert any(expected in problem for problem in audit.problems), f"no {expected!r} in a broken page"
    audit.problems.clear()
    page.reload()
    audit(page, "staff sign-in")
    click_and_wait(page, page.locator("main button[type=submit]"))
    audit(page, "staff sign-in (error)", error=True)
    page.fill("#email", "admin@clinic.example")
    page.fill("#password", "correct horse battery staple")
    click_and_wait(page, page.locator("main button[type=submit]"))
    audit(page, "two-factor")

    page = new_page(DESKTOP, storage_state=staff_session["state"])
    for path, name in [
        ("/staff/", "queue"),
        ("/staff/overview", "overview"),
        ("/staff/accounts", "accounts"),
        ("/staff/audit", "audit trail"),
        ("/staff/patient-requests/", "privacy requests"),
        ("/staff/fhir/import", "FHIR import"),
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 200 and page.url.endswith(path), page.url
        audit(page, name)
    click_and_wait(page, page.get_by_role("button", name="Import and judge"))
    audit(page, "FHIR import (error)", error=True)
    response = page.goto("/staff/screenings/IMS-NOSUCH00/nothing-here")
    assert response is not None and response.status == 404
    audit(page, "staff page not found")
    page.goto("/staff/")
    patient = new_page(PHONE)  # so that the queue has a screening to open
    open_answered_draft(patient, server, "see_doctor")
    submit(patient)
    page.goto("/staff/")
    click_and_wait(page, page.locator("tbody tr a").first)
    assert "/staff/screenings/" in page.url
    audit(page, "screening")
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    for path, name in [
        (f"/staff/screenings/{reference}/print", "print view"),
        ("/staff/rules/", "rules"),
        (f"/staff/patient-requests/?reference={reference}", "privacy requests (found)"),
    ]:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, page.url)
        audit(page, name)
        if name == "print view":
            page.emulate_media(media="print")
            audit(page, "print view (print media)")
            page.emulate_media(media="screen")
    assert page.locator("main h2", has_text=reference).count() == 1
    page.goto(f"/staff/patient-requests/{reference}/copy")
    audit(page, "privacy request copy")

    # The screening as another tool's response: imported, it has no contact details, and the
    # queue marks it; and a file over the import's limit gets the staff's own page.
    bundle = page.request.get(f"/staff/fhir/screenings/{reference}.json").json()
    response = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse")
    response["identifier"] = {"system": "urn:example:other-tool", "value": "QR-1"}
    page.goto("/staff/fhir/import")
    page.set_input_files(
        "#response", files=[{"name": "r.json", "mimeType": "application/json", "buffer": json.dumps(response).encode()}]
    )
    click_and_wait(page, page.get_by_role("button", name="Import and judge"))
    assert (
        "/staff/screenings/" in page.url
        and page.locator("#contact", has_text="No contact details: the screening was imported").count() == 1
    ), page.url
    audit(page, "screening (imported)")
    page.goto("/staff/")
    assert page.locator("tbody strong.tag", has_text="Imported").count() == 1
    audit(page, "queue (with an import)")
    page.goto("/staff/fhir/import")
    too_large = {"name": "r.json", "mimeType": "application/json", "buffer": b" " * (600 * 1024)}
    page.set_input_files("#response", files=[too_large])
    click_and_wait(page, page.get_by_role("button", name="Import and judge"))
    assert page.title().startswith("The file is too large"), page.title()
    audit(page, "import file too large")

    page.goto("/staff/accounts")
    click_and_wait(page, page.get_by_role("button", name="Add account"))
    audit(page, "accounts (error)", error=True)
    page.fill("#name", "Sam Second")
    page.fill("#email", "second@clinic.example")
    page.fill("#password", STAFF_PASSWORD)
    click_and_wait(page, page.get_by_role("button", name="Add account"))
    assert page.get_by_role("button", name="Disable the account of Sam Second").count() == 1
    audit(page, "accounts (two accounts)")
    audit.check()


def test_staff_pages_with_follow_ups(
    new_page: NewPage, server: Server, staff_session: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screening page with a patient's follow-ups after treatment (the trajectory's chart and
    tables) and the Overview's outcomes, every disclosure open; the screening page's status and
    note forms still end on its first screen."""
    monkeypatch.setenv("ENCRYPTION_KEYS", server.env["ENCRYPTION_KEYS"])  # the server's, for the names
    with app_on(server.env["DATABASE_URL"]) as app, app.app_context():
        followed = seed(
            fired=("fit_a",),
            activities=("Lifting my child", "Gardening"),
            follow_ups=(
                Answered(2, pgic=2, average_pain=4, scores={1: 5, 2: 3}),
                Answered(6, pgic=1, average_pain=2, scores={1: 8, 2: 6}),
                Unanswered(12, open=True),
            ),
        )
        for pgic in (3, 4, 2):
            seed(outcome="possible", fired=("fit_b",), follow_ups=(Answered(2, pgic),))
        db.session.commit()
        reference = followed.reference
    audit = Audit()
    page = new_page(DESKTOP, storage_state=staff_session["state"])
    page.goto(f"/staff/screenings/{reference}")
    assert page.locator("#trajectory-table tbody tr").count() == 4
    for name in ("Change status", "Add note"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["y"] + box["height"] <= DESKTOP["height"], (name, box)
    page.evaluate(OPEN_EVERY_DISCLOSURE)
    audit(page, "screening with follow-ups")
    page.goto("/staff/overview")
    assert page.locator("#outcomes-by-outcome").count() == 1
    page.evaluate(OPEN_EVERY_DISCLOSURE)
    audit(page, "overview with outcomes")
    audit.check()


OPEN_EVERY_DISCLOSURE = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"


#: A missing alternative text, a tiny button and two links with no room between them.
BREAK_THE_PAGE = """() => {
  document.body.insertAdjacentHTML('beforeend', '<img src=x.png>');
  document.querySelector('main').insertAdjacentHTML('beforeend',
    '<p><button style="all: unset">x</button> <a href="#a">a</a><a href="#b">b</a></p>');
}"""


@pytest.mark.parametrize("outcome", list(BOOKABLE))
def test_result_pages_with_online_booking(new_page: NewPage, booking_server: Server, outcome: str) -> None:
    """With BOOKING_URL set, the booking prompt offers "Book online" beside the request to be contacted."""
    audit = Audit()
    page = new_page(PHONE, base_url=booking_server.base)
    open_answered_draft(page, booking_server, outcome)
    submit(page)
    assert page.get_by_role("link", name="Book online").get_attribute("href") == BOOKING_URL
    assert page.get_by_role("link", name="Ask us to contact you").count() == 1
    audit(page, f"result {outcome} (book online)")
    audit.check()


def test_patient_states(new_page: NewPage) -> None:
    """The needle reassurance page, the request-sent page, a resume link to another screening, no consent and
    an invalid resume link."""
    audit = Audit()
    page = new_page(PHONE)
    start(page)
    answers = {**answers_for("likely"), "needle_fear": 5}
    walk_steps(page, answers, on_reassurance=lambda page: audit(page, "needles-and-you"))
    assert len(audit.titles) == 1, "the needle reassurance page was not shown"
    submit(page)
    click_and_wait(page, page.get_by_role("link", name="Ask us to contact you"))
    send_request(page)
    audit(page, "request sent")

    # A resume link to another screening, in the browser that has this one open.
    other = new_page(PHONE)
    start(other)
    click_and_wait(other, other.locator("button[value=save]"))
    link = re.search(r"/resume/[A-Za-z0-9_-]{43}", other.content())
    assert link is not None
    page.goto(link.group(0))
    assert page.title().startswith("Another screening is open in this browser"), page.title()
    audit(page, "resume link to another screening")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    audit(page, "resume link to another screening (error)", error=True)

    page.goto("/no-consent")
    audit(page, "no consent")
    response = page.goto("/resume/not-a-token")
    assert response is not None and response.status == 404
    audit(page, "invalid resume link (404)")

    page = new_page(PHONE)
    start(page)
    # A question page sent with a token that no longer works comes back with its answers.
    fill_step(page, answers)
    page.eval_on_selector("input[name=csrf_token]", "input => { input.value = 'expired' }")
    click_and_wait(page, page.locator("button[value=continue]"))
    assert page.title().startswith("Error: "), page.title()
    audit(page, "question page sent again after a refused token", error=True)
    make_idle(page)
    page.goto("/screening")
    assert page.title().startswith("This browser has closed your screening"), page.title()
    audit(page, "screening closed after the idle time")
    audit.check()


def make_idle(page: Any) -> None:
    """Rewrite the page's session cookie as if it was last used long ago (the test server signs
    cookies with the public development key)."""
    signer = Flask(__name__)
    signer.secret_key = DEV_SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(signer)
    assert serializer is not None
    [cookie] = [c for c in page.context.cookies() if c["name"] == "session"]
    data = serializer.loads(cookie["value"])
    data["screening_last_used"] = 0
    page.context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


def test_new_staff_account(new_page: NewPage, server: Server) -> None:
    """A fresh account, signed in with the keyboard alone: two-factor set-up (with an error), the
    recovery codes, then the change-password page (with and without errors)."""
    email = "keyboard@clinic.example"
    server.cli(
        "create-staff",
        "--email",
        email,
        "--name",
        "Kim Keys",
        "--role",
        "physio",
        "--password-stdin",
        stdin=STAFF_PASSWORD + "\n",
    )
    audit = Audit()
    page = new_page(DESKTOP)
    page.goto("/staff/sign-in")
    tab_to(page, "#email")  # tab_to checks that the focus is visible at each stop
    page.keyboard.type(email)
    tab_to(page, "#password", limit=1)
    page.keyboard.type(STAFF_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/staff/two-factor/set-up")
    audit(page, "two-factor set-up")
    click_and_wait(page, page.locator("main button[type=submit]"))
    audit(page, "two-factor set-up (error)", error=True)
    secret = page.locator("code.secret").inner_text().strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    click_and_wait(page, page.locator("main button[type=submit]"))
    audit(page, "recovery codes")
    click_and_wait(page, page.get_by_text("I have saved them"))

    page.goto("/staff/password")
    audit(page, "change password")
    click_and_wait(page, page.locator("main button[type=submit]"))
    audit(page, "change password (error)", error=True)
    audit.check()
