"""The exported Questionnaire in a second renderer nobody on the project wrote: Medplum's React
`QuestionnaireForm` (npm `@medplum/react`, pinned in tests/node), in Chromium (issue 19).

test_fhir_lforms.py shows what reaches the person in LHC-Forms; this shows what LHC-Forms 40.1.3
does not do: an exclusive choice (`questionnaire-optionExclusive`: "None yet", "Not sure") clears
the others, and another choice clears it. Medplum implements the extension (`applyOptionExclusive`
in @medplum/react-hooks). A response Medplum makes of a whole profile's answers, an exclusive
choice among them, imports with the outcome and answers the app's own pages give.

The page is tests/node/medplum-page.jsx, bundled by esbuild from the installed packages
(`medplum_page`). The test serves it itself and refuses any other request; the Medplum client on
the page has no server and refuses every fetch. Either kind of request fails the test.

Medplum's response differs from IMS Screen's own in two legal ways: `questionnaire` is the
canonical URL without `|version`, and a duration is a Quantity with the unit as typed and no UCUM
code (Medplum shows a free-text unit, not the Questionnaire's unitOption list). The import reads
the unit text when it names one of the units ("weeks"). It reads the missing version as the current
one only when the physiotherapist ticks "It answers the current questionnaire"; without the tick
it refuses the response, naming the box (asserted).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import select

import rules
from app.extensions import db
from app.models import AuditEvent
from rules.questionnaire import CHOICE_TYPES, QuestionType
from tests.support.fhir_tools import Validator, medplum_page
from tests.support.journey import Duration, Journey, profile
from tests.support.renderers import (
    Files,
    OfflinePage,
    assert_filed_as_the_apps_own_pages,
    import_file,
    screenings_and_audit_events,
    served_questionnaire,
)

pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Medplum</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/medplum-page.css">
<script src="/medplum-page.js" defer></script>
</head><body><div id="form"></div></body></html>"""

#: Answers given by events on the rendered controls (CSS selectors), in the questionnaire's order:
#: a click on a choice, or a value put into a field as typing does (through the input's own setter,
#: so React sees the change). A follow-up's control appears once React has updated the form, so a
#: control not there yet is waited for. Each answer is let settle before the next (React allows only
#: so many updates of a form in one go: the form updates itself again after each change).
ANSWER = """async steps => {
  const settle = () => new Promise(resolve => setTimeout(resolve, 0));
  const type = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  for (const [kind, selector, value] of steps) {
    let element = document.querySelector(selector);
    for (let tries = 0; element === null && tries < 50; tries++) {
      await settle();
      element = document.querySelector(selector);
    }
    if (element === null) throw new Error("Medplum shows no control " + selector);
    if (kind === "click") {
      element.click();
    } else {
      type.call(element, value);
      element.dispatchEvent(new Event("input", {bubbles: true}));
    }
    await settle();
  }
}"""


def medplum_files() -> Files:
    """The bundle of tests/node/medplum-page.jsx and its styles (built by esbuild if out of date)."""
    script, styles = medplum_page()
    files = {"/medplum-page.js": (script, "text/javascript"), "/medplum-page.css": (styles, "text/css")}

    def found(path: str) -> tuple[bytes, str] | None:
        if path not in files:
            return None
        file, kind = files[path]
        return file.read_bytes(), kind

    return found


