"""The triage queue and one screening: answers, rule trace, workflow, notes, judgement, print."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, Form, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

import rules
from app import audit, fhir_import, followup, measures
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE
from app.extensions import db
from app.models import Notification, Screening
from app.staff import queries, review, trajectory
from app.staff.explain import explain
from app.staff.forms import FilterDateField, no_control_characters, without_nul
from rules.outcomes import Outcome

bp = Blueprint("staff", __name__, url_prefix="/staff")

PER_PAGE = 50

#: Outcome -> its label for staff, most urgent first (from the catalogue in rules/outcomes.py).
OUTCOME_LABELS = {outcome.value: outcome.staff_label for outcome in Outcome}


def choices(labels: dict[str, str], blank: str | None = None) -> list[SelectChoice]:
    """Select options from a value -> label mapping, optionally led by an "any" option."""
    options = [SelectChoice("", blank)] if blank else []
    return options + [SelectChoice(value, label) for value, label in labels.items()]


NOTIFICATION_LABELS = {
    "clinic_new_request": "Clinic told of the request",
    "clinic_urgent_screening": "Clinic told of the urgent result",
    "clinic_emergency_withdrawn": "Clinic told the emergency answer was withdrawn",
    "patient_request_confirmation": "Confirmation to the patient",
    "patient_follow_up": "Follow-up questions to the patient",
}


class QueueFilterForm(Form):
    """The queue's filters, read from the query string (a GET form: no CSRF token needed)."""

    outcome = SelectField("Outcome", choices=choices(OUTCOME_LABELS, "Any outcome"), default="")
    status = SelectField("Status", choices=choices(review.STATUS_LABELS, "Any status"), default="")
    submitted_from = FilterDateField("Submitted from", validators=[Optional()])
    submitted_to = FilterDateField("Submitted to", validators=[Optional()])
    reference = StringField("Reference", validators=[Optional(), no_control_characters, Length(max=12)])
    location = SelectField("Preferred location", default="")
    name = StringField("Patient's full name (exact)", validators=[Optional(), no_control_characters, Length(max=120)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The clinic's locations come from the configuration, so the choices are set per request.
        locations = current_app.config["CLINIC_LOCATIONS"]
        self.location.choices = [
            SelectChoice("", "Any location"),
            *(SelectChoice(loc, loc) for loc in locations),
            SelectChoice("any", "No preference"),
        ]

    def to_filter(self) -> queries.QueueFilter:
        return queries.QueueFilter(
            outcome=self.outcome.data or None,
            review_status=self.status.data or None,
            submitted_from=self.submitted_from.data,
            submitted_to=self.submitted_to.data,
            reference=(self.reference.data or "").strip() or None,  # spaces alone filter nothing
            location=self.location.data or None,
            name=(self.name.data or "").strip() or None,
        )


class FollowUpForm(FlaskForm):
    """A form of the screening page whose post runs one follow-up use-case (see `_follow_up`)."""

    #: The form's name in the screening page's template.
    template_name: ClassVar[str]
    #: The field beside which the use-case's refusals are shown (`refusal_field_for`).
    refusal_field: ClassVar[str]

    def refusal_field_for(self, problem: ValueError) -> str:
        """The field beside which the use-case's refusal `problem` is shown."""
        return self.refusal_field


AnyFollowUpForm = TypeVar("AnyFollowUpForm", bound=FollowUpForm)


class StatusForm(FollowUpForm):
    template_name, refusal_field = "status_form", "status"
    # Every status, though the page offers only the allowed moves: the workflow refuses the others
    # with its own message.
    status = SelectField("Change the status to", choices=choices(review.STATUS_LABELS), validators=[InputRequired()])
    # Needed for Booked only, which the page says beside them.
    appointment_date = DateField("Appointment date", validators=[Optional()])
    appointment_time = TimeField("Appointment time", validators=[Optional()])

    def refusal_field_for(self, problem: ValueError) -> str:
        """An appointment refused is said beside what is to be corrected: its time when only the
        time is missing, its date otherwise."""
        if not isinstance(problem, review.AppointmentRefused):
            return self.refusal_field
        return (
            "appointment_time" if self.appointment_date.data and not self.appointment_time.data else "appointment_date"
        )

    def appointment_at(self) -> datetime | None:
        """The appointment as an aware datetime in the clinic's time zone, when both parts are given."""
        if self.appointment_date.data and self.appointment_time.data:
            return datetime.combine(self.appointment_date.data, self.appointment_time.data, tzinfo=CLINIC_TIME_ZONE)
        return None


class NoteForm(FollowUpForm):
    template_name, refusal_field = "note_form", "body"
    body = TextAreaField(
        "Add a note",
        validators=[InputRequired("Write the note before adding it"), Length(max=review.NOTE_MAX_LENGTH)],
        filters=[without_nul],
    )


class JudgementForm(FollowUpForm):
    template_name, refusal_field = "judgement_form", "reason"
    # Led by a blank choice, so nothing is chosen for the physiotherapist: a preselected outcome
    # (the browser shows the first option) makes agreeing one click and inflates the agreement.
    outcome = SelectField(
        "Your outcome",
        choices=choices(OUTCOME_LABELS, "Choose an outcome"),
        validators=[InputRequired("Choose your outcome")],
    )
    reason = TextAreaField(
        "Your reason",
        validators=[InputRequired("Give the reason for your judgement"), Length(max=review.NOTE_MAX_LENGTH)],
        filters=[without_nul],
    )


#: What the queue says when a page link could not be used (tampered, too old, or from before the
#: encryption key was changed).
PAGE_LINK_REFUSED = "That page link could not be used (it may be out of date), so the queue starts from the top."


def pager_args(args: Mapping[str, str]) -> dict[str, str]:
    """The query string without the page's position: the filters, which every page link keeps."""
    return {name: value for name, value in args.items() if name not in ("page", "after", "before")}


@bp.get("/")
def queue() -> ResponseReturnValue:
    """Submitted screenings, most urgent first, with filters and counts, a keyset page at a time."""
    form = QueueFilterForm(request.args)
    valid = form.validate()
    query_filter = form.to_filter() if valid else queries.QueueFilter()
    wanted = queries.QUEUE_ORDER.requested(request.args)
    counted = queries.tally()
    page, total = queries.page_of(query_filter, wanted, PER_PAGE, counted)
    return render_template(
        "staff/queue.html",
        form=form,
        filter_valid=valid,
        # What the queue is filtered by, not what was typed: spaces alone filter nothing.
        filters_in_use=query_filter != queries.QueueFilter(),
        screenings=page.rows,
        page=page,
        page_link_refused=PAGE_LINK_REFUSED if page.refused else None,
        total=total,
        outcome_counts=counted.by("outcome"),
        status_counts=counted.by("review_status"),
        outcome_labels=OUTCOME_LABELS,
        status_labels=review.STATUS_LABELS,
        # Judging blind, the rows whose rules' outcome this physiotherapist has not judged yet.
        hidden_outcomes=review.outcomes_hidden_from(current_user, page.rows),
        page_args=pager_args(request.args),
    )


def screening_or_404(reference: str) -> Screening:
    """A submitted screening by reference; drafts are the patient's, not the clinic's, until sent."""
    if not re.fullmatch(r"[A-Za-z0-9-]{1,12}", reference):  # e.g. a NUL, which PostgreSQL refuses
        abort(404)
    screening = db.session.scalar(
        select(Screening).where(Screening.reference == reference.upper(), Screening.state == "submitted")
    )
    if screening is None:
        abort(404)
    return screening


def _render_screening(
    screening: Screening, template: str = "staff/screening.html", status: int = 200, **forms: FlaskForm
) -> ResponseReturnValue:
    status_form = forms.get("status_form") or StatusForm()
    status_form.status.choices = [
        SelectChoice(s, review.STATUS_LABELS[s]) for s in review.NEXT_STATUSES[screening.review_status]
    ]
    result = screening.stored_result()
    blind = review.judges_blind()
    return render_template(
        template,
        screening=screening,
        result=result,
        explained=explain(result, screening.answers),
        blind=blind,
        hidden=review.rules_outcome_hidden(screening, current_user, blind),
        imported_by=fhir_import.imported_by(screening) if screening.imported_at else None,
        questionnaire=rules.questionnaire(),
        ruleset=rules.ruleset(),
        applicable={q.id for q in rules.questionnaire().applicable(screening.answers)},
        status_form=status_form,
        note_form=forms.get("note_form") or NoteForm(),
        judgement_form=forms.get("judgement_form") or JudgementForm(),
        outcome_labels=OUTCOME_LABELS,
        status_labels=review.STATUS_LABELS,
        notifications=db.session.scalars(
            select(Notification).where(Notification.screening_id == screening.id).order_by(Notification.created_at)
        ).all(),
        notification_labels=NOTIFICATION_LABELS,
        trajectory=trajectory.trajectory(screening, utcnow()),
        follow_up_weeks=measures.follow_up_weeks(current_app.config),
        follow_ups_to_come=followup.upcoming(screening, current_app.config, utcnow()),
        follow_up_send_days=current_app.config["FOLLOW_UP_SEND_DAYS"],
        response_labels=trajectory.RESPONSE_LABELS,
        pain_labels=trajectory.PAIN_LABELS,
    ), status


@bp.get("/screenings/<reference>")
def screening(reference: str) -> ResponseReturnValue:
    """Every answer, the rule trace, the timeline, notes and judgements of one screening (audited)."""
    found = screening_or_404(reference)
    audit.record("view_screening", screening=found)
    db.session.commit()
    return _render_screening(found)


@bp.get("/screenings/<reference>/print")
def print_screening(reference: str) -> ResponseReturnValue:
    """The whole screening laid out for printing into the patient's chart (audited)."""
    found = screening_or_404(reference)
    audit.record("print_screening", screening=found)
    db.session.commit()
    return _render_screening(found, template="staff/screening_print.html")


def _follow_up(
    form_class: type[AnyFollowUpForm],
) -> Callable[[Callable[[Screening, AnyFollowUpForm], str]], Callable[[str], ResponseReturnValue]]:
    """Make a view of a follow-up use-case posted with a `form_class` form.

    The view finds the screening and validates the form; `use_case(screening, form)` then acts and
    returns what to tell the physiotherapist. On success the view commits and sends the browser back
    to the page, which opens with that confirmation; otherwise it shows the screening again (status 400), with the
    use-case's refusal (its ValueError) beside the form's `refusal_field`.
    """

    def decorate(use_case: Callable[[Screening, AnyFollowUpForm], str]) -> Callable[[str], ResponseReturnValue]:
        @functools.wraps(use_case)
        def view(reference: str) -> ResponseReturnValue:
            found = screening_or_404(reference)
            form = form_class()
            if form.validate_on_submit():
                try:
                    done = use_case(found, form)
                except ValueError as problem:
                    form[form.refusal_field_for(problem)].errors.append(str(problem))
                else:
                    db.session.commit()
                    flash(done, "success")
                    # To the top of the page, where the confirmation is (and, on a desktop, the
                    # forms too): opened at the form's own part, the page had scrolled the
                    # confirmation out of sight.
                    return redirect(url_for("staff.screening", reference=found.reference), code=303)
            return _render_screening(found, status=400, **{form.template_name: form})

        return view

    return decorate


@bp.post("/screenings/<reference>/status")
@_follow_up(StatusForm)
def change_status(found: Screening, form: StatusForm) -> str:
    """Move the screening along the workflow (a booking records its appointment)."""
    review.change_status(found, form.status.data or "", current_user, appointment_at=form.appointment_at())
    return f"Status changed to {review.STATUS_LABELS[found.review_status].lower()}."


@bp.post("/screenings/<reference>/notes")
@_follow_up(NoteForm)
def add_note(found: Screening, form: NoteForm) -> str:
    """Append a note."""
    review.add_note(found, form.body.data or "", current_user)
    return "Note added."


@bp.post("/screenings/<reference>/judgement")
@_follow_up(JudgementForm)
def record_judgement(found: Screening, form: JudgementForm) -> str:
    """Record the physiotherapist's own outcome and reason beside the rules' outcome."""
    review.record_judgement(found, form.outcome.data or "", form.reason.data or "", current_user)
    return "Your judgement has been recorded."
