"""Admin pages of the staff portal: accounts, the audit trail and the CSV export of screenings.

Every route here is for admins only: `access.ADMIN_BLUEPRINTS` names this blueprint, and the
central guard refuses it (403) to anyone else, so the views carry no login decorators. The
app-wide CSRFProtect checks every POST (the buttons carry `csrf_token()`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from wtforms import EmailField, Form, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

import rules
from app import audit
from app import auth as credentials
from app.display import CLINIC_TIME_ZONE, local_midnight
from app.extensions import db
from app.models import ROLES, AuditEvent, Screening, StaffUser
from app.staff import queries
from app.staff.forms import FilterDateField, no_control_characters
from app.staff.queue import QueueFilterForm, choices

bp = Blueprint("staff_admin", __name__, url_prefix="/staff")

ROLE_LABELS = {"physio": "Physiotherapist", "admin": "Admin"}
assert set(ROLE_LABELS) == set(ROLES)

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
    "export_fhir": "Downloaded a screening (FHIR)",
    "replay_rules": "Replayed the rules",
    "find_for_privacy_request": "Looked up a screening for a privacy request",
    "copy_for_patient": "Made a copy for the patient",
    "delete_screening": "Deleted a screening",
    "purge": "Purged expired data",
    "rotate_encryption_key": "Rotated the encryption key",
}

AUDIT_PER_PAGE = 50

#: The fixed columns of the CSV export, before one column per question id.
EXPORT_COLUMNS = (
    "reference",
    "submitted_at",
    "outcome",
    "candidacy",
    "clinician_outcome",
    "review_status",
    "ruleset_version",
    "fired_rules",
)
#: Rows fetched from the database at a time while the export streams.
EXPORT_BATCH = 500
#: Lines of an export are sent in chunks of about this many characters.
EXPORT_CHUNK = 64 * 1024
#: Starts the CSV export, so that Excel takes it for UTF-8.
UTF8_BOM = "\ufeff"
#: A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# ---- Accounts ------------------------------------------------------------------------------


def _acceptable_password(form: NewAccountForm, field: PasswordField) -> None:
    if (
        problem := credentials.password_problem(
            field.data or "", credentials.normalise_email(form.email.data or ""), form.name.data or ""
        )
    ) is not None:
        raise ValidationError(problem)


class NewAccountForm(FlaskForm):
    """A new staff account. The messages are `create_staff`'s, which has the last word."""

    name = StringField("Full name", validators=[InputRequired("Enter the person's name."), Length(max=120)])
    email = EmailField(
        "Email address",
        validators=[InputRequired("Enter an email address, like name@clinic.ca."), Length(max=254)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    role = SelectField("Role", choices=choices(ROLE_LABELS), default="physio", validators=[InputRequired()])
    # new-password: a password manager must not fill in the admin's own password here.
    password = PasswordField(
        "Initial password", validators=[_acceptable_password], render_kw={"autocomplete": "new-password"}
    )


def _account_field_for(form: NewAccountForm, problem: str) -> StringField | PasswordField | SelectField:
    """The field a `create_staff` message is about, so it is shown beside that field."""
    if problem == credentials.password_problem(
        form.password.data or "", credentials.normalise_email(form.email.data or ""), form.name.data or ""
    ):
        return form.password
    lowered = problem.lower()
    if "role" in lowered:
        return form.role
    if "email" in lowered:
        return form.email
    return form.name


def _render_accounts(
    form: NewAccountForm | None = None, problem: str | None = None, status: int = 200
) -> ResponseReturnValue:
    accounts = db.session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name, StaffUser.id)
    ).all()
    return render_template(
        "staff/admin/accounts.html",
        accounts=accounts,
        form=form or NewAccountForm(formdata=None),
        problem=problem,
        role_labels=ROLE_LABELS,
    ), status


@bp.get("/accounts")
def accounts() -> ResponseReturnValue:
    """Every staff account, with the form to add one and buttons to disable, re-enable or reset."""
    return _render_accounts()


@bp.post("/accounts")
def add_account() -> ResponseReturnValue:
    """Add an account; the person sets up two-factor sign-in when they first sign in."""
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = credentials.create_staff(
                form.email.data or "", form.name.data or "", form.role.data or "", form.password.data or ""
            )
        except ValueError as problem:
            _account_field_for(form, str(problem)).errors.append(str(problem))
        else:
            audit.record("create_account", account_id=user.id, account_email=user.email, role=user.role)
            db.session.commit()
            flash(
                f"Account created for {user.name} ({user.email}). Give them the initial password in person "
                "or by phone; they set up two-factor sign-in when they first sign in.",
                "success",
            )
            return redirect(url_for("staff_admin.accounts"), code=303)
    return _render_accounts(form=form, status=400)


