"""FHIR R4 export: every resource parses with fhir.resources, and answers round-trip to the same outcome.

fhir.resources validates against FHIR 4.3 (R4B), which leaves Questionnaire,
QuestionnaireResponse, RiskAssessment, Patient and Bundle as they are in R4 (4.0.1).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhirpathpy import evaluate as evaluate_fhirpath
from fhirpathpy.models import models as fhirpath_models
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import assume, given, settings

import rules
from app import fhir, fhir_import, i18n
from app.extensions import db
from rules import conditions
from rules.datafile import load_yaml
from rules.questionnaire import QuestionType, duration
from tests.conftest import submit_screening
from tests.support.fhir_tools import Validator
from tests.support.journey import profile
from tests.support.rules_strategies import complete_answers, partial_answers

PROFILES = load_yaml(Path(rules.__file__).parent / "cases" / "profiles.yaml")


#: The catalogues shipped in translations/ (compiled or not: the export reads the .po).
TRANSLATIONS = Path(__file__).parent.parent / "translations"


def shipped_translations() -> tuple[fhir.Translation, ...]:
    return tuple(fhir.Translation.from_catalogue(TRANSLATIONS, language) for language in i18n.LANGUAGES[1:])


def test_the_questionnaire_is_a_valid_fhir_questionnaire_with_every_question(fhir_validator: Validator) -> None:
    resource = fhir.questionnaire_resource(
        rules.questionnaire(), rules.ruleset().ruleset_version, shipped_translations()
    )
    parsed = Questionnaire.model_validate(resource)
    fhir_validator.assert_valid(resource)
    assert parsed.version == rules.ruleset().ruleset_version
    link_ids = {item.linkId for group in parsed.item for item in group.item if item.type != "display"}
    assert link_ids == set(rules.questionnaire().questions)
    assert_valid_translations(resource, parsed.model_dump(mode="json", exclude_none=True))


def translation_extensions(data: object, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every translation extension anywhere in `data`, with where it is."""
    if isinstance(data, dict):
        if data.get("url") == fhir.TRANSLATION:
            yield path, data
        for key, value in data.items():
            yield from translation_extensions(value, f"{path}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from translation_extensions(value, f"{path}[{index}]")


def assert_valid_translations(resource: dict[str, Any], parsed: dict[str, Any]) -> None:
    """FHIR's translation extension, as its definition has it, which fhir.resources does not check:
    only on a string (`_text` beside `text`...), with no value of its own and exactly the
    sub-extensions `lang` (a BCP 47 tag, here one of the shipped languages other than the base
    one) and `content` (the text); one per language on each string; none lost in parsing."""
    found = list(translation_extensions(resource))

    def check(data: object) -> None:
        if isinstance(data, list):
            for value in data:
                check(value)
        if not isinstance(data, dict):
            return
        for key, value in data.items():
            if key.startswith("_"):
                assert isinstance(data.get(key[1:]), str), f"{key} translates no string"
                assert set(value) == {"extension"}
                languages = []
                for extension in value["extension"]:
                    if extension["url"] == fhir.CQF_EXPRESSION:  # the words for someone else (test_fhir_sdc)
                        continue
                    assert extension["url"] == fhir.TRANSLATION
                    assert [part["url"] for part in extension["extension"]] == ["lang", "content"]
                    assert not any(name.startswith("value") for name in extension)
                    (lang, content) = extension["extension"]
                    assert set(lang) == {"url", "valueCode"} and set(content) == {"url", "valueString"}
                    assert lang["valueCode"] in i18n.BY_TAG and lang["valueCode"] != resource["language"]
                    Locale.parse(lang["valueCode"], sep="-")  # a tag Babel (CLDR) knows
                    assert content["valueString"].strip() == content["valueString"] != ""
                    languages.append(lang["valueCode"])
                assert len(languages) == len(set(languages)), f"{key}: one translation per language"
            else:
                check(value)

    check(resource)
    in_shadows = sum(1 for _, v in _shadows(resource) for e in v["extension"] if e["url"] == fhir.TRANSLATION)
    assert len(found) == in_shadows, "a translation extension outside a string's `_` element"

    def canonical(extensions: Iterator[tuple[str, dict[str, Any]]]) -> list[str]:
        return sorted(json.dumps(extension, sort_keys=True) for _, extension in extensions)

    assert canonical(translation_extensions(parsed)) == canonical(iter(found))


def _shadows(data: object) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key.startswith("_"):
                yield key, value
            else:
                yield from _shadows(value)
    elif isinstance(data, list):
        for value in data:
            yield from _shadows(value)


def test_branching_becomes_enable_when() -> None:
    resource = fhir.questionnaire_resource(rules.questionnaire(), "x")
    items = {item["linkId"]: item for group in resource["item"] for item in group["item"]}
    assert items["blood_thinner_names"]["enableWhen"] == [
        {
            "question": "blood_thinners",
            "operator": "=",
            "answerCoding": {"system": fhir.choice_system("blood_thinners"), "code": "yes"},
        }
    ]
    assert items["pregnant"]["enableBehavior"] == "all"
    assert {c["operator"] for c in items["pregnant"]["enableWhen"]} == {">=", "<="}
    assert items["needling_response"]["enableBehavior"] == "any"
    assert items["treatment_effect"]["enableWhen"][0]["operator"] == "!="


# ---- enableWhen means what the condition means ------------------------------------------------

#: Answers to try for the questions the conditions below read (None: not answered).
TRIED: dict[str, list[Any]] = {
    "interpreter_needed": [None, "yes", "no"],
    "age": [None, 9, 10, 60, 61],
    "treatments_tried": [None, ["massage"], ["massage", "acupuncture"], ["none"]],
    "blood_thinners": [None, "yes", "no", "unsure"],
}

#: Conditions whose export must keep their meaning; the nested ones FHIR's one level cannot hold.
CONDITIONS = [
    {"equals": ["blood_thinners", "yes"]},
    {"one_of": ["blood_thinners", ["yes", "unsure"]]},
    {"includes_any": ["treatments_tried", ["acupuncture", "massage"]]},
    {"not": {"includes": ["treatments_tried", "none"]}},
    {"not": {"equals": ["blood_thinners", "no"]}},
    {"answered": "interpreter_needed"},
    {"all": [{"at_least": ["age", 10]}, {"at_most": ["age", 60]}]},
    {"any": [{"equals": ["interpreter_needed", "yes"]}, {"equals": ["blood_thinners", "yes"]}]},
    # Nested: flattened, these enable on different answers.
    {
        "any": [
            {"all": [{"equals": ["interpreter_needed", "yes"]}, {"at_least": ["age", 61]}]},
            {"equals": ["blood_thinners", "yes"]},
        ]
    },
    {"all": [{"one_of": ["blood_thinners", ["yes", "unsure"]]}, {"equals": ["interpreter_needed", "no"]}]},
    {"all": [{"includes_any": ["treatments_tried", ["acupuncture", "massage"]]}, {"at_most": ["age", 60]}]},
    {"not": {"any": [{"equals": ["blood_thinners", "yes"]}, {"at_least": ["age", 61]}]}},
    {"not": {"at_least": ["age", 61]}},
    {
        "count_of": {
            "at_least": 2,
            "of": [
                {"equals": ["interpreter_needed", "yes"]},
                {"at_least": ["age", 61]},
                {"equals": ["blood_thinners", "yes"]},
            ],
        }
    },
]


SHIPPED = [q.enable_when_data for q in rules.questionnaire() if q.enable_when_data is not None]


def tried(name: str) -> list[Any]:
    """`TRIED`, or for another choice question no answer, each choice alone and two together."""
    if name in TRIED:
        return TRIED[name]
    choices = list(rules.questionnaire().questions[name].choice_values)
    if rules.questionnaire().questions[name].type.value == "multiple":
        return [None, *([choice] for choice in choices), choices[:2]]
    return [None, *choices]


class AnswerFacts(dict):  # type: ignore[type-arg]
    def value(self, name: str) -> object | None:
        return self.get(name)


def exported_item(condition_data: object) -> dict[str, Any]:
    """The FHIR item of the questionnaire's last question, given `condition_data` as its enable_when."""
    shipped = rules.questionnaire()
    last = list(shipped)[-1]
    condition = conditions.parse(condition_data, "test")

    def changed(question: rules.Question) -> rules.Question:
        return dataclasses.replace(question, enable_when=condition, enable_when_data=condition_data)

    sections = tuple(
        dataclasses.replace(section, questions=tuple(changed(q) if q is last else q for q in section.questions))
        for section in shipped.sections
    )
    resource = fhir.questionnaire_resource(dataclasses.replace(shipped, sections=sections), "x")
    Questionnaire.model_validate(resource)
    return next(item for group in resource["item"] for item in group["item"] if item["linkId"] == last.id)


def enable_when_expression(item: dict[str, Any]) -> str:
    """The FHIRPath of an item's SDC enableWhenExpression."""
    (found,) = (e for e in item["extension"] if e["url"] == fhir.ENABLE_WHEN_EXPRESSION)
    expression: str = found["valueExpression"]["expression"]
    return expression


COMPARISONS = {"=": operator.eq, "!=": operator.eq, ">=": operator.ge, "<=": operator.le}


def enabled_by_enable_when(item: dict[str, Any], answers: dict[str, object]) -> bool:
    """FHIR R4's reading of an item's enableWhen: `=`, `>=`, `<=` hold when some answer compares so,
    `!=` when no answer equals, `exists` when whether there is an answer is the value given."""
    results = []
    for clause in item["enableWhen"]:
        given = answers.get(clause["question"])
        values = [] if given is None else given if isinstance(given, list) else [given]
        if clause["operator"] == "exists":
            results.append(bool(values) is clause["answerBoolean"])
            continue
        expected = clause.get("answerInteger", clause.get("answerCoding", {}).get("code"))
        found = any(COMPARISONS[clause["operator"]](value, expected) for value in values)
        results.append(not found if clause["operator"] == "!=" else found)
    return all(results) if item.get("enableBehavior", "all") == "all" else any(results)


@pytest.mark.parametrize("data", CONDITIONS + SHIPPED, ids=[json.dumps(c) for c in CONDITIONS + SHIPPED])
def test_an_exported_enable_when_enables_the_item_exactly_when_the_condition_holds(data: object) -> None:
    """Never flattened: any(all(a, b), c) exported as one list of a, b, c would enable on a alone."""
    item = exported_item(data)
    condition = conditions.parse(data, "test")
    expressions = [e for e in item.get("extension", []) if e["url"] == fhir.ENABLE_WHEN_EXPRESSION]
    if "enableWhen" not in item:  # what one level cannot say goes whole into an expression instead
        (extension,) = expressions
        assert extension["valueExpression"]["language"] == "text/fhirpath"
        return
    assert not expressions
    names = sorted(set(condition.names()))
    for values in itertools.product(*(tried(name) for name in names)):
        answers = {name: value for name, value in zip(names, values, strict=True) if value is not None}
        assert enabled_by_enable_when(item, answers) is condition.holds(AnswerFacts(answers)), answers


def test_a_nesting_one_level_cannot_hold_is_exported_as_a_fhirpath_expression() -> None:
    item = exported_item(
        {
            "any": [
                {"all": [{"equals": ["interpreter_needed", "yes"]}, {"at_least": ["age", 61]}]},
                {"includes": ["treatments_tried", "none"]},
            ]
        }
    )
    assert "enableWhen" not in item and "enableBehavior" not in item
    answers = "%resource.repeat(item).where(linkId = '{}').{}"
    assert enable_when_expression(item) == (
        f"(({answers.format('interpreter_needed', 'answer.value.code')}.exists($this = 'yes')"
        f" and {answers.format('age', 'answer.value')}.exists($this >= 61))"
        f" or {answers.format('treatments_tried', 'answer.value.code')}.exists($this = 'none'))"
    )


#: Conditions whose FHIRPath must also say what the evaluator does with odd comparisons.
ODD_CONDITIONS = [
    {"fact": "blood_thinners"},  # an answer is never the value true
    {"equals": ["treatments_tried", "massage"]},  # a list never equals one value
    {"one_of": ["treatments_tried", ["massage"]]},
    {"includes": ["blood_thinners", "yes"]},  # one answer is not a list
    {"at_least": ["blood_thinners", 1]},
    {"not": {"answered": "age"}},
    {"equals": ["age", 60]},
]


@pytest.mark.parametrize(
    "data", CONDITIONS + SHIPPED + ODD_CONDITIONS, ids=[json.dumps(c) for c in CONDITIONS + SHIPPED + ODD_CONDITIONS]
)
def test_the_fhirpath_expression_holds_exactly_when_the_condition_does(data: object) -> None:
    """Evaluated by fhirpathpy on a QuestionnaireResponse of the answers, as SDC software would."""
    condition = conditions.parse(data, "test")
    expression = fhir.fhirpath(condition, rules.questionnaire())
    stored = rules.Result(rules.Outcome.LIKELY, rules.Outcome.LIKELY, (), {}, "x")
    names = sorted(set(condition.names()))
    for values in itertools.product(*(tried(name) for name in names)):
        answers = {name: value for name, value in zip(names, values, strict=True) if value is not None}
        response = fhir.screening_bundle("IMS-TEST2345", answers, "2026-11-25T18:00:00Z", stored)["entry"][1][
            "resource"
        ]
        found = evaluate_fhirpath(response, expression, {"resource": response}, fhirpath_models["r4"])
        assert found == [condition.holds(AnswerFacts(answers))], (answers, expression)


def test_fhirpath_literals_are_quoted_and_escaped() -> None:
    item = exported_item({"count_of": {"at_least": 1, "of": [{"equals": ["blood_thinners", "it's \\ odd"]}]}})
    expression = enable_when_expression(item)
    assert expression.endswith(".exists($this = 'it\\'s \\\\ odd'), 1, 0)) >= 1)")


def bundle_of(answers: dict[str, object]) -> dict[str, object]:
    result = rules.evaluate(answers)
    return fhir.screening_bundle("IMS-TEST2345", answers, "2026-11-25T18:00:00Z", result)


def as_given(answers: dict[str, object]) -> dict[str, object]:
    """`answers` as a FHIR export reads them back: a duration stored as a number of weeks (as
    every one was before units were kept) is a quantity of weeks, except "0 weeks", which only
    such a number can be."""
    durations = {q.id for q in rules.questionnaire() if q.type is QuestionType.DURATION}
    return {
        qid: duration(value, "weeks") if qid in durations and isinstance(value, int) and value else value
        for qid, value in answers.items()
    }


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_exports_as_a_valid_bundle_that_round_trips(name: str, fhir_validator: Validator) -> None:
    answers = dict(PROFILES[name])
    bundle = bundle_of(answers)
    Bundle.model_validate(bundle)
    fhir_validator.assert_valid(bundle)
    response = bundle["entry"][1]["resource"]  # type: ignore[index]
    assert fhir_import.answers_from_response(response) == as_given(answers)
    assert rules.evaluate(fhir_import.answers_from_response(response)).outcome == rules.evaluate(answers).outcome


def test_a_result_no_rule_fired_for_exports_without_empty_rationale_or_notes(fhir_validator: Validator) -> None:
    # FHIR allows no empty string or array: a result with no reasons has neither (a stored
    # result of an earlier rule set may have none).
    answers = dict(PROFILES["ideal_neck"])
    result = rules.Result(rules.Outcome.LIKELY, rules.Outcome.LIKELY, (), {}, "x")
    bundle = fhir.screening_bundle("IMS-TEST2345", answers, "2026-11-25T18:00:00Z", result)
    risk = bundle["entry"][2]["resource"]
    assert "rationale" not in risk["prediction"][0] and "note" not in risk
    Bundle.model_validate(bundle)
    fhir_validator.assert_valid(bundle)


@settings(max_examples=40, deadline=None)
@given(complete_answers())
def test_any_screening_exports_validly_and_round_trips_to_the_same_outcome(
    fhir_validator: Validator, answers: dict[str, object]
) -> None:
    bundle = bundle_of(answers)
    Bundle.model_validate(bundle)
    fhir_validator.assert_valid(bundle)
    risk = bundle["entry"][2]["resource"]  # type: ignore[index]
    assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == rules.evaluate(answers).outcome.value
    back = fhir_import.answers_from_response(bundle["entry"][1]["resource"])  # type: ignore[index]
    assert back == as_given(answers)
    assert rules.evaluate(back).to_dict() == rules.evaluate(as_given(answers)).to_dict()
    assert rules.evaluate(back).outcome == rules.evaluate(answers).outcome


@pytest.mark.parametrize(("amount", "unit", "code"), [(3, "days", "d"), (2, "months", "mo"), (52, "weeks", "wk")])
def test_a_duration_exports_as_given_as_a_ucum_quantity(amount: int, unit: str, code: str) -> None:
    answers = {**PROFILES["ideal_neck"], "pain_duration_weeks": duration(amount, unit)}
    response = bundle_of(answers)["entry"][1]["resource"]  # type: ignore[index]
    items = {item["linkId"]: item for group in response["item"] for item in group["item"]}
    quantity = {"value": amount, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}
    assert items["pain_duration_weeks"]["answer"] == [{"valueQuantity": quantity}]
    assert fhir_import.answers_from_response(response)["pain_duration_weeks"] == duration(amount, unit)
    item = next(
        i
        for g in fhir.questionnaire_resource(rules.questionnaire(), "v")["item"]
        for i in g["item"]
        if i["linkId"] == "pain_duration_weeks"
    )
    assert item["type"] == "quantity"
    options = [e["valueCoding"]["code"] for e in item["extension"] if e["url"] == fhir.UNIT_OPTION]
    assert options == ["d", "wk", "mo", "a"]


@settings(max_examples=30, deadline=None)
@given(partial_answers())
def test_a_screening_stopped_early_exports_as_stopped_and_round_trips(
    fhir_validator: Validator, answers: dict[str, object]
) -> None:
    assume(rules.decided(answers) is not None and rules.questionnaire().missing(answers))
    bundle = bundle_of(answers)
    Bundle.model_validate(bundle)
    fhir_validator.assert_valid(bundle)
    response = bundle["entry"][1]["resource"]  # type: ignore[index]
    assert response["status"] == "stopped"
    back = fhir_import.answers_from_response(response)
    assert rules.evaluate(back).to_dict() == rules.evaluate(as_given(answers)).to_dict()
    assert bundle_of(profile("ideal_neck"))["entry"][1]["resource"]["status"] == "completed"  # type: ignore[index]


def test_staff_download_a_screening_bundle_and_it_is_audited(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object], fhir_validator: Validator
) -> None:
    from sqlalchemy import select

    from app.models import AuditEvent

    reference = submit_screening(app, ideal_answers)
    response = physio_client.get(f"/staff/fhir/screenings/{reference}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    fhir_validator.assert_valid(json.loads(response.get_data(as_text=True)))
    assert bundle.identifier.value == reference
    with app.app_context():
        assert db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.screening_reference == reference)
        ).all() == ["export_fhir"]
    assert physio_client.get("/staff/fhir/questionnaire.json").status_code == 200


