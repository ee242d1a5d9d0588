"""Emails: to the clinic's inbox about new requests and urgent results, to patients who
asked for a confirmation, and to patients invited to a follow-up after treatment (app/followup.py). Messages carry a reference code and a link, never health details.

Use-cases add a `Notification` row in the same transaction as what it announces (an outbox);
`deliver_due` sends what is due and retries failures with back-off. A mail server that is down
therefore never blocks or breaks a submission, and staff can see what did not go out.
"""

from __future__ import annotations

import logging
import re
import smtplib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from app import followup, links
from app.clock import utcnow
from app.extensions import db
from app.i18n import BY_TAG, ENGLISH
from app.mail import MAIL_POLICY
from app.models import Notification, Screening
from rules.outcomes import Outcome

log = logging.getLogger(__name__)

#: Waits before retrying after the 1st, 2nd... failed attempt; after the last, give up.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)

#: Sends one message (raising when it cannot) and says how it went, when it knows: one of
#: models.DELIVERY_WAYS, recorded with the notification for the staff page.
Sender = Callable[[EmailMessage], str | None]


def queue_for_screening(screening: Screening) -> None:
    """On submission: tell the clinic about a medical result (emergency, see a doctor), so a person checks."""
    if screening.outcome is not None and Outcome(screening.outcome).medical:
        db.session.add(Notification(kind="clinic_urgent_screening", screening_id=screening.id))


def queue_emergency_withdrawn(screening: Screening) -> None:
    """The person said the answer that made `screening` an emergency was chosen by mistake.

    The clinic was told of the emergency; it is told of this too, in words that say no more.
    """
    db.session.add(Notification(kind="clinic_emergency_withdrawn", screening_id=screening.id))


def queue_for_request(screening: Screening, patient_email: str | None) -> None:
    """On an assessment request: tell the clinic, and confirm to the patient if they gave an email."""
    db.session.add(Notification(kind="clinic_new_request", screening_id=screening.id))
    if patient_email:
        db.session.add(
            Notification(kind="patient_request_confirmation", screening_id=screening.id, recipient=patient_email)
        )


def compose(
    notification: Notification, reference: str | None, patient_locale: str = ENGLISH.locale, *, imported: bool = False
) -> EmailMessage:
    """The message for a notification: a reference and a link, no health information. The clinic's
    are in English; the patient's in `patient_locale` (a Babel locale, app/i18n.py). `imported`: the
    screening was filed from another tool's response, so the person never saw its result here."""
    config = current_app.config
    clinic = config["CLINIC_NAME"]
    message = EmailMessage(MAIL_POLICY)
    message["From"] = config["MAIL_FROM"]
    message["To"] = notification.recipient or config["CLINIC_INBOX"]
    portal = _portal_link(reference)
    if notification.kind == "clinic_urgent_screening" and imported:
        message["Subject"] = f"IMS Screen: a screening needs prompt attention ({reference})"
        body = (
            f"A screening imported from another tool was given an outcome that sends the person to medical care.\n"
            f"IMS Screen never showed the person this result, and has no contact details for them: please open it,\n"
            f"find them through the tool or record it came from, and contact them now:\n\n{portal}\n"
        )
    elif notification.kind == "clinic_urgent_screening":
        message["Subject"] = f"IMS Screen: a screening needs prompt attention ({reference})"
        body = (
            f"A screening submitted online was given an outcome that sends the person to medical care.\n"
            f"Please open it and check that the person got the message:\n\n{portal}\n"
        )
    elif notification.kind == "clinic_emergency_withdrawn":
        message["Subject"] = f"IMS Screen: an answer was withdrawn ({reference})"
        body = (
            f"The person who sent this screening says an answer that sent them to medical care was\n"
            f"chosen by mistake, and has gone back to the questions. Please still open it and decide\n"
            f"whether to contact them:\n\n{portal}\n"
        )
    elif notification.kind == "clinic_new_request":
        message["Subject"] = f"IMS Screen: new assessment request ({reference})"
        body = f"Someone has asked to be contacted about an assessment. Open the screening to see the request:\n\n{portal}\n"
    else:
        # Outside a request (a background thread, `flask notify`) no language is chosen: forced.
        with force_locale(patient_locale):
            message["Subject"] = gettext(
                "%(clinic)s: we have your request (%(reference)s)", clinic=clinic, reference=reference
            )
            body = (
                gettext("Thank you. %(clinic)s has your request to be contacted about an assessment.", clinic=clinic)
                + "\n\n"
                + gettext(
                    "Your reference is %(reference)s. A member of the team will contact you, usually within two "
                    "working days. If you need to reach us sooner, call %(phone)s.",
                    reference=reference,
                    phone=config["CLINIC_PHONE"],
                )
                + "\n\n"
                + gettext("If you did not make this request, you can ignore this email.")
                + "\n"
                + gettext("In an emergency, call 911.")
                + "\n"
            )
    message.set_content(body)
    return message


