"""Reading a QuestionnaireResponse from another tool, and filing it as a screening (issue 19).

Legal R4 is read (an item without answers, a display item, other texts, a response in a Bundle,
one stopped early because its answers decide, a duration's unit as text naming one of its units);
anything else is refused with every problem named in words, and nothing is stored: no screening,
no audit event, no email. The staff page and the CLI file a sound response as a screening judged
by the rules, marked imported and audited. A response that states no version of the questionnaire
is filed only when staff confirm it answers the current one, and the audit event says so.
"""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import rules
from app import fhir, fhir_import, notifications, retention
from app.clock import utcnow
from app.display import local_datetime
from app.extensions import db
from app.models import AuditEvent, Notification, Screening
from rules.questionnaire import NOT_APPLICABLE, duration
from tests.conftest import csrf_token_from, submit_screening
from tests.support.journey import as_stored, profile

VERSION = rules.ruleset().ruleset_version


#: A response's identifier in another tool.
OTHER_TOOL_IDENTIFIER = {"system": "https://forms.other.example/responses", "value": "QR-2345"}


def response_of(answers: dict[str, object]) -> dict[str, Any]:
    """The QuestionnaireResponse IMS Screen exports for `answers` (complete, or decided)."""
    bundle = fhir.screening_bundle("IMS-TEST2345", answers, "2026-11-25T18:00:00Z", rules.evaluate(answers))
    response: dict[str, Any] = copy.deepcopy(bundle["entry"][1]["resource"])
    # As another tool sends it: under that tool's identifier, not one of IMS Screen's own
    # screenings (which the import refuses: test_the_clinics_own_export_is_never_filed_again).
    response["identifier"] = OTHER_TOOL_IDENTIFIER
    return response


def item(response: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for group in response["item"] for i in group["item"] if i["linkId"] == link_id)


def problems_of(data: object) -> list[str]:
    with pytest.raises(fhir_import.InvalidResponse) as refused:
        fhir_import.read_response(data)
    assert refused.value.problems
    return refused.value.problems


# ---- What is read ------------------------------------------------------------------------------


def test_legal_r4_that_says_nothing_more_is_read_as_the_same_answers() -> None:
    answers = profile("ideal_neck")
    response = response_of(answers)
    for group in response["item"]:
        group["text"] = "Another tool's words"
        group["item"].insert(0, {"linkId": f"{group['linkId']}.intro", "text": "An introduction, as display"})
    item(response, "age")["item"] = [{"linkId": "age.help", "text": "In whole years."}]
    response["item"][0]["item"].append({"linkId": "proxy_relationship"})  # no answer: disabled, not answered
    next(g for g in response["item"] if g["linkId"] == "warning_signs")["item"].append(
        {"linkId": "headache_detail", "answer": []}
    )
    response.update(status="amended", id="x1", author={"display": "Kiosk"}, meta={"source": "another-tool"})
    read = fhir_import.read_response(response)
    assert read.answers == as_stored(answers)
    assert read.language == "en-CA"


def test_a_bundle_holding_one_response_is_read_and_its_language_kept() -> None:
    answers = profile("proxy_teen")
    bundle = fhir.screening_bundle(
        "IMS-TEST2345", answers, "2026-11-25T18:00:00Z", rules.evaluate(answers), language="pa"
    )
    read = fhir_import.read_response(bundle)
    assert read.answers == as_stored(answers) and read.language == "pa"
    assert fhir_import.read_response({**response_of(answers), "language": "en-US"}).language == "en-CA"


def test_a_response_stopped_because_its_answers_decide_is_read() -> None:
    """As the patient pages stop after an emergency answer, the response has only the pages before."""
    full = profile("ideal_low_back", rf_bladder_bowel="yes")
    asked = {question.id for section in rules.questionnaire().sections[:3] for question in section.questions}
    answers = {question_id: value for question_id, value in full.items() if question_id in asked}
    assert rules.decided(answers) is rules.Outcome.EMERGENCY
    response = response_of(answers)
    assert response["status"] == "stopped"
    assert fhir_import.read_response(response).answers == answers


# ---- What is refused, and how it is said -------------------------------------------------------


def test_a_file_that_is_not_a_json_document_is_refused_in_words() -> None:
    for raw, expected in (
        (b"\xff\xfe\x00not utf-8", "not text in UTF-8"),
        (b'{"resourceType": "QuestionnaireResponse",', "not valid JSON"),
        (b"[" * 200_000 + b"]" * 200_000, "nests too deeply"),
        (b'{"resourceType": NaN}', "not valid JSON"),
    ):
        with pytest.raises(fhir_import.InvalidResponse) as refused:
            fhir_import.parse_json(raw)
        assert expected in refused.value.problems[0]
    assert fhir_import.parse_json("\ufeff{}".encode()) == {}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([1, 2], "The file holds no FHIR resource"),
        ({"resourceType": "Patient"}, "holds a Patient, not a QuestionnaireResponse"),
        ({"answers": {}}, "holds no resourceType, not a QuestionnaireResponse"),
        ({"resourceType": "Bundle", "entry": []}, "The Bundle holds 0 QuestionnaireResponses"),
    ],
)
def test_a_resource_that_is_no_questionnaire_response_is_refused(data: object, expected: str) -> None:
    assert expected in problems_of(data)[0]


