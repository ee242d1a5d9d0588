"""The patient journey in a real browser (Chromium): every outcome, phone and desktop, keyboard
only, JavaScript off, resuming in another browser, and in the patient's own language."""

import functools
import re
from collections.abc import Callable
from typing import Any

import pytest
from babel.support import NullTranslations, Translations
from sqlalchemy import select

import rules
from app.extensions import db
from app.i18n import BY_TAG, ENGLISH, LANGUAGES
from app.models import Notification, Screening
from tests.conftest import app_on
from tests.support.booking_pages import BOOKABLE
from tests.support.browser import (
    DESKTOP,
    OUTCOMES,
    PHONE,
    ROOT,
    Server,
    answers_for,
    change_anchor,
    click_and_wait,
    fill_step,
    key_check,
    key_radio,
    key_submit,
    open_answered_draft,
    section_of,
    send_request,
    start,
    submit,
    tab_to,
    walk_steps,
)
from tests.support.journey import SECTION_IDS, answers_before, seed_draft

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


# ---- The patient's language (issue 17) -----------------------------------------------------------

#: Every language besides English; the default test server offers each (their catalogues are compiled).
OTHER_LANGUAGES = [language.tag for language in LANGUAGES if language is not ENGLISH]
#: The English <h1> of the pages that are not a question page or a result.
LANDING = "Could IMS help your muscle pain?"
CONSENT = "Before you start"
CHECK = "Check your answers"
REQUEST = "Ask us to contact you"
REQUEST_SENT = "Request sent"
#: The emergency page's interpreter sentence, as the catalogue holds it.
INTERPRETER = (
    'When you call 911, or HealthLink BC at <a href="tel:811">8-1-1</a> for advice, say the name of your '
    "language to ask for an interpreter."
)


@functools.cache
def catalogue(tag: str) -> NullTranslations:
    """The compiled catalogue of the language `tag`, as the server reads it (English: none)."""
    if tag == ENGLISH.tag:
        return NullTranslations()
    return Translations.load(str(ROOT / "translations"), [BY_TAG[tag].locale])


def title(section_id: str) -> str:
    """A question page's English <h1>."""
    section = rules.questionnaire().section(section_id)
    assert section is not None, section_id
    return section.title


def words(text: str) -> str:
    return " ".join(text.split())


#: What says which language a page is in, read in one call: its <html> lang and dir, its <h1>, and
#: whether it scrolls sideways.
LANGUAGE_OF_THE_PAGE = """() => ({
  lang: document.documentElement.getAttribute('lang'),
  dir: document.documentElement.getAttribute('dir'),
  h1: document.querySelector('h1').innerText.split(/\\s+/).join(' ').trim(),
  sideways: document.documentElement.scrollWidth > window.innerWidth,
})"""


def assert_in_language(page: Any, tag: str, english_h1: str) -> None:
    """The page is in the language `tag`: `<html lang>` and `dir`, its <h1> the catalogue's
    translation of the English one (so not English), and it does not scroll sideways."""
    found = page.evaluate(LANGUAGE_OF_THE_PAGE)
    expected = {
        "lang": tag,
        "dir": "rtl" if BY_TAG[tag].direction == "rtl" else None,
        "h1": catalogue(tag).gettext(english_h1),
        "sideways": False,
    }
    assert found == expected, page.url
    assert tag == ENGLISH.tag or found["h1"] != english_h1, (page.url, "in English")


#: What on a right-to-left page does not start on the right: controls left of their labels, a back
#: link on the left, an error summary's bullets and a question's error bar on the left.
LEFT_TO_RIGHT_LEFTOVERS = """() => {
  const box = el => el.getBoundingClientRect();
  const centre = el => (box(el).left + box(el).right) / 2;
  const problems = [];
  const controls = 'main input[type=radio]:not(.scale__input), main input[type=checkbox]';  // a scale's number is under it
  for (const input of document.querySelectorAll(controls)) {
    if (!input.checkVisibility() || !input.labels.length) continue;
    if (centre(input) < centre(input.labels[0])) problems.push(`${input.name}=${input.value} left of its label`);
  }
  const main = box(document.querySelector('main'));
  for (const back of document.querySelectorAll('.back-link')) {
    if (centre(back) < (main.left + main.right) / 2) problems.push('the back link is on the left');
  }
  for (const list of document.querySelectorAll('.error-summary__list')) {
    const style = getComputedStyle(list);
    if (parseFloat(style.paddingLeft) > parseFloat(style.paddingRight)) problems.push('error summary indented on the left');
  }
  for (const question of document.querySelectorAll('.question--error')) {
    if (getComputedStyle(question).borderRightWidth === '0px') problems.push(`${question.id}'s error bar is not on the right`);
  }
  return problems;
}"""

