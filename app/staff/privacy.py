"""A patient's privacy request (BC PIPA): find their screening, give them a readable copy of
everything held, or delete it. Admins only; every action is audited."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import InputRequired

import rules
from app import audit, measures
from app.extensions import db
from app.models import Notification, Screening
from app.staff.queue import OUTCOME_LABELS
from app.staff.review import STATUS_LABELS

bp = Blueprint("staff_privacy", __name__, url_prefix="/staff/patient-requests")


class DeleteForm(FlaskForm):
    confirm_reference = StringField(
        "Type the reference to confirm", validators=[InputRequired("Type the reference to confirm")]
    )


def _find(reference: str) -> Screening | None:
    code = reference.strip().upper()
    if code and not code.startswith("IMS-"):
        code = "IMS-" + code
    if not re.fullmatch(r"[A-Z0-9-]{1,20}", code):  # e.g. a NUL, which PostgreSQL refuses (a 500)
        return None
    return db.session.scalar(select(Screening).where(Screening.reference == code, Screening.state == "submitted"))


@bp.get("/")
def find() -> str:
    """Find a screening by the reference the patient quotes."""
    reference = request.args.get("reference", "")[:20]
    screening = _find(reference) if reference else None
    if screening is not None:
        audit.record("find_for_privacy_request", screening=screening)
        db.session.commit()
    return render_template(
        "staff/privacy/find.html",
        reference=reference,
        screening=screening,
        searched=bool(reference),
        delete_form=DeleteForm(),
    )


@bp.get("/<reference>/copy")
def copy(reference: str) -> ResponseReturnValue:
    """Everything held about the person, as a readable page to print or send (download=1 saves it):
    the answers, the result, the request, the follow-ups after treatment, staff records, emails."""
    screening = _find(reference) or abort(404)
    audit.record("copy_for_patient", screening=screening)
    db.session.commit()
    notifications = db.session.scalars(
        select(Notification).where(Notification.screening_id == screening.id).order_by(Notification.created_at)
    ).all()
    html = render_template(
        "staff/privacy/copy.html",
        screening=screening,
        questionnaire=rules.questionnaire(),
        applicable={q.id for q in rules.questionnaire().applicable(screening.answers)},
        notifications=notifications,
        outcome_labels=OUTCOME_LABELS,
        status_labels=STATUS_LABELS,
        measures=measures,
    )
    response = make_response(html)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{screening.reference}.html"'
    return response


@bp.post("/<reference>/delete")
def delete(reference: str) -> ResponseReturnValue:
    """Delete the screening and everything attached to it; the audit trail keeps that it happened."""
    screening = _find(reference) or abort(404)
    form = DeleteForm()
    if not form.validate_on_submit() or (form.confirm_reference.data or "").strip().upper() != screening.reference:
        flash("Nothing was deleted: type the reference exactly to confirm.", "info")
        return redirect(url_for("staff_privacy.find", reference=screening.reference), code=303)
    audit.record("delete_screening", screening=screening, reason="patient request")
    db.session.delete(screening)
    db.session.commit()
    flash(f"Screening {screening.reference} and everything attached to it have been deleted.", "success")
    return redirect(url_for("staff_privacy.find"), code=303)