def _account_or_404(account_id: int) -> StaffUser:
    user = db.session.get(StaffUser, account_id)
    if user is None:
        abort(404)
    return user


def _is_me(user: StaffUser) -> bool:
    return user.id == current_user.id


@bp.post("/accounts/<int:account_id>/disable")
def disable_account(account_id: int) -> ResponseReturnValue:
    """Stop an account from signing in; every session it has ends at once."""
    user = _account_or_404(account_id)
    if _is_me(user):
        return _render_accounts(problem="You cannot disable your own account. Ask another admin to do it.", status=400)
    if user.active:
        user.active = False
        credentials.end_all_sessions(user)
        audit.record("disable_account", account_id=user.id, account_email=user.email)
        db.session.commit()
    flash(f"The account of {user.name} ({user.email}) is disabled. They are signed out everywhere.", "success")
    return redirect(url_for("staff_admin.accounts"), code=303)


@bp.post("/accounts/<int:account_id>/enable")
def enable_account(account_id: int) -> ResponseReturnValue:
    """Let a disabled account sign in again (its old sessions stay ended)."""
    user = _account_or_404(account_id)
    if not user.active:
        user.active = True
        audit.record("enable_account", account_id=user.id, account_email=user.email)
        db.session.commit()
    flash(f"The account of {user.name} ({user.email}) is active again.", "success")
    return redirect(url_for("staff_admin.accounts"), code=303)


@bp.post("/accounts/<int:account_id>/reset-two-factor")
def reset_two_factor(account_id: int) -> ResponseReturnValue:
    """For a lost phone: forget the authenticator app and recovery codes; sessions end; they enrol again."""
    user = _account_or_404(account_id)
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_code_hashes = []
    credentials.end_all_sessions(user)
    audit.record("reset_two_factor", account_id=user.id, account_email=user.email)
    db.session.commit()
    if _is_me(user):
        logout_user()
        session.clear()
        flash("Your two-factor sign-in was reset. Sign in again, then set up your authenticator app.", "info")
        return redirect(url_for("staff_auth.sign_in"), code=303)
    flash(
        f"Two-factor sign-in of {user.name} ({user.email}) was reset and they are signed out everywhere. "
        "They set up their authenticator app again when they next sign in.",
        "success",
    )
    return redirect(url_for("staff_admin.accounts"), code=303)


# ---- Audit trail ---------------------------------------------------------------------------


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


def _json_ready(values: Mapping[str, object]) -> dict[str, object]:
    """The filters in use, dates as ISO 8601 text: for links and audit records."""
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in values.items() if value}


def audit_query(audit_filter: AuditFilter) -> Select[tuple[AuditEvent]]:
    """Audit events matching the filter, newest first (the order of `ix_audit_event_at`)."""
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


@bp.get("/audit")
def audit_trail() -> ResponseReturnValue:
    """Who did what, newest first, 50 a page; read-only. Viewing it is itself audited."""
    form = AuditFilterForm(request.args)
    form.action.choices = choices(ACTION_LABELS, "Any action")
    valid = form.validate()
    audit_filter = form.to_filter() if valid else AuditFilter()
    page = request.args.get("page", "1")
    # isascii: "²" and other Unicode digits pass isdigit() but not int().
    page_number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100_000 else 1
    rows = db.session.scalars(
        audit_query(audit_filter).limit(AUDIT_PER_PAGE + 1).offset((page_number - 1) * AUDIT_PER_PAGE)
    ).all()
    events, has_next = rows[:AUDIT_PER_PAGE], len(rows) > AUDIT_PER_PAGE
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
    filters = _json_ready(dataclasses.asdict(audit_filter))
    audit.record("view_audit", filters=filters, page=page_number)
    db.session.commit()
    return render_template(
        "staff/admin/audit.html",
        form=form,
        filter_valid=valid,
        events=events,
        existing_references=existing,
        page=page_number,
        has_next=has_next,
        page_args=filters,
        action_labels=ACTION_LABELS,
        detail_text=detail_text,
    )


# ---- CSV export ----------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (ASVS 1.2.10); no NUL bytes."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = ";".join(str(item) for item in value)
    else:
        text = str(value)
    text = text.replace("\x00", "")
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text