def test_the_status_and_the_questionnaire_link_and_version_are_checked() -> None:
    response = response_of(profile("ideal_neck"))
    url = fhir.publication().questionnaire_url
    cases = {
        "in-progress": "still in progress",
        "entered-in-error": "status is 'entered-in-error'; only completed, amended, stopped",
        None: "status is none",
    }
    for status, expected in cases.items():
        assert any(expected in p for p in problems_of({**response, "status": status})), status
    links: dict[object, str] = {
        None: f"does not say which questionnaire it answers (questionnaire: {url}|{VERSION})",
        "urn:ims-screen:questionnaire|"
        + VERSION: f"answers the questionnaire 'urn:ims-screen:questionnaire', not this installation's ({url})",
        url: "does not say which version",
        f"{url}|1.0.0+0123456789ab": "answers version '1.0.0+0123456789ab' of the questionnaire, but this installation asks version",
    }
    for link, expected in links.items():
        assert any(expected in p for p in problems_of({**response, "questionnaire": link})), link


def test_the_structure_of_the_questionnaire_is_checked() -> None:
    good = response_of(profile("ideal_neck"))
    flat = {**good, "item": [i for group in good["item"] for i in group["item"]]}
    problems = problems_of(flat)
    assert (
        "“Who are you answering for?” (respondent) is outside its page: it belongs in the group 'about'" in problems[0]
    )

    wrong_page = copy.deepcopy(good)
    wrong_page["item"][0]["item"].append(item(wrong_page, "age"))
    assert "“How old are you?” (age) is in the group 'about', not in its page 'pain_location'." in problems_of(
        wrong_page
    )

    unknown = copy.deepcopy(good)
    unknown["item"].append({"linkId": "extra_page", "item": []})
    unknown["item"][0]["item"].append({"linkId": "shoe_size", "answer": [{"valueInteger": 9}]})
    assert problems_of(unknown) == [
        "The item 'shoe_size' is not a question of the questionnaire.",
        "The item 'extra_page' is not a page of the questionnaire.",
    ]

    twice = copy.deepcopy(good)
    twice["item"].append(copy.deepcopy(twice["item"][0]))
    assert "The page 'about' appears more than once." in problems_of(twice)

    nested = copy.deepcopy(good)
    item(nested, "age")["answer"][0]["item"] = [{"linkId": "respondent", "answer": [{"valueInteger": 1}]}]
    assert "“How old are you?” (age) has no follow-up item 'respondent'." in problems_of(nested)

    for broken in ({**good, "item": "all of them"}, {**good, "item": [{"text": "no linkId"}]}):
        assert problems_of(broken)[0].startswith(("The items of the response", "An item of the response"))


def test_each_answer_is_checked_against_its_question() -> None:
    good = response_of(profile("ideal_neck"))
    url = fhir.publication().choice_system("respondent")
    cases: list[tuple[str, list[dict[str, Any]], str]] = [
        ("respondent", [{"valueString": "self"}], "expects answers of type valueCoding, got valueString"),
        (
            "respondent",
            [{"valueCoding": {"system": "urn:ims-screen:choice:respondent", "code": "self"}}],
            f"coded in 'urn:ims-screen:choice:respondent', not in the question's code system {url}",
        ),
        (
            "respondent",
            [{"valueCoding": {"system": url, "code": "me"}}],
            "'me' is not one of its choices (self, proxy)",
        ),
        ("respondent", [{"valueCoding": {"system": url}}], "a choice is a Coding with a code"),
        (
            "respondent",
            [{"valueCoding": {"system": url, "code": "self"}}, {"valueCoding": {"system": url, "code": "proxy"}}],
            "takes one answer, not 2",
        ),
        ("age", [{"valueInteger": "45"}], "'45' is not a valueInteger"),
        ("age", [{"valueInteger": True}], "'True' is not a valueInteger"),
        ("age", [{"valueInteger": 45, "valueString": "45"}], "got valueInteger, valueString"),
        ("age", [{}], "got no value"),
        ("age", "45", "`answer` must be a list of answers"),
        (
            "pain_duration_weeks",
            [{"valueQuantity": {"value": 3, "system": fhir.UCUM, "code": "h"}}],
            "a length of time is a Quantity in UCUM days, weeks, months or years (d, wk, mo, a)",
        ),
        (
            "pain_duration_weeks",
            [{"valueQuantity": {"value": 2.5, "system": fhir.UCUM, "code": "wk"}}],
            "'2.5' is not a whole number",
        ),
    ]
    for question_id, answers, expected in cases:
        response = copy.deepcopy(good)
        item(response, question_id)["answer"] = answers
        problems = problems_of(response)
        assert problems == [
            f"“{rules.questionnaire().questions[question_id].text}” ({question_id}): {expected}."
        ] or any(expected in p for p in problems), (question_id, problems)


def without_unit_code(unit: str, value: int = 52) -> dict[str, Any]:
    """A response whose duration is a Quantity with the unit as text only, as Medplum gives it."""
    response = response_of(profile("ideal_neck"))
    item(response, "pain_duration_weeks")["answer"] = [{"valueQuantity": {"value": value, "unit": unit}}]
    return response


