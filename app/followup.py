"""Follow-up after treatment (issue 18), the use-cases: invite when a time point falls due, write
the invitation email, open a follow-up by its link, save and send the answers, stop.

Who is invited: a submitted screening that staff marked booked with its first appointment
(`Screening.appointment_at`), whose person agreed to follow-ups on the assessment request
(`AssessmentRequest.follow_up_consent_at`) and gave an email address, and has not stopped them
(`Screening.follow_ups_stopped_at`). A purged screening is gone, with its follow-ups.

When: `flask notify` (app/cli.py, run every minute by the timer in deploy/) calls `schedule_due`,
which writes one `FollowUp` and its outbox email for each time point that fell due (weeks after
the first appointment, app/measures.py), exactly once: the database holds one row per
screening and week. The email's link token (256 bits) is made when the email is sent
(`invitation`), stored only hashed, and expires; a retry makes a new one.

Each function works on the current session and leaves committing to its caller, as
app/patient/services.py does. Nothing here touches the screening's stored rules result.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import links, measures
from app.clock import utcnow
from app.extensions import db
from app.i18n import BY_TAG, ENGLISH
from app.mail import MAIL_POLICY
from app.models import (
    AssessmentRequest,
    FollowUp,
    FollowUpActivity,
    FollowUpActivityScore,
    Notification,
    Screening,
)
from app.patient.services import RESUME_TOKEN_BYTES, hash_token

#: The paths of the links in a follow-up email. Both start with /resume/, so that every log's
#: redaction of resume tokens (app/redaction.py, gunicorn.conf.py, deploy/nginx.conf) hides
#: these tokens too.
OPEN_PATH = "/resume/follow-up/"
STOP_PATH = "/resume/stop-follow-ups/"
#: RFC 8058's one-click address (the List-Unsubscribe header): a POST there stops at once.
ONE_CLICK_PATH = "/resume/unsubscribe/"


# ---- Who is invited, and when ----------------------------------------------------------------


def wanted(screening: Screening) -> bool:
    """Whether this screening's person may be sent follow-ups now: booked with a first
    appointment, consented with an email address, and not stopped."""
    request = screening.assessment_request
    return (
        screening.state == "submitted"
        and screening.review_status == "booked"
        and screening.appointment_at is not None
        and screening.follow_ups_stopped_at is None
        and request is not None
        and request.follow_up_consent_at is not None
        and bool(request.email)
    )


def schedule_due(config: Mapping[str, Any], now: datetime | None = None) -> int:
    """Write the follow-ups that fell due, each with its invitation email in the outbox; return
    how many. A time point is due `week` weeks after the first appointment and stays due for
    FOLLOW_UP_SEND_DAYS: one missed by longer (an appointment recorded late) is skipped, as its
    questions would be about the wrong time. Safe to run at once from two processes: the
    database holds one follow-up per screening and week, and the loser's insert is undone."""
    now = now or utcnow()
    weeks = measures.follow_up_weeks(config)
    window = _send_window(config)
    earliest = now - timedelta(weeks=max(weeks)) - window
    latest = now - timedelta(weeks=min(weeks))
    candidates = db.session.scalars(
        select(Screening)
        .join(AssessmentRequest)
        .where(
            Screening.state == "submitted",
            Screening.review_status == "booked",
            Screening.appointment_at > earliest,
            Screening.appointment_at <= latest,
            Screening.follow_ups_stopped_at.is_(None),
            AssessmentRequest.follow_up_consent_at.is_not(None),
            AssessmentRequest.email.is_not(None),
        )
        .options(selectinload(Screening.follow_ups), selectinload(Screening.assessment_request))
        .order_by(Screening.id)
    ).all()
    written = 0
    for screening in candidates:
        if not wanted(screening):
            continue
        assert screening.assessment_request is not None
        for week, due_at in still_to_send(screening, weeks, window, now):
            if due_at <= now and _invite(screening, week, due_at, screening.assessment_request.email or "", now):
                written += 1
    return written


def _send_window(config: Mapping[str, Any]) -> timedelta:
    """How long after falling due a time point may still be sent (FOLLOW_UP_SEND_DAYS)."""
    return timedelta(days=config["FOLLOW_UP_SEND_DAYS"])


def upcoming(screening: Screening, config: Mapping[str, Any], now: datetime) -> list[tuple[int, datetime]]:
    """`still_to_send`, with this installation's time points and send window."""
    return still_to_send(screening, measures.follow_up_weeks(config), _send_window(config), now)


