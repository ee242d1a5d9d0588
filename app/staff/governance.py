"""The rule set for admins: its changelog, what the current rules would change in past
screenings (replay), and how the physiotherapists' judgement compares (calibration)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request

import rules
from app import audit, calibration
from app.clock import utcnow
from app.extensions import db
from app.models import OUTCOMES
from app.staff.queue import OUTCOME_LABELS

bp = Blueprint("staff_rules", __name__, url_prefix="/staff/rules")

#: The page replays recent screenings only; `flask rules replay` covers the whole history.
DEFAULT_REPLAY_DAYS = 90
MAX_REPLAY_DAYS = 3650


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
        outcomes=OUTCOMES,
        outcome_labels=OUTCOME_LABELS,
    )