@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("weeks", 52, duration(52, "weeks")),
        ("Weeks", 52, duration(52, "weeks")),
        (" wk ", 52, duration(52, "weeks")),
        ("WEEKS", 3, duration(3, "weeks")),
        ("days", 10, duration(10, "days")),
        ("mo", 6, duration(6, "months")),
        ("Years", 2, duration(2, "years")),
    ],
)
def test_a_duration_unit_given_only_as_text_is_read_when_it_names_one_of_the_units(
    unit: str, value: int, expected: object
) -> None:
    """Medplum shows a free-text unit, not the Questionnaire's unitOption list: its Quantity has the
    unit as typed and no UCUM system or code. Text naming a unitOption (its display or its UCUM
    code, in any case, spaces trimmed) is that unit."""
    read = fhir_import.read_response(without_unit_code(unit, value))
    assert read.answers["pain_duration_weeks"] == expected


@pytest.mark.parametrize("unit", ["wks", "fortnights", "", "week s", "weeks|days"])
def test_a_duration_unit_text_naming_no_unit_is_refused_listing_the_units(unit: str) -> None:
    assert problems_of(without_unit_code(unit)) == [
        "“How long have you had this pain?” (pain_duration_weeks): "
        f"the unit {unit!r} is not one of its units: days, weeks, months or years (UCUM d, wk, mo, a)."
    ]


def test_a_duration_that_gives_a_ucum_system_or_code_is_read_strictly_whatever_its_text() -> None:
    """The text is read only when the Quantity gives neither a system nor a code."""
    for quantity in (
        {"value": 52, "unit": "weeks", "system": fhir.UCUM, "code": "wks"},
        {"value": 52, "unit": "weeks", "system": fhir.UCUM},
        {"value": 52, "unit": "weeks", "code": "wk"},
        {"value": 52, "unit": "weeks", "system": "http://example.org/units", "code": "wk"},
    ):
        response = response_of(profile("ideal_neck"))
        item(response, "pain_duration_weeks")["answer"] = [{"valueQuantity": quantity}]
        assert "a length of time is a Quantity in UCUM days, weeks, months or years" in problems_of(response)[0]


def test_what_the_questionnaire_refuses_is_named_with_the_question() -> None:
    response = response_of(profile("ideal_neck"))
    item(response, "age")["answer"] = [{"valueInteger": 150}]
    system = fhir.publication().choice_system("treatments_tried")
    item(response, "treatments_tried")["answer"] += [{"valueCoding": {"system": system, "code": "none"}}]
    item(response, "pain_duration_weeks")["answer"] = [
        {"valueQuantity": {"value": -3, "system": fhir.UCUM, "code": "d"}}
    ]
    # Only these: which questions apply is judged from valid answers (an age of 150 would leave the
    # pregnancy questions out, and name them as answered when they must not be).
    assert set(problems_of(response)) == {
        "“How old are you?” (age): 150 is outside 0 to 120",
        "“Which treatments have you had for this pain?” (treatments_tried): 'none' cannot be combined with other choices",
        "“How long have you had this pain?” (pain_duration_weeks): expects an amount of at least 1, got -3",
    }


def test_an_answer_to_a_question_the_other_answers_leave_out_is_refused() -> None:
    # Named when it is the only problem left (it is held back only while a value cannot be right).
    response = response_of(profile("ideal_neck"))
    item(response, "age")["answer"] = [{"valueInteger": 70}]  # past the age the pregnancy questions ask
    assert problems_of(response) == [
        f"{fhir_import._named(rules.questionnaire().questions[question_id])}: {NOT_APPLICABLE}"
        for question_id in ("rf_pregnancy_signs", "pregnant")
    ]


def test_an_unanswered_required_question_is_never_judged_as_no() -> None:
    """A response the answers of which do not decide the outcome needs every required question:
    without the page level, the old reader read nothing and the rules said clinician_review."""
    answers = profile("ideal_neck")
    for question_id in ("rf_saddle_numbness", "blood_thinners", "willing_to_try"):
        del answers[question_id]
    (problem,) = problems_of(response_of(answers))
    assert problem.startswith(
        "The response leaves 3 required questions unanswered, and the answers given do not decide"
    )
    assert "“Do you take a medicine that thins the blood or stops it from clotting?” (blood_thinners)" in problem
    required = len(rules.questionnaire().missing({}))
    assert problems_of({**response_of(profile("ideal_neck")), "item": []})[0].startswith(
        f"The response leaves {required} required questions unanswered"
    )


def test_a_long_list_of_problems_is_cut_short_and_says_so() -> None:
    response = response_of(profile("ideal_neck"))
    response["item"][0]["item"] = [{"linkId": f"q{n}", "answer": [{"valueInteger": n}]} for n in range(60)]
    problems = problems_of(response)
    assert len(problems) == fhir_import.MAX_PROBLEMS + 1 and problems[-1] == "… and 40 more problems."


#: JSON values, any shape, with the keys a QuestionnaireResponse has among others.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceType",
                    "status",
                    "questionnaire",
                    "item",
                    "linkId",
                    "answer",
                    "valueCoding",
                    "valueInteger",
                    "valueQuantity",
                    "code",
                    "system",
                    "value",
                    "entry",
                    "resource",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