def still_to_send(
    screening: Screening, weeks: Sequence[int], window: timedelta, now: datetime
) -> list[tuple[int, datetime]]:
    """The time points of a booked screening not written yet that can still be sent (their send
    window, FOLLOW_UP_SEND_DAYS after falling due, not past): (week, when it falls due), in order.
    Empty without an appointment. What `schedule_due` sends once due, and what staff are told is
    coming."""
    if screening.appointment_at is None:
        return []
    invited = {follow_up.week for follow_up in screening.follow_ups}
    points = [(week, screening.appointment_at + timedelta(weeks=week)) for week in sorted(weeks)]
    return [(week, due_at) for week, due_at in points if week not in invited and now < due_at + window]


def _invite(screening: Screening, week: int, due_at: datetime, email: str, now: datetime) -> bool:
    """Add the follow-up of `week` and its email, unless another process just did (False)."""
    follow_up = FollowUp(screening_id=screening.id, week=week, due_at=due_at, created_at=now)
    try:
        with db.session.begin_nested():  # a savepoint: a clash undoes only this follow-up
            db.session.add(follow_up)
            db.session.flush()
    except IntegrityError:
        return False
    db.session.add(
        Notification(
            kind="patient_follow_up",
            screening_id=screening.id,
            follow_up_id=follow_up.id,
            recipient=email,
            created_at=now,
            next_attempt_at=now,
        )
    )
    return True


# ---- The invitation email --------------------------------------------------------------------


def invitation(notification: Notification, now: datetime) -> EmailMessage | None:
    """The email inviting to a follow-up, with a fresh link token and stop token (stored hashed on
    the follow-up); None when it must not go out any more (stopped, consent gone, screening gone),
    in which case the caller cancels it. The email names the clinic, never health details.

    Every attempt makes new tokens (the caller commits them with the attempt): the link of an
    email that failed to go out was never delivered, and the one that went out is the one kept.
    """
    follow_up = db.session.get(FollowUp, notification.follow_up_id) if notification.follow_up_id else None
    if follow_up is None or not wanted(follow_up.screening) or follow_up.answered_at is not None:
        return None
    token, stop_token = secrets.token_urlsafe(RESUME_TOKEN_BYTES), secrets.token_urlsafe(RESUME_TOKEN_BYTES)
    link_days = current_app.config["FOLLOW_UP_LINK_DAYS"]
    follow_up.token_hash = hash_token(token)
    follow_up.stop_token_hash = hash_token(stop_token)
    follow_up.token_expires_at = now + timedelta(days=link_days)
    open_link, stop_link = links.public_url(OPEN_PATH + token), links.public_url(STOP_PATH + stop_token)
    one_click_link = links.public_url(ONE_CLICK_PATH + stop_token)
    clinic = current_app.config["CLINIC_NAME"]
    language = BY_TAG.get(follow_up.screening.language, ENGLISH)
    message = EmailMessage(MAIL_POLICY)
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = notification.recipient
    # RFC 8058: mail programs offer their own "Unsubscribe" button, which POSTs to this address.
    message["List-Unsubscribe"] = f"<{one_click_link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    with force_locale(language.locale):  # outside a request no language is chosen: forced
        message["Subject"] = gettext("%(clinic)s: how are you getting on?", clinic=clinic)
        body = [
            gettext(
                "When you asked %(clinic)s to contact you, you agreed that we could email you a few short "
                "questions afterwards. Here they are: they take about a minute.",
                clinic=clinic,
            ),
            gettext("Answer the questions:") + "\n" + open_link,
            ngettext(
                "This link works for %(num)s day.",
                "This link works for %(num)s days.",
                link_days,
            ),
            gettext("To stop these emails, open this link:") + "\n" + stop_link,
            gettext("If you need to reach us, call %(phone)s.", phone=current_app.config["CLINIC_PHONE"])
            + "\n"
            + gettext("In an emergency, call 911."),
        ]
    message.set_content("\n\n".join(body) + "\n")
    message["Content-Language"] = language.tag  # after set_content, which replaces Content-* headers
    return message


def mark_sent(notification: Notification, now: datetime) -> None:
    """The invitation of `notification` went out."""
    follow_up = db.session.get(FollowUp, notification.follow_up_id) if notification.follow_up_id else None
    if follow_up is not None:
        follow_up.sent_at = now


# ---- Opening a follow-up ---------------------------------------------------------------------


def find_open(token: str, now: datetime | None = None, *, for_update: bool = False) -> FollowUp | None:
    """The follow-up a link's token opens: sent, not expired, not answered, not stopped; else None.

    Only the token's own follow-up: the lookup is by the hash of the whole token, never by an id.
    `for_update` locks its row until the transaction ends, so a double click on "Send" or two
    tabs saving at once run one after the other (PostgreSQL; SQLite has one writer anyway).
    """
    query = select(FollowUp).where(FollowUp.token_hash == hash_token(token))
    follow_up = db.session.scalar(query.with_for_update() if for_update else query)
    if follow_up is None or follow_up.answered_at is not None or follow_up.token_expires_at is None:
        return None
    if follow_up.token_expires_at <= (now or utcnow()) or not wanted(follow_up.screening):
        return None
    return follow_up