#: The body map's picture, as the viewer sees it: the views left to right by name, and in each
#: view the sides' labels and the shoulders left to right.
BODY_MAP_AS_SEEN = """() => {
  const x = el => el.getBoundingClientRect().left;
  const leftToRight = els => [...els].sort((a, b) => x(a) - x(b));
  return leftToRight(document.querySelectorAll('.body-map__view')).map(view => ({
    name: view.querySelector('.body-map__view-name').textContent.trim(),
    sides: leftToRight(view.querySelectorAll('.body-map__side')).map(text => text.textContent.trim()),
    shoulders: leftToRight(view.querySelectorAll('[data-region^=shoulder_]')).map(path => path.dataset.region),
  }));
}"""


def body_map_as_seen_in(tag: str) -> list[dict[str, object]]:
    """What an English page shows (front on the left, the person's right on the viewer's left in
    front), in the words of the language `tag`: a right-to-left page must show the same picture."""
    text = catalogue(tag)
    return [
        {
            "name": text.pgettext("view of the body", "Front"),
            "sides": [text.gettext("Right"), text.gettext("Left")],
            "shoulders": ["shoulder_right", "shoulder_left"],
        },
        {
            "name": text.pgettext("view of the body", "Back"),
            "sides": [text.gettext("Left"), text.gettext("Right")],
            "shoulders": ["shoulder_left", "shoulder_right"],
        },
    ]


def check_right_to_left(page: Any, section: str, screenshot: Any, answers: dict[str, object], *, mouse: bool) -> None:
    """On a Farsi question page: everything starts on the right, but the body map's picture
    is the English one (the person's left stays their left), and the 0 to 10 scale runs right to left."""
    if section == "about":  # refused once, to see the error summary and the question's error bar
        click_and_wait(page, page.locator("button[value=continue]"))
        assert page.locator(".error-summary").count() == 1 and page.locator(".question--error").count() > 0
    assert page.locator(".back-link").count() == 1, section
    assert page.evaluate(LEFT_TO_RIGHT_LEFTOVERS) == [], section
    if section == "pain_location":
        assert page.evaluate(BODY_MAP_AS_SEEN) == body_map_as_seen_in("fa")
        fill_step(page, answers, mouse=mouse)
        page.evaluate("() => document.querySelector('.body-map').scrollIntoView()")
        screenshot(page, "body-map-fa")
    if section == "pain_severity":
        xs = page.locator("input[name=pain_now]").evaluate_all("els => els.map(el => el.getBoundingClientRect().left)")
        assert xs == sorted(xs, reverse=True) and len(xs) == 11, xs  # 0 on the right


@pytest.mark.parametrize(
    ("tag", "outcome", "javascript"),
    [
        pytest.param("pa", "likely", True, id="pa"),
        pytest.param("fa", "possible", False, id="fa-rtl-without-javascript"),
    ],
)
def test_a_whole_journey_in_the_language_chosen_on_the_landing_page_on_a_phone(
    new_page: NewPage, server: Server, screenshot: Any, tag: str, outcome: str, javascript: bool
) -> None:
    """Chosen with the switcher's link, through consent, every question page, the check page and
    the result to "request sent", every page in that language (lang, dir, its <h1> translated)
    and none scrolling sideways; a Farsi page reads right to left, its body map as in English.

    Without JavaScript, every answer is given through Playwright's own clicks and typing (not a
    script setting the controls): the whole journey works with JavaScript off, CSS alone
    revealing each follow-up question."""
    answers = answers_for(outcome)
    page = new_page(PHONE, locale="en-CA", java_script_enabled=javascript)
    page.goto("/")
    assert_in_language(page, ENGLISH.tag, LANDING)
    click_and_wait(page, page.locator(f'nav.language-switcher a[hreflang="{tag}"]'))
    assert_in_language(page, tag, LANDING)
    click_and_wait(page, page.locator("main a.button--start"))
    assert_in_language(page, tag, CONSENT)
    page.check("#consent")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    sections: list[str] = []

    def on_step(page: Any, section: str) -> None:
        sections.append(section)
        assert_in_language(page, tag, title(section))
        if BY_TAG[tag].direction == "rtl":
            check_right_to_left(page, section, screenshot, answers, mouse=not javascript)

    walk_steps(page, answers, on_step, mouse=not javascript)
    assert len(sections) == 11, sections
    assert_in_language(page, tag, CHECK)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith("/screening/result"), page.url
    assert_in_language(page, tag, HEADLINES[outcome])
    click_and_wait(page, page.locator("main a[href$='/screening/request-assessment']"))
    assert_in_language(page, tag, REQUEST)
    send_request(page)
    assert_in_language(page, tag, REQUEST_SENT)


