"""The follow-up after treatment, the patient's pages (issue 18): opened from the link in the
invitation email, a few questions one page at a time, a check of the answers, and thanks with
what to do if things get worse; and the stop links of every invitation.

Routes of the patient blueprint (`views.bp`), so the patient's language, rate limit and headers
apply. As with resume links (`views.resume`), the email's link swaps its token for the session
cookie and leaves the URL; the cookie holds the token only, never an answer. The token opens its
own follow-up and nothing else: no page takes an id. It works until the follow-up is answered,
it expires, or the person stops the follow-ups. Views stay thin: the use-cases are in
app/followup.py; nothing here touches the screening's stored result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, ValidationError

from app import clock, followup, i18n, measures
from app.extensions import csrf, db
from app.models import FollowUp
from app.patient.forms import SingleChoiceField
from app.patient.views import bp

#: The session keys of an open follow-up: its link's token, and when the browser last used it.
FOLLOW_UP_KEY = "follow_up_token"
FOLLOW_UP_LAST_USED_KEY = "follow_up_last_used"

#: The pages' titles (their <h1>), in the catalogue.
PAGE_TITLES = {
    "pain": _l("Your pain"),
    "change": _l("How things have changed"),
    "ims": _l("IMS sessions"),
    "activities": _l("Your everyday activities"),
}


# ---- Forms -----------------------------------------------------------------------------------


def _scale_field(label: str, message: Any, low: int, high: int) -> SingleChoiceField:
    """Radios for whole numbers from `low` to `high` (a 0-10 scale), one required answer."""
    values = [str(number) for number in range(low, high + 1)]
    return SingleChoiceField(
        label,
        choices=[SelectChoice(value, value) for value in values],
        validate_choice=False,  # AnyOf says it plainly; WTForms would say "Not a valid choice"
        validators=[InputRequired(message), AnyOf(values, message)],
    )


class PainPage(FlaskForm):
    current_pain = _scale_field(
        _l(measures.QUESTIONS["current_pain"]),
        _l("Select a number from 0 to 10 for how bad your pain is right now"),
        measures.PAIN_MIN,
        measures.PAIN_MAX,
    )
    average_pain = _scale_field(
        _l(measures.QUESTIONS["average_pain"]),
        _l("Select a number from 0 to 10 for your pain on average over the past week"),
        measures.PAIN_MIN,
        measures.PAIN_MAX,
    )

    def answers(self) -> dict[str, Any]:
        return {"current_pain": int(self.current_pain.data), "average_pain": int(self.average_pain.data)}


class ChangePage(FlaskForm):
    pgic = SingleChoiceField(
        _l(measures.QUESTIONS["pgic"]),
        choices=[SelectChoice(str(point), _l(label)) for point, label in measures.PGIC.items()],
        validate_choice=False,
        validators=[
            InputRequired(_l("Select how your pain problem has changed")),
            AnyOf([str(point) for point in measures.PGIC], _l("Select how your pain problem has changed")),
        ],
    )

    def answers(self) -> dict[str, Any]:
        return {"pgic": int(self.pgic.data)}


class ImsPage(FlaskForm):
    had_ims = SingleChoiceField(
        _l(measures.QUESTIONS["had_ims"]),
        choices=[SelectChoice(value, _l(label)) for value, label in measures.HAD_IMS.items()],
        validate_choice=False,
        validators=[
            InputRequired(_l("Select whether you have had IMS")),
            AnyOf(list(measures.HAD_IMS), _l("Select whether you have had IMS")),
        ],
    )
    #: Asked after "yes" only (revealed without JavaScript, see site.css `.reveal`). A whole number
    #: as GOV.UK asks one (and the questionnaire's numbers): a text input that brings up a number
    #: keypad, not type="number", checked here.
    ims_sessions = StringField(
        _l(measures.QUESTIONS["ims_sessions"]),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"},
    )

    def validate_ims_sessions(self, field: Field) -> None:
        if self.had_ims.data != "yes":
            return
        text = (field.data or "").strip()
        if not text:
            raise ValidationError(gettext("Enter about how many IMS sessions you have had"))
        if not text.isdecimal():  # Persian or Arabic digits too; never "²", which int() refuses
            raise ValidationError(gettext("Enter the number of sessions as a whole number, like 4"))
        if not measures.IMS_SESSIONS_MIN <= int(text) <= measures.IMS_SESSIONS_MAX:
            raise ValidationError(
                gettext(
                    "Enter a number of sessions from %(minimum)s to %(maximum)s",
                    minimum=i18n.number_text(measures.IMS_SESSIONS_MIN),
                    maximum=i18n.number_text(measures.IMS_SESSIONS_MAX),
                )
            )

    def answers(self) -> dict[str, Any]:
        yes = self.had_ims.data == "yes"
        return {"had_ims": self.had_ims.data, "ims_sessions": int(self.ims_sessions.data.strip()) if yes else None}


class ActivitiesPage(FlaskForm):
    """One 0-10 scale per activity the person named, `activity_<position>`: built by `activities_page`."""

    def answers(self) -> dict[str, Any]:
        return {
            "scores": {
                activity.id: int(self[f"activity_{activity.position}"].data)
                for activity in followup.activities(g.follow_up)
            }
        }


def activities_page(follow_up: FollowUp) -> type[ActivitiesPage]:
    """The activities page's form for this follow-up's activities (their names are the person's own)."""
    fields = {
        f"activity_{activity.position}": _scale_field(
            activity.name,
            gettext("Select a number from 0 to 10 for “%(activity)s”", activity=activity.name),
            measures.PSFS_MIN,
            measures.PSFS_MAX,
        )
        for activity in followup.activities(follow_up)
    }
    return type("ActivitiesPageFor", (ActivitiesPage,), fields)


def page_form(page: str, follow_up: FollowUp) -> type[FlaskForm]:
    forms: dict[str, type[FlaskForm]] = {"pain": PainPage, "change": ChangePage, "ims": ImsPage}
    return forms[page] if page in forms else activities_page(follow_up)


def stored_data(page: str, follow_up: FollowUp) -> dict[str, Any]:
    """A page's saved answers as form data, to show them again."""
    data: dict[str, Any] = {
        name: None if getattr(follow_up, name) is None else str(getattr(follow_up, name))
        for name in ("current_pain", "average_pain", "pgic", "had_ims", "ims_sessions")
    }
    if page == "activities":
        positions = {activity.id: activity.position for activity in followup.activities(follow_up)}
        for score in follow_up.activity_scores:
            data[f"activity_{positions[score.activity_id]}"] = str(score.score)
    return data


# ---- Opening a follow-up from its link -------------------------------------------------------


@bp.get("/resume/follow-up/<token>")
def follow_up_link(token: str) -> ResponseReturnValue:
    """Swap the email link's token for the session cookie, then leave the token out of the URL."""
    follow_up = followup.find_open(token)
    if follow_up is None:
        return render_template("patient/followup/link_invalid.html"), 404
    session[FOLLOW_UP_KEY] = token
    session[FOLLOW_UP_LAST_USED_KEY] = int(clock.timestamp())
    i18n.choose(follow_up.screening.language)  # the questions in the language of the screening
    return redirect(url_for("patient.follow_up"))


def with_follow_up(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Load the session's open follow-up into `g.follow_up`, or say kindly that the link no longer
    works. A browser left unused for PATIENT_IDLE_MINUTES forgets it, as it does a screening."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        token = session.get(FOLLOW_UP_KEY)
        follow_up = followup.find_open(token, for_update=request.method == "POST") if isinstance(token, str) else None
        if follow_up is None or _idle_too_long():
            _forget()
            return render_template("patient/followup/link_invalid.html"), 404
        session[FOLLOW_UP_LAST_USED_KEY] = int(clock.timestamp())
        g.follow_up = follow_up
        return view(*args, **kwargs)

    return wrapped


def _idle_too_long() -> bool:
    last_used = session.get(FOLLOW_UP_LAST_USED_KEY)
    idle_limit = current_app.config["PATIENT_IDLE_MINUTES"] * 60
    return not isinstance(last_used, int) or clock.timestamp() - last_used > idle_limit


def _forget() -> None:
    session.pop(FOLLOW_UP_KEY, None)
    session.pop(FOLLOW_UP_LAST_USED_KEY, None)


@bp.get("/follow-up")
@with_follow_up
def follow_up() -> ResponseReturnValue:
    """Go to the first page still to answer, or to the check of the answers."""
    page = followup.first_unanswered(g.follow_up)
    if page is None:
        return redirect(url_for("patient.follow_up_check"))
    return redirect(url_for("patient.follow_up_page", page=page))


# ---- The question pages ----------------------------------------------------------------------


@bp.route("/follow-up/<any(pain, change, ims, activities):page>", methods=["GET", "POST"])
@with_follow_up
def follow_up_page(page: str) -> ResponseReturnValue:
    """One page of the follow-up: show it with its saved answers, or save it and go on.

    A refused page is shown again at once with what was posted and why (status 400): nothing
    typed is lost, and nothing is saved until it is right.
    """
    follow_up = g.follow_up
    pages = followup.pages(follow_up)
    if page not in pages:
        return redirect(url_for("patient.follow_up"))
    form_class = page_form(page, follow_up)
    if request.method == "GET":
        form = form_class(formdata=None, data=stored_data(page, follow_up))
        return _render_page(form, page, pages)
    form = form_class()
    if not form.validate():
        return _render_page(form, page, pages), 400
    followup.save(follow_up, form.answers(), i18n.current().tag)
    following = pages[pages.index(page) + 1 :]
    if following and request.form.get("return_to") != "check":
        onward = url_for("patient.follow_up_page", page=following[0])
    else:
        onward = url_for("patient.follow_up")  # the check page, or the first page still to answer
    db.session.commit()
    return redirect(onward, code=303)


def _render_page(form: FlaskForm, page: str, pages: tuple[str, ...]) -> str:
    index = pages.index(page)
    back = url_for("patient.follow_up_page", page=pages[index - 1]) if index else None
    return render_template(
        f"patient/followup/{page}.html",
        form=form,
        page=page,
        title=PAGE_TITLES[page],
        step_number=index + 1,
        step_count=len(pages),
        back_url=back,
        follow_up=g.follow_up,
        activities=followup.activities(g.follow_up),
        return_to=request.values.get("return_to", ""),
        measures=measures,
    )


# ---- Check, send, thanks ---------------------------------------------------------------------


@bp.get("/follow-up/check")
@with_follow_up
def follow_up_check() -> ResponseReturnValue:
    """Every answer, each with a link to change it, and the button that sends them."""
    follow_up = g.follow_up
    if followup.first_unanswered(follow_up) is not None:
        return redirect(url_for("patient.follow_up"))
    pages = followup.pages(follow_up)
    scores = {score.activity_id: score.score for score in follow_up.activity_scores}
    return render_template(
        "patient/followup/check.html",
        follow_up=follow_up,
        activities=followup.activities(follow_up),
        scores=scores,
        back_url=url_for("patient.follow_up_page", page=pages[-1]),
        form=FlaskForm(),
        measures=measures,
    )


@bp.post("/follow-up/send")
@with_follow_up
def follow_up_send() -> ResponseReturnValue:
    """Count the answers; the link stops working. The thank-you page comes next."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    follow_up = g.follow_up
    if followup.first_unanswered(follow_up) is not None:
        return redirect(url_for("patient.follow_up"), code=303)
    followup.send(follow_up)
    db.session.commit()
    # The session keeps the token (no answer) until the browser is left unused: the thank-you
    # page reads from the database whether to lead with what to do when things are worse.
    return redirect(url_for("patient.follow_up_thanks"), code=303)


@bp.get("/follow-up/thank-you")
def follow_up_thanks() -> ResponseReturnValue:
    """Thanks, and what to do if things change (the safety net every result page shows)."""
    token = session.get(FOLLOW_UP_KEY)
    sent = followup.find_answered(token) if isinstance(token, str) and not _idle_too_long() else None
    if sent is None:
        _forget()
        return render_template("patient/followup/link_invalid.html"), 404
    return render_template("patient/followup/thanks.html", worse=followup.worse(sent))


# ---- Stopping --------------------------------------------------------------------------------


class StopForm(FlaskForm):
    """The one button that stops the follow-ups."""


@bp.route("/resume/stop-follow-ups/<token>", methods=["GET", "POST"])
def stop_follow_ups(token: str) -> ResponseReturnValue:
    """The stop link of a follow-up email: a page that asks, and a button that stops at once.

    A GET changes nothing (mail scanners open links); the button's POST stops, and stopping
    twice is the same as once. After it, the page says they are stopped.
    """
    found = followup.find_stop(token)
    if found is None:
        return render_template("patient/followup/stop_invalid.html"), 404
    form = StopForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        followup.stop(found.screening)
        db.session.commit()
        return redirect(url_for("patient.stop_follow_ups", token=token), code=303)
    return render_template(
        "patient/followup/stop.html",
        stopped=found.already_stopped,
        form=form,
        action=url_for("patient.stop_follow_ups", token=token),
    )


@bp.route("/resume/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def stop_follow_ups_one_click(token: str) -> ResponseReturnValue:
    """RFC 8058 one-click unsubscribe: the address in the email's List-Unsubscribe header.

    A mail program POSTs `List-Unsubscribe=One-Click` here, from its own servers, with no
    CSRF token or Origin: the only endpoint exempt from both (app/security.py). The token in the
    path is the secret, and all it can do is stop; stopping twice is the same as once. A GET
    (an older mail program opening the address) shows the page that asks, as the stop link does.
    """
    found = followup.find_stop(token)
    if found is None:
        return render_template("patient/followup/stop_invalid.html"), 404
    if request.method == "GET":
        return render_template(
            "patient/followup/stop.html",
            stopped=found.already_stopped,
            form=StopForm(),
            action=url_for("patient.stop_follow_ups", token=token),
        )
    if request.form.get("List-Unsubscribe") != "One-Click":
        abort(400)
    followup.stop(found.screening)
    db.session.commit()
    return render_template("patient/followup/stop.html", stopped=True, form=None, action=None)