def find_answered(token: str) -> FollowUp | None:
    """The follow-up whose answers this token's visit just sent (for its thank-you page), else None."""
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.token_hash == hash_token(token)))
    return follow_up if follow_up is not None and follow_up.answered_at is not None else None


def activities(follow_up: FollowUp) -> list[FollowUpActivity]:
    """The activities the person named, in their order."""
    return list(follow_up.screening.follow_up_activities)


# ---- Answers ---------------------------------------------------------------------------------

#: The pages of a follow-up, in order; "activities" only when the person named some.
PAGES = ("pain", "change", "ims", "activities")


def pages(follow_up: FollowUp) -> tuple[str, ...]:
    """The question pages this follow-up asks."""
    return PAGES if activities(follow_up) else PAGES[:-1]


def page_answered(follow_up: FollowUp, page: str) -> bool:
    """Whether every answer `page` asks for is saved."""
    if page == "pain":
        return follow_up.current_pain is not None and follow_up.average_pain is not None
    if page == "change":
        return follow_up.pgic is not None
    if page == "ims":
        return follow_up.had_ims is not None
    scored = {score.activity_id for score in follow_up.activity_scores}
    return all(activity.id in scored for activity in activities(follow_up))


def first_unanswered(follow_up: FollowUp) -> str | None:
    """The first page with an answer missing, or None when the answers can be checked and sent."""
    return next((page for page in pages(follow_up) if not page_answered(follow_up, page)), None)


def save(follow_up: FollowUp, answers: Mapping[str, Any], language: str, now: datetime | None = None) -> None:
    """Store one page's answers (names as `FollowUp`'s columns; "scores": activity id -> 0-10).

    Only before the answers are sent; never touches the screening.
    """
    if follow_up.answered_at is not None:
        raise ValueError(f"{follow_up!r} was already answered")
    for name in ("current_pain", "average_pain", "pgic", "had_ims", "ims_sessions"):
        if name in answers:
            setattr(follow_up, name, answers[name])
    if answers.get("had_ims", "yes") != "yes":
        follow_up.ims_sessions = None
    scores: Mapping[int, int] = answers.get("scores", {})
    if scores:
        known = {activity.id for activity in activities(follow_up)}
        existing = {score.activity_id: score for score in follow_up.activity_scores}
        for activity_id, value in scores.items():
            if activity_id not in known:
                raise ValueError("not an activity of this follow-up's screening")
            if activity_id in existing:
                existing[activity_id].score = value
            else:
                follow_up.activity_scores.append(FollowUpActivityScore(activity_id=activity_id, score=value))
    follow_up.language = language
    follow_up.started_at = follow_up.started_at or now or utcnow()


def send(follow_up: FollowUp, now: datetime | None = None) -> None:
    """Count the answers: the link stops working. Raises ValueError while an answer is missing."""
    if follow_up.answered_at is not None:
        return
    if first_unanswered(follow_up) is not None:
        raise ValueError("the follow-up has unanswered questions")
    follow_up.answered_at = now or utcnow()


def worse(follow_up: FollowUp) -> bool:
    """Whether the answers say things got worse: the thank-you page then leads with what to do."""
    return follow_up.pgic in measures.PGIC_WORSE


# ---- Stopping --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopLink:
    """What a stop link found: the screening whose follow-ups it stops, and whether they already are."""

    screening: Screening
    already_stopped: bool


def find_stop(token: str) -> StopLink | None:
    """The screening a stop link's token stops follow-ups for; None for an unknown token."""
    follow_up = db.session.scalar(select(FollowUp).where(FollowUp.stop_token_hash == hash_token(token)))
    if follow_up is None:
        return None
    return StopLink(follow_up.screening, follow_up.screening.follow_ups_stopped_at is not None)


def stop(screening: Screening, now: datetime | None = None) -> None:
    """Stop every later follow-up of `screening` at once: its emails not yet sent are cancelled
    and its open links stop working. Stopping again changes nothing (the first time is kept)."""
    if screening.follow_ups_stopped_at is not None:
        return
    screening.follow_ups_stopped_at = now or utcnow()
    for notification in db.session.scalars(
        select(Notification).where(
            Notification.screening_id == screening.id,
            Notification.kind == "patient_follow_up",
            Notification.state == "pending",
        )
    ):
        notification.state, notification.last_error = "cancelled", None