def _paths(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


GOOD = response_of(profile("ideal_neck"))
PATHS = _paths(GOOD)[1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), JSON_VALUES)
def test_any_change_to_a_response_is_read_or_refused_in_words_never_an_exception(
    path: tuple[object, ...], value: object
) -> None:
    """Whatever part of a sound response is replaced by whatever JSON, reading it gives answers or
    InvalidResponse: never a KeyError, TypeError or the like (a 500 on the import page)."""
    response = copy.deepcopy(GOOD)
    parent: Any = response
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    try:
        fhir_import.read_response(response)
    except fhir_import.InvalidResponse as refused:
        assert refused.problems and all(isinstance(p, str) and p for p in refused.problems)


@settings(max_examples=80, deadline=None)
@given(JSON_VALUES)
def test_any_json_is_read_or_refused_in_words(data: object) -> None:
    try:
        fhir_import.read_response(data)
    except fhir_import.InvalidResponse as refused:
        assert refused.problems


# ---- Filing: the staff page and the CLI --------------------------------------------------------


def counts(app: Flask) -> tuple[int, int, int]:
    """Screenings, audit events and emails stored."""
    with app.app_context():
        return tuple(  # type: ignore[return-value]
            db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Screening, AuditEvent, Notification)
        )


def post_import(client: FlaskClient, raw: bytes | None, *, current_version: bool = False) -> Any:
    """Post `raw` to the import page, ticking 'It answers the current questionnaire' if asked."""
    token = csrf_token_from(client.get("/staff/fhir/import").get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token}
    if raw is not None:
        data["response"] = (io.BytesIO(raw), "response.json")
    if current_version:
        data["current_version"] = "y"
    return client.post("/staff/fhir/import", data=data, content_type="multipart/form-data")


def test_staff_import_a_response_as_a_screening_judged_by_the_rules_and_audited(
    app: Flask, physio_client: FlaskClient
) -> None:
    page = physio_client.get("/staff/fhir/import")
    assert page.status_code == 200 and 'type="file"' in page.get_data(as_text=True)
    answers = profile("ideal_neck", rf_weight_loss="yes")  # see_doctor: the clinic is told, as for any
    before = counts(app)
    response = post_import(physio_client, json.dumps(response_of(answers), indent=4).encode())
    assert response.status_code == 303
    with app.app_context():
        screening = db.session.scalars(select(Screening)).one()
        assert response.location.endswith(f"/staff/screenings/{screening.reference}")
        assert screening.imported_at is not None and screening.state == "submitted"
        assert screening.answers == as_stored(answers) and screening.outcome == "see_doctor"
        assert screening.resume_token_hash is None
        # Submitted when the person answered (the response's `authored`), imported now.
        assert screening.submitted_at == datetime(2026, 11, 25, 18, tzinfo=UTC) < screening.imported_at
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import_fhir")).one()
        assert event.screening_reference == screening.reference and event.actor_email == "physio@clinic.example"
        assert event.detail == {"via": "portal", "version_from": "response"}
        assert db.session.scalars(select(Notification.kind)).all() == ["clinic_urgent_screening"]
    assert counts(app)[0] == before[0] + 1
    shown = physio_client.get(response.location).get_data(as_text=True)
    assert "IMS Screen did not show this result to the person" in shown  # the notice after importing
    assert "IMS Screen never showed the person this result" in shown  # and the screening says so
    # Never asked about follow-up questions, rather than said to have refused them.
    assert "No follow-up: IMS Screen never asked this person" in shown and "did not agree" not in shown


def test_a_refused_import_names_every_problem_and_stores_nothing(app: Flask, physio_client: FlaskClient) -> None:
    before = counts(app)
    missing = post_import(physio_client, None)
    assert missing.status_code == 400
    assert "Choose the file of the QuestionnaireResponse to import" in missing.get_data(as_text=True)
    bad = response_of(profile("ideal_neck"))
    bad["questionnaire"] = "urn:ims-screen:questionnaire|" + VERSION
    item(bad, "age")["answer"] = [{"valueInteger": 150}]
    refused = post_import(physio_client, json.dumps(bad).encode())
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Nothing was imported" in page
    assert "not this installation&#39;s" in page and "error-summary" in page
    assert post_import(physio_client, b"\x00\xff").status_code == 400
    assert counts(app) == before


def test_the_same_response_is_never_filed_twice(app: Flask, physio_client: FlaskClient) -> None:
    # Uploaded twice (a double click, the file sent again a day later), one response is one
    # screening: known by its own identifier. Another response, with another identifier, is filed.
    first = response_of(profile("ideal_neck"))
    assert first["identifier"]["value"]
    assert post_import(physio_client, json.dumps(first).encode()).status_code == 303
    before = counts(app)
    again = post_import(physio_client, json.dumps(first).encode())
    page = again.get_data(as_text=True)
    assert again.status_code == 400 and "This response was imported already, as screening IMS-" in page
    assert counts(app) == before
    other = {**first, "identifier": {**first["identifier"], "value": "IMS-OTHER234"}}
    assert post_import(physio_client, json.dumps(other).encode()).status_code == 303
    nameless = {key: value for key, value in first.items() if key != "identifier"}
    assert post_import(physio_client, json.dumps(nameless).encode()).status_code == 303  # nothing to know it by
    assert counts(app)[0] == before[0] + 2


