"""Assessment requests: the patient asks to be contacted; the clinic is told; staff follow up."""

from __future__ import annotations

from dataclasses import dataclass, field

from app import crypto, measures, notifications
from app.clock import utcnow
from app.extensions import db
from app.models import AssessmentRequest, FollowUpActivity, Screening
from rules.outcomes import Outcome


@dataclass(frozen=True)
class ContactDetails:
    name: str
    email: str | None
    phone: str | None
    preferred_location: str
    preferred_times: list[str]
    message: str | None
    #: The separate, optional agreement to short questions by email after treatment (issue 18).
    follow_up_consent: bool = False
    #: Up to three everyday activities for those questions (measures.PSFS_MAX_ACTIVITIES).
    activities: list[str] = field(default_factory=list)


def can_request(screening: Screening) -> bool:
    """Whether the result offers booking (medical outcomes point to a doctor instead)."""
    return screening.state == "submitted" and screening.outcome is not None and Outcome(screening.outcome).bookable


def request_assessment(screening: Screening, details: ContactDetails) -> AssessmentRequest:
    """Record the request and queue the emails; asking twice keeps the first request.

    With the follow-up consent, its time and the activities named are kept too; without it, no
    activity is (they serve the follow-ups only)."""
    if not can_request(screening):
        raise ValueError("this screening's result does not offer an assessment booking")
    if screening.assessment_request is not None:
        return screening.assessment_request
    now = utcnow()
    request = AssessmentRequest(
        screening=screening,
        name=details.name,
        email=details.email,
        phone=details.phone,
        message=details.message,
        name_search_hash=crypto.search_hash(details.name),
        preferred_location=details.preferred_location,
        preferred_times=details.preferred_times,
        contact_consent_at=now,
        follow_up_consent_at=now if details.follow_up_consent else None,
    )
    db.session.add(request)
    if details.follow_up_consent:
        for position, name in enumerate(details.activities[: measures.PSFS_MAX_ACTIVITIES], start=1):
            db.session.add(FollowUpActivity(screening=screening, position=position, name=name, named_at=now))
    db.session.flush()
    notifications.queue_for_request(screening, details.email)
    return request
