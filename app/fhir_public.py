"""The installation's FHIR definitions at their canonical URLs: the Questionnaire and the code
systems of its answers and outcomes (app/fhir.py), so that a form renderer or a terminology
server given a URL finds the resource there.

Public and read-only: what is served is the questionnaire's definition, the same for everyone,
and no screening or health information; nothing is written and nothing is audited.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response

import rules
from app import fhir

bp = Blueprint("fhir_public", __name__, url_prefix="/fhir")

FHIR_JSON = "application/fhir+json"


def _resource(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2), status=status, mimetype=FHIR_JSON)


@bp.get(f"/Questionnaire/{fhir.QUESTIONNAIRE_ID}")
def questionnaire() -> Response:
    """The questionnaire as a FHIR Questionnaire, at its canonical URL (version = the rule-set version)."""
    return _resource(fhir.questionnaire_resource(rules.questionnaire(), rules.ruleset().ruleset_version))


@bp.get("/CodeSystem/<code_system_id>")
def code_system(code_system_id: str) -> Response:
    """One code system (a choice question's answers, the outcomes...), at its canonical URL; a FHIR
    OperationOutcome with 404 for an id that names none."""
    found = fhir.code_systems(rules.questionnaire(), rules.ruleset().ruleset_version).get(code_system_id)
    if found is None:
        issue = {"severity": "error", "code": "not-found", "diagnostics": "No such CodeSystem here."}
        return _resource({"resourceType": "OperationOutcome", "issue": [issue]}, status=404)
    return _resource(found)
