"""The exported Questionnaire in a form renderer nobody on the project wrote: NLM's LHC-Forms (npm
`lforms`, pinned in tests/node), the reference FHIR SDC renderer, in Chromium (issue 19).

The test serves LHC-Forms' files itself, from tests/node/node_modules (Playwright answers every
request of the page; any other address is refused and fails the test), and gives it the
Questionnaire the app serves at its canonical URL. It checks that what the Questionnaire carries
reaches the person filling it in (units, help, ranges, the body map's 24 checkboxes), and that a
response LHC-Forms produces imports into the app with the outcome and answers the app's own pages
give for the same answers.

LHC-Forms 40.1.3 does not implement two extensions the export carries (its sdc-support.md lists
them as not yet supported): `questionnaire-optionExclusive` ("None yet" stays ticked beside
"Acupuncture") and SDC's `minQuantity` (a duration of -3 days is not flagged). For both, the
import is the safety net: it refuses the response, naming the problem, and stores nothing. A later
LHC-Forms that implements them fails the assertions saying so, to be changed to the better ones.
That exclusive choices do clear the others in a renderer that implements the extension is shown
in Medplum's QuestionnaireForm, by test_fhir_medplum.py.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import select

import rules
from app import fhir
from app.extensions import db
from app.models import AuditEvent
from rules.questionnaire import CHOICE_TYPES, QuestionType
from tests.support.fhir_tools import LFORMS, Validator, node_tools_or_skip
from tests.support.journey import Journey, profile
from tests.support.renderers import (
    OfflinePage,
    assert_filed_as_the_apps_own_pages,
    import_file,
    screenings_and_audit_events,
    served_questionnaire,
)

pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LHC-Forms</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/runtime.js" type="module"></script>
<script src="/lforms/webcomponent/polyfills.js" type="module"></script>
<script src="/lforms/webcomponent/main.js" type="module"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js" defer></script>
</head><body><div id="form"></div></body></html>"""

#: Answers given by events on the rendered controls, in the questionnaire's order: a click on a
#: choice's label, or a number typed into its field. A follow-up question's control appears once
#: LHC-Forms has updated the form (after the script yields), so a control not there yet is waited for.
ANSWER = """async steps => {
  const settle = () => new Promise(resolve => setTimeout(resolve, 0));
  for (const [kind, id, value] of steps) {
    let element = document.getElementById(id);
    for (let tries = 0; element === null && tries < 50; tries++) {
      await settle();
      element = document.getElementById(id);
    }
    if (element === null) throw new Error("LHC-Forms shows no control " + id);
    if (kind === "click") {
      element.click();
    } else {
      element.focus();
      element.value = value;
      element.dispatchEvent(new Event("input", {bubbles: true}));
      element.dispatchEvent(new Event("change", {bubbles: true}));
      element.blur();
    }
  }
  await settle();
}"""

RESPONSE = """() => JSON.stringify(
  LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", document.getElementById("form")))"""


def lforms_file(path: str) -> tuple[bytes, str] | None:
    """LHC-Forms' own files, at /lforms/ (dist/lforms of the npm package)."""
    file = LFORMS / path.removeprefix("/lforms/")
    if not path.startswith("/lforms/") or not file.is_file():
        return None
    return file.read_bytes(), mimetypes.guess_type(file.name)[0] or "application/octet-stream"


class Form:
    """A Questionnaire rendered by LHC-Forms (afresh, replacing the one before)."""

    def __init__(self, renderer: OfflinePage, questionnaire: dict[str, Any]) -> None:
        self.renderer = renderer
        self.page = renderer.page
        self.questionnaire = questionnaire
        self.where = fhir.Publication()
        failure = self.page.evaluate(
            """async q => {
              try { await LForms.Util.addFormToPage(q, "form"); return null } catch (e) { return String(e) }
            }""",
            questionnaire,
        )
        assert failure is None, failure
        self.page.wait_for_selector("#form input", state="attached")

    def option(self, question_id: str, value: str) -> Any:
        """The label of one choice (LHC-Forms ids it by item, code system and code)."""
        return self.page.locator(f'[id="{question_id}/1/1|{self.where.choice_system(question_id)}|{value}"]')

    def field(self, question_id: str, prefix: str = "") -> Any:
        return self.page.locator(f'[id="{prefix}{question_id}/1/1"]')

    def answer(self, answers: dict[str, object]) -> None:
        """Give `answers` through the rendered controls (durations in weeks, as the profiles are)."""
        steps: list[list[str | None]] = []
        for question in rules.questionnaire().applicable(answers):
            value = answers.get(question.id)
            if value is None:
                continue
            if question.type in CHOICE_TYPES:
                for choice in value if isinstance(value, list) else [value]:
                    steps.append(["click", f"{question.id}/1/1|{self.where.choice_system(question.id)}|{choice}", None])
            else:
                steps.append(["type", f"{question.id}/1/1", str(value)])
        self.page.evaluate(ANSWER, steps)
        for question in rules.questionnaire().applicable(answers):
            if question.type is QuestionType.DURATION and question.id in answers:
                self.choose_unit(question.id, "weeks")

    def choose_unit(self, question_id: str, unit: str) -> None:
        """Type a unit into LHC-Forms' unit field (a list to choose from) and take it."""
        field = self.field(question_id, prefix="unit_")
        field.click()
        field.press("Control+a")
        field.press_sequentially(unit)
        field.press("Enter")
        expect(field).to_have_value(unit)

    def response(self) -> dict[str, Any]:
        """The QuestionnaireResponse LHC-Forms makes of what was entered."""
        data: dict[str, Any] = json.loads(self.page.evaluate(RESPONSE))
        return data

    def validity_errors(self) -> list[str]:
        found: list[str] | None = self.page.evaluate("() => LForms.Util.checkValidity(document.getElementById('form'))")
        return found or []

    def close(self) -> None:
        errors = self.renderer.take_errors()
        assert not errors, errors


