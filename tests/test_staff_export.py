"""The CSV export of screenings: the queue's filters and order, streamed, safe to open in a spreadsheet."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import rules
from app import fhir, fhir_import
from app.extensions import db
from app.models import AuditEvent, Screening
from app.patient import services
from app.staff.admin import exports
from rules.questionnaire import duration
from tests.conftest import insert_judged, sqlite_only

#: The export's first columns, as its header line starts. Written out, not read from
#: exports.EXPORT_COLUMNS: a header compared with the code's own list could never be wrong.
FIXED_COLUMNS = (
    "reference,submitted_at,outcome,candidacy,clinician_outcome,review_status,ruleset_version,fired_rules,"
    "emergency_withdrawn_at,imported_at"
)
QUESTION_IDS = [question.id for question in rules.questionnaire()]
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 10:00 in Vancouver


def submit(app: Flask, answers: dict[str, object], submitted_at: datetime) -> str:
    """A submitted screening with these answers; its reference."""
    with app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = answers
        services.submit_screening(screening, now=submitted_at)
        db.session.commit()
        return screening.reference


def refused(client: FlaskClient, query: str = "") -> int:
    """The status of an export that must be refused; it must contain no screening's reference."""
    response = client.get("/staff/export.csv" + query)
    assert "IMS-" not in response.get_data(as_text=True)
    return response.status_code