class Form:
    """A Questionnaire in Medplum's QuestionnaireForm (a new form, replacing the one before)."""

    def __init__(self, renderer: OfflinePage, questionnaire: dict[str, Any]) -> None:
        self.renderer = renderer
        self.page = renderer.page
        self.questionnaire = questionnaire
        self.page.evaluate("q => showQuestionnaire(q)", questionnaire)
        self.page.wait_for_selector('[data-testid="questionnaire-form"]')

    def option(self, question_id: str, value: str) -> Any:
        """The control of one choice (Medplum ids it by item and the choice's place in answerOption)."""
        return self.page.locator(f'[id="{option_id(question_id, value)}"]')

    def label(self, question_id: str, value: str) -> Any:
        return self.page.locator(f'label[for="{option_id(question_id, value)}"]')

    def ticked(self, question_id: str) -> Any:
        """The labels of a question's ticked checkboxes."""
        return self.page.locator(
            f'.mantine-Checkbox-root:has(input[id^="{question_id}-option-"]:checked) label[for^="{question_id}-option-"]'
        )

    def answer(self, answers: dict[str, object]) -> None:
        """Give `answers` through the rendered controls; a duration's unit is typed into Medplum's
        unit field (durations in weeks, as the profiles are)."""
        steps: list[list[str]] = []
        for question in rules.questionnaire().applicable(answers):
            value = answers.get(question.id)
            if value is None:
                continue
            if question.type in CHOICE_TYPES:
                for choice in value if isinstance(value, list) else [value]:
                    steps.append(["click", f'[id="{option_id(question.id, str(choice))}"]', ""])
            elif question.type is QuestionType.DURATION:
                amount, unit = (value.amount, value.unit) if isinstance(value, Duration) else (value, "weeks")
                steps.append(["type", f'[data-testid="{question.id}-value"]', str(amount)])
                steps.append(["type", f'[data-testid="{question.id}-unit"]', unit])
            else:
                steps.append(["type", f'[id="{question.id}"]', str(value)])
        self.page.evaluate(ANSWER, steps)

    def submit(self) -> dict[str, Any]:
        """The QuestionnaireResponse Medplum hands its onSubmit callback."""
        self.page.get_by_role("button", name="Submit").click()
        self.page.wait_for_function("() => window.submitted !== null")
        data: dict[str, Any] = json.loads(self.page.evaluate("() => JSON.stringify(window.submitted)"))
        return data

    def close(self) -> None:
        errors = self.renderer.take_errors()
        assert not errors, errors


@pytest.fixture(scope="module")
def renderer(chromium: Any) -> Iterator[OfflinePage]:
    """Medplum's page in Chromium, loaded once for the module (its packages installed by `.ci/run`).
    The Medplum client on the page has no server: it records what it was asked for instead."""
    loaded = OfflinePage(chromium, PAGE, medplum_files(), "() => !!window.showQuestionnaire")
    yield loaded
    fetched = loaded.page.evaluate("() => window.fetched")
    loaded.close()
    assert not fetched, f"the Medplum client asked its (absent) server for: {fetched}"


@pytest.fixture
def form(renderer: OfflinePage, client: FlaskClient) -> Iterator[Form]:
    """Medplum's QuestionnaireForm showing the Questionnaire the app serves at its canonical URL."""
    rendered = Form(renderer, served_questionnaire(client))
    yield rendered
    rendered.close()


def option_id(question_id: str, value: str) -> str:
    return f"{question_id}-option-{rules.questionnaire().questions[question_id].choice_values.index(value)}"


def expect_ticked(form: Form, question_id: str, *values: str) -> None:
    """Exactly `values` are ticked in the question, as the person sees them."""
    labels = {choice.value: choice.label for choice in rules.questionnaire().questions[question_id].choices}
    expect(form.ticked(question_id)).to_have_text([labels[value] for value in values])