def _portal_link(reference: str | None) -> str:
    """The staff page of the screening (its path by hand: emails are sent outside any request)."""
    return links.public_url(f"/staff/screenings/{reference}" if reference else "/staff/")


def smtp_sender(app: Flask) -> Sender:
    """Send through the configured SMTP server ("smtp"); without one, write the message to the log
    ("console", in development only)."""
    config = app.config

    def send(message: EmailMessage) -> str:
        if not config["SMTP_HOST"]:
            if config["IMS_ENV"] != "development":
                raise smtplib.SMTPException("SMTP_HOST is not configured")
            # The body has no health details by design; the address is a contact detail: left out.
            log.info(
                "Email not sent (no SMTP_HOST, development). Subject: %s\n%s", message["Subject"], message.get_content()
            )
            return "console"
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
        return "smtp"

    return send


def deliver_due(send: Sender, now: datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """Send the pending notifications that are due; return (sent, failed attempts).

    An email to the patient is written in the language their screening was last used in
    (`Screening.language`), whoever sends it: the request's background thread, a retry, or
    `flask notify` from cron.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Notification)
        .where(Notification.state == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    ).all()
    sent = failed = 0
    for notification in due:
        if not _claim(notification, now):
            continue  # another worker (cron, or a background thread) is sending it
        screening = db.session.execute(
            select(Screening.reference, Screening.language, Screening.imported_at).where(
                Screening.id == notification.screening_id
            )
        ).first()
        if notification.screening_id is None or screening is None:
            # The screening was deleted (a patient's request, or retention) before this went out.
            notification.state, notification.last_error = "failed", "screening deleted before sending"
            db.session.commit()
            continue
        message = None
        if notification.kind == "patient_follow_up":
            message = followup.invitation(notification, now)
            if message is None:  # stopped (or no longer wanted) since it was queued: never sent
                notification.state, notification.last_error = "cancelled", None
                db.session.commit()
                continue
        notification.attempts += 1
        try:
            language = BY_TAG.get(screening.language, ENGLISH)
            imported = screening.imported_at is not None
            delivered_by = send(
                message or compose(notification, screening.reference, language.locale, imported=imported)
            )
        # Any error, not only SMTP's (a non-ASCII password, a bug in compose...): unrecorded, it
        # would end the batch without counting the attempt, and the row would block the queue.
        except Exception as error:  # noqa: BLE001 -- recorded below, by type: its text may hold an address
            failed += 1
            notification.last_error = _error_text(error, notification.recipient)
            if notification.attempts > len(RETRY_DELAYS):
                notification.state = "failed"
            else:
                notification.next_attempt_at = now + RETRY_DELAYS[notification.attempts - 1]
            log.warning(
                "Notification %s failed (attempt %s): %s", notification.id, notification.attempts, type(error).__name__
            )
        else:
            sent += 1
            notification.state, notification.sent_at, notification.last_error = "sent", now, None
            notification.delivered_by = delivered_by
            if notification.kind == "patient_follow_up":
                followup.mark_sent(notification, now)
        db.session.commit()  # one at a time: a crash mid-batch never resends what went out
    return sent, failed


#: How long a claimed notification is reserved for the worker sending it.
CLAIM_LEASE = timedelta(minutes=2)


def _claim(notification: Notification, now: datetime) -> bool:
    """Reserve a due notification for this worker with one conditional UPDATE, committed at once.

    Two workers may read the same due row; only one UPDATE can match it, so only one sends.
    If the claimer crashes, the lease runs out and the row is due again.
    """
    claimed = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification.id,
            Notification.state == "pending",
            Notification.next_attempt_at == notification.next_attempt_at,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.refresh(notification)
    return True


def _error_text(error: Exception, recipient: str | None) -> str:
    """Why an attempt failed, for staff. Servers quote the address they refuse, and this column is
    not encrypted: the patient's address is blanked out."""
    message = f"{type(error).__name__}: {error}"
    if recipient:
        message = re.sub(re.escape(recipient), "[patient address]", message, flags=re.IGNORECASE)
    return message[:300]


def deliver_soon(app: Flask) -> None:
    """Try to send what is due now, in the background, after the current request has committed."""
    if not app.config["NOTIFY_IN_BACKGROUND"]:
        return

    def work() -> None:
        with app.app_context():
            try:
                deliver_due(smtp_sender(app))
            except Exception:  # a background thread must never die loudly; cron retries
                log.exception("Background delivery of notifications failed")
            finally:
                db.session.remove()

    threading.Thread(target=work, name="notifications", daemon=True).start()