def export(client: FlaskClient, query: str = "") -> list[list[str]]:
    response = client.get("/staff/export.csv" + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    # RFC 4180: parsed back exactly with the csv module (newline="" keeps quoted line breaks), read
    # as Excel reads it: UTF-8, its byte order mark dropped.
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def test_the_export_has_a_header_and_one_row_per_screening_in_queue_order(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    likely_late = submit(app, ideal_answers, MONDAY + timedelta(hours=2))
    likely_early = submit(app, ideal_answers, MONDAY)
    not_suitable = submit(app, {**ideal_answers, "willing_to_try": "no"}, MONDAY + timedelta(hours=5))
    with app.app_context():  # a draft is never exported
        services.start_screening(7)
        db.session.commit()

    rows = export(admin_client)
    assert rows[0] == FIXED_COLUMNS.split(",") + QUESTION_IDS
    assert [row[0] for row in rows[1:]] == [not_suitable, likely_early, likely_late]
    assert all(len(row) == len(rows[0]) for row in rows)

    row = dict(zip(rows[0], rows[2], strict=True))
    assert row["submitted_at"] == "2026-03-02T18:00:00Z"
    assert (row["outcome"], row["candidacy"], row["clinician_outcome"], row["review_status"]) == (
        "likely",
        "likely",
        "",
        "new",
    )
    assert row["ruleset_version"] == rules.evaluate(ideal_answers).ruleset_version
    assert row["fired_rules"] == "C-L1"
    assert row["emergency_withdrawn_at"] == "" and row["imported_at"] == ""
    assert row["age"] == "45"
    assert row["pain_regions"] == "neck;shoulder_right;upper_back"  # multiple choice joined with ;
    assert row["interpreter_language"] == ""  # does not apply
    assert dict(zip(rows[0], rows[1], strict=True))["fired_rules"] == "CI-1 C-U4"


def test_the_export_says_when_an_emergency_answer_was_withdrawn(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    reference = submit(app, {**ideal_answers, "rf_calf_swelling": "yes", "calf_swelling_detail": "swollen"}, MONDAY)
    with app.app_context():
        screening = db.session.scalars(select(Screening).where(Screening.reference == reference)).one()
        services.withdraw_emergency(screening, 7, now=MONDAY + timedelta(minutes=3))
        db.session.commit()
    rows = export(admin_client)
    assert [row[0] for row in rows[1:]] == [reference]  # the draft it carries on in is not exported
    assert dict(zip(rows[0], rows[1], strict=True))["emergency_withdrawn_at"] == "2026-03-02T18:03:00Z"


def test_an_imported_screening_is_marked_with_when_it_was_imported(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    # Its submitted_at is when the person answered in the other tool; a reader of the export must
    # still be able to tell that it came from elsewhere, and since when the clinic has had it.
    bundle = fhir.screening_bundle("IMS-TEST2345", ideal_answers, "2026-03-01T18:00:00Z", rules.evaluate(ideal_answers))
    with app.app_context():
        response = {**bundle["entry"][1]["resource"], "identifier": {"system": "urn:example:other-tool", "value": "1"}}
        screening = fhir_import.import_response(json.dumps(response).encode())
        db.session.commit()
        imported, imported_at = screening.reference, screening.imported_at
    own = submit(app, ideal_answers, MONDAY)
    header, *lines = export(admin_client)
    rows = {line[0]: dict(zip(header, line, strict=True)) for line in lines}
    assert imported_at is not None and imported_at > MONDAY
    assert (rows[imported]["submitted_at"], rows[imported]["imported_at"]) == (
        "2026-03-01T18:00:00Z",
        imported_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert rows[own]["imported_at"] == ""


def test_the_export_uses_the_queue_filters(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    likely = submit(app, ideal_answers, MONDAY)
    later = submit(app, ideal_answers, MONDAY + timedelta(days=3))
    not_suitable = submit(app, {**ideal_answers, "willing_to_try": "no"}, MONDAY)

    def references(query: str) -> list[str]:
        return [row[0] for row in export(admin_client, query)[1:]]

    assert references("?outcome=likely") == [likely, later]
    assert references("?outcome=not_suitable") == [not_suitable]
    assert references("?status=booked") == []
    assert references("?submitted_from=2026-03-03") == [later]
    assert references("?submitted_to=2026-03-02&outcome=likely") == [likely]
    assert references("?reference=" + later[4:8].lower()) == [later]
    assert references("?page=3") == references("")  # the queue's page number does not limit it


def test_an_unusable_filter_is_refused_rather_than_exporting_everything(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    submit(app, ideal_answers, MONDAY)
    assert refused(admin_client, "?outcome=everything") == 400
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export_csv")) is None


@pytest.mark.one_backend  # how a cell is written, not what the query finds: SQLite only
@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x")',
        "+1",
        "-2",
        "@SUM(A1)",
        "\tcmd",
        "\r=1",
    ],
)
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object], text: str
) -> None:
    submit(app, {**ideal_answers, "interpreter_needed": "yes", "interpreter_language": text}, MONDAY)
    header, row = export(admin_client)
    assert row[header.index("interpreter_language")] == "'" + text
    assert row[header.index("interpreter_needed")] == "yes"


def test_commas_quotes_and_line_breaks_survive_the_round_trip(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    text = 'Cantonese, "or" Mandarin\nline two'
    submit(app, {**ideal_answers, "interpreter_needed": "yes", "interpreter_language": text}, MONDAY)
    raw = admin_client.get("/staff/export.csv").get_data(as_text=True)
    assert '"Cantonese, ""or"" Mandarin\nline two"' in raw
    assert raw.endswith("\r\n")
    header, row = export(admin_client)
    assert row[header.index("interpreter_language")] == text
    assert len(row) == len(header)


@sqlite_only
@pytest.mark.parametrize("text", [";=1+1", ";+1", "a;@SUM(A1)", ",=1", "x;\t=1"])
def test_every_field_is_quoted_so_a_semicolon_cannot_start_a_formula_cell(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object], text: str
) -> None:
    """Excel in a locale whose list separator is ";" splits unquoted text there: ";=1+1" would become
    an empty cell and a formula. Quoted, the whole field is one cell of text."""
    submit(app, {**ideal_answers, "interpreter_needed": "yes", "interpreter_language": text}, MONDAY)
    raw = admin_client.get("/staff/export.csv").get_data(as_text=True).removeprefix("\ufeff")
    lines = raw.split("\r\n")
    assert lines.pop() == ""
    # Every cell, empty ones too, is inside double quotes: split on ";" or ",", no piece of a line
    # outside the quotes is left to be read as a formula.
    for line in lines:
        assert re.fullmatch(r'"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*', line), line
    header, row = export(admin_client)
    assert row[header.index("interpreter_language")] == text  # still the text, exactly
    assert f'"{text}"' in raw
    assert raw.startswith('"reference","submitted_at","outcome"')
    assert '"",' in raw  # empty cells are quoted too


def test_the_export_starts_with_a_byte_order_mark_so_excel_reads_accented_names(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    text = "Québécois French, Tiếng Việt"
    submit(app, {**ideal_answers, "interpreter_needed": "yes", "interpreter_language": text}, MONDAY)
    raw = admin_client.get("/staff/export.csv").get_data()
    assert raw.startswith(b"\xef\xbb\xbf" + b'"reference","submitted_at",')
    assert raw.count(b"\xef\xbb\xbf") == 1
    header, row = export(admin_client)
    assert header[0] == "reference"
    assert row[header.index("interpreter_language")] == text


def test_safe_cell() -> None:
    assert exports.safe_cell(None) == ""
    assert exports.safe_cell(45) == "45"
    assert exports.safe_cell(["neck", "upper_back"]) == "neck;upper_back"
    assert exports.safe_cell("a\x00b") == "ab"
    assert exports.safe_cell("\x00=1") == "'=1"  # a NUL cannot hide a formula
    assert exports.safe_cell("Punjabi") == "Punjabi"
    assert exports.safe_cell(" =1") == " =1"
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert exports.safe_cell(trigger + "x") == "'" + trigger + "x"


def test_the_export_streams_an_attachment_that_is_not_cached(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    submit(app, ideal_answers, MONDAY)
    response = admin_client.get("/staff/export.csv")
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    today = datetime.now(exports.CLINIC_TIME_ZONE).date().isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="ims-screenings-{today}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert len(response.get_data(as_text=True).splitlines()) == 2


def test_each_export_is_audited_with_its_filters(app: Flask, admin_client: FlaskClient) -> None:
    export(admin_client, "?outcome=likely&submitted_from=2026-03-01")
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_csv")).all()
        assert event.actor_email == "admin@clinic.example"
        assert event.detail == {"filters": {"outcome": "likely", "submitted_from": "2026-03-01"}}


def test_a_large_export_is_fetched_in_batches(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    """More rows than one batch (2.5 batches), so the streaming cursor is read across fetches."""
    count = exports.EXPORT_BATCH * 2 + exports.EXPORT_BATCH // 2
    insert_judged(app, ideal_answers, count, MONDAY)
    rows = export(admin_client)
    assert len(rows) == count + 1
    assert [row[0] for row in rows[1:]] == [f"IMS-T{index:07d}" for index in range(count)]


def test_a_physiotherapist_cannot_export(
    app: Flask, physio_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    submit(app, ideal_answers, MONDAY)
    assert refused(physio_client) == 403


def test_the_queue_links_to_the_export_with_its_filters(admin_client: FlaskClient) -> None:
    html = admin_client.get("/staff/?outcome=likely&status=new&page=2").get_data(as_text=True)
    assert 'href="/staff/export.csv?outcome=likely&amp;status=new"' in html
    assert "Export these as CSV" in html


def test_a_duration_is_exported_in_whole_weeks_as_its_column_says(
    app: Flask, admin_client: FlaskClient, ideal_answers: dict[str, object]
) -> None:
    months = submit(app, {**ideal_answers, "pain_duration_weeks": duration(3, "months")}, MONDAY)
    days = submit(app, {**ideal_answers, "pain_duration_weeks": duration(3, "days")}, MONDAY + timedelta(hours=1))
    rows = export(admin_client)
    weeks = {row[0]: dict(zip(rows[0], row, strict=True))["pain_duration_weeks"] for row in rows[1:]}
    assert weeks == {months: "13", days: "0"}