def test_the_clinics_own_export_is_never_filed_again(app: Flask, physio_client: FlaskClient) -> None:
    # A screening's own FHIR download, imported as it is, would be a second screening of the same
    # answers; of one deleted since (its retention, the person's request), it would bring it back.
    reference = submit_screening(app, profile("ideal_neck"))
    with app.app_context():
        bundle = fhir.screening_bundle(
            reference, profile("ideal_neck"), "2026-11-25T18:00:00Z", rules.evaluate(profile("ideal_neck"))
        )
    own = bundle["entry"][1]["resource"]
    before = counts(app)
    refused = post_import(physio_client, json.dumps(own).encode())
    assert refused.status_code == 400
    assert f"own export of screening {reference}, with the same answers, and that screening is here" in unescape(
        refused.get_data(as_text=True)
    )
    gone = {**own, "identifier": {**own["identifier"], "value": "IMS-GONE2345"}}
    refused = post_import(physio_client, json.dumps(gone).encode())
    assert refused.status_code == 400
    assert "own export of screening 'IMS-GONE2345', which is not stored here" in unescape(
        refused.get_data(as_text=True)
    )
    assert counts(app) == before
    # Its answers changed in another tool (a warning sign added there): filed, and judged by the rules.
    changed = copy.deepcopy(own)
    item(changed, "rf_weight_loss")["answer"] = [
        {"valueCoding": {"system": fhir.publication().choice_system("rf_weight_loss"), "code": "yes"}}
    ]
    filed = post_import(physio_client, json.dumps(changed).encode())
    assert filed.status_code == 303
    with app.app_context():
        copy_of_it = db.session.scalars(select(Screening).order_by(Screening.id.desc())).first()
        assert copy_of_it is not None and copy_of_it.reference != reference and copy_of_it.outcome == "see_doctor"
    # Another installation's export (another PUBLIC_BASE_URL) is another tool's response.
    elsewhere = {**own, "identifier": {"system": "https://other-clinic.example/fhir/sid/screening", "value": reference}}
    assert post_import(physio_client, json.dumps(elsewhere).encode()).status_code == 303


def test_a_response_larger_than_other_posts_may_be_imported(app: Flask, physio_client: FlaskClient) -> None:
    """Werkzeug bounds every chunk of a multipart post by MAX_FORM_MEMORY_SIZE (16 KiB): the import
    allows a file of some hundreds of kB, where every other form keeps its limits."""
    padded = response_of(profile("ideal_neck"))
    padded["text"] = {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">' + "x" * 150_000 + "</div>",
    }
    raw = json.dumps(padded).encode()
    assert 64 * 1024 < len(raw) < 512 * 1024
    assert post_import(physio_client, raw).status_code == 303
    too_large = physio_client.post(
        "/staff/fhir/import", data=b"-" * (600 * 1024), content_type="multipart/form-data; boundary=b"
    )
    assert too_large.status_code == 413
    assert physio_client.post("/staff/screenings/IMS-AAAAAAAA/notes", data={"body": "x" * 70_000}).status_code == 413


def test_the_cli_imports_a_file_and_refuses_a_bad_one_storing_nothing(app: Flask, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(response_of(profile("proxy_teen"))), encoding="utf-8")
    bad.write_text(json.dumps({**response_of(profile("proxy_teen")), "status": "in-progress"}), encoding="utf-8")
    before = counts(app)
    refused = app.test_cli_runner().invoke(args=["fhir", "import", str(bad)])
    assert refused.exit_code == 1
    assert "still in progress" in refused.output and "Nothing was imported." in refused.output
    assert counts(app) == before
    done = app.test_cli_runner().invoke(args=["fhir", "import", str(good)])
    assert done.exit_code == 0, done.output
    assert "judged by the rules: Clinician review." in done.output
    assert "Answered 2026-11-25T18:00:00+00:00 (the file's authored date)." in done.output
    with app.app_context():
        screening = db.session.scalars(select(Screening)).one()
        assert screening.reference in done.output and screening.outcome == "clinician_review"
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import_fhir")).one()
        assert (event.actor_id, event.actor_email, event.detail) == (
            None,
            "command line",
            {"via": "command line", "version_from": "response"},
        )


# ---- A response that does not state its version ------------------------------------------------


def without_version(answers: dict[str, object]) -> dict[str, Any]:
    """A response whose `questionnaire` is the canonical URL alone, as Medplum's is."""
    return {**response_of(answers), "questionnaire": fhir.publication().questionnaire_url}


def test_the_import_page_offers_an_unticked_confirmation_of_the_current_version(physio_client: FlaskClient) -> None:
    page = physio_client.get("/staff/fhir/import").get_data(as_text=True)
    (box,) = re.findall(r'<input[^>]*id="current_version"[^>]*>', page)
    assert 'type="checkbox"' in box and "checked" not in box and 'aria-describedby="current_version-hint"' in box
    assert "It answers the current questionnaire" in page
    assert f"It answers version {VERSION}, the questionnaire this clinic publishes now" in page