@pytest.mark.parametrize("tag", OTHER_LANGUAGES)
def test_an_emergency_result_in_each_language(new_page: NewPage, server: Server, screenshot: Any, tag: str) -> None:
    """A draft last worked on in `tag` opens in it from its resume link; its emergency result says
    911 first and offers HealthLink BC's interpreters (8-1-1) in that language (also the README's
    landing and result screenshots per language)."""
    page = new_page(PHONE)
    with app_on(server.env["DATABASE_URL"]) as app:
        _, token = seed_draft(app, answers=answers_for("emergency"), language=tag)
    page.goto(f"/resume/{token}")
    assert_in_language(page, tag, CHECK)
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith("/screening/result"), page.url
    assert_in_language(page, tag, HEADLINES["emergency"])
    assert page.locator('.panel--emergency a[href="tel:911"]').inner_text() == "911"
    assert words(page.locator("main").inner_text()).index("911") < 200, "Call 911 is not the first thing on the page"
    interpreter = page.locator('main p:has(a[href="tel:811"])')
    assert "8-1-1" in interpreter.locator("a").inner_text()
    assert words(interpreter.inner_text()) == words(re.sub("<[^>]+>", "", catalogue(tag).gettext(INTERPRETER)))
    screenshot(page, f"result-{tag}")
    page.goto("/")
    assert_in_language(page, tag, LANDING)
    screenshot(page, f"landing-{tag}")


def test_switching_language_mid_journey_keeps_every_answer(new_page: NewPage, server: Server) -> None:
    """Two pages answered in Punjabi, then English from the switcher: going back shows every
    answer as given, the check page lists them in English, and each answer keeps the language it
    was given in."""
    page = new_page(PHONE, locale="pa")
    start_in(page, "pa")
    answers = answers_for("likely")
    for _ in ("about", "pain_location"):
        fill_step(page, answers)
        click_and_wait(page, page.locator("button[value=continue]"))
    assert section_of(page) == "warning_signs"
    click_and_wait(page, page.locator(f'nav.language-switcher a[hreflang="{ENGLISH.tag}"]'))
    assert section_of(page) == "warning_signs"
    assert_in_language(page, ENGLISH.tag, title("warning_signs"))

    click_and_wait(page, page.locator(".back-link"))
    assert section_of(page) == "pain_location"
    assert_in_language(page, ENGLISH.tag, title("pain_location"))
    assert page.input_value("input[name=age]") == str(answers["age"])
    assert sorted(ticked(page, "pain_regions")) == sorted(answers["pain_regions"])  # type: ignore[call-overload]
    assert ticked(page, "main_region") == [answers["main_region"]]
    click_and_wait(page, page.locator(".back-link"))
    assert section_of(page) == "about"
    assert ticked(page, "respondent") == [answers["respondent"]]

    page.goto("/screening/check")
    assert_in_language(page, ENGLISH.tag, CHECK)
    given = answers_before("warning_signs", answers)
    regions_given: list[str] = list(given["pain_regions"])  # type: ignore[call-overload]
    questions = rules.questionnaire().questions
    regions = {choice.value: choice.label for choice in questions["pain_regions"].choices}
    assert words(check_row(page, "age").locator(".summary-list__value").inner_text()) == f"{answers['age']} years"
    listed = words(check_row(page, "pain_regions").locator(".summary-list__value").inner_text())
    assert set(listed.split("; ")) == {regions[value] for value in regions_given}
    main_regions = {choice.value: choice.label for choice in questions["main_region"].choices}
    main_region = words(check_row(page, "main_region").locator(".summary-list__value").inner_text())
    assert main_region == main_regions[str(answers["main_region"])]
    with app_on(server.env["DATABASE_URL"]) as app, app.app_context():
        screening = db.session.scalars(select(Screening).order_by(Screening.id.desc())).first()
        assert screening is not None
        stored, languages = screening.answers, screening.answer_languages
    assert {**stored, "pain_regions": set(stored["pain_regions"])} == {**given, "pain_regions": set(regions_given)}
    assert languages == dict.fromkeys(given, "pa")


def start_in(page: Any, tag: str) -> None:
    """From the landing page in the browser's language, consent, on to the first question page."""
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == tag
    click_and_wait(page, page.locator("main a.button--start"))
    page.check("#consent")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert section_of(page) == "about", page.url


def ticked(page: Any, name: str) -> list[str]:
    values: list[str] = page.locator(f"main input[name={name}]:checked").evaluate_all("els => els.map(el => el.value)")
    return values


def check_row(page: Any, question_id: str) -> Any:
    return page.locator(f'.summary-list__row:has(a[href$="#question-{question_id}"])')
