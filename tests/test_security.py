"""The security checklist (docs/security.md, section a) as sweeps over the whole URL map.

Headers on every response (errors and static files included), HSTS only in production, no CORS,
no TRACE; GET never changes stored state; generic error pages in production; no answers or
contact details in the logs and no forged log lines; no screening reachable by guessing; no mass
assignment on the staff forms. Other files cover the rest (test_patient_headers, test_patient_abuse,
test_patient_fuzz, test_staff_access, test_staff_auth, test_errors); query strings are fuzzed in
test_security_fuzz.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app import create_app, security
from app.extensions import db
from app.models import AuditEvent, Screening
from app.patient import services
from tests.conftest import PRODUCTION_SETTINGS, StaffAccounts, csrf_token_from, sqlite_only, submit_screening
from tests.support.booking_pages import VALID_REQUEST, post_request, submit_outcome
from tests.support.forgery import FORGED_TOKENS, with_csrf_token
from tests.support.journey import SECTION_IDS, Journey, profile, seed_draft, session_data
from tests.support.staff_pages import SIGN_IN, post_form, sign_in

#: Audit actions that reading a page records (the documented exception to "GET changes nothing"):
#: view_screening, print_screening, view_audit, export_csv, find_for_privacy_request,
#: copy_for_patient, replay_rules, export_fhir... Anything else written by a GET is a finding.
READ_AUDIT_PREFIXES = ("view_", "print_", "export_", "find_", "copy_", "replay_")

#: Responses that are not pages and may be cached: files under /static/ and the generated stylesheet.
CACHEABLE_ENDPOINTS = {"static", "patient.reveal_css"}

CRASH_TEXT = "secret-detail-7f3a from deep inside"


@contextmanager
def production_app(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Flask]:
    """The app as production builds it (no TESTING), with a route that crashes on purpose."""
    for name, value in {**PRODUCTION_SETTINGS, "ENCRYPTION_KEYS": Fernet.generate_key().decode()}.items():
        monkeypatch.setenv(name, value)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "NOTIFY_IN_BACKGROUND": False})

    def crash() -> NoReturn:
        raise RuntimeError(CRASH_TEXT)

    app.add_url_rule("/test/crash", view_func=crash)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


# ---- Building a URL for every rule ----------------------------------------------------------


def url_for_rule(
    app: Flask,
    rule: Rule,
    *,
    reference: str = "IMS-AAAAAAAA",
    token: str = "x" * 43,
    account_id: int = 1,
    section_id: str = SECTION_IDS[0],
) -> str:
    values: dict[str, object] = {}
    for argument in rule.arguments:
        values[argument] = {
            "reference": reference,
            "token": token,
            "account_id": account_id,
            "section_id": section_id,
            "filename": "css/site.css",
            "resource_type": "Questionnaire",
            "resource_id": "ims-screen",
            "page": "pain",
        }[argument]
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def get_rules(app: Flask) -> list[Rule]:
    rules = [rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())]
    assert len(rules) >= 25, "routes are missing from the URL map"
    return rules


def get_every_page(app: Flask, client: FlaskClient, **values: Any) -> dict[str, TestResponse]:
    """GET every GET rule once (every questionnaire page for `step`)."""
    responses = {}
    # The resume link replaces the whole session (a signed-in staff member's too): it goes last.
    for rule in sorted(get_rules(app), key=lambda rule: rule.endpoint == "patient.resume"):
        sections = SECTION_IDS if rule.endpoint == "patient.step" else (SECTION_IDS[0],)
        for section_id in sections:
            url = url_for_rule(app, rule, section_id=section_id, **values)
            response = client.get(url)
            response.get_data()  # read and close: a streamed export keeps its request context until then
            response.close()
            responses[f"{rule.endpoint} {url}"] = response
    return responses


# ---- Headers --------------------------------------------------------------------------------


def directives(response: TestResponse) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = values
    return parsed


def assert_security_headers(response: TestResponse, label: str, *, production: bool, page: bool = True) -> None:
    policy = directives(response)
    script = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, label
    assert policy["object-src"] == ["'none'"], label
    assert policy["base-uri"] == ["'none'"], label
    assert policy["frame-ancestors"] == ["'none'"], label
    assert response.headers["X-Content-Type-Options"] == "nosniff", label
    assert response.headers["Referrer-Policy"] == "same-origin", label
    assert response.headers["X-Frame-Options"] == "DENY", label
    assert "Access-Control-Allow-Origin" not in response.headers, label
    if page:
        assert response.headers.get("Cache-Control") == "no-store", label
    hsts = response.headers.get("Strict-Transport-Security")
    if production:
        assert hsts is not None, label
        max_age = re.search(r"max-age=(\d+)", hsts)
        assert max_age and int(max_age.group(1)) >= 31_536_000 and "includeSubDomains" in hsts, label
    else:
        assert hsts is None, f"{label}: HSTS on plain-http development"


def signed_in_clients(app: Flask, staff: StaffAccounts) -> dict[str, FlaskClient]:
    """Anonymous, a patient with a complete draft, a patient with a result, a physio and an admin."""
    clients = {name: app.test_client() for name in ("anonymous", "draft", "result", "physio", "admin")}
    seed_draft(app, clients["draft"], profile("ideal_neck"))
    submit_outcome(app, clients["result"], "likely")
    for role in ("physio", "admin"):
        staff.create(f"{role}@clinic.example", role)
        sign_in(clients[role], f"{role}@clinic.example")
    return clients


@sqlite_only
def test_every_get_route_as_everyone_has_the_security_headers(
    app: Flask, staff: StaffAccounts, ideal_answers: dict[str, object]
) -> None:
    reference = submit_screening(app, ideal_answers)
    clients = signed_in_clients(app, staff)
    checked = 0
    for who, client in clients.items():
        for label, response in get_every_page(app, client, reference=reference).items():
            assert response.status_code < 500, f"{who} {label}: {response.status_code}"
            endpoint = label.split()[0]
            assert_security_headers(
                response, f"{who} {label}", production=False, page=endpoint not in CACHEABLE_ENDPOINTS
            )
            checked += 1
    assert checked >= 5 * 30


def test_error_pages_and_static_files_have_the_security_headers(app: Flask, client: FlaskClient) -> None:
    responses = {
        "404": client.get("/no-such-page"),
        "405": client.post("/"),
        "400 (no CSRF token)": client.post("/start"),
        "bad resume link": client.get("/resume/not-a-token"),
    }
    for label, response in responses.items():
        assert response.status_code in (400, 404, 405), label
        assert_security_headers(response, label, production=False)
    missing = client.get("/static/no-such-file.css")
    assert missing.status_code == 404
    assert_security_headers(missing, "static 404", production=False, page=False)
    static = client.get("/static/css/site.css")
    assert static.status_code == 200
    static.get_data()
    static.close()
    assert_security_headers(static, "static", production=False, page=False)


def test_production_adds_hsts_everywhere_and_keeps_errors_generic(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    with production_app(monkeypatch, database_url) as app:
        assert app.debug is False and app.testing is False
        assert app.config["PROPAGATE_EXCEPTIONS"] is not True
        client = app.test_client()
        https = {"base_url": "https://clinic.example"}
        for rule in get_rules(app):
            if rule.endpoint == "test.crash" or rule.rule == "/test/crash":
                continue
            url = url_for_rule(app, rule)
            response = client.get(url, **https)
            assert response.status_code < 500, f"{url}: {response.status_code}"
            response.get_data()
            response.close()
            assert_security_headers(response, url, production=True, page=rule.endpoint not in CACHEABLE_ENDPOINTS)
        for label, response in {"404": client.get("/nowhere", **https), "405": client.post("/", **https)}.items():
            assert_security_headers(response, label, production=True)

        crashed = client.get("/test/crash", **https)
        assert crashed.status_code == 500
        html = crashed.get_data(as_text=True)
        assert "Something went wrong on our side" in html
        for leak in ("Traceback", CRASH_TEXT, "RuntimeError", "werkzeug", 'File "'):
            assert leak not in html, leak
        assert_security_headers(crashed, "500", production=True)


def test_a_failing_service_in_production_gives_the_generic_page(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    with production_app(monkeypatch, database_url) as app:

        def broken(*_args: object, **_kwargs: object) -> NoReturn:
            raise RuntimeError(CRASH_TEXT)

        monkeypatch.setattr(services, "start_screening", broken)
        client = app.test_client()
        page = client.get("/start", base_url="https://clinic.example")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
        assert token
        response = client.post(
            "/start",
            data={"csrf_token": token.group(1), "consent": "y"},
            base_url="https://clinic.example",
            headers={"Referer": "https://clinic.example/start"},
        )
        assert response.status_code == 500
        html = response.get_data(as_text=True)
        assert "Traceback" not in html and CRASH_TEXT not in html
        assert_security_headers(response, "500 from a service", production=True)


def test_trace_is_not_allowed(client: FlaskClient) -> None:
    for path in ("/", "/start", "/staff/sign-in", "/healthz"):
        response = client.open(path, method="TRACE")
        assert response.status_code == 405, path
        assert "TRACE" not in response.headers.get("Allow", "")


def test_a_foreign_origin_gets_no_cors_headers(app: Flask, client: FlaskClient) -> None:
    evil = {"Origin": "https://evil.example"}
    for path in ("/", "/start", "/screening/result", "/staff/sign-in", "/healthz", "/staff/export.csv"):
        for response in (
            client.get(path, headers=evil),
            client.options(path, headers={**evil, "Access-Control-Request-Method": "POST"}),
        ):
            assert not any(name.lower().startswith("access-control-") for name, _ in response.headers), path


# ---- CSRF on every state-changing route --------------------------------------------------------


@sqlite_only
def test_every_post_route_refuses_a_request_without_a_valid_token(
    app: Flask, staff: StaffAccounts, ideal_answers: dict[str, object]
) -> None:
    """The patient side of test_staff_access's sweep: every POST rule, from a browser that could use it."""
    assert app.config.get("WTF_CSRF_ENABLED", True)
    reference = submit_screening(app, ideal_answers)
    clients = signed_in_clients(app, staff)
    before = table_contents(app)
    # RFC 8058's one-click unsubscribe is the one endpoint a mail program's server posts to,
    # without a token (tests/test_followup_stop.py checks all it can do is stop follow-ups).
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.endpoint not in security.CROSS_SITE_POST_ENDPOINTS
    ]
    assert len(posts) >= 12
    assert security.CROSS_SITE_POST_ENDPOINTS == {"patient.stop_follow_ups_one_click"}
    data = {
        **VALID_REQUEST,
        "consent": "y",
        "body": "x",
        "reason": "x",
        "outcome": "likely",
        "status": "in_review",
        "confirm_reference": reference,
    }
    for rule in posts:
        url = url_for_rule(app, rule, reference=reference, account_id=1)
        for who in ("draft", "result", "admin"):
            for token in FORGED_TOKENS:
                response = clients[who].post(url, data=with_csrf_token(data, token))
                assert response.status_code in (400, 403), f"{who} POST {url} token={token!r}: {response.status_code}"
    assert table_contents(app) == before


