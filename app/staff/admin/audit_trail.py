"""The audit trail: every staff action, filtered by person, action and date, in words."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, select
from wtforms import Form, SelectField, StringField
from wtforms.validators import Length, Optional

from app import audit
from app.display import local_midnight
from app.extensions import db
from app.models import AuditEvent, Screening
from app.staff import keyset
from app.staff.admin import bp
from app.staff.forms import FilterDateField, no_control_characters
from app.staff.queue import choices, pager_args

#: Audit actions in words, and the choices of the action filter: add new actions here. An action
#: missing here is still listed, by its code.
ACTION_LABELS = {
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "sign_out": "Signed out",
    "two_factor_enrolled": "Set up two-factor sign-in",
    "two_factor_replaced": "Changed authenticator app",
    "two_factor_change_refused": "Change of authenticator app refused",
    "password_changed": "Changed password",
    "view_screening": "Viewed screening",
    "print_screening": "Printed screening",
    "change_status": "Changed status",
    "add_note": "Added note",
    "record_judgement": "Recorded judgement",
    "create_account": "Created account",
    "disable_account": "Disabled account",
    "enable_account": "Re-enabled account",
    "reset_two_factor": "Reset two-factor sign-in",
    "view_audit": "Viewed audit trail",
    "export_csv": "Exported screenings (CSV)",
    "export_fhir_ndjson": "Exported screenings (FHIR NDJSON)",
    "export_follow_ups_csv": "Exported follow-ups after treatment (CSV)",
    "export_fhir": "Downloaded a screening (FHIR)",
    "import_fhir": "Imported a screening (FHIR QuestionnaireResponse)",
    "replay_rules": "Replayed the rules",
    "change_clinic_switch": "Changed a clinic setting",
    "find_for_privacy_request": "Looked up a screening for a privacy request",
    "copy_for_patient": "Made a copy for the patient",
    "delete_screening": "Deleted a screening",
    "purge": "Purged expired data",
    "rotate_encryption_key": "Rotated the encryption key",
}

AUDIT_PER_PAGE = 50

#: The audit trail's order, newest first, as a keyset: the columns of `ix_audit_event_at_id`.
AUDIT_ORDER: keyset.Keyset[AuditEvent] = keyset.Keyset(
    "audit", ((AuditEvent.at, datetime), (AuditEvent.id, int)), lambda event: (event.at, event.id), descending=True
)

PAGE_LINK_REFUSED = "That page link could not be used (it may be out of date), so the newest events are shown."


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """What the audit trail shows; every field None means "any"."""

    action: str | None = None
    #: An email address, in full or its beginning.
    actor: str | None = None
    #: A screening reference, in full or in part ("IMS-7K" or "7K").
    reference: str | None = None
    at_from: date | None = None
    at_to: date | None = None


class AuditFilterForm(Form):
    """The audit trail's filters, read from the query string (a GET form: no CSRF token needed)."""

    action = SelectField("Action", default="")
    actor = StringField("Who (email)", validators=[Optional(), no_control_characters, Length(max=254)])
    reference = StringField("Screening reference", validators=[Optional(), no_control_characters, Length(max=12)])
    at_from = FilterDateField("From", validators=[Optional()])
    at_to = FilterDateField("To", validators=[Optional()])

    def to_filter(self) -> AuditFilter:
        return AuditFilter(
            action=self.action.data or None,
            actor=(self.actor.data or "").strip().lower() or None,
            reference=(self.reference.data or "").strip().upper() or None,
            at_from=self.at_from.data,
            at_to=self.at_to.data,
        )


def filters_in_use(values: Mapping[str, object]) -> dict[str, object]:
    """The filters in use, dates as ISO 8601 text: for links and audit records."""
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in values.items() if value}


def audit_query(audit_filter: AuditFilter) -> Select[tuple[AuditEvent]]:
    """Audit events matching the filter, newest first (the order of `ix_audit_event_at_id`)."""
    query = select(AuditEvent)
    if audit_filter.action:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.actor:
        query = query.where(AuditEvent.actor_email.startswith(audit_filter.actor, autoescape=True))
    if code := audit_filter.reference:
        query = query.where(
            AuditEvent.screening_reference.startswith(
                code if code.startswith("IMS-") else "IMS-" + code, autoescape=True
            )
        )
    if audit_filter.at_from:
        query = query.where(AuditEvent.at >= local_midnight(audit_filter.at_from))
    if audit_filter.at_to and audit_filter.at_to < date.max:  # nothing is after date.max (nor can it be added to)
        query = query.where(AuditEvent.at < local_midnight(audit_filter.at_to + timedelta(days=1)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def detail_text(detail: Mapping[str, Any] | None) -> str:
    """An event's detail as one line, e.g. "account_email: a@b.ca; role: admin"."""

    def value_text(value: object) -> str:
        if isinstance(value, Mapping):
            return ", ".join(f"{k}={v}" for k, v in value.items()) or "none"
        if isinstance(value, list | tuple):
            return ", ".join(map(str, value))
        return str(value)

    return "; ".join(f"{key}: {value_text(value)}" for key, value in (detail or {}).items())


def _which_page(wanted: keyset.PageRequest, page: keyset.Page[AuditEvent]) -> str:
    """The page viewed, in words, for the audit record: first, next, previous or last."""
    if page.refused or page.is_first:
        return "first"
    if wanted.last:
        return "last"
    return "next" if wanted.after else "previous"


@bp.get("/audit")
def audit_trail() -> ResponseReturnValue:
    """Who did what, newest first, 50 a page; read-only. Viewing it is itself audited."""
    form = AuditFilterForm(request.args)
    form.action.choices = choices(ACTION_LABELS, "Any action")
    valid = form.validate()
    audit_filter = form.to_filter() if valid else AuditFilter()
    wanted = AUDIT_ORDER.requested(request.args)
    page = AUDIT_ORDER.page(audit_query(audit_filter), wanted, AUDIT_PER_PAGE)
    events = page.rows
    references = {event.screening_reference for event in events if event.screening_reference}
    existing = (
        set(
            db.session.scalars(
                select(Screening.reference).where(Screening.reference.in_(references), Screening.state == "submitted")
            )
        )
        if references
        else set()
    )
    filters = filters_in_use(dataclasses.asdict(audit_filter))
    audit.record("view_audit", filters=filters, page=_which_page(wanted, page))
    db.session.commit()
    return render_template(
        "staff/admin/audit.html",
        form=form,
        filter_valid=valid,
        events=events,
        existing_references=existing,
        page=page,
        page_link_refused=PAGE_LINK_REFUSED if page.refused else None,
        page_args=pager_args(request.args),
        action_labels=ACTION_LABELS,
        detail_text=detail_text,
    )
