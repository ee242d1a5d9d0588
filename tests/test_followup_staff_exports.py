"""Follow-ups after treatment in the exports (issue 18): the follow-ups' own CSV (one row per
follow-up, with its screening's reference) and FHIR (each answered follow-up a
QuestionnaireResponse linked to its screening's, and the follow-up Questionnaire)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import fhir, fhir_followup
from app.clock import utcnow
from app.extensions import db
from app.models import AuditEvent, FollowUp
from tests.support.outcomes import Answered, Unanswered, seed
from tests.support.staff_pages import text_of

#: The follow-ups' CSV header, written out: compared with the code's own list it could never be wrong.
HEADER = (
    "reference,outcome,ruleset_version,appointment_at,week,due_at,sent_at,response,answered_at,language,"
    "baseline_current_pain,current_pain,baseline_average_pain,average_pain,pgic,pgic_label,much_better,had_ims,"
    "ims_sessions,activity_1,activity_1_score,activity_2,activity_2_score,activity_3,activity_3_score"
).split(",")


def seed_two(app: Flask) -> tuple[str, str]:
    """Screening A (likely: two answered follow-ups, one being answered; two activities, one a
    would-be formula) and screening B (possible: one expired); their references."""
    with app.app_context():
        first = seed(
            outcome="likely",
            fired=("fit_a",),
            version="1.5.1",
            pain_now=7,
            pain_average=6,
            activities=("Lifting my child", '=HYPERLINK("http://evil.example")'),
            follow_ups=(
                Answered(2, pgic=2, current_pain=3, average_pain=4, scores={1: 5, 2: 3}),
                Answered(6, pgic=5, current_pain=8, average_pain=7, scores={1: 2}),
                Unanswered(12, open=True),
            ),
        )
        second = seed(outcome="possible", fired=("fit_b",), version="1.5.0", follow_ups=(Unanswered(2),))
        db.session.flush()
        # Answers saved but never sent are not exported as answers.
        open_one = db.session.scalars(
            select(FollowUp).where(FollowUp.screening_id == first.id, FollowUp.week == 12)
        ).one()
        open_one.current_pain, open_one.pgic, open_one.started_at = 9, 7, utcnow()
        db.session.commit()
        return first.reference, second.reference


def export(client: FlaskClient, query: str = "") -> list[dict[str, str]]:
    response = client.get("/staff/export-follow-ups.csv" + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ims-follow-ups-')
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")  # so Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(body[1:], newline="")))
    assert rows[0] == HEADER
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def test_the_follow_ups_csv_has_one_row_per_follow_up_each_with_its_own_screening(
    app: Flask, admin_client: FlaskClient
) -> None:
    first, second = seed_two(app)
    rows = export(admin_client)
    assert [(row["reference"], row["week"], row["response"]) for row in rows] == [
        (first, "2", "answered"),
        (first, "6", "answered"),
        (first, "12", "started"),
        (second, "2", "expired"),
    ]
    week_2 = rows[0]
    assert {name: week_2[name] for name in HEADER[10:]} == {
        "baseline_current_pain": "7",
        "current_pain": "3",
        "baseline_average_pain": "6",
        "average_pain": "4",
        "pgic": "2",
        "pgic_label": "Much better",
        "much_better": "yes",
        "had_ims": "yes",
        "ims_sessions": "4",
        "activity_1": "Lifting my child",
        "activity_1_score": "5",
        "activity_2": '\'=HYPERLINK("http://evil.example")',  # text, never a formula
        "activity_2_score": "3",
        "activity_3": "",
        "activity_3_score": "",
    }
    assert (week_2["outcome"], week_2["ruleset_version"], week_2["language"]) == ("likely", "1.5.1", "")
    assert week_2["answered_at"].endswith("Z") and week_2["sent_at"].endswith("Z")
    assert (rows[1]["pgic_label"], rows[1]["much_better"], rows[1]["activity_2_score"]) == ("A little worse", "no", "")
    # Being answered: the saved answers are not answers yet.
    assert [rows[2][name] for name in ("current_pain", "pgic", "much_better", "activity_1_score")] == ["", "", "", ""]
    assert rows[2]["activity_1"] == "Lifting my child"
    # Screening B's row has B's baseline and nothing of A's.
    assert (rows[3]["outcome"], rows[3]["baseline_current_pain"], rows[3]["activity_1"]) == ("possible", "6", "")


def test_the_follow_ups_csv_uses_the_queue_filters_and_is_audited(app: Flask, admin_client: FlaskClient) -> None:
    first, second = seed_two(app)
    assert [row["reference"] for row in export(admin_client, "?outcome=possible")] == [second]
    assert export(admin_client, "?outcome=emergency") == []
    refused = admin_client.get("/staff/export-follow-ups.csv?submitted_from=2026-02-30")
    assert refused.status_code == 400 and "IMS-" not in refused.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export_follow_ups_csv")).all()
        assert [event.detail for event in events] == [
            {"filters": {"outcome": "possible"}},
            {"filters": {"outcome": "emergency"}},
        ]
    assert first not in "".join(row["reference"] for row in export(admin_client, "?outcome=possible"))


def test_only_admins_export_follow_ups(app: Flask, physio_client: FlaskClient, client: FlaskClient) -> None:
    seed_two(app)
    assert physio_client.get("/staff/export-follow-ups.csv").status_code == 403
    anonymous = client.get("/staff/export-follow-ups.csv")
    assert anonymous.status_code == 302 and anonymous.location.startswith("/staff/sign-in")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "export_follow_ups_csv")) is None


def test_the_queue_links_to_the_follow_ups_export_with_its_filters(admin_client: FlaskClient) -> None:
    html = admin_client.get("/staff/?outcome=likely").get_data(as_text=True)
    assert 'href="/staff/export-follow-ups.csv?outcome=likely"' in html
    assert 'href="/staff/fhir/follow-up-questionnaire.json"' in html


def responses(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The QuestionnaireResponse entries of a Bundle: the screening's first, then its follow-ups'."""
    return [entry for entry in bundle["entry"] if entry["resource"]["resourceType"] == "QuestionnaireResponse"]