# ---- GET never changes state -----------------------------------------------------------------


def table_contents(app: Flask, *, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every row of every table, as sorted reprs."""
    with app.app_context():
        return {
            table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
            for table in db.metadata.sorted_tables
            if table.name not in skip
        }


def read_audit_actions(app: Flask, after_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > after_id)))


def last_audit_id(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def test_get_never_changes_stored_state(app: Flask, staff: StaffAccounts, ideal_answers: dict[str, object]) -> None:
    reference = submit_screening(app, ideal_answers)
    clients = signed_in_clients(app, staff)
    draft_token = session_data(app, clients["draft"])["screening_token"]
    with app.app_context():
        draft_reference = db.session.scalar(select(Screening.reference).where(Screening.state == "draft"))
    # The audit trail grows with reads by design (checked below), and /healthz proves the database
    # can be written by committing its heartbeat row: neither is a GET changing what is stored.
    unchanged = ("audit_event", "health_heartbeat")
    before, audit_before = table_contents(app, skip=unchanged), last_audit_id(app)
    for who, client in clients.items():
        for values in (
            {"reference": reference, "token": draft_token},
            {"reference": str(draft_reference), "token": "y" * 43},
        ):
            for label, response in get_every_page(app, client, **values).items():
                assert response.status_code < 500, f"{who} {label}"
                response.close()
            # A second sweep with query strings that try to smuggle a change in.
            client.get("/staff/", query_string={"status": "booked", "outcome": "likely", "page": "2"})
            client.get(f"/staff/screenings/{reference}", query_string={"review_status": "booked", "body": "n"})
            client.get("/screening/result", query_string={"state": "draft", "outcome": "emergency"})
            client.get(f"/screening/{SECTION_IDS[0]}", query_string={"action": "save", "pain_region": "back"})
    assert table_contents(app, skip=unchanged) == before
    actions = read_audit_actions(app, audit_before)
    assert actions, "staff views are audited"
    assert all(action.startswith(READ_AUDIT_PREFIXES) for action in actions), set(actions)
    assert {"view_screening", "print_screening", "export_csv"} <= set(actions)


# ---- Logs -------------------------------------------------------------------------------------

SENTINELS = {
    "language": "Qzxvlingo",
    "name": "Wyndhamqrst Pellucidor",
    "message": "Ring after the xylophonequ lesson",
}


def all_log_text(caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = []
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_text:
            texts.append(record.exc_text)
    return texts


def test_answers_and_contact_details_never_reach_the_logs(
    app: Flask, staff: StaffAccounts, caplog: pytest.LogCaptureFixture
) -> None:
    from app import notifications

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    caplog.set_level(logging.DEBUG, logger="app")
    client = app.test_client()
    journey = Journey(client)
    journey.walk(profile("ideal_neck", interpreter_needed="yes", interpreter_language=SENTINELS["language"]))
    assert journey.submit().status_code == 303
    assert post_request(client, name=SENTINELS["name"], message=SENTINELS["message"]).status_code == 303
    with app.app_context():
        reference = db.session.scalar(select(Screening.reference))
        assert db.session.scalar(select(Screening.answers))["interpreter_language"] == SENTINELS["language"]
        notifications.deliver_due(notifications.smtp_sender(app))
        db.session.commit()
    admin = app.test_client()
    staff.create("admin@clinic.example", "admin")
    sign_in(admin, "admin@clinic.example")
    pages = [
        f"/staff/screenings/{reference}",
        f"/staff/screenings/{reference}/print",
        "/staff/export.csv",
        f"/staff/?name={SENTINELS['name']}",
        f"/staff/export.csv?name={SENTINELS['name']}",
        f"/staff/patient-requests/?reference={reference}",
        f"/staff/patient-requests/{reference}/copy",
        "/staff/audit",
    ]
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        if url.endswith(("/print", "/copy")):
            assert SENTINELS["language"] in body  # the staff do see it: the sentinel is really there
    assert (
        post_form(
            admin,
            f"/staff/screenings/{reference}",
            f"/staff/screenings/{reference}/notes",
            {"body": "Spoke in " + SENTINELS["language"]},
        ).status_code
        == 303
    )
    assert caplog.records, "nothing was logged at all: the capture is not working"
    for text in all_log_text(caplog):
        for name, sentinel in SENTINELS.items():
            assert sentinel.lower() not in text.lower(), f"the {name} is in a log line: {text[:300]!r}"


FORGED = "2026-01-01 INFO forged"


@sqlite_only
def test_a_newline_in_the_email_cannot_forge_a_log_line(
    app: Flask, staff: StaffAccounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    staff.create("physio@clinic.example")
    client = app.test_client()
    audit_before = last_audit_id(app)
    for email in (f"evil@x.ca\r\n{FORGED}", f"evil@x.ca\n{FORGED}", f"evil@x.ca\r{FORGED}"):
        response = sign_in(client, email, "wrong password, not it")
        assert response.status_code in (400, 401)
    for text in all_log_text(caplog):
        assert not re.search(r"[\r\n]\s*" + re.escape(FORGED), text), repr(text)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.id > audit_before)).all()
        # One event per attempt, each a single record: the forged text is data, never a new event.
        assert [event.action for event in events] == ["sign_in_failed"] * 3
        assert not any(FORGED.lower() in event.action.lower() for event in events)
    admin = app.test_client()
    staff.create("admin@clinic.example", "admin")
    sign_in(admin, "admin@clinic.example")
    trail = admin.get("/staff/audit").get_data(as_text=True)
    # On the audit page the address is escaped text inside one row, not a row of its own.
    assert trail.count("<tr") >= 3 and "<script" not in trail.split("<main", 1)[-1]


# ---- No screening reachable by guessing -------------------------------------------------------


@sqlite_only
def test_guessed_resume_tokens_open_nothing(app: Flask) -> None:
    seed_draft(app, None, profile("ideal_neck"))
    real_reference = submit_screening(app, profile("ideal_neck"))

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        token=st.one_of(
            st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=64),
            st.text(min_size=1, max_size=80).filter(lambda t: "/" not in t and "\x00" not in t),
        )
    )
    def check(token: str) -> None:
        client = app.test_client()
        response = client.get(f"/resume/{token}")
        assert response.status_code in (404, 308), (token, response.status_code)
        assert real_reference not in response.get_data(as_text=True)
        with client.session_transaction() as session:
            session["screening_token"] = token
        for path in ("/screening/result", "/screening/check", "/screening", "/screening/request-assessment"):
            opened = client.get(path)
            assert opened.status_code in (302, 404), (path, token, opened.status_code)
            assert real_reference not in opened.get_data(as_text=True)

    check()


def test_one_patients_cookie_never_opens_anothers_screening(app: Flask) -> None:
    alice, bob = app.test_client(), app.test_client()
    alice_reference = submit_outcome(app, alice, "likely")
    bob_reference = submit_outcome(app, bob, "possible")
    assert alice_reference != bob_reference
    for path in ("/screening/result", "/screening/request-assessment", "/screening"):
        body = alice.get(path, follow_redirects=True).get_data(as_text=True)
        assert bob_reference not in body, path
    # A cookie signed with another key (an attacker's own forgery) is no session at all.
    forger = Flask("forger")
    forger.secret_key = "not the app's key at all, 32+ chars long"
    from flask.sessions import SecureCookieSessionInterface

    forged = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert forged is not None
    mallory = app.test_client()
    mallory.set_cookie("session", forged.dumps({"screening_token": session_data(app, bob)["screening_token"]}))
    response = mallory.get("/screening/result")
    assert response.status_code == 302 and bob_reference not in response.get_data(as_text=True)


@sqlite_only
def test_neighbouring_and_draft_references_are_not_found_by_staff(
    app: Flask, physio_client: FlaskClient, staff: StaffAccounts
) -> None:
    submitted = submit_screening(app, profile("ideal_neck"))
    draft_id, _ = seed_draft(app, None, profile("ideal_neck"))
    with app.app_context():
        draft = db.session.get(Screening, draft_id)
        assert draft is not None
        draft_reference = draft.reference
    admin = app.test_client()
    staff.create("admin@clinic.example", "admin")
    sign_in(admin, "admin@clinic.example")
    for url in (
        f"/staff/screenings/{draft_reference}",
        f"/staff/screenings/{draft_reference}/print",
        f"/staff/patient-requests/{draft_reference}/copy",
    ):
        client = admin if "patient-requests" in url else physio_client
        assert client.get(url).status_code == 404, url
    body = admin.get(f"/staff/patient-requests/?reference={draft_reference}").get_data(as_text=True)
    assert f"/staff/patient-requests/{draft_reference}/copy" not in body

    alphabet = sorted(set(submitted.removeprefix("IMS-")))

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(0, len(submitted) - 1), st.sampled_from(alphabet + list("0123456789ABCXYZ")))
    def check(position: int, replacement: str) -> None:
        guess = submitted[:position] + replacement + submitted[position + 1 :]
        if guess == submitted:
            return
        for url in (f"/staff/screenings/{guess}", f"/staff/screenings/{guess}/print"):
            response = physio_client.get(url)
            assert response.status_code == 404, (url, response.status_code)

    check()


# ---- Mass assignment on the staff forms -------------------------------------------------------

PROTECTED_COLUMNS = (
    "state",
    "outcome",
    "outcome_rank",
    "candidacy",
    "reasons",
    "indicators",
    "ruleset_version",
    "answers",
    "reference",
    "submitted_at",
    "resume_token_hash",
)

SMUGGLED = {
    "outcome_rank": "0",
    "state": "draft",
    "review_status": "booked",
    "reasons": "[]",
    "candidacy": "unlikely",
    "clinician_outcome": "emergency",
    "answers": "{}",
    "reference": "IMS-00000000",
    "indicators": "{}",
    "submitted_at": "2000-01-01",
    "author_id": "999",
    "actor_id": "999",
}


def screening_columns(app: Flask, reference: str) -> dict[str, Any]:
    with app.app_context():
        screening = db.session.scalar(select(Screening).where(Screening.reference == reference))
        assert screening is not None
        return {
            column: getattr(screening, column) for column in (*PROTECTED_COLUMNS, "review_status", "clinician_outcome")
        }


def test_staff_forms_cannot_set_other_columns(app: Flask, physio_client: FlaskClient) -> None:
    reference = submit_screening(app, profile("ideal_neck"))
    page = f"/staff/screenings/{reference}"
    before = screening_columns(app, reference)
    assert before["outcome"] == "likely" and before["review_status"] == "new"

    response = post_form(physio_client, page, f"{page}/notes", {**SMUGGLED, "body": "Called, no answer"})
    assert response.status_code == 303
    assert screening_columns(app, reference) == before

    response = post_form(
        physio_client, page, f"{page}/judgement", {**SMUGGLED, "outcome": "possible", "reason": "Pain is recent"}
    )
    assert response.status_code == 303
    after = screening_columns(app, reference)
    assert after["clinician_outcome"] == "possible"  # the form's own field, nothing else
    assert {k: v for k, v in after.items() if k != "clinician_outcome"} == {
        k: v for k, v in before.items() if k != "clinician_outcome"
    }

    response = post_form(
        physio_client, page, f"{page}/status", {**SMUGGLED, "status": "in_review", "outcome": "emergency"}
    )
    assert response.status_code == 303
    final = screening_columns(app, reference)
    assert final["review_status"] == "in_review"
    assert {k: final[k] for k in PROTECTED_COLUMNS} == {k: before[k] for k in PROTECTED_COLUMNS}
    assert final["clinician_outcome"] == "possible"


def test_the_assessment_request_cannot_set_screening_columns(app: Flask, client: FlaskClient) -> None:
    reference = submit_outcome(app, client, "likely")
    before = screening_columns(app, reference)
    assert post_request(client, **SMUGGLED).status_code == 303
    assert screening_columns(app, reference) == before


def test_sign_in_cannot_set_account_columns(app: Flask, client: FlaskClient, staff: StaffAccounts) -> None:
    from app.models import StaffUser

    staff.create("physio@clinic.example", "physio")
    response = post_form(
        client,
        SIGN_IN,
        SIGN_IN,
        {
            "email": "physio@clinic.example",
            "password": "correct horse battery staple",
            "role": "admin",
            "active": "y",
            "session_version": "0",
            "is_admin": "1",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert user is not None and user.role == "physio"
    assert client.get("/staff/accounts").status_code == 403


# ---- Where posts come from, and which host was asked for ------------------------------------


def _consent_post(client: FlaskClient, *, base_url: str, headers: dict[str, str]) -> int:
    """Open the consent page, then post consent with its token and `headers`; return the status."""
    page = client.get("/start", base_url=base_url)
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        "/start", data={"csrf_token": token, "consent": "y"}, base_url=base_url, headers=headers
    ).status_code


@sqlite_only
def test_over_https_a_post_from_the_public_address_is_accepted_whatever_host_the_proxy_forwards(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """The production finding: behind nginx every post got 400. The browser sends its page's origin; the
    proxy may forward its upstream address as Host (nginx's default), which Flask-WTF's strict check
    compared the Referer with."""
    with production_app(monkeypatch, database_url) as app:
        public = app.config["PUBLIC_BASE_URL"]
        for base_url in (public, "https://127.0.0.1:8000"):
            for headers in (
                {"Origin": public, "Referer": f"{public}/start"},
                {"Referer": f"{public}/start"},
                {"Origin": public},
            ):
                status = _consent_post(app.test_client(), base_url=base_url, headers=headers)
                assert status == 302, (base_url, headers, status)


@sqlite_only
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Referer": "https://evil.example/form"},
        {"Origin": "https://evil.example"},
        {"Referer": "https://clinic.example.evil.example/start"},
        {"Origin": "http://clinic.example"},  # the same name without TLS is another origin
        {"Origin": "null"},  # a sandboxed frame, or a page that sends no referrer
        {},  # over HTTPS a browser always says where a post came from
    ],
)
def test_over_https_a_post_from_anywhere_else_is_refused(
    monkeypatch: pytest.MonkeyPatch, database_url: str, headers: dict[str, str]
) -> None:
    with production_app(monkeypatch, database_url) as app:
        client = app.test_client()
        assert _consent_post(client, base_url=app.config["PUBLIC_BASE_URL"], headers=headers) == 400
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Screening)) == 0


def test_a_post_from_another_site_is_refused_over_plain_http_too(client: FlaskClient) -> None:
    assert _consent_post(client, base_url="http://localhost", headers={"Origin": "https://evil.example"}) == 400
    assert _consent_post(client, base_url="http://localhost", headers={}) == 302  # scripts, the test client


def test_a_request_for_an_unknown_host_is_refused(client: FlaskClient) -> None:
    """The finding: /screening/saved with `Host: evil.example` showed https://evil.example/resume/<token>."""
    journey = Journey(client)
    journey.consent()
    for path in ("/screening/saved", "/", "/start", "/staff/sign-in"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
        assert "evil.example" not in response.get_data(as_text=True)
    assert client.get("/screening/saved").status_code == 200  # localhost is one of the trusted names


def test_the_resume_link_is_built_from_the_public_address(app: Flask, client: FlaskClient) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://screening.clinic.example"
    # 127.0.0.1 is trusted (a proxy on the same machine), but links never come from the Host header.
    assert _consent_post(client, base_url="http://127.0.0.1:8000", headers={}) == 302
    html = client.get("/screening/saved", base_url="http://127.0.0.1:8000").get_data(as_text=True)
    assert 'value="https://screening.clinic.example/resume/' in html
    assert "127.0.0.1" not in html
