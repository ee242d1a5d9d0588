"""What a form renderer needs travels with the Questionnaire (issue 19), the definitions are served
at their canonical URLs, and every exported resource passes an independent validator (FHIR.js).

Units (UCUM), ranges, a scale's end labels, exclusive choices, radio buttons and checkboxes, each
hint and page introduction, the wording for someone else; literal canonical URLs under
PUBLIC_BASE_URL with date and publisher, and the Questionnaire and code systems served there,
publicly; one identifier system per kind of resource; a readable outcome; a proxy's response in
their words with a RelatedPerson. tests/test_fhir_lforms.py draws the Questionnaire in LHC-Forms.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhirpathpy import evaluate as evaluate_fhirpath
from fhirpathpy.models import models as fhirpath_models
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import rules
from app import fhir, i18n
from app.extensions import db
from app.models import AuditEvent
from rules.datafile import load_yaml
from rules.questionnaire import QuestionType
from tests.conftest import app_on
from tests.support.fhir_tools import Validator
from tests.support.journey import profile
from tests.test_fhir import TRANSLATIONS

pytestmark = pytest.mark.one_backend

PROFILES = load_yaml(Path(rules.__file__).parent / "cases" / "profiles.yaml")
VERSION = rules.ruleset().ruleset_version
CLINIC = fhir.Publication("https://screening.clinic.example", "Kitsilano Physiotherapy")


def every_language() -> tuple[fhir.Translation, ...]:
    return tuple(fhir.Translation.from_catalogue(TRANSLATIONS, language) for language in i18n.LANGUAGES[1:])


@pytest.fixture(scope="module")
def questionnaire() -> dict[str, Any]:
    """The Questionnaire as a clinic publishes it, with every shipped language."""
    return fhir.questionnaire_resource(rules.questionnaire(), VERSION, every_language(), CLINIC)


def items(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire or response, at any depth."""
    for item in resource.get("item", []):
        yield item
        yield from items(item)


def by_link_id(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in items(resource)}


def extensions(element: dict[str, Any], url: str) -> list[Any]:
    """The values of `element`'s extensions `url`."""
    return [
        next(value for key, value in extension.items() if key.startswith("value"))
        for extension in element.get("extension", [])
        if extension["url"] == url
    ]


def control(item: dict[str, Any]) -> str | None:
    found = extensions(item, fhir.ITEM_CONTROL)
    return found[0]["coding"][0]["code"] if found else None


def test_the_questionnaire_has_a_literal_canonical_url_a_date_and_a_publisher(questionnaire: dict[str, Any]) -> None:
    assert questionnaire["url"] == "https://screening.clinic.example/fhir/Questionnaire/ims-screen"
    assert questionnaire["version"] == VERSION
    assert questionnaire["date"] == rules.ruleset().changelog[0].date
    assert questionnaire["publisher"] == "Kitsilano Physiotherapy"
    assert "urn:" not in json.dumps(
        {key: value for key, value in questionnaire.items() if key != "extension"}  # the review extension's url
    )


def test_numbers_carry_their_ucum_unit_and_range(questionnaire: dict[str, Any]) -> None:
    found = by_link_id(questionnaire)
    for question in rules.questionnaire():
        item = found[question.id]
        if question.type in (QuestionType.INTEGER, QuestionType.SCALE):
            assert extensions(item, fhir.MIN_VALUE) == [question.minimum]
            assert extensions(item, fhir.MAX_VALUE) == [question.maximum]
        else:
            assert not extensions(item, fhir.MIN_VALUE) and not extensions(item, fhir.MAX_VALUE)
        assert "code" not in item  # the concept's code, never the unit
    (unit,) = extensions(found["age"], fhir.UNIT)
    assert (unit["system"], unit["code"], unit["display"]) == (fhir.UCUM, "a", "years")
    duration = found["pain_duration_weeks"]
    assert [u["code"] for u in extensions(duration, fhir.UNIT_OPTION)] == ["d", "wk", "mo", "a"]
    assert extensions(duration, fhir.MIN_QUANTITY) == [{"value": 1, "unit": "days", "system": fhir.UCUM, "code": "d"}]
    assert extensions(duration, fhir.MAX_QUANTITY) == [
        {"value": 5200, "unit": "weeks", "system": fhir.UCUM, "code": "wk"}
    ]


