"""FHIR R4 for staff: download the questionnaire and one screening as a Bundle (audited), and
import a QuestionnaireResponse that another tool produced, filed as a screening (audited)."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

import rules
from app import audit, fhir, fhir_import
from app.errors import size_text
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
    where = fhir.publication()  # one installation's URLs for the screening's resources and its follow-ups'
    bundle = fhir.screening_bundle(
        screening.reference,
        screening.answers,
        screening.submitted_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        screening.stored_result(),
        language=screening.language or fhir.BASE_LANGUAGE,
        where=where,
    )
    return with_follow_ups(bundle, screening, where)  # each answered follow-up after treatment (app/fhir_followup.py)


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


#: The largest QuestionnaireResponse file staff may import: one is some tens of kB (about 25 kB from
#: LHC-Forms, 38 kB as IMS Screen's own pretty-printed Bundle), more than the app's 64 KiB for
#: other posts allows once another tool pretty-prints it or adds texts.
IMPORT_MAX_BYTES = 512 * 1024


def allow_import_upload() -> None:
    """Before every request, and before CSRFProtect reads the form: the import's post may carry a
    file up to IMPORT_MAX_BYTES. Werkzeug applies MAX_FORM_MEMORY_SIZE (16 KiB) to every chunk of
    a multipart body, files included, so without this any file over 16 KiB would get a 413."""
    if request.endpoint == "staff_fhir.import_response" and request.method == "POST":
        request.max_content_length = IMPORT_MAX_BYTES
        request.max_form_memory_size = IMPORT_MAX_BYTES


def init_app(app: Flask) -> None:
    """Register the blueprint, and the import's upload limit ahead of every other request hook."""
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, allow_import_upload)


class ImportForm(FlaskForm):
    response = FileField(
        "QuestionnaireResponse file (FHIR R4 JSON)",
        validators=[FileRequired("Choose the file of the QuestionnaireResponse to import")],
    )
    #: Unticked by default: a response that states no version of the questionnaire (Medplum's) is
    #: read as the current one only on the physiotherapist's word (audited as theirs).
    current_version = BooleanField(fhir_import.CONFIRM_VERSION_LABEL)


@bp.route("/import", methods=["GET", "POST"])
def import_response() -> ResponseReturnValue:
    """Import a QuestionnaireResponse from another tool as a screening judged by the rules
    (audited); a response that is not sound is refused with every problem named, storing nothing."""
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            screening = fhir_import.import_response(
                form.response.data.read(), assume_current_version=form.current_version.data
            )
        except fhir_import.InvalidResponse as refusal:
            db.session.rollback()
            problems = refusal.problems
        else:
            db.session.commit()
            flash(imported_notice(screening), "success")
            return redirect(url_for("staff.screening", reference=screening.reference), 303)
    status = 400 if form.errors or problems else 200
    return render_template(
        "staff/import.html",
        form=form,
        largest=size_text(IMPORT_MAX_BYTES),
        problems=problems,
        summary=[("#response", problem) for problem in problems],
        version=rules.ruleset().ruleset_version,
        questionnaire_url=fhir.publication().questionnaire_url,
    ), status


def imported_notice(screening: Screening) -> str:
    """What staff are told once a response is filed: that the person never saw its result and, for
    an emergency or see-a-doctor result, to contact them now, through the tool or record the
    response came from, as IMS Screen has no contact details for them."""
    notice = (
        f"Imported as {screening.reference} and judged by the rules. IMS Screen did not show this result to the person"
    )
    if screening.outcome is not None and rules.Outcome(screening.outcome).medical:
        return (
            f"{notice}, and has no contact details for them: find them through the tool or record the response "
            "came from, and contact them now."
        )
    return f"{notice}."
