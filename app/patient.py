"""The public, patient-facing pages."""

from flask import Blueprint, render_template

bp = Blueprint("patient", __name__)


@bp.get("/")
def landing() -> str:
    """Explain what IMS is, who it tends to help, and that an assessment always decides."""
    return render_template("patient/landing.html")
