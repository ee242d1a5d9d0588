"""Use-cases of the patient journey: start, find by token, save a page, submit, read the result.

Each function works on the current database session and leaves committing to its caller (the
view), so one request is one transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

import rules
from app import notifications
from app.clock import utcnow
from app.extensions import db
from app.models import RefusedPage, Screening
from rules.outcomes import Outcome

#: 32 random bytes: 256 bits, twice what ASVS 7.2.3 asks of a token that grants access.
RESUME_TOKEN_BYTES = 32

#: A new reference is drawn again when it clashes with an existing one (rare: 30**8 codes).
REFERENCE_ATTEMPTS = 5


def hash_token(token: str) -> str:
    """The stored form of a resume token. A fast hash suffices: the token has 256 random bits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_screening(retention_days: int, now: datetime | None = None) -> tuple[Screening, str]:
    """Create a draft at the moment of consent; return it with its resume token.

    The token is returned once and stored only hashed, so it must be handed to the patient now.
    """
    now = now or utcnow()
    token = secrets.token_urlsafe(RESUME_TOKEN_BYTES)
    screening = _add_draft(
        resume_token_hash=hash_token(token),
        answers={},
        consented_at=now,
        created_at=now,
        expires_at=now + timedelta(days=retention_days),
    )
    return screening, token


def _add_draft(**columns: object) -> Screening:
    """Add a new draft with these columns, drawing its reference again if it clashes."""
    for attempt in range(REFERENCE_ATTEMPTS):
        screening = Screening(**columns)
        try:
            with db.session.begin_nested():  # a savepoint, so a clash undoes only this insert
                db.session.add(screening)
        except IntegrityError:
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise
            continue
        return screening
    raise AssertionError("unreachable")


def find_by_token(token: str, now: datetime | None = None, *, for_update: bool = False) -> Screening | None:
    """The screening a resume token opens: a live draft or a submitted screening, else None.

    `for_update` locks its row until the transaction ends (PostgreSQL; SQLite has one writer at a
    time anyway). Every patient post takes it, so two tabs, a double click or a submit racing a
    page save run one after the other: a save never lands in a screening another request just
    sent, a submit never judges answers another request is changing, and an emergency answer
    withdrawn twice is withdrawn once.
    """
    query = select(Screening).where(Screening.resume_token_hash == hash_token(token))
    # A page shown asks for the page refused since it was last shown: it comes in the same
    # statement rather than a second query. Not when locking: a row another request inserts
    # while this one waits for the lock would not be seen in the statement's snapshot, so it is
    # loaded after the lock is held, when it is first asked for.
    locked = query.with_for_update()
    screening = db.session.scalar(locked if for_update else query.options(joinedload(Screening.refused_page)))
    if screening is None and for_update:
        # The row this waited for may have handed the token on (a withdrawn emergency's new
        # draft), which the waiting statement cannot see; a new statement can (READ COMMITTED).
        screening = db.session.scalar(locked)
    if screening is None:
        return None
    if screening.state == "draft" and screening.expires_at <= (now or utcnow()):
        return None
    return screening


def keep_to_questionnaire(screening: Screening) -> None:
    """Drop from a draft what the current questionnaire no longer asks (`Questionnaire.usable_answers`).

    A draft lives for days, and a new questionnaire may retire a question or a choice meanwhile:
    the person is then asked the new question instead of every page failing to judge the old
    answers. The change is saved with the next page the person saves. Submitted screenings keep
    their answers as sent.
    """
    if screening.state != "draft":
        return
    usable = rules.questionnaire().usable_answers(screening.answers)
    if usable != screening.answers:
        screening.answers = usable


def save_answers(
    screening: Screening,
    answers: dict[str, object],
    retention_days: int,
    language: str = "en-CA",
    now: datetime | None = None,
) -> None:
    """Store a draft's answers after a page was saved (`QuestionPage.answers_to_save` merged them),
    each new or changed answer with the `language` it was given in.

    The draft's expiry moves forward: it counts from the last time the person worked on it.
    """
    if screening.state != "draft":
        raise ValueError(f"{screening!r} is submitted and can no longer change")
    before, languages = screening.answers, dict(screening.answer_languages or {})
    screening.answer_languages = {
        qid: language if qid not in before or before[qid] != value else languages.get(qid, language)
        for qid, value in answers.items()
    }
    screening.language = language
    screening.answers = answers
    screening.refused_page = None  # what a refused post held is now saved, or no longer wanted
    screening.expires_at = (now or utcnow()) + timedelta(days=retention_days)


def decided(screening: Screening) -> Outcome | None:
    """The outcome a draft's answers already decide, whatever the questions still to come (`rules.decided`).

    The journey stops there: an emergency is sent at once; a doctor referral or a reason not to
    needle goes to a short check of the answers that decided it.
    """
    return rules.decided(screening.answers)


