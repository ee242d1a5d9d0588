"""The public, patient-facing pages: information, consent, the questionnaire, the result.

Views stay thin: they read the request, call one use-case in `app.patient.services`, commit, and
redirect (POST-redirect-GET). The session cookie holds only the resume token, never answers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

import rules
from app import clock, display, errors, i18n, links, measures, notifications, pdf
from app.extensions import db, patient_limiter
from app.models import PREFERRED_TIMES, Screening
from app.patient import booking, forms, printable, reveal, services
from rules.outcomes import Outcome
from rules.questionnaire import Section

bp = Blueprint("patient", __name__)

#: Posts per address across every patient page (GETs, so the result and its safety advice, are
#: never limited). Generous, because a clinic's waiting-room Wi-Fi puts many people behind one
#: address: a screening takes about 25 posts, so this lets 30 people screen at once, each
#: finishing in under 13 minutes, faster than anyone really does. A script is held to one post
#: a second, each at most 64 KiB (MAX_CONTENT_LENGTH). Counted in RATELIMIT_STORAGE_URI (Redis
#: in production, shared by the workers); without the store, patients carry on (extensions.py).
#: PATIENT_POST_LIMIT changes it (app/config.py).
patient_limiter.shared_limit(lambda: current_app.config["PATIENT_POST_LIMIT"], scope="patient-posts", methods=["POST"])(
    bp
)

#: The session key holding the patient's resume token (the only thing the cookie carries,
#: with the time it was last used).
TOKEN_KEY = "screening_token"  # noqa: S105 -- the name of a session key, not a secret
LAST_USED_KEY = "screening_last_used"


class ConsentForm(FlaskForm):
    consent = BooleanField(_l("I agree that my answers can be kept for the clinic's physiotherapists to review"))


@bp.get("/")
def landing() -> str:
    """Explain what IMS is, who it tends to help, what the screening is, and offer to start."""
    return render_template("patient/landing.html")


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice: what is collected, why, who sees it, how long, how to ask."""
    return render_template("patient/privacy.html")


@bp.route("/start", methods=["GET", "POST"])
def start() -> ResponseReturnValue:
    """Ask for consent; on consent, create the draft and go to the first page."""
    form = ConsentForm()
    if form.validate_on_submit():
        if not form.consent.data:
            form.consent.errors.append(gettext("Tick the box to agree, or choose “I do not want to continue”"))
            return render_template("patient/consent.html", form=form), 400
        _, token = services.start_screening(current_app.config["DRAFT_RETENTION_DAYS"])
        db.session.commit()
        # A new screening never inherits an earlier one. Only the patient's key is replaced, so a
        # staff member testing the journey in the same browser stays signed in.
        _remember(token)
        return redirect(url_for("patient.step", section_id=rules.questionnaire().sections[0].id))
    return render_template("patient/consent.html", form=form)


@bp.get("/no-consent")
def declined() -> str:
    """Nothing is stored without consent; say how to reach the clinic instead."""
    return render_template("patient/declined.html")


class ResumeChoiceForm(FlaskForm):
    choice = forms.SingleChoiceField(
        _l("Which screening do you want to use?"),
        choices=[
            SelectChoice("open", _l("Carry on with the screening already open in this browser")),
            SelectChoice("link", _l("Open the screening from the link")),
        ],
        validate_choice=False,  # AnyOf says it plainly; WTForms would say "Not a valid choice"
        validators=[AnyOf(["open", "link"], _l("Select which screening you want to use"))],
    )


