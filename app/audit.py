"""The audit trail of staff access: who did what, to which screening, when (UTC), from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from app.extensions import db
from app.models import AuditEvent, Screening, StaffUser


def record(
    action: str,
    *,
    screening: Screening | None = None,
    actor: StaffUser | None = None,
    email: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction.

    `actor` defaults to the signed-in staff member. `detail` holds facts about the action that
    are not health information (a status, a filter, a count): audit records outlive screenings.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=(actor.email if actor is not None else email),
        screening_id=screening.id if screening is not None else None,
        screening_reference=screening.reference if screening is not None else None,
        ip_address=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db.session.add(event)
    return event
