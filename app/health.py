"""Health check for load balancers and uptime monitors."""

from datetime import datetime

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy import BigInteger, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base, db
from app.models import UtcDateTime, utcnow

bp = Blueprint("health", __name__)

#: The id of the heartbeat table's one row, which migration 0007 inserts.
HEARTBEAT_ID = 1


class HealthHeartbeat(Base):
    """One row, rewritten and committed by every health check: proof that a write reaches disk.

    A `SELECT 1` succeeds on a full disk or a read-only database while every patient's save
    fails; a rolled-back write proves nothing either, as neither SQLite nor PostgreSQL writes a
    rolled-back transaction to disk. A commit of a one-row update by primary key does (SQLite
    syncs its WAL, PostgreSQL flushes its WAL) and stays cheap: one small row, one index.
    """

    __tablename__ = "health_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: How many checks have written it; the change every commit has to carry.
    beat: Mapped[int] = mapped_column(BigInteger)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)


def _write_heartbeat() -> None:
    """Update the heartbeat row and commit; raise SQLAlchemyError when the database cannot."""
    beat = (
        update(HealthHeartbeat)
        .where(HealthHeartbeat.id == HEARTBEAT_ID)
        .values(beat=HealthHeartbeat.beat + 1, beat_at=utcnow())
    )
    if db.session.execute(beat).rowcount == 0:  # type: ignore[attr-defined]
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