def follow_up_responses(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The follow-ups' QuestionnaireResponses in a screening's Bundle: those answering the
    follow-up Questionnaire."""
    return [
        entry["resource"]
        for entry in responses(bundle)
        if entry["resource"]["questionnaire"].partition("|")[0].endswith(f"/{fhir_followup.QUESTIONNAIRE_ID}")
    ]


def test_each_answered_follow_up_is_a_questionnaire_response_linked_to_the_screening(
    app: Flask, physio_client: FlaskClient
) -> None:
    first, _ = seed_two(app)
    where = fhir.Publication.of(app)
    response = physio_client.get(f"/staff/fhir/screenings/{first}.json")
    assert response.status_code == 200
    bundle = json.loads(response.get_data(as_text=True))
    Bundle.model_validate(bundle)
    by_type = {entry["resource"]["resourceType"]: entry for entry in bundle["entry"]}
    screening_response = responses(bundle)[0]
    assert screening_response["resource"]["questionnaire"].startswith(where.questionnaire_url + "|")
    follow_ups = follow_up_responses(bundle)
    assert [resource["identifier"]["value"] for resource in follow_ups] == [f"{first}/2", f"{first}/6"]  # answered only
    for resource in follow_ups:
        QuestionnaireResponse.model_validate(resource)
        assert resource["status"] == "completed"
        assert resource["subject"] == {"reference": by_type["Patient"]["fullUrl"]}
        [linked] = [ext for ext in resource["extension"] if ext["url"] == fhir_followup.FOLLOW_UP_OF.url(where)]
        assert linked["valueReference"]["reference"] == screening_response["fullUrl"]
        assert linked["valueReference"]["identifier"]["value"] == first
    week_2 = follow_ups[0]
    assert [
        ext["valueQuantity"] for ext in week_2["extension"] if ext["url"] == fhir_followup.FOLLOW_UP_WEEK.url(where)
    ] == [{"value": 2, "unit": "weeks", "system": "http://unitsofmeasure.org", "code": "wk"}]
    answers = {item["linkId"]: item.get("answer", [{}])[0] for item in week_2["item"] if item["linkId"] != "activity"}
    assert answers == {
        "current_pain": {"valueInteger": 3},
        "average_pain": {"valueInteger": 4},
        "pgic": {
            "valueCoding": {"system": fhir_followup.choice_system("pgic", where), "code": "2", "display": "Much better"}
        },
        "had_ims": {
            "valueCoding": {"system": fhir_followup.choice_system("had_ims", where), "code": "yes", "display": "Yes"}
        },
        "ims_sessions": {"valueInteger": 4},
    }
    activities = [
        {part["linkId"]: next(iter(part["answer"][0].values())) for part in item["item"]}
        for item in week_2["item"]
        if item["linkId"] == "activity"
    ]
    assert activities == [
        {"activity_name": "Lifting my child", "activity_score": 5},
        {"activity_name": '=HYPERLINK("http://evil.example")', "activity_score": 3},
    ]
    # Every linkId answered is a question of the follow-up Questionnaire.
    questionnaire = fhir_followup.questionnaire_resource(where)
    link_ids = {item["linkId"] for item in questionnaire["item"]} | {
        part["linkId"] for item in questionnaire["item"] for part in item.get("item", [])
    }
    assert {item["linkId"] for item in week_2["item"]} <= link_ids
    assert {part["linkId"] for item in week_2["item"] for part in item.get("item", [])} <= link_ids
    assert week_2["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"


def test_the_follow_up_questionnaire_is_a_valid_fhir_questionnaire(app: Flask, physio_client: FlaskClient) -> None:
    response = physio_client.get("/staff/fhir/follow-up-questionnaire.json")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    parsed = Questionnaire.model_validate(json.loads(response.get_data(as_text=True)))
    assert parsed.url == f"{app.config['PUBLIC_BASE_URL']}/fhir/Questionnaire/ims-screen-follow-up"
    items = {item.linkId: item for item in parsed.item}
    assert list(items) == ["current_pain", "average_pain", "pgic", "had_ims", "ims_sessions", "activity"]
    assert [option.valueCoding.code for option in items["pgic"].answerOption] == [str(n) for n in range(1, 8)]
    assert items["ims_sessions"].enableWhen[0].question == "had_ims"
    assert items["activity"].repeats and [part.linkId for part in items["activity"].item] == [
        "activity_name",
        "activity_score",
    ]


def test_the_ndjson_export_puts_each_follow_up_in_its_own_screenings_bundle(
    app: Flask, admin_client: FlaskClient
) -> None:
    first, second = seed_two(app)
    with app.app_context():
        plain = seed(outcome="unlikely", fired=("fit_c",), follow_ups=())  # no follow-up at all
        db.session.commit()
        plain_reference = plain.reference
    response = admin_client.get("/staff/export.ndjson")
    assert response.status_code == 200
    bundles = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    found = {bundle["identifier"]["value"]: bundle for bundle in bundles}
    assert set(found) == {first, second, plain_reference}
    for reference, bundle in found.items():
        Bundle.model_validate(bundle)
        identifiers = [resource["identifier"]["value"] for resource in follow_up_responses(bundle)]
        assert identifiers == ([f"{first}/2", f"{first}/6"] if reference == first else [])


def test_the_screening_page_and_its_fhir_bundle_agree(app: Flask, physio_client: FlaskClient) -> None:
    first, _ = seed_two(app)
    text = text_of(physio_client.get(f"/staff/screenings/{first}"))
    assert "2 of 3 follow-ups answered" in text
    bundle = json.loads(physio_client.get(f"/staff/fhir/screenings/{first}.json").get_data(as_text=True))
    assert len(follow_up_responses(bundle)) == 2