@dataclass(frozen=True)
class Refused:
    """A refused page as it was posted: its fields (name, value) in order, and its errors."""

    fields: list[tuple[str, str]]
    errors: dict[str, list[str]]


def keep_refused_page(
    screening: Screening, section_id: str, fields: Sequence[tuple[str, str]], errors: Mapping[str, Sequence[str]]
) -> None:
    """Keep what a refused page posted, and why, for the page to show once (`take_refused_page`).

    Replaces any earlier one: only the page the person is on matters.
    """
    content = json.dumps({"fields": [list(pair) for pair in fields], "errors": {k: list(v) for k, v in errors.items()}})
    if screening.refused_page is None:
        screening.refused_page = RefusedPage(section_id=section_id, content=content)
    else:
        screening.refused_page.section_id = section_id
        screening.refused_page.content = content


def take_refused_page(screening: Screening, section_id: str) -> Refused | None:
    """The refused post of this page, if it is the one kept; forgotten either way, so it is shown
    once (a reload, or Back to it, shows the saved answers) and a stale one is never shown later."""
    refused = screening.refused_page
    if refused is None:
        return None
    screening.refused_page = None
    if refused.section_id != section_id:
        return None
    content = json.loads(refused.content)
    return Refused([(name, value) for name, value in content["fields"]], content["errors"])


def submit_screening(screening: Screening, now: datetime | None = None) -> Screening:
    """Judge a complete or decided draft and store the result; submitting again changes nothing.

    The state change is one conditional UPDATE (``... WHERE state = 'draft'``), so two
    concurrent submits of the same draft cannot both write: the loser finds it submitted.
    Raises ValueError when required answers are missing and the answers do not decide the
    outcome already (`decided`).
    """
    if screening.state == "submitted":
        return screening
    if rules.questionnaire().missing(screening.answers) and decided(screening) is None:
        raise ValueError("the screening has unanswered required questions")
    screening.refused_page = None  # a page refused on the way, never shown again, is not kept
    db.session.flush()
    # One statement: the conditional UPDATE's RETURNING loads the stored result onto `screening`
    # (populate_existing), with no SELECT to read back what was just written.
    submitted = db.session.scalars(
        update(Screening)
        .where(Screening.id == screening.id, Screening.state == "draft")
        .values(
            state="submitted",
            submitted_at=now or utcnow(),
            **Screening.result_columns(rules.evaluate(screening.answers)),
        )
        .returning(Screening),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if submitted is not None:  # only the request that submitted it tells the clinic
        notifications.queue_for_screening(screening)
    else:
        db.session.refresh(screening)  # another request sent it first: read what that one stored
    return screening


def has_emergency_to_withdraw(screening: Screening) -> bool:
    """Whether the screening was sent as an emergency whose answer has not been withdrawn yet."""
    return (
        screening.state == "submitted"
        and screening.outcome == Outcome.EMERGENCY
        and screening.emergency_withdrawn_at is None
    )


def withdraw_emergency(screening: Screening, retention_days: int, now: datetime | None = None) -> Screening:
    """The person chose an emergency answer by mistake: carry on in a new draft without it.

    The emergency screening is kept as it was sent, because the clinic was told of it; it records
    when the answer was withdrawn and gives up its resume token to the new draft, which `continues`
    it with every other answer. The answers that made it an emergency are left out, so the
    person is asked them again. The clinic is told. Returns the new draft.
    """
    if not has_emergency_to_withdraw(screening):
        raise ValueError(f"{screening!r} has no emergency answer to withdraw")
    now = now or utcnow()
    result = screening.stored_result()
    withdrawn = {name for reason in result.reasons if reason.outcome is Outcome.EMERGENCY for name in reason.answers}
    token_hash = screening.resume_token_hash
    screening.resume_token_hash = None
    screening.emergency_withdrawn_at = now
    db.session.flush()  # frees the token's unique hash for the new draft
    draft = _add_draft(
        resume_token_hash=token_hash,
        answers={name: value for name, value in screening.answers.items() if name not in withdrawn},
        consented_at=screening.consented_at,
        created_at=now,
        expires_at=now + timedelta(days=retention_days),
        continues_id=screening.id,
    )
    notifications.queue_emergency_withdrawn(screening)
    return draft


def result_visible(screening: Screening, visible_days: int, now: datetime | None = None) -> bool:
    """Whether a submitted screening's link still shows its result: for `visible_days` after
    submission. A resume link can be forwarded, found in a browser's history or a shared inbox
    long after; the clinic keeps the screening, the link stops showing the health details."""
    if screening.state != "submitted" or screening.submitted_at is None:
        raise ValueError(f"{screening!r} has no result yet")
    return (now or utcnow()) < screening.submitted_at + timedelta(days=visible_days)