def test_a_response_without_its_version_is_refused_unless_the_physiotherapist_confirms_it(
    app: Flask, physio_client: FlaskClient
) -> None:
    answers = profile("ideal_neck")
    raw = json.dumps(without_version(answers)).encode()
    before = counts(app)
    refused = post_import(physio_client, raw)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "does not say which version of the questionnaire it answers" in page
    assert "tick &#39;It answers the current questionnaire&#39; if you know it does" in page
    assert counts(app) == before
    imported = post_import(physio_client, raw, current_version=True)
    assert imported.status_code == 303
    with app.app_context():
        screening = db.session.scalars(select(Screening)).one()
        assert screening.answers == as_stored(answers) and screening.imported_at is not None
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import_fhir")).one()
        assert event.detail == {"via": "portal", "version_from": "confirmed by staff"}
        assert event.actor_email == "physio@clinic.example"


def test_a_confirmed_version_is_read_only_when_the_response_states_none() -> None:
    answers = profile("ideal_neck")
    read = fhir_import.read_response(without_version(answers), assume_current_version=True)
    assert read.answers == as_stored(answers) and read.version_confirmed
    assert not fhir_import.read_response(response_of(answers), assume_current_version=True).version_confirmed
    url = fhir.publication().questionnaire_url
    for link, expected in (
        (f"{url}|1.0.0", "answers version '1.0.0' of the questionnaire, but this installation asks version"),
        ("urn:ims-screen:questionnaire", "answers the questionnaire 'urn:ims-screen:questionnaire', not this"),
        (None, "does not say which questionnaire it answers"),
    ):
        with pytest.raises(fhir_import.InvalidResponse) as refused:
            fhir_import.read_response({**response_of(answers), "questionnaire": link}, assume_current_version=True)
        assert any(expected in problem for problem in refused.value.problems), (link, refused.value.problems)


def test_a_response_stating_another_version_is_refused_even_when_confirmed(
    app: Flask, physio_client: FlaskClient
) -> None:
    other = {**response_of(profile("ideal_neck")), "questionnaire": f"{fhir.publication().questionnaire_url}|1.0.0"}
    with pytest.raises(fhir_import.InvalidResponse) as read:
        fhir_import.read_response(other, assume_current_version=True)
    assert read.value.problems[0].startswith("The response answers version '1.0.0' of the questionnaire")
    before = counts(app)
    refused = post_import(physio_client, json.dumps(other).encode(), current_version=True)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "answers version &#39;1.0.0&#39; of the questionnaire" in page
    (box,) = re.findall(r'<input[^>]*id="current_version"[^>]*>', page)
    assert " checked " in box  # the tick is kept, and the file refused all the same
    assert counts(app) == before


def test_the_cli_reads_a_response_without_its_version_only_with_assume_current_version(
    app: Flask, tmp_path: Path
) -> None:
    file = tmp_path / "medplum.json"
    file.write_text(json.dumps(without_version(profile("proxy_teen"))), encoding="utf-8")
    runner = app.test_cli_runner()
    assert "--assume-current-version" in runner.invoke(args=["fhir", "import", "--help"]).output
    before = counts(app)
    refused = runner.invoke(args=["fhir", "import", str(file)])
    assert refused.exit_code == 1 and "does not say which version" in refused.output
    assert "--assume-current-version" in refused.output and "Nothing was imported." in refused.output
    assert counts(app) == before
    done = runner.invoke(args=["fhir", "import", "--assume-current-version", str(file)])
    assert done.exit_code == 0, done.output
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import_fhir")).one()
        assert event.detail == {"via": "command line", "version_from": "confirmed by staff"}


# ---- When the person answered: the response's `authored` ---------------------------------------


def authored(value: object) -> dict[str, Any]:
    """A sound response that says it was authored at `value` (left out when None)."""
    response = {key: field for key, field in response_of(profile("ideal_neck")).items() if key != "authored"}
    return response if value is None else {**response, "authored": value}


NOW = datetime(2026, 12, 6, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "answered", "kept"),
    [
        ("2026-11-20T09:15:00-08:00", datetime(2026, 11, 20, 17, 15, tzinfo=UTC), "2026-11-20T09:15:00-08:00"),
        ("2026-11-20T17:15:00Z", datetime(2026, 11, 20, 17, 15, tzinfo=UTC), "2026-11-20T17:15:00+00:00"),
        (
            "2026-11-20T17:15:00.250+00:00",
            datetime(2026, 11, 20, 17, 15, 0, 250_000, tzinfo=UTC),
            "2026-11-20T17:15:00.250000+00:00",
        ),
        # A day alone: its start in the clinic's time zone (Vancouver, 8 hours behind UTC in November).
        ("2026-11-20", datetime(2026, 11, 20, 8, 0, tzinfo=UTC), "2026-11-20"),
        # A leap second, which R4 allows, is read as the second before it.
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC), "2016-12-31T23:59:59+00:00"),
    ],
)
def test_the_responses_authored_date_is_when_the_person_answered(value: str, answered: datetime, kept: str) -> None:
    read = fhir_import.read_response(authored(value), now=NOW)
    assert (read.answered_at, read.authored) == (answered, kept)


