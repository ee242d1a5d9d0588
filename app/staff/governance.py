"""The rule set for admins: its changelog, what the current rules would change in past
screenings (replay), and how the physiotherapists' judgement compares (calibration)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

import rules
from app import audit, calibration
from app.clock import utcnow
from app.extensions import db
from app.models import OUTCOMES
from app.staff import review
from app.staff.queue import OUTCOME_LABELS

bp = Blueprint("staff_rules", __name__, url_prefix="/staff/rules")

#: The page replays recent screenings only; `flask rules replay` covers the whole history.
DEFAULT_REPLAY_DAYS = 90
MAX_REPLAY_DAYS = 3650


class BlindJudgementForm(FlaskForm):
    """The clinic-wide switch for judging blind (see `review.judges_blind`)."""

    enabled = BooleanField("Physiotherapists record their own outcome before they see the rules'")


@bp.get("/")
def overview() -> str:
    """Changelog, replay of recent screenings under the current rules, and calibration."""
    days_text = request.args.get("days", str(DEFAULT_REPLAY_DAYS))
    # isascii: "²" and other Unicode digits pass isdigit() but not int().
    days = (
        int(days_text)
        if days_text.isascii() and days_text.isdigit() and 0 < int(days_text) <= MAX_REPLAY_DAYS
        else DEFAULT_REPLAY_DAYS
    )
    report = calibration.replay(since=utcnow() - timedelta(days=days))
    audit.record("replay_rules", days=days, replayed=report.replayed, changed=len(report.changes))
    db.session.commit()
    return render_template(
        "staff/rules.html",
        ruleset=rules.ruleset(),
        report=report,
        days=days,
        calibration=calibration.calibration(),
        blind_form=BlindJudgementForm(enabled=review.judges_blind()),
        outcomes=OUTCOMES,
        outcome_labels=OUTCOME_LABELS,
    )


@bp.post("/blind-judgement")
def blind_judgement() -> ResponseReturnValue:
    """Turn judging blind on or off for the whole clinic (audited)."""
    form = BlindJudgementForm()
    if form.validate_on_submit():
        review.set_judges_blind(bool(form.enabled.data), current_user)
        db.session.commit()
        flash("Judging blind is on." if form.enabled.data else "Judging blind is off.", "success")
    # To the top of the page, where the confirmation is shown (opened at the switch, the page had
    # scrolled it out of sight).
    return redirect(url_for("staff_rules.overview"), code=303)