def test_multiple_choices_are_checkboxes_and_an_exclusive_choice_clears_the_others(form: Form) -> None:
    questions = rules.questionnaire().questions.values()
    multiple = [q for q in questions if q.type is QuestionType.MULTIPLE]
    exclusive = {q.id: [c.value for c in q.choices if c.exclusive] for q in multiple}
    assert exclusive["treatments_tried"] == ["none"] and exclusive["other_diagnoses"] == ["none", "unsure"]
    # The page's checkboxes: every choice of the multiple-choice questions shown from the start, with
    # its label (the three follow-ups, shown once an earlier answer asks for them, are not there yet).
    checkboxes = form.page.evaluate(
        """() => Array.from(document.querySelectorAll("input[type=checkbox]"),
          box => [box.id, document.querySelector(`label[for="${box.id}"]`).textContent])"""
    )
    assert checkboxes == [
        [option_id(q.id, choice.value), choice.label] for q in multiple if q.enable_when is None for choice in q.choices
    ]

    # "None yet" clears "Acupuncture", and its follow-up goes with it; "Massage" clears "None yet".
    form.option("treatments_tried", "acupuncture").click()
    expect_ticked(form, "treatments_tried", "acupuncture")
    expect(form.option("needling_response", "helped")).to_be_attached()
    form.option("treatments_tried", "none").click()
    expect_ticked(form, "treatments_tried", "none")
    expect(form.option("needling_response", "helped")).not_to_be_attached()
    form.option("treatments_tried", "massage").click()
    expect_ticked(form, "treatments_tried", "massage")
    form.option("treatments_tried", "chiropractic").click()
    expect_ticked(form, "treatments_tried", "massage", "chiropractic")

    # Two exclusive choices: each clears the other, and the other choices.
    for value, ticked in (
        ("osteoarthritis", "osteoarthritis"),
        ("none", "none"),
        ("unsure", "unsure"),
        ("healed_fracture", "healed_fracture"),
        ("none", "none"),
    ):
        form.option("other_diagnoses", value).click()
        expect_ticked(form, "other_diagnoses", ticked)


def refusal(page: str) -> list[str]:
    """The problems a refused import lists."""
    listed = page.split('id="response-error"', 1)[1].split("</ul>", 1)[0]
    return [html.unescape(problem) for problem in re.findall(r"<li>(.*?)</li>", listed, re.DOTALL)]


def test_a_response_made_in_medplum_imports_with_the_outcome_of_the_apps_own_pages(
    form: Form, app: Flask, client: FlaskClient, physio_client: FlaskClient, fhir_validator: Validator
) -> None:
    """Neck pain, no treatment tried yet ("None yet", exclusive; its two follow-ups not asked) and
    no other diagnosis ("None of these", exclusive): the same answers, outcome and fired rules from
    Medplum's response, as it is, as from the app's own pages, once the physiotherapist confirms it
    answers the current questionnaire."""
    answers = profile("ideal_neck", treatments_tried=["none"], treatment_length=None, treatment_effect=None)
    # Through the app's own pages.
    journey = Journey(client)
    journey.walk(answers)
    assert journey.submit().status_code in (302, 303)
    # Through Medplum: valid FHIR, stating no version and its duration's unit as text only.
    form.answer(answers)
    response = form.submit()
    fhir_validator.assert_valid(response)
    assert response["status"] == "completed" and response["questionnaire"] == form.questionnaire["url"]
    durations = [
        a for g in response["item"] for i in g.get("item", []) for a in i.get("answer", []) if "valueQuantity" in a
    ]
    assert durations == [{"valueQuantity": {"value": answers["pain_duration_weeks"], "unit": "weeks"}}]
    # Without the physiotherapist's word on the version, it is refused for that alone, naming the box.
    before = screenings_and_audit_events(app)
    refused = import_file(physio_client, response)
    assert refused.status_code == 400
    (problem,) = refusal(refused.get_data(as_text=True))
    assert problem.startswith("The response does not say which version of the questionnaire it answers")
    assert "tick 'It answers the current questionnaire' if you know it does" in problem
    assert screenings_and_audit_events(app) == before
    # With it, Medplum's own response files as the app's own pages did.
    imported = import_file(physio_client, response, current_version=True)
    reference = assert_filed_as_the_apps_own_pages(app, imported, answers)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.screening_reference == reference)).one()
        assert (event.action, event.detail) == ("import_fhir", {"via": "portal", "version_from": "confirmed by staff"})
