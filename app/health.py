"""Health check for load balancers and uptime monitors."""

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError

from app.clock import utcnow
from app.extensions import db
from app.models import HEARTBEAT_ID, HealthHeartbeat

bp = Blueprint("health", __name__)


def _write_heartbeat() -> None:
    """Update the heartbeat row and commit; raise SQLAlchemyError when the database cannot."""
    beat = (
        update(HealthHeartbeat)
        .where(HealthHeartbeat.id == HEARTBEAT_ID)
        .values(beat=HealthHeartbeat.beat + 1, beat_at=utcnow())
    )
    updated = db.session.execute(beat)
    assert isinstance(updated, CursorResult)  # an UPDATE's result, which counts its rows
    if updated.rowcount == 0:
        # The row was deleted: put it back, so the next check updates it again.
        db.session.add(HealthHeartbeat(id=HEARTBEAT_ID, beat=1, beat_at=utcnow()))
    db.session.commit()


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report 200 when the app can write to its database (and so read it), 503 when it cannot."""
    # A stale "ok" from a cache would hide an outage.
    headers = {"Cache-Control": "no-store"}
    try:
        _write_heartbeat()
    except SQLAlchemyError:
        db.session.rollback()
        # The error text can name hosts, users and file paths: log it, never return it.
        current_app.logger.exception("Health check: database unavailable or not writable")
        return {"status": "error", "database": "unavailable"}, 503, headers
    return {"status": "ok", "database": "ok"}, 200, headers