@bp.route("/resume/<token>", methods=["GET", "POST"])
def resume(token: str) -> ResponseReturnValue:
    """Swap a resume link's token for the session cookie, then leave the token out of the URL.

    When this browser already has a different screening open, ask first. Replacing it silently
    would lose it for good to anyone without its own resume link (a shared phone or tablet in a
    waiting room, a link forwarded by someone else); the page shows neither one's answers.
    """
    screening = services.find_by_token(token)
    if screening is None:
        return render_template("patient/resume_invalid.html"), 404
    onward = redirect(url_for("patient.continue_screening"), code=303 if request.method == "POST" else 302)
    open_now = _open_screening(other_than=token)
    if open_now is None:
        _remember(token)  # staff sign-ins in the same browser are kept
        i18n.choose(screening.language)  # the link opens in the language the screening was in
        return onward
    form = ResumeChoiceForm()
    if form.validate_on_submit():
        if form.choice.data == "link":
            _remember(token)
            i18n.choose(screening.language)
        return onward
    return render_template(
        "patient/resume_choice.html", form=form, open_now=open_now, token=token
    ), 400 if form.is_submitted() else 200


def _open_screening(other_than: str) -> Screening | None:
    """The screening this browser has open, unless it is the one `other_than` opens (or none,
    or it is forgotten because the browser was left unused)."""
    if session.get(TOKEN_KEY) == other_than or _idle_too_long():
        return None
    return _session_screening()


