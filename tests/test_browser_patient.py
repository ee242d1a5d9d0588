"""The patient journey in a real browser (Chromium): every outcome, phone and desktop, keyboard
only, JavaScript off, and resuming in another browser."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, Screening
from tests.conftest import app_on
from tests.support.booking_pages import BOOKABLE
from tests.support.browser import (
    DESKTOP,
    OUTCOMES,
    PHONE,
    Server,
    answers_for,
    change_anchor,
    click_and_wait,
    fill_step,
    journey,
    key_check,
    key_radio,
    key_submit,
    open_answered_draft,
    section_of,
    start,
    submit,
    tab_to,
    walk_steps,
)
from tests.support.journey import SECTION_IDS, seed_draft

pytestmark = pytest.mark.browser

HEADLINES = {
    "emergency": "Get emergency care now",
    "see_doctor": "See a doctor before any physiotherapy",
    "not_suitable": "Needle treatment is not right for you at the moment",
    "clinician_review": "A physiotherapist needs to check a few things first",
    "likely": "IMS may well help you",
    "possible": "IMS might help you: an assessment will tell",
    "unlikely": "IMS is probably not the best first step for you",
}
NewPage = Callable[..., Any]


def check_result(page: Any, outcome: str) -> None:
    assert page.locator("h1").inner_text().strip() == HEADLINES[outcome]
    has_booking = page.get_by_role("link", name="Ask us to contact you").count() > 0
    assert has_booking == (outcome in BOOKABLE)
    if outcome == "emergency":
        main_text = page.locator("main").inner_text()
        assert main_text.index("911") < 200, "Call 911 is not the first thing on the emergency page"
        assert page.locator("main a[href*=request-assessment]").count() == 0
        assert page.get_by_role("link", name="Book online").count() == 0
        # The one form: to take back an answer chosen by mistake, after the advice.
        [action] = page.locator("main form").evaluate_all("forms => forms.map(f => f.getAttribute('action'))")
        assert action == "/screening/chose-by-mistake"
        assert main_text.index("by mistake") > main_text.index("911")


def test_a_likely_candidate_answers_every_page_on_a_phone(new_page: NewPage, screenshot: Any) -> None:
    """The whole journey, page by page, as most people take it (also the README's screenshots)."""
    page = new_page(PHONE)
    answers = answers_for("likely")
    pages: list[str] = []

    def on_step(page: Any, section: str) -> None:
        pages.append(section)
        if section == "pain_location":
            fill_step(page, answers)
            page.locator(".body-map").scroll_into_view_if_needed()
            page.evaluate("() => document.querySelector('.body-map').scrollIntoView()")
            screenshot(page, "body-map")

    page.goto("/")
    screenshot(page, "landing")
    start(page)
    walk_steps(page, answers, on_step)
    assert len(pages) <= 12, pages  # issue 14: a typical candidate, at most 12 pages of questions
    screenshot(page, "check-your-answers")
    submit(page)
    check_result(page, "likely")
    screenshot(page, "result-likely")


@pytest.mark.parametrize("outcome", [outcome for outcome in OUTCOMES if outcome != "likely"])
def test_every_other_outcome_on_a_phone_after_changing_the_answer_that_decides_it(
    new_page: NewPage, server: Server, screenshot: Any, outcome: str
) -> None:
    """From a likely candidate's "Check your answers", the person changes the one answer that
    decides `outcome` through its Change link, answers whatever that brings up, and sends. The
    journey before the check page is walked page by page above, with the keyboard, without
    JavaScript and across two browsers below."""
    page = new_page(PHONE)
    open_answered_draft(page, server, "likely")
    [question] = OUTCOMES[outcome]
    click_and_wait(page, page.locator(f'main a[href$="#question-{change_anchor(question)}"]'))
    answers = answers_for(outcome)
    fill_step(page, answers)
    click_and_wait(page, page.locator("button[value=continue]"))
    walk_steps(page, answers)
    submit(page)
    check_result(page, outcome)
    screenshot(page, f"result-{outcome.replace('_', '-')}")


@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_every_outcome_on_a_desktop(new_page: NewPage, server: Server, outcome: str) -> None:
    """The result pages at desktop width (the journey to them is walked on a phone above, and on
    a desktop by test_resume_in_another_browser)."""
    page = new_page(DESKTOP)
    open_answered_draft(page, server, outcome)
    submit(page)
    check_result(page, outcome)


def test_keyboard_only(new_page: NewPage) -> None:
    page = new_page(PHONE)
    page.goto("/start")
    key_check(page, "#consent")
    key_submit(page, "main button[type=submit]")
    page.wait_for_url("**/screening/about")
    answers = answers_for("likely")

    def on_step(page: Any, section: str) -> None:
        if section != "pain_location":
            return
        tab_to(page, "#age")
        page.keyboard.type(str(answers["age"]))
        for region in answers["pain_regions"]:  # type: ignore[union-attr]
            key_check(page, f"input[name=pain_regions][value={region}]")
        key_radio(page, "main_region", str(answers["main_region"]))
        key_submit(page)
        assert section_of(page) != "pain_location", page.locator(".error-summary").all_inner_texts()

    walk_steps(page, answers, on_step)
    key_submit(page, "main form button[type=submit]")
    assert page.url.endswith("/screening/result"), page.url
    check_result(page, "likely")


def test_whole_journey_without_javascript(new_page: NewPage) -> None:
    page = new_page(PHONE, java_script_enabled=False)
    pages: list[str] = []
    journey(page, "possible", lambda _, section: pages.append(section), mouse=True)  # Playwright's own input
    check_result(page, "possible")
    assert len(pages) <= 12, pages


def test_resume_in_another_browser(new_page: NewPage) -> None:
    page = new_page(PHONE)
    start(page)
    answers = answers_for("likely")
    walk_steps_until(page, answers, "warning_signs")
    click_and_wait(page, page.locator("button[value=save]"))
    link = page.input_value("#resume-link")
    page.context.close()

    other = new_page(DESKTOP)
    other.goto(link)
    assert section_of(other) == "warning_signs", other.url
    click_and_wait(other, other.get_by_role("link", name="Back"))
    assert other.locator("input[value=neck][name=pain_regions]").is_checked()
    walk_steps(other, answers)
    submit(other)
    check_result(other, "likely")


def walk_steps_until(page: Any, answers: dict[str, object], stop_at: str) -> None:
    class Stop(Exception):
        pass

    def on_step(page: Any, section: str) -> None:
        if section == stop_at:
            raise Stop

    try:
        walk_steps(page, answers, on_step)
    except Stop:
        return
    raise AssertionError(f"never reached {stop_at}")


def test_an_emergency_reaches_its_advice_three_pages_after_consent_and_a_mis_tap_can_be_taken_back(
    new_page: NewPage, server: Server
) -> None:
    """On a phone without JavaScript: three pages of questions, then "Call 911"; the clinic is
    told at that moment; "I chose this by mistake" asks the question again with the rest kept."""
    page = new_page(PHONE, java_script_enabled=False)
    start(page)
    answers = {**answers_for("likely"), "rf_stroke_signs": "yes"}
    pages = []
    for _ in range(3):
        pages.append(section_of(page))
        fill_step(page, answers, mouse=True)
        click_and_wait(page, page.get_by_role("button", name="Continue"))
    assert pages == ["about", "pain_location", "warning_signs"]
    assert page.url.endswith("/screening/result"), page.url
    check_result(page, "emergency")
    reference = page.locator(".reference").inner_text()
    with app_on(server.env["DATABASE_URL"]) as app, app.app_context():
        screening = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        kinds = [
            n.kind for n in db.session.scalars(select(Notification).where(Notification.screening_id == screening.id))
        ]
    assert kinds == ["clinic_urgent_screening"]

    click_and_wait(page, page.get_by_role("button", name="I chose this by mistake"))
    assert section_of(page) == "warning_signs"
    # The sign is asked again: the checklist is unanswered ("None of these" would answer it).
    assert not page.locator("input[name=warning_signs_now]:checked").count()
    answers["rf_stroke_signs"] = "no"
    fill_step(page, answers, mouse=True)
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    assert section_of(page) == "pain_history"  # carried on; the rest of the journey is walked above


NARROW_PHONE = {"width": 320, "height": 640}


def test_a_checklist_on_a_narrow_phone_without_javascript(new_page: NewPage, server: Server) -> None:
    """The warning signs' checklist at 320 px with JavaScript off: "I'm not sure about one of
    these" reveals (CSS only) which ones, and each sign is saved as its own answer."""
    page = new_page(NARROW_PHONE, java_script_enabled=False)
    start(page)
    walk_steps_until(page, answers_for("likely"), "warning_signs")
    which = page.locator("#warning_signs_now__unsure-reveal")
    assert not which.is_visible()
    page.get_by_label("I’m not sure about one of these").check()
    assert which.is_visible()
    plainer = page.locator("#question-rf_calf_swelling_plain")
    assert not plainer.is_visible()
    which.get_by_label("One calf or leg that is painful, swollen and warm").check()
    # Not sure about a sign asks it once more, in plainer words (CSS only).
    assert plainer.is_visible()
    plainer.get_by_label("No", exact=True).check()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW_PHONE["width"]
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    assert section_of(page) == "pain_history", page.locator(".error-summary").all_inner_texts()
    with app_on(server.env["DATABASE_URL"]) as app, app.app_context():
        screening = db.session.scalars(select(Screening).order_by(Screening.id.desc())).first()
        assert screening is not None
        signs = {qid: value for qid, value in screening.answers.items() if qid.startswith("rf_")}
    assert signs == {
        "rf_saddle_numbness": "no",
        "rf_bladder_bowel": "no",
        "rf_sexual_change": "no",
        "rf_stroke_signs": "no",
        "rf_severe_headache": "no",
        "rf_exertion_chest": "no",
        "rf_after_needling": "no",
        "rf_calf_swelling": "unsure",
        "rf_calf_swelling_plain": "no",
        "rf_pregnancy_signs": "no",
    }
    # Back on the page, the answers are shown as the ticks that gave them.
    click_and_wait(page, page.get_by_role("link", name="Back"))
    assert page.get_by_label("I’m not sure about one of these").is_checked()
    assert which.is_visible()
    assert not page.get_by_label("None of these").is_checked()


def test_a_warning_signs_detail_appears_only_after_yes_on_a_narrow_phone_without_javascript(
    new_page: NewPage,
) -> None:
    """Issue 14, pattern 4: a new, severe headache is asked broadly; how it began is asked only
    once it is ticked (CSS only), and a sudden onset is the emergency advice on the next page."""
    page = new_page(NARROW_PHONE, java_script_enabled=False)
    start(page)
    walk_steps_until(page, answers_for("likely"), "warning_signs")
    detail = page.locator("#question-headache_detail")
    assert not detail.is_visible()
    page.locator("input[name=warning_signs_now][value=rf_severe_headache]").check()
    assert detail.is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW_PHONE["width"]
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    # Not answered: refused, with the detail named in the error summary and the tick kept.
    assert section_of(page) == "warning_signs"
    assert "Which describes it best?" in page.locator(".error-summary").inner_text()
    detail.get_by_label("It came on suddenly, reaching its worst within about a minute").check()
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    assert page.locator("h1").inner_text().strip() == HEADLINES["emergency"]


def test_back_after_a_corrected_error_shows_the_page_not_a_resubmission(new_page: NewPage) -> None:
    """A refused page redirects to itself (POST-redirect-GET), so the history holds only GETs:
    Back never lands on a POST's result, which Chromium offers to send again ("Confirm form
    resubmission"; net::ERR_CACHE_MISS when headless)."""
    page = new_page(PHONE)
    start(page)
    answers = answers_for("likely")
    fill_step(page, answers)  # who this is for
    click_and_wait(page, page.locator("button[value=continue]"))
    assert section_of(page) == "pain_location"
    click_and_wait(page, page.locator("button[value=continue]"))  # nothing answered: refused
    assert section_of(page) == "pain_location"
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    fill_step(page, answers)
    click_and_wait(page, page.locator("button[value=continue]"))
    assert section_of(page) != "pain_location"

    response = page.go_back()
    assert response is not None and response.ok  # a page fetched with GET, not an error
    assert section_of(page) == "pain_location"
    assert page.locator("h1").inner_text().strip() == "Age and where it hurts"
    assert not page.title().startswith("Error: ")  # shown once; now the saved answers
    assert page.locator("input[name=age]").input_value() == str(answers["age"])


def test_translations_40_percent_longer_still_fit_a_320_px_phone(new_page: NewPage, pseudo_server: Server) -> None:
    """In the pseudo-translation (every string bracketed and 40% longer, as many languages run),
    no question page and no result page scrolls sideways at 320 px."""
    page = new_page(NARROW_PHONE, base_url=pseudo_server.base, locale="pa")
    with app_on(pseudo_server.env["DATABASE_URL"]) as app:
        _, token = seed_draft(app, answers=answers_for("see_doctor"), language="pa")  # its link opens in Punjabi
    page.goto(f"/resume/{token}")
    wide = {}
    for section in SECTION_IDS:
        page.goto(f"/screening/{section}")
        assert page.locator("html").get_attribute("lang") == "pa" and "⟦" in page.title(), section
        wide[section] = page.evaluate("() => document.documentElement.scrollWidth")
    page.goto("/screening/check")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith("/screening/result"), page.url
    wide["result"] = page.evaluate("() => document.documentElement.scrollWidth")
    assert {name: width for name, width in wide.items() if width > NARROW_PHONE["width"]} == {}