def test_a_unit_without_a_ucum_code_is_refused_rather_than_exported_wrong() -> None:
    with pytest.raises(ValueError, match="no UCUM code for the unit 'stone'"):
        fhir.ucum("stone")


def test_scales_carry_their_end_labels_translated(questionnaire: dict[str, Any]) -> None:
    found = by_link_id(questionnaire)
    scale = found["pain_now"]
    assert extensions(scale, fhir.ENTRY_FORMAT) == ["0 = No pain, 10 = Worst pain imaginable"]
    (help_item,) = scale["item"]
    assert help_item["text"] == "0 = No pain, 10 = Worst pain imaginable" and control(help_item) == "help"
    translated = {
        e["extension"][0]["valueCode"]: e["extension"][1]["valueString"] for e in help_item["_text"]["extension"]
    }
    assert set(translated) == {language.tag for language in i18n.LANGUAGES[1:]}
    assert all(text.startswith("0 = ") and ", 10 = " in text for text in translated.values())


def test_choices_are_radio_buttons_or_checkboxes_and_exclusive_choices_say_so(questionnaire: dict[str, Any]) -> None:
    found = by_link_id(questionnaire)
    for question in rules.questionnaire():
        item = found[question.id]
        if not question.choices:
            assert control(item) is None
            continue
        assert control(item) == ("check-box" if question.type is QuestionType.MULTIPLE else "radio-button")
        exclusive = [
            o["valueCoding"]["code"] for o in item["answerOption"] if extensions(o, fhir.OPTION_EXCLUSIVE) == [True]
        ]
        assert exclusive == [c.value for c in question.choices if c.exclusive], question.id
    body_map = next(q for q in rules.questionnaire() if q.widget is not None)
    assert len(found[body_map.id]["answerOption"]) == 24 and control(found[body_map.id]) == "check-box"


def test_every_hint_and_page_introduction_is_a_display_item(questionnaire: dict[str, Any]) -> None:
    found = by_link_id(questionnaire)
    for question in rules.questionnaire():
        children = found[question.id].get("item", [])
        if question.hint:
            (help_item,) = children
            assert help_item["type"] == "display" and control(help_item) == "help"
            assert help_item["text"].startswith(question.hint)
        elif not question.scale_labels:
            assert not children
    hints = sum(1 for question in rules.questionnaire() if question.hint)
    assert sum(1 for item in items(questionnaire) if control(item) == "help") == hints + sum(
        1 for q in rules.questionnaire() if q.scale_labels and not q.hint
    )
    for section, group in zip(rules.questionnaire().sections, questionnaire["item"], strict=True):
        first = group["item"][0]
        if section.intro:
            assert (first["type"], first["text"]) == ("display", section.intro)
        else:
            assert first["type"] != "display"


def proxy_response(respondent: str) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "in-progress",
        "item": [
            {"linkId": "about", "item": [{"linkId": "respondent", "answer": [{"valueCoding": {"code": respondent}}]}]}
        ],
    }