def test_a_response_without_an_authored_date_has_none() -> None:
    read = fhir_import.read_response(authored(None), now=NOW)
    assert read.answered_at is None and read.authored is None


def test_an_authored_date_a_little_ahead_of_the_clock_is_read_as_now() -> None:
    """Another tool's clock may run a few minutes fast; a day that has begun somewhere on Earth (in
    UTC+14) may be written by a tool that dates in UTC. Neither is later than the import."""
    ahead = fhir_import.read_response(authored("2026-12-06T18:33:00Z"), now=NOW)
    assert ahead.answered_at == NOW and ahead.authored == "2026-12-06T18:33:00+00:00"
    tomorrow_in_utc = fhir_import.read_response(authored("2026-12-07"), now=NOW)  # 10:30 on the 7th in UTC+14
    assert tomorrow_in_utc.answered_at == NOW and tomorrow_in_utc.authored == "2026-12-07"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-06T19:00:00Z", "says it was answered on 6 Dec 2026, 11:00 (clinic time), which is later than now"),
        ("2026-12-08", "says it was answered on 8 December 2026, which has not begun anywhere yet"),
        ("2027-01-01T00:00:00-08:00", "which is later than now"),
    ],
)
def test_an_authored_date_in_the_future_is_refused(value: str, expected: str) -> None:
    with pytest.raises(fhir_import.InvalidResponse) as refused:
        fhir_import.read_response(authored(value), now=NOW)
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems
    assert any("check the clock of the tool" in problem for problem in refused.value.problems)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20/11/2026", "The response's authored date '20/11/2026' is not a FHIR dateTime"),
        ("2026-11-20T09:15:00", "gives a time without its time zone"),
        ("2026-02-30", "The response's authored date '2026-02-30' is not a date"),
        ("2026-11", "gives only a month or a year"),
        ("2026", "gives only a month or a year"),
        ("0001-01-01T00:00:00+14:00", "is not a date"),
        (20261120, "is not a FHIR dateTime"),
        ("2026-11-20T25:00:00Z", "is not a FHIR dateTime"),
    ],
)
def test_an_authored_date_that_is_no_day_and_time_is_refused_in_words(value: object, expected: str) -> None:
    with pytest.raises(fhir_import.InvalidResponse) as refused:
        fhir_import.read_response(authored(value), now=NOW)
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems


def import_of(app: Flask, client: FlaskClient, response: dict[str, Any]) -> Screening:
    """Import `response` through the staff page; the screening filed."""
    posted = post_import(client, json.dumps(response).encode())
    assert posted.status_code == 303, posted.get_data(as_text=True)[:2000]
    with app.app_context():
        screening = db.session.scalars(select(Screening).order_by(Screening.id.desc())).first()
        assert screening is not None
        return screening


def test_an_imported_screening_was_submitted_when_the_person_answered_and_says_both(
    app: Flask, physio_client: FlaskClient
) -> None:
    screening = import_of(app, physio_client, authored("2026-11-20T09:15:00-08:00"))
    assert screening.submitted_at == datetime(2026, 11, 20, 17, 15, tzinfo=UTC)
    assert screening.imported_authored == "2026-11-20T09:15:00-08:00"
    assert screening.imported_at is not None and screening.imported_at > screening.submitted_at
    imported = local_datetime(screening.imported_at)
    page = physio_client.get(f"/staff/screenings/{screening.reference}").get_data(as_text=True)
    assert f"Answered 20 Nov 2026, 09:15 (from the file); imported {imported} by Physio" in page  # timeline
    # Its facts say when the person answered, then the import apart: the import's time once there.
    assert "<dt>When</dt><dd>Answered 20 Nov 2026, 09:15 (from the file)</dd>" in page
    assert f"<dt>Imported</dt><dd>On {imported} by Physio" in page
    day_only = import_of(
        app, physio_client, {**authored("2026-11-21"), "identifier": {"system": "urn:x", "value": "2"}}
    )
    page = physio_client.get(f"/staff/screenings/{day_only.reference}").get_data(as_text=True)
    assert "Answered 21 Nov 2026 (from the file, which gives the day only); imported " in page


def test_an_import_without_an_authored_date_was_submitted_when_imported_and_says_so(
    app: Flask, physio_client: FlaskClient
) -> None:
    screening = import_of(app, physio_client, authored(None))
    assert screening.imported_at is not None and screening.submitted_at == screening.imported_at
    assert screening.imported_authored is None
    imported = local_datetime(screening.imported_at)
    page = physio_client.get(f"/staff/screenings/{screening.reference}").get_data(as_text=True)
    assert f"Imported {imported} by Physio; the file gives no date for when the person answered" in page
    assert "<dt>When</dt><dd>The file gives no date for when the person answered</dd>" in page


def test_a_response_authored_in_the_future_is_refused_on_the_import_page(
    app: Flask, physio_client: FlaskClient
) -> None:
    before = counts(app)
    later = (utcnow() + timedelta(days=2)).isoformat(timespec="seconds")
    refused = post_import(physio_client, json.dumps(authored(later)).encode())
    assert refused.status_code == 400 and "which is later than now" in refused.get_data(as_text=True)
    assert counts(app) == before