def test_admins_export_the_filtered_queue_as_ndjson(
    app: Flask,
    admin_client: FlaskClient,
    physio_client: FlaskClient,
    ideal_answers: dict[str, object],
    fhir_validator: Validator,
) -> None:
    likely = submit_screening(app, ideal_answers)
    emergency = submit_screening(app, dict(ideal_answers, rf_saddle_numbness="yes"))
    response = admin_client.get("/staff/export.ndjson")
    assert response.is_streamed  # before reading: reading buffers it
    lines = response.get_data(as_text=True).splitlines()
    assert [Bundle.model_validate(json.loads(line)).identifier.value for line in lines] == [emergency, likely]
    for line in lines:
        fhir_validator.assert_valid(json.loads(line))
    filtered = admin_client.get("/staff/export.ndjson", query_string={"outcome": "likely"}).get_data(as_text=True)
    assert len(filtered.splitlines()) == 1
    assert physio_client.get("/staff/export.ndjson").status_code == 403


def test_the_cli_prints_the_questionnaire(app: Flask, fhir_validator: Validator) -> None:
    result = app.test_cli_runner().invoke(args=["fhir", "questionnaire"])
    resource = json.loads(result.output)
    parsed = Questionnaire.model_validate(resource)
    fhir_validator.assert_valid(resource)
    assert_valid_translations(resource, parsed.model_dump(mode="json", exclude_none=True))
    # The languages the app offers (in tests all of them), whatever the command's own language.
    assert [t["extension"][0]["valueCode"] for t in resource.get("_title", {}).get("extension", [])] == [
        language.tag for language in i18n.offered(app)[1:]
    ]