def test_the_words_for_someone_else_follow_the_answer_as_sdc_software_reads_them(questionnaire: dict[str, Any]) -> None:
    """Each text worded otherwise for someone else carries a cqf-expression choosing those words,
    evaluated here by fhirpathpy on a response being filled in for oneself and for someone else."""
    found = by_link_id(questionnaire)
    wordings: dict[str, tuple[str, str]] = {}
    for question in rules.questionnaire():
        wordings[question.id] = (question.text, question.text_proxy)
        if question.hint:
            wordings[f"{question.id}.help"] = (question.hint, question.hint_proxy or question.hint)
    for section in rules.questionnaire().sections:
        if section.intro:
            wordings[f"{section.id}.intro"] = (section.intro, section.intro_for(for_someone_else=True) or section.intro)
    dynamic = 0
    for link_id, (own, for_another) in wordings.items():
        expressions = extensions(found[link_id].get("_text", {}), fhir.CQF_EXPRESSION)
        if own == for_another:
            assert not expressions, link_id
            continue
        (expression,) = expressions
        dynamic += 1
        for respondent, expected in (("self", own), ("proxy", for_another)):
            response = proxy_response(respondent)
            got = evaluate_fhirpath(response, expression["expression"], {"resource": response}, fhirpath_models["r4"])
            assert got == [expected], (link_id, respondent)
    assert dynamic >= 60  # 62 questions, a hint and two introductions are worded for someone else


def test_every_code_system_is_served_at_its_url_and_holds_each_choice(
    app: Flask, client: FlaskClient, fhir_validator: Validator
) -> None:
    served = json.loads(client.get("/fhir/Questionnaire/ims-screen").get_data(as_text=True))
    base = app.config["PUBLIC_BASE_URL"]
    assert served["url"] == f"{base}/fhir/Questionnaire/ims-screen" and served["publisher"] == app.config["CLINIC_NAME"]
    fhir_validator.assert_valid(served)
    systems = {o["valueCoding"]["system"] for item in items(served) for o in item.get("answerOption", [])}
    assert len(systems) == sum(1 for q in rules.questionnaire() if q.choices)
    for item in items(served):
        if not item.get("answerOption"):
            continue
        (system,) = {o["valueCoding"]["system"] for o in item["answerOption"]}
        assert system.startswith(f"{base}/fhir/CodeSystem/")
        page = client.get(system.removeprefix(base))
        assert page.status_code == 200 and page.mimetype == "application/fhir+json"
        code_system = json.loads(page.get_data(as_text=True))
        assert code_system["url"] == system and code_system["content"] == "complete"
        assert [(c["code"], c["display"]) for c in code_system["concept"]] == [
            (o["valueCoding"]["code"], o["valueCoding"]["display"]) for o in item["answerOption"]
        ]
    outcomes = json.loads(client.get("/fhir/CodeSystem/outcome").get_data(as_text=True))
    assert [c["code"] for c in outcomes["concept"]] == [o.value for o in rules.Outcome]
    missing = client.get("/fhir/CodeSystem/no-such-thing")
    assert (
        missing.status_code == 404 and json.loads(missing.get_data(as_text=True))["resourceType"] == "OperationOutcome"
    )
    fhir_validator.assert_valid(json.loads(missing.get_data(as_text=True)))
    with app.app_context():  # public and read-only: no sign-in asked, nothing written
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert client.post("/fhir/Questionnaire/ims-screen").status_code in (400, 405)


def test_code_system_ids_are_fhir_ids_and_each_is_one_question() -> None:
    systems = fhir.code_systems(rules.questionnaire(), VERSION, CLINIC)
    assert len(systems) == sum(1 for q in rules.questionnaire() if q.choices) + 2
    import re

    for code_system_id, code_system in systems.items():
        assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", code_system_id), code_system_id
        assert re.fullmatch(r"[A-Z][A-Za-z0-9_]{0,254}", code_system["name"]), code_system["name"]
        assert code_system["url"] == f"https://screening.clinic.example/fhir/CodeSystem/{code_system_id}"


