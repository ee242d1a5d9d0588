"""Who can open what: every staff URL in the URL map, closed by default; CSRF on every POST; cookies.

The sweeps read `app.url_map`, so a route added later is covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

from app.staff import access
from tests.conftest import PRODUCTION_SETTINGS, StaffAccounts, app_on, sqlite_only, submit_screening
from tests.support.forgery import FORGED_TOKENS, with_csrf_token
from tests.support.staff_pages import SIGN_IN, is_signed_in, sign_in

#: Methods a sweep tries on every rule that allows them (OPTIONS is answered by Flask itself).
METHODS = ("GET", "HEAD", "POST")


def staff_rules(app: Flask) -> list[Rule]:
    rules = [rule for rule in app.url_map.iter_rules() if access.is_staff_endpoint(rule.endpoint)]
    assert len(rules) >= 10, "the staff portal's routes are not registered"
    return rules


def blueprint_of(rule: Rule) -> str:
    return rule.endpoint.rpartition(".")[0]


def requests_for(app: Flask, rules: list[Rule], reference: str, account_id: int) -> Iterator[tuple[str, str, Rule]]:
    """(method, url, rule) for every method of every rule, with real values in the URL."""
    for rule in rules:
        values: dict[str, object] = {}
        for argument in rule.arguments:
            if argument == "reference":
                values[argument] = reference
            elif isinstance(rule._converters.get(argument), IntegerConverter) or argument.endswith("_id"):
                values[argument] = account_id
            else:
                values[argument] = reference
        with app.test_request_context():
            url = app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)
        for method in METHODS:
            if method in (rule.methods or ()):
                yield method, url, rule


@pytest.fixture
def screening_reference(app: Flask, ideal_answers: dict[str, object]) -> str:
    return submit_screening(app, ideal_answers)


def test_every_staff_url_belongs_to_a_staff_blueprint(app: Flask) -> None:
    """The guard protects blueprints named staff*: a /staff URL elsewhere would be unguarded."""
    for rule in app.url_map.iter_rules():
        if rule.rule == "/staff" or rule.rule.startswith("/staff/"):
            assert access.is_staff_endpoint(rule.endpoint), f"{rule.rule} is served by {rule.endpoint}"
    for name in app.blueprints:
        if name.startswith("staff"):
            assert all(
                r.rule.startswith("/staff/") for r in app.url_map.iter_rules() if r.endpoint.startswith(name + ".")
            ), name


def test_only_the_sign_in_pages_are_public() -> None:
    assert access.PUBLIC_ENDPOINTS == {"staff_auth.sign_in", "staff_auth.two_factor", "staff_auth.enrol"}


def test_every_admin_blueprint_named_by_the_guard_exists(app: Flask) -> None:
    """A misspelt name in ADMIN_BLUEPRINTS would leave the real blueprint open to every physio."""
    for name in access.ADMIN_BLUEPRINTS:
        assert name in app.blueprints, f"ADMIN_BLUEPRINTS names {name!r}, which is not registered"
        assert name.startswith("staff")


def test_anonymous_visitors_are_sent_to_sign_in_from_every_staff_url(
    app: Flask, client: FlaskClient, staff: StaffAccounts, screening_reference: str
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # so that a POST reaches the guard rather than the CSRF check
    account_id = staff.create("physio@clinic.example")
    protected = [r for r in staff_rules(app) if r.endpoint not in access.PUBLIC_ENDPOINTS]
    tried = 0
    for method, url, _rule in requests_for(app, protected, screening_reference, account_id):
        response = client.open(
            url,
            method=method,
            data={"status": "booked", "body": "x", "outcome": "likely", "reason": "x"} if method == "POST" else None,
        )
        assert response.status_code == 302, f"{method} {url}: {response.status_code}"
        assert urlsplit(response.location).path == SIGN_IN, f"{method} {url}: {response.location}"
        assert "<main" not in response.get_data(as_text=True)  # a bare redirect, nothing of the page
        tried += 1
    assert tried >= 10
    with app.app_context():
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import ClinicianJudgement, ScreeningNote, StatusChange

        for model in (ScreeningNote, StatusChange, ClinicianJudgement):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model


@sqlite_only
def test_the_password_step_alone_opens_no_staff_url(
    app: Flask, client: FlaskClient, staff: StaffAccounts, screening_reference: str
) -> None:
    account_id = staff.create("physio@clinic.example", mfa=True)
    assert sign_in(client).status_code == 303  # on to the code step
    app.config["WTF_CSRF_ENABLED"] = False
    protected = [r for r in staff_rules(app) if r.endpoint not in access.PUBLIC_ENDPOINTS]
    for method, url, _rule in requests_for(app, protected, screening_reference, account_id):
        response = client.open(url, method=method)
        assert response.status_code == 302 and urlsplit(response.location).path == SIGN_IN, f"{method} {url}"


def test_physiotherapists_are_refused_every_admin_url(
    app: Flask, physio_client: FlaskClient, staff: StaffAccounts, screening_reference: str
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    other = staff.create("other@clinic.example")
    admin_rules = [r for r in staff_rules(app) if blueprint_of(r) in access.ADMIN_BLUEPRINTS]
    for method, url, _rule in requests_for(app, admin_rules, screening_reference, other):
        response = physio_client.open(url, method=method, data={"email": "x@clinic.example", "role": "admin"})
        assert response.status_code == 403, f"{method} {url}: {response.status_code}"
        assert screening_reference not in response.get_data(as_text=True)
    assert is_signed_in(physio_client)  # refused, not signed out


@sqlite_only
def test_a_physiotherapist_opens_every_non_admin_page(
    app: Flask, physio_client: FlaskClient, screening_reference: str
) -> None:
    """The other side of the sweep: the guard is not simply refusing everyone."""
    pages = [
        r
        for r in staff_rules(app)
        if "GET" in (r.methods or ())
        and r.endpoint not in access.PUBLIC_ENDPOINTS
        and blueprint_of(r) not in access.ADMIN_BLUEPRINTS
        and r.endpoint != "staff_auth.sign_out"
        and set(r.arguments) <= {"reference"}
    ]
    for method, url, _rule in requests_for(app, pages, screening_reference, 1):
        if method == "GET":
            assert physio_client.get(url).status_code == 200, url


def test_every_portal_post_needs_the_csrf_token(
    app: Flask, physio_client: FlaskClient, staff: StaffAccounts, screening_reference: str
) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)
    account_id = staff.create("other@clinic.example")
    posts = [r for r in staff_rules(app) if "POST" in (r.methods or ())]
    assert {"staff_auth.sign_in", "staff_auth.sign_out", "staff.add_note"} <= {r.endpoint for r in posts}
    data = {
        "status": "in_review",
        "body": "a note",
        "outcome": "likely",
        "reason": "because",
        "email": "physio@clinic.example",
        "password": "correct horse battery staple",
    }
    for _method, url, _rule in requests_for(app, posts, screening_reference, account_id):
        if _method != "POST":
            continue
        for token in FORGED_TOKENS:
            response = physio_client.post(url, data=with_csrf_token(data, token))
            assert response.status_code == 400, f"POST {url} with token {token!r}: {response.status_code}"
    assert is_signed_in(physio_client)  # the sign-out without a token did nothing
    with app.app_context():
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import (
            ClinicianJudgement,
            Screening,
            ScreeningNote,
            StatusChange,
        )

        for model in (ScreeningNote, StatusChange, ClinicianJudgement):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
        assert db.session.scalar(select(Screening.review_status)) == "new"


# ---- Cookies and headers --------------------------------------------------------------------


def set_cookie_header(response: TestResponse) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return header


@sqlite_only
def test_the_session_cookie_is_httponly_and_samesite_lax(app: Flask, client: FlaskClient, staff: StaffAccounts) -> None:
    staff.create("physio@clinic.example")
    response = sign_in(client)
    header = set_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Expires" not in header  # a browser-session cookie; the server ends sessions
    assert not any(h.startswith("remember_token") for h in response.headers.getlist("Set-Cookie"))


@sqlite_only
def test_the_session_cookie_is_secure_in_production(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    for name, value in PRODUCTION_SETTINGS.items():
        monkeypatch.setenv(name, value)
    with app_on(database_url) as production:
        assert production.config["SESSION_COOKIE_SECURE"] is True
        assert production.config["STAFF_MFA_REQUIRED"] is True
        response = production.test_client().get(SIGN_IN, base_url="https://clinic.example")
        header = set_cookie_header(response)
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


def test_staff_pages_are_never_cached(app: Flask, physio_client: FlaskClient, screening_reference: str) -> None:
    for url in (
        "/staff/",
        f"/staff/screenings/{screening_reference}",
        f"/staff/screenings/{screening_reference}/print",
    ):
        response = physio_client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
