"""Realistic data for the benchmark, written straight into the database in large batches.

- Submitted screenings whose answers are the named clinical cases (`rules/cases/*.yaml`), judged
  by `rules.evaluate`, so outcomes, ranks, reasons and indicators are real; spread over 400 days,
  with every review status, some physiotherapists' outcomes, status changes, notes, and
  encrypted assessment requests (names, emails, phone numbers) for a share of them.
- Drafts with complete answers, for the patient pages; their resume tokens are returned, since
  only their hashes are stored.
- A staff admin with an authenticator app, who signs in over HTTP like anyone else.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert

import rules
from app import credentials, crypto
from app.clock import utcnow
from app.extensions import db
from app.models import (
    OUTCOMES,
    AssessmentRequest,
    Notification,
    Screening,
    ScreeningNote,
    StatusChange,
    new_reference,
)
from rules.datafile import load_yaml

CASES = Path(rules.__file__).resolve().parent / "cases"
BATCH = 2_000
#: How often each review status occurs among the seeded screenings.
STATUS_WEIGHTS = {"new": 35, "in_review": 15, "contacted": 20, "booked": 15, "declined": 10, "referred": 5}
BOOKABLE = ("clinician_review", "likely", "possible", "unlikely", "not_suitable")
FIRST_NAMES = (
    "Amélie",
    "Bao",
    "Chloé",
    "Darius",
    "Émile",
    "Farah",
    "Gurpreet",
    "Hana",
    "Iñaki",
    "Józef",
    "Kiran",
    "Léa",
    "Mateo",
    "Nguyễn",
    "Olúwaseun",
    "Priya",
    "Quinn",
    "Rosa",
    "Søren",
    "Tomás",
    "Yuki",
    "Zoë",
)
LAST_NAMES = (
    "Bédard",
    "Chan",
    "Dubé",
    "Fernández",
    "Gill",
    "Hernández",
    "Kowalski",
    "Lefèvre",
    "Müller",
    "Ng",
    "O'Brien",
    "Park",
    "Singh",
    "Tremblay",
    "Wong",
    "Zhang",
)

STAFF_EMAIL = "bench-admin@clinic.example"
#: Passes the app's password rules (12+ characters, not a common password).
STAFF_PASSWORD = "benchmark only, never a real password"  # noqa: S105 (a throwaway account in a throwaway database)


def answer_sets() -> list[dict[str, object]]:
    """Every profile and every valid named case (a profile with a few answers changed or removed)."""
    profiles = load_yaml(CASES / "profiles.yaml")
    assert isinstance(profiles, dict)
    found = [dict(answers) for answers in profiles.values()]
    for path in sorted(CASES.glob("*.yaml")):
        cases = [] if path.name == "profiles.yaml" else load_yaml(path)
        assert isinstance(cases, list)
        for case in (case for case in cases if "problems" not in case):
            answers = {**profiles[case["given"]], **(case.get("change") or {})}
            found.append({qid: value for qid, value in answers.items() if qid not in (case.get("remove") or ())})
    return found


def complete_answer_sets() -> list[dict[str, object]]:
    """The answer sets a patient could submit: nothing required is missing."""
    return [answers for answers in answer_sets() if not rules.questionnaire().missing(answers)]


#: Every reference handed out, so that none is handed out twice.
_ISSUED: set[str] = set()


def references(count: int) -> Iterator[str]:
    """`count` references unlike any handed out before (among 120,000 random ones a clash can happen)."""
    for _ in range(count):
        reference = new_reference()
        while reference in _ISSUED:
            reference = new_reference()
        _ISSUED.add(reference)
        yield reference


def _token_hash() -> str:
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def create_staff_admin(app: Flask) -> tuple[int, str]:
    """An admin with an authenticator app; returns the account id and its TOTP secret."""
    with app.app_context():
        user = credentials.create_staff(STAFF_EMAIL, "Benchmark Admin", "admin", STAFF_PASSWORD)
        user.totp_secret = credentials.new_totp_secret()
        db.session.commit()
        return user.id, user.totp_secret


def seed_screenings(app: Flask, count: int, staff_id: int, seed: int = 7) -> dict[str, int]:
    """Insert `count` submitted screenings with their follow-up; return how many rows of each kind."""
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    judged = [(answers, Screening.result_columns(rules.evaluate(answers))) for answers in answer_sets()]
    now = utcnow()
    totals = dict.fromkeys(("screenings", "assessment_requests", "status_changes", "notes", "notifications"), 0)
    codes = references(count)
    with app.app_context():
        locations = [*app.config["CLINIC_LOCATIONS"], "any"]
        for start in range(0, count, BATCH):
            rows = [
                _screening_row(rng, next(codes), *rng.choice(judged), now) for _ in range(min(BATCH, count - start))
            ]
            inserted = insert(Screening).returning(Screening.id, sort_by_parameter_order=True)
            ids = db.session.scalars(inserted, rows).all()
            follow_up = _follow_up(rng, list(zip(ids, rows, strict=True)), staff_id, locations)
            for model, follow_rows in follow_up.items():
                if follow_rows:
                    db.session.execute(insert(model), follow_rows)
            db.session.commit()
            totals["screenings"] += len(rows)
            for model, name in (
                (AssessmentRequest, "assessment_requests"),
                (StatusChange, "status_changes"),
                (ScreeningNote, "notes"),
                (Notification, "notifications"),
            ):
                totals[name] += len(follow_up[model])
    return totals


def _screening_row(
    rng: random.Random, reference: str, answers: dict[str, object], result_columns: dict[str, Any], now: datetime
) -> dict[str, object]:
    submitted = now - timedelta(seconds=rng.uniform(60, 400 * 86_400))
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    return {
        "reference": reference,
        "resume_token_hash": _token_hash(),
        "state": "submitted",
        "answers": answers,
        **result_columns,
        "consented_at": submitted - timedelta(minutes=12),
        "created_at": submitted - timedelta(minutes=12),
        "updated_at": submitted,
        "submitted_at": submitted,
        "expires_at": submitted + timedelta(days=7),
        "review_status": status,
        "clinician_outcome": rng.choice(OUTCOMES) if status != "new" and rng.random() < 0.3 else None,
        "appointment_at": submitted + timedelta(days=rng.randint(2, 20)) if status == "booked" else None,
    }


def _follow_up(
    rng: random.Random, screenings: Sequence[tuple[int, dict[str, Any]]], staff_id: int, locations: list[str]
) -> dict[type, list[dict[str, object]]]:
    """Assessment requests (encrypted contact details), workflow steps, notes and urgent-result emails."""
    rows: dict[type, list[dict[str, object]]] = {
        AssessmentRequest: [],
        StatusChange: [],
        ScreeningNote: [],
        Notification: [],
    }
    for screening_id, screening in screenings:
        submitted = screening["submitted_at"]
        if screening["outcome"] in BOOKABLE and rng.random() < 0.35:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            rows[AssessmentRequest].append(
                {
                    "screening_id": screening_id,
                    "created_at": submitted,
                    "name": name,
                    "email": f"patient{screening_id}@example.com" if rng.random() < 0.8 else None,
                    "phone": f"604-555-{rng.randint(0, 9999):04d}",
                    "message": None,
                    "name_search_hash": crypto.search_hash(name),
                    "preferred_location": rng.choice(locations),
                    "preferred_times": rng.sample(["weekday_morning", "weekday_afternoon", "saturday"], 2),
                    "contact_consent_at": submitted,
                }
            )
        if screening["review_status"] != "new":
            rows[StatusChange].append(
                {
                    "screening_id": screening_id,
                    "author_id": staff_id,
                    "from_status": "new",
                    "to_status": screening["review_status"],
                    "changed_at": submitted + timedelta(hours=20),
                }
            )
            if rng.random() < 0.2:
                rows[ScreeningNote].append(
                    {
                        "screening_id": screening_id,
                        "author_id": staff_id,
                        "created_at": submitted + timedelta(hours=21),
                        "body": "Called the patient; left a message with the clinic's number.",
                    }
                )
        if screening["outcome"] in ("emergency", "see_doctor"):
            rows[Notification].append(
                {
                    "kind": "clinic_urgent_screening",
                    "screening_id": screening_id,
                    "state": "sent",
                    "attempts": 1,
                    "created_at": submitted,
                    "next_attempt_at": submitted,
                    "sent_at": submitted,
                }
            )
    return rows


def seed_drafts(app: Flask, answer_sets: Sequence[dict[str, object]], count: int) -> list[str]:
    """Insert `count` drafts cycling through `answer_sets`; return their resume tokens."""
    from app.patient.services import hash_token

    now = utcnow()
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    codes = references(count)
    with app.app_context():
        for start in range(0, count, BATCH):
            db.session.execute(
                insert(Screening),
                [
                    {
                        "reference": next(codes),
                        "resume_token_hash": hash_token(token),
                        "state": "draft",
                        "answers": answer_sets[(start + offset) % len(answer_sets)],
                        "consented_at": now,
                        "created_at": now,
                        "updated_at": now,
                        "expires_at": now + timedelta(days=7),
                    }
                    for offset, token in enumerate(tokens[start : start + BATCH])
                ],
            )
            db.session.commit()
    return tokens