def test_the_canonical_urls_follow_public_base_url(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://screening.clinic.example")
    with app_on(database_url) as app:
        client = app.test_client()
        resource = json.loads(
            client.get("/fhir/Questionnaire/ims-screen", base_url="https://screening.clinic.example").get_data(
                as_text=True
            )
        )
    assert resource["url"] == "https://screening.clinic.example/fhir/Questionnaire/ims-screen"
    assert {o["valueCoding"]["system"] for i in items(resource) for o in i.get("answerOption", [])} <= {
        f"https://screening.clinic.example/fhir/CodeSystem/{fhir.choice_code_system_id(q.id)}"
        for q in rules.questionnaire()
    }


def bundle(answers: dict[str, object], where: fhir.Publication = CLINIC) -> dict[str, Any]:
    return fhir.screening_bundle("IMS-TEST2345", answers, "2026-11-25T18:00:00Z", rules.evaluate(answers), where=where)


def test_each_resource_has_an_identifier_system_of_its_own_and_the_outcome_reads_as_words() -> None:
    patient, response, risk = (entry["resource"] for entry in bundle(profile("ideal_neck"))["entry"])
    found = bundle(profile("ideal_neck"))
    systems = [
        response["identifier"]["system"],
        patient["identifier"][0]["system"],
        risk["identifier"][0]["system"],
        found["identifier"]["system"],
    ]
    assert systems == [f"https://screening.clinic.example/fhir/sid/{kind}" for kind in fhir.IDENTIFIER_KINDS]
    assert patient["identifier"][0]["use"] == "temp"  # whom IMS Screen knows only by this screening
    outcome = risk["prediction"][0]["outcome"]
    assert outcome["coding"] == [
        {"system": "https://screening.clinic.example/fhir/CodeSystem/outcome", "code": "likely", "display": "Likely"}
    ]
    assert outcome["text"] == "Likely: IMS may well help you"


def test_a_response_for_someone_else_is_in_their_words_with_a_related_person_as_source() -> None:
    found = bundle(profile("proxy_teen"))
    patient, response, risk, related = (entry["resource"] for entry in found["entry"])
    assert response["source"] == {"reference": found["entry"][3]["fullUrl"]}
    assert related["resourceType"] == "RelatedPerson"
    assert related["patient"] == {"reference": found["entry"][0]["fullUrl"]}
    relationship = rules.questionnaire().relationship_question
    assert relationship is not None
    value = profile("proxy_teen")[relationship.id]
    assert related["relationship"][0]["coding"][0]["code"] == value
    texts = {item["linkId"]: item["text"] for item in items(response) if "answer" in item}
    assert texts["age"] == "How old is the person?"
    own = {item["linkId"]: item["text"] for item in items(bundle(profile("ideal_neck"))["entry"][1]["resource"])}
    assert own["age"] == "How old are you?" and len(bundle(profile("ideal_neck"))["entry"]) == 3


def test_fhir_js_finds_nothing_wrong_with_any_exported_resource(fhir_validator: Validator) -> None:
    """The Questionnaire with every language and with none, each code system, and the Bundle of each
    named profile (a proxy's among them, with its RelatedPerson), as Lantana's FHIR.js reads R4."""
    fhir_validator.assert_valid(fhir.questionnaire_resource(rules.questionnaire(), VERSION, every_language(), CLINIC))
    fhir_validator.assert_valid(fhir.questionnaire_resource(rules.questionnaire(), VERSION, (), CLINIC))
    for code_system in fhir.code_systems(rules.questionnaire(), VERSION, CLINIC).values():
        fhir_validator.assert_valid(code_system)
    for name in PROFILES:
        fhir_validator.assert_valid(bundle(profile(name)))


def test_fhir_js_is_a_validator_that_can_fail(fhir_validator: Validator) -> None:
    broken = fhir.questionnaire_resource(rules.questionnaire(), VERSION, (), CLINIC)
    broken["item"][0]["item"][1]["type"] = "multiple-choice"
    broken["status"] = "published"
    messages = fhir_validator.messages(broken)
    assert {m["location"] for m in messages} >= {"Questionnaire.status", "nested: Questionnaire.item[2].type"}
