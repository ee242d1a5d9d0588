"""Health check for load balancers and uptime monitors."""

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report 200 when the app can reach its database, 503 when it cannot."""
    # A stale "ok" from a cache would hide an outage.
    headers = {"Cache-Control": "no-store"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        # The error text can name hosts, users and file paths: log it, never return it.
        current_app.logger.exception("Health check: database unavailable")
        return {"status": "error", "database": "unavailable"}, 503, headers
    return {"status": "ok", "database": "ok"}, 200, headers