def with_screening(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Load the session's screening into `g.screening`, or send the person to the start.

    A browser left unused for PATIENT_IDLE_MINUTES forgets its screening, so a shared phone or
    tablet does not show one person's health answers to the next; the resume link still works.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        screening = _session_screening()
        if screening is None:
            if session.get(TOKEN_KEY) is not None:
                _forget()
                return render_template("patient/resume_invalid.html"), 404
            return redirect(url_for("patient.start"))
        if _idle_too_long():
            _forget()
            return render_template("patient/timed_out.html")
        session[LAST_USED_KEY] = int(clock.timestamp())
        g.screening = screening
        return view(*args, **kwargs)

    return wrapped


def _session_screening() -> Screening | None:
    """The screening whose token this browser's session holds, if it still exists.

    A draft's answers are read as the current questionnaire can use them (`services.keep_to_questionnaire`).
    """
    token = session.get(TOKEN_KEY)
    screening = services.find_by_token(token, for_update=request.method == "POST") if isinstance(token, str) else None
    if screening is not None:
        services.keep_to_questionnaire(screening)
    return screening


def _remember(token: str) -> None:
    session[TOKEN_KEY] = token
    session[LAST_USED_KEY] = int(clock.timestamp())


def _forget() -> None:
    session.pop(TOKEN_KEY, None)
    session.pop(LAST_USED_KEY, None)


def _idle_too_long() -> bool:
    last_used = session.get(LAST_USED_KEY)
    idle_limit = current_app.config["PATIENT_IDLE_MINUTES"] * 60
    return not isinstance(last_used, int) or clock.timestamp() - last_used > idle_limit


def with_draft(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """As `with_screening`, but a submitted screening goes to its result: it cannot change."""

    @wraps(view)
    @with_screening
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if g.screening.state == "submitted":
            return redirect(url_for("patient.result"), code=303)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/screening")
@with_screening
def continue_screening() -> ResponseReturnValue:
    """Go to where the person left off: the first unfinished page, the check page, or the result."""
    if g.screening.state == "submitted":
        return redirect(url_for("patient.result"))
    incomplete = rules.questionnaire().first_incomplete_section(g.screening.answers)
    if incomplete is None or services.decided(g.screening) is not None:
        return redirect(url_for("patient.check"))
    return redirect(url_for("patient.step", section_id=incomplete.id))


@bp.route("/screening/<section_id>", methods=["GET", "POST"])
@with_draft
def step(section_id: str) -> ResponseReturnValue:
    """One page of questions: show it with the saved answers, or save it and move on."""
    screening = g.screening
    section = rules.questionnaire().section(section_id)
    if section is None:
        abort(404)
    sections = rules.questionnaire().applicable_sections(screening.answers)
    elsewhere = _elsewhere(section, sections)
    if elsewhere is not None:
        return redirect(elsewhere)

    form_class = forms.page_form_class(section.id)
    if request.method == "GET":
        return _show_step(form_class, section, sections)

    form = form_class()
    if forms.unexpected_fields(form, request.form):
        abort(400)
    form.decide_applicability(screening.answers)
    complete = form.validate()
    answers = form.answers_to_save(screening.answers, complete=complete)
    decided = rules.decided(answers)
    if decided is Outcome.EMERGENCY:
        # No more questions and no check page, even on "save and come back later" or with
        # something else on the page to correct: the advice comes now, and the clinic is told
        # now, in case the person closes the page.
        services.save_answers(screening, answers, current_app.config["DRAFT_RETENTION_DAYS"], i18n.current().tag)
        return _send(screening)
    if not complete and request.form.get("action") != "save":
        # POST-redirect-GET for errors too: the page shows what was posted and why once, and
        # the browser's Back button never offers to send the form again.
        fields = [(name, value) for name, value in request.form.items(multi=True) if name != "csrf_token"]
        errors = {
            name: [str(message) for message in messages] for name, messages in form.errors.items() if name in form
        }
        services.keep_refused_page(screening, section.id, fields, errors)
        db.session.commit()
        return_to = "check" if request.form.get("return_to") == "check" else None
        return redirect(url_for("patient.step", section_id=section.id, return_to=return_to), code=303)
    services.save_answers(screening, answers, current_app.config["DRAFT_RETENTION_DAYS"], i18n.current().tag)
    onward = _after_saving(section, decided)  # before the commit, which expires the row it reads
    db.session.commit()
    return redirect(onward, code=303)


def _show_step(form_class: type[forms.QuestionPage], section: Section, sections: list[Section]) -> str:
    """The page with the saved answers; or, just after it was refused, with what was posted and
    its errors, shown once (a reload, or Back to it, shows the saved answers)."""
    screening = g.screening
    refused = None
    if screening.refused_page is not None:
        refused = services.take_refused_page(screening, section.id)
        db.session.commit()  # forgotten, whichever page it was for
    if refused is None:
        form = form_class(formdata=None, data=forms.stored_to_form_data(section, screening.answers))
    else:
        form = form_class(formdata=MultiDict(refused.fields))  # its token field renders a new one
    form.decide_applicability(screening.answers)
    for name, messages in (refused.errors if refused else {}).items():
        if name in form:  # a page kept before a questionnaire change may name a retired field
            form[name].errors = list(messages)
    return _render_step(form, section, sections)


def _elsewhere(section: Section, sections: list[Section]) -> str | None:
    """Where to go instead of `section`: past it when it no longer applies, back to a gap before it."""
    if section not in sections:  # its questions no longer apply: carry on past it
        return url_for("patient.continue_screening")
    first_gap = rules.questionnaire().first_incomplete_section(g.screening.answers)
    if first_gap is not None and sections.index(section) > sections.index(first_gap):
        return url_for("patient.step", section_id=first_gap.id)
    return None


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    """A question page posted with an expired or otherwise invalid CSRF token keeps its answers.

    CSRFProtect refuses the post before the view runs. Instead of the bare 400 page, which would
    lose what the person just chose, the same page is shown again (still a 400) with the posted
    answers, a fresh token and a message asking them to press Continue again. Nothing is saved
    until they do, so a forged post still changes nothing. Any other refused post, or a page
    that could not be shown, gets the 400 page as before: there is nothing typed to lose.
    """
    if request.endpoint == "patient.step" and request.method == "POST" and request.view_args:
        page = _send_again(**request.view_args)
        if page is not None:
            return page, 400
    return errors.handle_http_error(error)


def _send_again(section_id: str) -> str | None:
    """The question page again with the posted answers, if this browser's open draft can show it."""
    screening = _session_screening()
    section = rules.questionnaire().section(section_id)
    if screening is None or screening.state != "draft" or _idle_too_long() or section is None:
        return None
    g.screening = screening
    sections = rules.questionnaire().applicable_sections(screening.answers)
    form = forms.page_form_class(section.id)()  # the posted answers; its token field renders a new one
    if _elsewhere(section, sections) is not None or forms.unexpected_fields(form, request.form):
        return None
    session[LAST_USED_KEY] = int(clock.timestamp())  # the person is here, pressing Continue
    form.decide_applicability(screening.answers)
    return _render_step(form, section, sections, send_again=True)


def _after_saving(section: Section, decided: Outcome | None) -> str:
    """Where a saved page leads: saved-link page, back to the check page, reassurance, or onward.

    `decided` is the outcome the saved answers already decide (`rules.decided`), if any."""
    answers = g.screening.answers
    if request.form.get("action") == "save":
        return url_for("patient.saved")
    if request.form.get("return_to") == "check":
        return url_for("patient.continue_screening")
    if decided is not None:
        return url_for("patient.check")  # the answers so far decide the outcome: no more questions
    if section.needs_needle_reassurance(answers):
        return url_for("patient.needle_reassurance")
    return _next_page(section)


def _next_page(section: Section) -> str:
    sections = rules.questionnaire().applicable_sections(g.screening.answers)
    following = sections[sections.index(section) + 1 :] if section in sections else []
    if following:
        return url_for("patient.step", section_id=following[0].id)
    return url_for("patient.continue_screening")


def _render_step(form: forms.QuestionPage, section: Section, sections: list[Section], send_again: bool = False) -> str:
    index = sections.index(section)
    previous = sections[index - 1] if index else None
    return render_template(
        "patient/step.html",
        form=form,
        section=section,
        questions=section.prompts_among(_shown(form)),
        step_number=index + 1,
        step_count=len(sections),
        back_url=url_for("patient.step", section_id=previous.id) if previous else url_for("patient.start"),
        return_to=request.values.get("return_to", ""),
        for_someone_else=_for_someone_else(),
        revealed=reveal.revealed_questions(section),
        send_again=send_again,
    )


def _shown(form: forms.QuestionPage) -> set[str]:
    """The questions to show: those that apply now, and those that CSS reveals as the person answers."""
    return set(form.applicable_ids) | set(reveal.revealed_questions(form.section))


def _for_someone_else() -> bool:
    return rules.questionnaire().for_someone_else(g.screening.answers)


@bp.get("/screening/needles-and-you")
@with_draft
def needle_reassurance() -> str:
    """Plain words for someone nervous about needles or prone to fainting, before going on."""
    section = rules.questionnaire().needle_reassurance_section
    if section is None:
        abort(404)
    return render_template(
        "patient/needle_reassurance.html",
        back_url=url_for("patient.step", section_id=section.id),
        next_url=_next_page(section),
        for_someone_else=_for_someone_else(),
    )


@bp.get("/screening/saved")
@with_draft
def saved() -> str:
    """The resume link to copy or bookmark, and until when it works."""
    link = links.public_url(url_for("patient.resume", token=session[TOKEN_KEY]))
    return render_template("patient/saved.html", resume_link=link, expires_at=g.screening.expires_at)


@bp.get("/screening/check")
@with_draft
def check() -> ResponseReturnValue:
    """Every answer, grouped by page, each with a link to change it.

    When the answers so far decide the outcome (`services.decided`) before every question was
    asked, only the answers that decided it are shown, to check and send.
    """
    answers = g.screening.answers
    questionnaire = rules.questionnaire()
    sections = questionnaire.applicable_sections(answers)
    incomplete = questionnaire.first_incomplete_section(answers)
    shown = {q.id for q in questionnaire.applicable(answers)}
    back_section = sections[-1]
    decided = services.decided(g.screening) if incomplete is not None else None
    if decided is not None:
        back_section = [s for s in sections if any(q.id in answers for q in s.questions)][-1]  # the last one answered
        shown = {name for reason in rules.evaluate(answers).explaining() for name in reason.answers}
        sections = [s for s in sections if any(q.id in shown for q in s.questions)]
        incomplete = None
    return render_template(
        "patient/check.html",
        sections=sections,
        answers=answers,
        applicable=shown,
        incomplete=incomplete,
        stopped_early=decided is not None,
        back_section=back_section,
        for_someone_else=_for_someone_else(),
        form=FlaskForm(),
    )


@bp.post("/screening/submit")
@with_screening
def submit() -> ResponseReturnValue:
    """Judge the answers and store the result; a repeat (double click, refresh) changes nothing."""
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    screening = g.screening
    if screening.state == "draft":
        unfinished = rules.questionnaire().first_incomplete_section(screening.answers) is not None
        if unfinished and services.decided(screening) is None:
            return redirect(url_for("patient.continue_screening"), code=303)
        return _send(screening)
    return redirect(url_for("patient.result"), code=303)


def _send(screening: Screening) -> ResponseReturnValue:
    """Submit the draft, commit, tell the clinic (when the outcome needs it) and show the result."""
    services.submit_screening(screening)
    db.session.commit()
    notifications.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return redirect(url_for("patient.result"), code=303)


@bp.get("/screening/result")
@with_screening
def result() -> ResponseReturnValue:
    """The outcome in plain words, its reasons, and the right next step."""
    screening = g.screening
    if screening.state != "submitted":
        return redirect(url_for("patient.check"))
    if not _result_shown(screening):
        return render_template("patient/sent.html", screening=screening)
    return render_template(
        "patient/result.html",
        screening=screening,
        result=screening.stored_result(),
        for_someone_else=_for_someone_else(),
        withdraw_form=WithdrawEmergencyForm() if _can_withdraw(screening) else None,
    )


class WithdrawEmergencyForm(FlaskForm):
    """The one button under an emergency result: "I chose this by mistake"."""


@bp.post("/screening/chose-by-mistake")
@with_screening
def withdraw_emergency() -> ResponseReturnValue:
    """Take back the answer that made the result an emergency, and ask that question again.

    The emergency screening stays as it was sent, marked withdrawn, and the clinic is told (see
    `services.withdraw_emergency`); the person carries on in a new draft with the other answers.
    """
    if not WithdrawEmergencyForm().validate_on_submit():
        abort(400)
    screening = g.screening
    if not _can_withdraw(screening):
        return redirect(url_for("patient.result"), code=303)
    services.withdraw_emergency(screening, current_app.config["DRAFT_RETENTION_DAYS"])
    db.session.commit()
    notifications.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return redirect(url_for("patient.continue_screening"), code=303)


def _can_withdraw(screening: Screening) -> bool:
    return services.has_emergency_to_withdraw(screening) and _result_shown(screening)


def _result_shown(screening: Screening) -> bool:
    return services.result_visible(screening, current_app.config["RESULT_VISIBLE_DAYS"])


#: PDFs one address may have made, per the patients' limiter: each takes a worker a few tenths of
#: a second, where a page takes milliseconds. Enough for a waiting room's people to save theirs
#: several times over. Read on each request (so a test can lower it).
PDF_LIMIT = "60 per 10 minutes"
#: One count for both PDFs.
pdf_limit = patient_limiter.shared_limit(lambda: PDF_LIMIT, scope="patient-pdfs")


@bp.get("/screening/summary")
@with_screening
def summary() -> ResponseReturnValue:
    """The result to print or save, as its page shows it: the reasons and the next step."""
    return _printout("patient/summary.html", g.screening, as_pdf=False)


@bp.get("/screening/summary.pdf")
@pdf_limit
@with_screening
def summary_pdf() -> ResponseReturnValue:
    """The result's summary as a PDF file, to keep or to print."""
    return _printout("patient/summary.html", g.screening, as_pdf=True)


@bp.get("/screening/letter")
@with_screening
def letter() -> ResponseReturnValue:
    """For a result that sends the person to a doctor: a letter for the doctor, to print or show."""
    return _printout("patient/letter.html", g.screening, as_pdf=False, letter=True)


@bp.get("/screening/letter.pdf")
@pdf_limit
@with_screening
def letter_pdf() -> ResponseReturnValue:
    """The letter for a doctor as a PDF file, to print or send."""
    return _printout("patient/letter.html", g.screening, as_pdf=True, letter=True)


def _printout(template: str, screening: Screening, as_pdf: bool, letter: bool = False) -> ResponseReturnValue:
    """A printable page of the session's submitted screening, or its PDF; none for a draft, nor
    once the result is no longer shown (RESULT_VISIBLE_DAYS), nor a letter for a result that
    sends nobody to a doctor: those go where the result page would send them."""
    if screening.state != "submitted":
        return redirect(url_for("patient.check"))
    if not _result_shown(screening) or (letter and not printable.has_letter(screening)):
        return redirect(url_for("patient.result"))
    language = i18n.current()
    html = render_template(
        template,
        as_pdf=as_pdf,
        screening=screening,
        result=screening.stored_result(),
        signs=printable.signs_reported(screening) if letter else [],
        for_someone_else=_for_someone_else(),
        own_language=language if language is not i18n.ENGLISH else None,
        own_language_name=display.language_name(language.tag),
    )
    if not as_pdf:
        return html
    try:
        document = pdf.from_html(html)
    except pdf.Unavailable:
        current_app.logger.exception("A PDF was asked for, but WeasyPrint cannot run")
        abort(503)
    response = Response(document, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=printable.pdf_filename(screening))
    response.headers["Cache-Control"] = "no-store"  # health information: no copy in any cache
    return response


@bp.route("/screening/request-assessment", methods=["GET", "POST"])
@with_screening
def request_assessment() -> ResponseReturnValue:
    """Ask the clinic to get in touch about an assessment (offered on bookable results only)."""
    screening = g.screening
    if not booking.can_request(screening) or not _result_shown(screening):
        return redirect(url_for("patient.result"))
    if screening.assessment_request is not None:
        return redirect(url_for("patient.request_sent"))
    form = forms.AssessmentRequestForm()
    locations = current_app.config["CLINIC_LOCATIONS"]
    form.preferred_location.choices = [SelectChoice(loc, loc) for loc in locations] + [
        SelectChoice("any", gettext("Either location") if len(locations) == 2 else gettext("Any location"))
    ]
    form.preferred_times.choices = [SelectChoice(value, gettext(label)) for value, label in PREFERRED_TIMES.items()]
    if form.validate_on_submit():
        booking.request_assessment(
            screening,
            booking.ContactDetails(
                name=(form.name.data or "").strip(),
                email=(form.email.data or "").strip() or None,
                phone=(form.phone.data or "").strip() or None,
                preferred_location=form.preferred_location.data or "any",
                preferred_times=list(form.preferred_times.data or []),
                message=(form.message.data or "").strip() or None,
                follow_up_consent=bool(form.follow_up_consent.data),
                activities=form.activities(),
            ),
        )
        screening.language = i18n.current().tag  # the patient's confirmation is in the language of this page
        db.session.commit()
        notifications.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
        return redirect(url_for("patient.request_sent"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "patient/request_assessment.html",
        form=form,
        screening=screening,
        for_someone_else=_for_someone_else(),
        follow_up_weeks=measures.follow_up_weeks(current_app.config),
        measures=measures,
    ), status


@bp.get("/screening/request-sent")
@with_screening
def request_sent() -> ResponseReturnValue:
    """Confirmation of an assessment request: the reference and what happens next."""
    request_made = g.screening.assessment_request
    if request_made is None or not _result_shown(g.screening):
        return redirect(url_for("patient.result"))
    return render_template("patient/request_sent.html", screening=g.screening, request_made=request_made)


@bp.get("/screening/questions.css")
def reveal_css() -> Response:
    """The generated stylesheet that reveals follow-up questions (see app/patient/reveal.py)."""
    response = Response(reveal.stylesheet(), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