def test_an_import_answered_long_ago_is_kept_for_the_retention_period_from_its_import(
    app: Flask, physio_client: FlaskClient
) -> None:
    """Retention counts from when the clinic received the answers (BC PIPA s.35: a year after the
    decision made with them, which comes after the import), not from when the person answered."""
    old = import_of(app, physio_client, authored("2024-06-01"))
    assert old.imported_at is not None
    days = app.config["SCREENING_RETENTION_DAYS"]
    with app.app_context():
        assert retention.purge_old_screenings(days, now=old.imported_at + timedelta(days=1), dry_run=True) == []
        later = old.imported_at + timedelta(days=days + 1)
        assert retention.purge_old_screenings(days, now=later, dry_run=True) == [old.reference]


def test_an_import_answered_long_ago_heads_its_outcome_in_the_queue(app: Flask, physio_client: FlaskClient) -> None:
    """Oldest first within an outcome: the person has waited since they answered."""
    submit_screening(app, profile("ideal_neck"), submitted_at=utcnow() - timedelta(days=3))
    old = import_of(app, physio_client, authored("2026-11-20"))
    assert old.outcome is not None
    queue = physio_client.get("/staff/?outcome=" + old.outcome).get_data(as_text=True)
    references = re.findall(r'class="queue__reference"><a [^>]*>(IMS-[A-Z0-9]+)<', queue)
    assert len(references) == 2 and references[0] == old.reference
    assert '<td data-label="Submitted">20 Nov 2026</td>' in queue  # the file's day, with no made-up time


def test_an_imported_screenings_rule_trace_never_says_the_person_read_it(
    app: Flask, physio_client: FlaskClient
) -> None:
    """IMS Screen never showed an imported result: its trace says what the person would have been
    told, not what they read, on the screening page and its print view alike."""
    answers = profile("ideal_neck", rf_weight_loss="yes")
    imported = import_of(app, physio_client, response_of(answers))
    answered_here = submit_screening(app, answers)
    for path in ("/staff/screenings/{}", "/staff/screenings/{}/print"):
        page = physio_client.get(path.format(imported.reference)).get_data(as_text=True)
        assert "What the patient read" not in page
        assert "What IMS Screen would have told the person (it never showed them this result)" in page
        page = physio_client.get(path.format(answered_here)).get_data(as_text=True)
        assert "What the patient read" in page and "would have told the person" not in page


# ---- An import has no contact details: staff are told where to find the person --------------------


def test_the_queue_marks_imports_in_words(app: Flask, physio_client: FlaskClient) -> None:
    imported = import_of(app, physio_client, response_of(profile("ideal_neck", rf_weight_loss="yes")))
    answered_here = submit_screening(app, profile("ideal_neck"))
    queue = physio_client.get("/staff/").get_data(as_text=True)
    rows = {
        reference: row
        for row in queue.split("<tr")
        for reference in re.findall(r'class="queue__reference"><a [^>]*>(IMS-[A-Z0-9]+)<', row)
    }
    assert '<strong class="tag">Imported</strong>' in rows[imported.reference]
    assert "no contact details here: find the person through the record it came from" in rows[imported.reference]
    assert "Imported" not in rows[answered_here] and "no contact details" not in rows[answered_here]


def test_an_urgent_import_says_where_to_find_the_person_not_to_contact_them_from_here(
    app: Flask, physio_client: FlaskClient
) -> None:
    response = response_of(profile("ideal_neck", rf_weight_loss="yes"))  # see a doctor
    response["identifier"] = {"system": "https://forms.other.example/responses", "value": "QR-2207"}
    posted = post_import(physio_client, json.dumps(response).encode())
    shown = physio_client.get(posted.location).get_data(as_text=True)
    notice = re.search(r'<div class="notice notice--success"[^>]*><p>(.*?)</p>', shown, re.DOTALL)
    assert notice is not None
    assert "IMS Screen did not show this result to the person" in notice.group(1)
    assert (
        "has no contact details for them: find them through the tool or record the response came from"
        in notice.group(1)
    )
    assert "contact them now" in notice.group(1)
    assert "No contact details: the screening was imported" in shown
    assert "QR-2207" in shown and "https://forms.other.example/responses" in shown
    assert "the patient has not asked to be contacted" not in shown


def test_a_routine_import_is_not_said_to_need_contact_now(app: Flask, physio_client: FlaskClient) -> None:
    posted = post_import(physio_client, json.dumps(response_of(profile("ideal_neck"))).encode())
    shown = physio_client.get(posted.location).get_data(as_text=True)
    assert "IMS Screen did not show this result to the person" in shown and "contact them now" not in shown


def test_the_clinics_email_of_an_urgent_import_does_not_ask_whether_the_person_got_the_message(
    app: Flask, physio_client: FlaskClient
) -> None:
    import_of(app, physio_client, response_of(profile("ideal_neck", rf_weight_loss="yes")))
    sent: list[EmailMessage] = []
    with app.app_context():
        assert notifications.deliver_due(sent.append) == (1, 0)
    body = sent[0].get_content()
    assert "check that the person got the message" not in body
    assert "imported from another tool" in body and "IMS Screen never showed the person this result" in body
    assert "find them through the tool or record it came from" in body