def _utc_iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def _memoised_safe_cell() -> Callable[[object], str]:
    """`safe_cell`, remembering its answer for short text and numbers, which repeat all through an
    export ("yes", "no", 7...). The memory is bounded, so a long export still stays flat."""
    known: dict[object, str] = {}

    def safe(value: object) -> str:
        kind = type(value)
        if kind is not str and kind is not int:  # not bool (True == 1), lists...
            return "" if value is None else safe_cell(value)
        text = known.get(value)
        if text is None:
            text = safe_cell(value)
            if len(known) < 4_096 and (kind is int or len(value) <= 40):  # type: ignore[arg-type]
                known[value] = text
        return text

    return safe


def _csv_lines(rows: Iterable[Sequence[Any]], question_ids: list[str]) -> Iterator[str]:
    """The header, then one line per screening, each through a small buffer (memory stays flat)."""
    buffer = io.StringIO()
    # RFC 4180: comma, double quotes, CRLF. Every field quoted: a spreadsheet set to split on ";"
    # (the European locales) then still reads ";=1+1" as one text cell, never as "" and "=1+1".
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    safe = _memoised_safe_cell()

    def line(cells: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(map(safe, cells))
        return buffer.getvalue()

    yield line([*EXPORT_COLUMNS, *question_ids])
    for (
        reference,
        submitted_at,
        outcome,
        candidacy,
        clinician_outcome,
        review_status,
        ruleset_version,
        reasons,
        answers,
    ) in rows:
        fired = " ".join(reason.get("rule_id", "") for reason in reasons or [])
        yield line(
            [
                reference,
                _utc_iso(submitted_at),
                outcome,
                candidacy,
                clinician_outcome,
                review_status,
                ruleset_version,
                fired,
                *map((answers or {}).get, question_ids),
            ]
        )


def _chunks(pieces: Iterable[str], size: int = EXPORT_CHUNK) -> Iterator[str]:
    """`pieces` joined into chunks of about `size` characters: one write to the socket each, not one
    per line."""
    pending: list[str] = []
    length = 0
    for piece in pieces:
        pending.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def _audited_export_filter(action: str) -> queries.QueueFilter | Response:
    """The queue filter an export was asked for, recorded in the audit trail; or a 400 saying
    which filter is wrong (an export never falls back to "everything")."""
    form = QueueFilterForm(request.args)
    if not form.validate():
        problems = "; ".join(f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items())
        return Response(f"Some filters could not be used: {problems}\n", status=400, mimetype="text/plain")
    query_filter = form.to_filter()
    filters = _json_ready(dataclasses.asdict(query_filter))
    if filters.get("name"):
        filters["name"] = "(a name)"  # the audit trail is not encrypted: record that, not who
    audit.record(action, filters=filters)
    db.session.commit()
    return query_filter


@bp.get("/export.csv")
def export_csv() -> ResponseReturnValue:
    """The screenings the queue shows for the same filters, in its order, streamed as CSV (audited)."""
    query_filter = _audited_export_filter("export_csv")
    if isinstance(query_filter, Response):
        return query_filter
    query = (
        queries.filtered(query_filter)
        .with_only_columns(
            Screening.reference,
            Screening.submitted_at,
            Screening.outcome,
            Screening.candidacy,
            Screening.clinician_outcome,
            Screening.review_status,
            Screening.ruleset_version,
            Screening.reasons,
            Screening.answers,
        )
        .execution_options(yield_per=EXPORT_BATCH)
    )
    question_ids = [question.id for question in rules.questionnaire()]

    def generate() -> Iterator[str]:
        result = db.session.execute(query)
        try:
            # The byte order mark first: Excel on Windows then reads the file as UTF-8, so accented
            # names (Amélie, Nguyễn) show as typed rather than as "AmÃ©lie".
            yield from _chunks(itertools.chain([UTF8_BOM], _csv_lines(result, question_ids)))
        finally:
            result.close()

    today = datetime.now(CLINIC_TIME_ZONE).date().isoformat()
    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="ims-screenings-{today}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.ndjson")
def export_fhir_ndjson() -> ResponseReturnValue:
    """The queue's screenings for the same filters as FHIR Bundles, one per line (NDJSON), streamed."""
    from app.staff.interop import bundle_for

    query_filter = _audited_export_filter("export_fhir_ndjson")
    if isinstance(query_filter, Response):
        return query_filter
    query = queries.filtered(query_filter).execution_options(yield_per=EXPORT_BATCH)

    def generate() -> Iterator[str]:
        for screening in db.session.scalars(query):
            yield json.dumps(bundle_for(screening), ensure_ascii=False, separators=(",", ":")) + "\n"

    today = datetime.now(CLINIC_TIME_ZONE).date().isoformat()
    response = Response(stream_with_context(generate()), mimetype="application/fhir+ndjson")
    response.headers["Content-Disposition"] = f'attachment; filename="ims-screenings-{today}.ndjson"'
    return response
