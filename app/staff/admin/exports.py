"""Exports of the screenings: CSV (formula-safe, streamed) and FHIR NDJSON, each audited.

Both stream, a few hundred rows from the database at a time and 64 KiB to the socket at a time,
so a worker's memory stays flat whatever the size; a million screenings take a couple of
minutes, far beyond gunicorn's 30-second timeout for a silent worker, so the stream beats
(app/heartbeat.py) between chunks to say the worker is alive and busy.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

import rules
from app import audit, heartbeat
from app.clock import utcnow
from app.display import CLINIC_TIME_ZONE
from app.extensions import db
from app.models import FollowUp, FollowUpActivityScore, Screening
from app.staff import queries
from app.staff.admin import bp
from app.staff.admin.audit_trail import filters_in_use
from app.staff.queue import QueueFilterForm

#: The fixed columns of the CSV export, before one column per question id.
EXPORT_COLUMNS = (
    "reference",
    "submitted_at",
    "outcome",
    "candidacy",
    "clinician_outcome",
    "review_status",
    "ruleset_version",
    "fired_rules",
    "emergency_withdrawn_at",
    # Set for a response imported from another tool; its submitted_at is then when the person
    # answered there, and IMS Screen never showed them the result.
    "imported_at",
)
#: How the FHIR export loads each batch's follow-ups, with their activity scores and activities.
FOLLOW_UPS = (
    selectinload(Screening.follow_ups)
    .selectinload(FollowUp.activity_scores)
    .selectinload(FollowUpActivityScore.activity)
)
#: Rows fetched from the database at a time while the export streams.
EXPORT_BATCH = 500
#: Lines of an export are sent in chunks of about this many characters.
EXPORT_CHUNK = 64 * 1024
#: Starts the CSV export, so that Excel takes it for UTF-8.
UTF8_BOM = "\ufeff"
#: A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (ASVS 1.2.10); no NUL bytes."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = ";".join(str(item) for item in value)
    else:
        text = str(value)
    text = text.replace("\x00", "")
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text


def _utc_iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def _memoised_safe_cell() -> Callable[[object], str]:
    """`safe_cell`, remembering its answer for short text and numbers, which repeat all through an
    export ("yes", "no", 7...). The memory is bounded, so a long export still stays flat."""
    known: dict[object, str] = {}

    def safe(value: object) -> str:
        kind = type(value)
        if kind is not str and kind is not int:  # not bool (True == 1), lists...
            return "" if value is None else safe_cell(value)
        text = known.get(value)
        if text is None:
            text = safe_cell(value)
            if len(known) < 4_096 and (kind is int or len(value) <= 40):  # type: ignore[arg-type]
                known[value] = text
        return text

    return safe


def _csv_lines(rows: Iterable[Sequence[Any]], question_ids: list[str]) -> Iterator[str]:
    """The header, then one line per screening, each through a small buffer (memory stays flat)."""
    buffer = io.StringIO()
    # RFC 4180: comma, double quotes, CRLF. Every field quoted: a spreadsheet set to split on ";"
    # (the European locales) then still reads ";=1+1" as one text cell, never as "" and "=1+1".
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    safe = _memoised_safe_cell()
    questions = [rules.questionnaire().questions[question_id] for question_id in question_ids]

    def line(cells: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(map(safe, cells))
        return buffer.getvalue()

    yield line([*EXPORT_COLUMNS, *question_ids])
    for (
        reference,
        submitted_at,
        outcome,
        candidacy,
        clinician_outcome,
        review_status,
        ruleset_version,
        reasons,
        emergency_withdrawn_at,
        imported_at,
        answers,
    ) in rows:
        fired = " ".join(reason.get("rule_id", "") for reason in reasons or [])
        yield line(
            [
                reference,
                _utc_iso(submitted_at),
                outcome,
                candidacy,
                clinician_outcome,
                review_status,
                ruleset_version,
                fired,
                _utc_iso(emergency_withdrawn_at),
                _utc_iso(imported_at),
                # As the rules read each answer, so a duration in whole weeks, as its column says.
                *(question.rule_value((answers or {}).get(question.id)) for question in questions),
            ]
        )


def _chunks(pieces: Iterable[str], size: int = EXPORT_CHUNK) -> Iterator[str]:
    """`pieces` joined into chunks of about `size` characters: one write to the socket each, not one
    per line."""
    pending: list[str] = []
    length = 0
    for piece in pieces:
        pending.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def _audited_export_filter(action: str) -> queries.QueueFilter | Response:
    """The queue filter an export was asked for, recorded in the audit trail; or a 400 saying
    which filter is wrong (an export never falls back to "everything")."""
    form = QueueFilterForm(request.args)
    if not form.validate():
        problems = "; ".join(f"{form[name].label.text}: {errors[0]}" for name, errors in form.errors.items())
        return Response(f"Some filters could not be used: {problems}\n", status=400, mimetype="text/plain")
    query_filter = form.to_filter()
    filters = filters_in_use(dataclasses.asdict(query_filter))
    if filters.get("name"):
        filters["name"] = "(a name)"  # the audit trail is not encrypted: record that, not who
    audit.record(action, filters=filters)
    db.session.commit()
    return query_filter


@bp.get("/export.csv")
def export_csv() -> ResponseReturnValue:
    """The screenings the queue shows for the same filters, in its order, streamed as CSV (audited)."""
    query_filter = _audited_export_filter("export_csv")
    if isinstance(query_filter, Response):
        return query_filter
    query = (
        queries.filtered(query_filter)
        .with_only_columns(
            Screening.reference,
            Screening.submitted_at,
            Screening.outcome,
            Screening.candidacy,
            Screening.clinician_outcome,
            Screening.review_status,
            Screening.ruleset_version,
            Screening.reasons,
            Screening.emergency_withdrawn_at,
            Screening.imported_at,
            Screening.answers,
        )
        .execution_options(yield_per=EXPORT_BATCH)
    )
    question_ids = [question.id for question in rules.questionnaire()]

    def generate() -> Iterator[str]:
        result = db.session.execute(query)
        try:
            # The byte order mark first: Excel on Windows then reads the file as UTF-8, so accented
            # names (Amélie, Nguyễn) show as typed rather than as "AmÃ©lie".
            yield from heartbeat.beating(_chunks(itertools.chain([UTF8_BOM], _csv_lines(result, question_ids))))
        finally:
            result.close()

    today = utcnow().astimezone(CLINIC_TIME_ZONE).date().isoformat()
    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="ims-screenings-{today}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.ndjson")
def export_fhir_ndjson() -> ResponseReturnValue:
    """The queue's screenings for the same filters as FHIR Bundles, one per line (NDJSON), streamed."""
    from app.staff.interop import bundle_for

    query_filter = _audited_export_filter("export_fhir_ndjson")
    if isinstance(query_filter, Response):
        return query_filter
    # Each batch's follow-ups after treatment in a few queries, not one per screening.
    query = queries.filtered(query_filter).options(FOLLOW_UPS).execution_options(yield_per=EXPORT_BATCH)

    def lines() -> Iterator[str]:
        for screening in db.session.scalars(query):
            yield json.dumps(bundle_for(screening), ensure_ascii=False, separators=(",", ":")) + "\n"

    def generate() -> Iterator[str]:
        yield from heartbeat.beating(_chunks(lines()))

    today = utcnow().astimezone(CLINIC_TIME_ZONE).date().isoformat()
    response = Response(stream_with_context(generate()), mimetype="application/fhir+ndjson")
    response.headers["Content-Disposition"] = f'attachment; filename="ims-screenings-{today}.ndjson"'
    return response
