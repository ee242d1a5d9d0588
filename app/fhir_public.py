"""The installation's FHIR definitions at their canonical URLs, `<base>/fhir/<type>/<id>`, so that
a form renderer, a terminology server or a validator given a URL finds the resource there.

`PUBLISHED` is the one list of what is published: the screening's Questionnaire and the follow-up
Questionnaire (app/fhir.py, app/fhir_followup.py), the code systems of their answers and of the
outcomes, and a StructureDefinition for each of IMS Screen's own extensions. Anything else under
/fhir is a 404 OperationOutcome.

Public and read-only: what is served is the questionnaires' definitions, the same for everyone,
and no screening or health information; nothing is written and nothing is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response

import rules
from app import fhir, fhir_followup

bp = Blueprint("fhir_public", __name__, url_prefix="/fhir")

FHIR_JSON = "application/fhir+json"

#: One resource type's definitions, by id, as an installation publishes them.
Definitions = Callable[[fhir.Publication], dict[str, dict[str, Any]]]


def _by_id(*resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`resources` by id; ValueError if two share one (one URL, two resources)."""
    found: dict[str, dict[str, Any]] = {}
    for resource in resources:
        if resource["id"] in found:
            raise ValueError(f"two {resource['resourceType']}s have the id {resource['id']!r}")
        found[resource["id"]] = resource
    return found


def _questionnaires(where: fhir.Publication) -> dict[str, dict[str, Any]]:
    screening = fhir.questionnaire_resource(rules.questionnaire(), rules.ruleset().ruleset_version, where=where)
    return _by_id(screening, fhir_followup.questionnaire_resource(where))


def _code_systems(where: fhir.Publication) -> dict[str, dict[str, Any]]:
    screening = fhir.code_systems(rules.questionnaire(), rules.ruleset().ruleset_version, where)
    return _by_id(*screening.values(), *fhir_followup.code_systems(where))


def _structure_definitions(where: fhir.Publication) -> dict[str, dict[str, Any]]:
    extensions = (fhir.TRANSLATION_REVIEW, fhir_followup.FOLLOW_UP_OF, fhir_followup.FOLLOW_UP_WEEK)
    return _by_id(*(extension.resource(where) for extension in extensions))


#: Everything the installation publishes, by resource type. Each type is built only when asked
#: for: the screening's Questionnaire, with its translations, is the costly one.
PUBLISHED: dict[str, Definitions] = {
    "Questionnaire": _questionnaires,
    "CodeSystem": _code_systems,
    "StructureDefinition": _structure_definitions,
}


def published(where: fhir.Publication) -> Iterator[dict[str, Any]]:
    """Every resource the installation publishes, as `where` publishes it."""
    for definitions in PUBLISHED.values():
        yield from definitions(where).values()


def _resource(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2), status=status, mimetype=FHIR_JSON)


@bp.get("/<resource_type>/<resource_id>")
def definition(resource_type: str, resource_id: str) -> Response:
    """One published definition at its canonical URL; a FHIR OperationOutcome with 404 for a type
    or id that names none."""
    definitions = PUBLISHED.get(resource_type)
    found = definitions(fhir.publication()).get(resource_id) if definitions is not None else None
    if found is None:
        issue = {"severity": "error", "code": "not-found", "diagnostics": "No such definition here."}
        return _resource({"resourceType": "OperationOutcome", "issue": [issue]}, status=404)
    return _resource(found)
