"""The yardstick for a question step: the least a Flask app can do to save one, with the same stack.

It does exactly a step's work and nothing else: a Flask-WTF form with its CSRF check, the draft
found by the hash of the resume token in the (signed) session cookie and locked, its JSON answers
updated with the posted ones, a durable commit (PostgreSQL's defaults; SQLite in WAL with
synchronous=FULL and BEGIN IMMEDIATE, as app/extensions.py sets up), and a 303. SQLAlchemy Core,
no ORM, no templates, no translations, no idle time-out, no per-answer language.

`make bench` serves it under `gunicorn -c gunicorn.conf.py "bench.minimal:create_app()"`, beside
IMS Screen and hello-world, on PostgreSQL and on SQLite (DATABASE_URL), and reads the step POST of
IMS Screen as a share of this app's: the same requests (cookie, CSRF token, body) go to both.
Its drafts are copies of the app's, in a table of its own (`copy_drafts`).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, abort, redirect, session
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, select, update
from sqlalchemy.engine import Engine
from wtforms import IntegerField, RadioField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, NumberRange

# The app's SQLite settings (WAL, busy_timeout, synchronous=FULL, BEGIN IMMEDIATE) are listeners on
# every Engine; gunicorn.conf.py imports the app package in each worker anyway.
import app.extensions  # noqa: F401

#: The session key holding the resume token, as the app's (app/patient/views.py TOKEN_KEY).
TOKEN_KEY = "screening_token"  # noqa: S105 (a key's name)

metadata = MetaData()
drafts = Table(
    "bench_draft",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resume_token_hash", String(64), unique=True, nullable=False),
    Column("answers", JSON, nullable=False),
)


class PainHistory(FlaskForm):
    """The fields of the page the benchmark posts (rules' section `pain_history`), validated."""

    pain_duration_weeks = IntegerField(validators=[InputRequired(), NumberRange(0, 100_000)])
    pain_duration_weeks__unit = RadioField(choices=["days", "weeks", "months", "years"], validators=[InputRequired()])
    pain_onset = RadioField(choices=["injury", "surgery", "gradual", "unsure"], validators=[InputRequired()])
    pain_trend = RadioField(choices=["better", "same", "worse"], validators=[InputRequired()])
    other_diagnoses = SelectMultipleField(
        choices=[
            "recent_fracture",
            "healed_fracture",
            "hot_swollen_joint",
            "awaiting_joint_replacement",
            "osteoarthritis",
            "organ_problem",
            "none",
            "unsure",
        ],
        validators=[InputRequired()],
    )
    action = StringField()


def create_app(database_url: str | None = None) -> Flask:
    """The app on DATABASE_URL (or `database_url`), with the SECRET_KEY and session cookie settings
    of IMS Screen's production configuration, so that its cookies and CSRF tokens are valid here."""
    from app.config import normalise_database_url

    minimal = Flask(__name__)
    minimal.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=120 * 60,
    )
    CSRFProtect(minimal)
    engine = create_engine(normalise_database_url(database_url or os.environ["DATABASE_URL"]), pool_pre_ping=False)
    minimal.extensions["bench_engine"] = engine

    @minimal.get("/healthz")
    def healthz() -> str:
        return "ok"

    @minimal.post("/screening/<section_id>")
    def step(section_id: str) -> ResponseReturnValue:
        form = PainHistory()
        token = session.get(TOKEN_KEY)
        if not form.validate() or not isinstance(token, str):
            abort(400)
        posted: dict[str, Any] = {
            "pain_duration_weeks": {
                "amount": form.pain_duration_weeks.data,
                "unit": form.pain_duration_weeks__unit.data,
            },
            "pain_onset": form.pain_onset.data,
            "pain_trend": form.pain_trend.data,
            "other_diagnoses": form.other_diagnoses.data,
        }
        with engine.begin() as connection:
            found = connection.execute(
                select(drafts.c.id, drafts.c.answers)
                .where(drafts.c.resume_token_hash == hashlib.sha256(token.encode()).hexdigest())
                .with_for_update()
            ).one_or_none()
            if found is None:
                abort(404)
            answers = {**found.answers, **posted}
            if answers != found.answers:
                connection.execute(update(drafts).where(drafts.c.id == found.id).values(answers=answers))
        return redirect(f"/screening/{section_id}", code=303)

    return minimal


def copy_drafts(engine: Engine) -> int:
    """Create `bench_draft` and fill it with copies of the app's drafts (token hash, answers)."""
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(drafts.delete())
        copied = connection.exec_driver_sql(
            "INSERT INTO bench_draft (resume_token_hash, answers) "
            "SELECT resume_token_hash, answers FROM screening WHERE state = 'draft'"
        ).rowcount
    return int(copied)
