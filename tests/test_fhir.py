"""FHIR R4 export: every resource parses with fhir.resources, and answers round-trip to the same outcome.

fhir.resources validates against FHIR 4.3 (R4B), which leaves Questionnaire,
QuestionnaireResponse, RiskAssessment, Patient and Bundle as they are in R4 (4.0.1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings

import rules
from app import fhir
from app.extensions import db
from rules.datafile import load_yaml
from tests.conftest import submit_screening
from tests.rules_strategies import complete_answers

PROFILES = load_yaml(Path(rules.__file__).parent / "cases" / "profiles.yaml")


def test_the_questionnaire_is_a_valid_fhir_questionnaire_with_every_question() -> None:
    resource = fhir.questionnaire_resource(rules.questionnaire(), rules.ruleset().ruleset_version)
    parsed = Questionnaire.model_validate(resource)
    assert parsed.version == rules.ruleset().ruleset_version
    link_ids = {item.linkId for group in parsed.item for item in group.item}
    assert link_ids == set(rules.questionnaire().questions)


def test_branching_becomes_enable_when() -> None:
    resource = fhir.questionnaire_resource(rules.questionnaire(), "x")
    items = {item["linkId"]: item for group in resource["item"] for item in group["item"]}
    assert items["blood_thinner_names"]["enableWhen"] == [
        {
            "question": "blood_thinners",
            "operator": "=",
            "answerCoding": {"system": "urn:ims-screen:choice:blood_thinners", "code": "yes"},
        }
    ]
    assert items["pregnant"]["enableBehavior"] == "all"
    assert {c["operator"] for c in items["pregnant"]["enableWhen"]} == {">=", "<="}
    assert items["needling_response"]["enableBehavior"] == "any"
    assert items["treatment_effect"]["enableWhen"][0]["operator"] == "!="


def bundle_of(answers: dict[str, object]) -> dict[str, object]:
    result = rules.evaluate(answers).to_dict()
    return fhir.screening_bundle("IMS-TEST2345", answers, "2026-11-25T18:00:00Z", result)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_exports_as_a_valid_bundle_that_round_trips(name: str) -> None:
    answers = dict(PROFILES[name])
    bundle = bundle_of(answers)
    Bundle.model_validate(bundle)
    response = bundle["entry"][1]["resource"]  # type: ignore[index]
    assert fhir.answers_from_response(response) == answers
    assert rules.evaluate(fhir.answers_from_response(response)).outcome == rules.evaluate(answers).outcome


@settings(max_examples=40, deadline=None)
@given(complete_answers())
def test_any_screening_exports_validly_and_round_trips_to_the_same_outcome(answers: dict[str, object]) -> None:
    bundle = bundle_of(answers)
    Bundle.model_validate(bundle)
    risk = bundle["entry"][2]["resource"]  # type: ignore[index]
    assert risk["prediction"][0]["outcome"]["coding"][0]["code"] == rules.evaluate(answers).outcome.value
    back = fhir.answers_from_response(bundle["entry"][1]["resource"])  # type: ignore[index]
    assert rules.evaluate(back).to_dict() == rules.evaluate(answers).to_dict()


def test_staff_download_a_screening_bundle_and_it_is_audited(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    from sqlalchemy import select

    from app.models import AuditEvent

    reference = submit_screening(app, ideal_answers)
    response = physio_client.get(f"/staff/fhir/screenings/{reference}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    assert bundle.identifier.value == reference
    with app.app_context():
        assert db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.screening_reference == reference)
        ).all() == ["export_fhir"]
    assert physio_client.get("/staff/fhir/questionnaire.json").status_code == 200


def test_admins_export_the_filtered_queue_as_ndjson(
    app: Flask, admin_client: FlaskClient, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    likely = submit_screening(app, ideal_answers)
    emergency = submit_screening(app, dict(ideal_answers, rf_saddle_numbness="yes"))
    response = admin_client.get("/staff/export.ndjson")
    assert response.is_streamed  # before reading: reading buffers it
    lines = response.get_data(as_text=True).splitlines()
    assert [Bundle.model_validate(json.loads(line)).identifier.value for line in lines] == [emergency, likely]
    filtered = admin_client.get("/staff/export.ndjson", query_string={"outcome": "likely"}).get_data(as_text=True)
    assert len(filtered.splitlines()) == 1
    assert physio_client.get("/staff/export.ndjson").status_code == 403


def test_the_cli_prints_the_questionnaire(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["fhir", "questionnaire"])
    Questionnaire.model_validate(json.loads(result.output))
