"""FHIR R4 downloads for staff: the questionnaire, and one screening as a Bundle (audited)."""

from __future__ import annotations

import json

from flask import Blueprint, Response

import rules
from app import audit, fhir
from app.extensions import db
from app.fhir_followup import questionnaire_resource as follow_up_questionnaire_resource
from app.fhir_followup import with_follow_ups
from app.models import Screening
from app.staff.queue import screening_or_404

bp = Blueprint("staff_fhir", __name__, url_prefix="/staff/fhir")

FHIR_JSON = "application/fhir+json"


def bundle_for(screening: Screening) -> dict[str, object]:
    """The FHIR Bundle of a submitted screening, from what was stored when it was submitted; its
    QuestionnaireResponse in the language the screening was last worked on in; and its answered
    follow-ups after treatment."""
    assert screening.submitted_at is not None
    bundle = fhir.screening_bundle(
        screening.reference,
        screening.answers,
        screening.submitted_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        screening.stored_result(),
        language=screening.language or fhir.BASE_LANGUAGE,
    )
    return with_follow_ups(bundle, screening)  # each answered follow-up after treatment (app/fhir_followup.py)


def _download(data: object, filename: str) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype=FHIR_JSON)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/questionnaire.json")
def questionnaire() -> Response:
    """The questionnaire as a FHIR Questionnaire (version = the rule-set version)."""
    return _download(
        fhir.questionnaire_resource(rules.questionnaire(), rules.ruleset().ruleset_version),
        "ims-screen-questionnaire.json",
    )


@bp.get("/follow-up-questionnaire.json")
def follow_up_questionnaire() -> Response:
    """The follow-up after treatment's questions as a FHIR Questionnaire (app/fhir_followup.py)."""
    return _download(follow_up_questionnaire_resource(), "ims-screen-follow-up-questionnaire.json")


@bp.get("/screenings/<reference>.json")
def screening_bundle(reference: str) -> Response:
    """One screening as a FHIR Bundle: QuestionnaireResponse and RiskAssessment (audited)."""
    found = screening_or_404(reference)
    audit.record("export_fhir", screening=found)
    db.session.commit()
    return _download(bundle_for(found), f"{found.reference}.fhir.json")
