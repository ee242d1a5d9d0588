"""Assessment requests: the patient asks to be contacted; the clinic is told; staff follow up."""

from __future__ import annotations

from dataclasses import dataclass

from app import crypto, notifications
from app.clock import utcnow
from app.extensions import db
from app.models import AssessmentRequest, Screening
from rules.outcomes import Outcome


@dataclass(frozen=True)
class ContactDetails:
    name: str
    email: str | None
    phone: str | None
    preferred_location: str
    preferred_times: list[str]
    message: str | None


def can_request(screening: Screening) -> bool:
    """Whether the result offers booking (medical outcomes point to a doctor instead)."""
    return screening.state == "submitted" and screening.outcome is not None and Outcome(screening.outcome).bookable


def request_assessment(screening: Screening, details: ContactDetails) -> AssessmentRequest:
    """Record the request and queue the emails; asking twice keeps the first request."""
    if not can_request(screening):
        raise ValueError("this screening's result does not offer an assessment booking")
    if screening.assessment_request is not None:
        return screening.assessment_request
    request = AssessmentRequest(
        screening=screening,
        name=details.name,
        email=details.email,
        phone=details.phone,
        message=details.message,
        name_search_hash=crypto.search_hash(details.name),
        preferred_location=details.preferred_location,
        preferred_times=details.preferred_times,
        contact_consent_at=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    notifications.queue_for_request(screening, details.email)
    return request