@pytest.fixture(scope="module")
def renderer(chromium: Any) -> Iterator[OfflinePage]:
    """LHC-Forms in Chromium, loaded once for the module (its files installed by `.ci/run`)."""
    node_tools_or_skip("render the Questionnaire in LHC-Forms")
    loaded = OfflinePage(chromium, PAGE, lforms_file, "() => !!(window.LForms && LForms.Util && LForms.FHIR)")
    yield loaded
    loaded.close()


@pytest.fixture
def form(renderer: OfflinePage, client: FlaskClient) -> Iterator[Form]:
    """LHC-Forms showing the Questionnaire the app serves at its canonical URL."""
    rendered = Form(renderer, served_questionnaire(client))
    yield rendered
    rendered.close()


def help_text(form: Form, question_id: str) -> str:
    """What LHC-Forms shows when its help button beside the question is pressed."""
    form.page.locator(f'[aria-controls="help-content-{question_id}/1/1"]').click()
    popover = form.page.locator(".lhc-popover-help").last
    expect(popover).to_be_visible()
    text: str = popover.inner_text()
    form.page.keyboard.press("Escape")
    return text


def test_units_help_and_every_area_of_the_body_map_are_shown(form: Form) -> None:
    questions = rules.questionnaire().questions
    # Units: years beside the age; a duration in days, weeks, months or years.
    expect(form.field("age", prefix="unit_")).to_have_value("years")
    form.choose_unit("pain_duration_weeks", "months")
    # Help: each hint behind the question's help button, and a scale's end labels.
    assert questions["age"].hint in help_text(form, "age")
    assert "0 = No pain, 10 = Worst pain imaginable" in help_text(form, "pain_now")
    # Page introductions are shown as text.
    section = next(s for s in rules.questionnaire().sections if s.intro)
    expect(form.page.get_by_text(section.intro or "", exact=True)).to_be_visible()
    # The body map: every area as a checkbox, not a searchable list.
    body_map = next(q for q in questions.values() if q.widget is not None)
    assert len(body_map.choices) == 24
    for choice in body_map.choices:
        option = form.option(body_map.id, choice.value)
        expect(option.locator("input[type=checkbox]")).to_be_attached()
        expect(option).to_have_text(choice.label)
    # Single choices as radio buttons.
    expect(form.option("respondent", "self").locator("input[type=radio]")).to_be_attached()


def test_out_of_range_values_are_flagged_and_what_lhc_forms_lets_through_the_import_refuses(
    form: Form, app: Flask, physio_client: FlaskClient
) -> None:
    """Age 150, pain 11 and a needle-fear score of 42 are flagged; an exclusive choice beside
    another, and a duration of -3, which LHC-Forms 40.1.3 does not check, the import refuses."""
    for question_id, value in (("age", "150"), ("pain_now", "11"), ("needle_fear", "42")):
        form.field(question_id).fill(value)
        form.field(question_id).press("Tab")
    flagged = form.validity_errors()
    for question_id, maximum in (("age", 120), ("pain_now", 10), ("needle_fear", 10)):
        text = rules.questionnaire().questions[question_id].text
        assert f"{text} must be a value less than or equal to {maximum}." in flagged
    expect(form.page.locator(".validation-error", has_text="must be a value less than or equal to 120")).to_be_visible()

    # "None yet" is declared exclusive, but LHC-Forms 40.1.3 keeps "Acupuncture" ticked beside it.
    treatments = next(i for g in form.questionnaire["item"] for i in g["item"] if i["linkId"] == "treatments_tried")
    exclusive = [o["valueCoding"]["code"] for o in treatments["answerOption"] if o.get("extension")]
    assert exclusive == ["none"]
    for value in ("acupuncture", "none"):
        form.option("treatments_tried", value).click()
    expect(form.option("treatments_tried", "acupuncture")).to_have_class(re.compile("wrapper-checked"))
    expect(form.option("treatments_tried", "none")).to_have_class(re.compile("wrapper-checked"))
    form.field("pain_duration_weeks").fill("-3")
    form.field("pain_duration_weeks").press("Tab")

    before = screenings_and_audit_events(app)
    refused = import_file(physio_client, form.response())
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "150 is outside 0 to 120" in page and "11 is outside 0 to 10" in page and "42 is outside 0 to 10" in page
    assert "&#39;none&#39; cannot be combined with other choices" in page
    assert "expects an amount of at least 1, got -3" in page
    assert screenings_and_audit_events(app) == before


def test_a_response_made_in_lhc_forms_imports_with_the_outcome_of_the_apps_own_pages(
    form: Form, app: Flask, client: FlaskClient, physio_client: FlaskClient, fhir_validator: Validator
) -> None:
    """A parent answering for a teenager (clinician_review: the consent check): the same answers,
    outcome and fired rules from LHC-Forms' response as from the app's own pages."""
    answers = profile("proxy_teen")
    # Through the app's own pages.
    journey = Journey(client)
    journey.walk(answers)
    assert journey.submit().status_code in (302, 303)
    # Through LHC-Forms, then the staff import.
    form.answer(answers)
    response = form.response()
    fhir_validator.assert_valid(response)
    imported = import_file(physio_client, response)
    reference = assert_filed_as_the_apps_own_pages(app, imported, answers)
    with app.app_context():
        assert db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.screening_reference == reference)
        ).all() == ["import_fhir"]
