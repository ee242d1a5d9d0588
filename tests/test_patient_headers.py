"""Response headers and the session cookie: no inline script, no framing, no caching of pages
with answers, no referrer, and a cookie that holds the resume token and nothing else."""

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.journey import CHECK, RESULT, SAVED, Journey, profile, session_data

#: Response headers do not depend on the database backend (conftest.sqlite_only says
#: when that matters): one backend is enough.
pytestmark = pytest.mark.one_backend


def directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = values
    return parsed


@pytest.fixture
def every_page(app: Flask, client: FlaskClient) -> dict[str, TestResponse]:
    """One response of each kind of page, from a whole journey (with a needle-shy person)."""
    pages = {path: client.get(path) for path in ("/", "/privacy", "/start", "/no-consent", "/nowhere")}
    journey = Journey(client)
    journey.walk(profile("ideal_neck", needle_fear=8), until="needles")
    pages["step"] = client.get("/screening/needles")
    pages["refused step"] = client.post("/screening/needles", data={"csrf_token": journey.csrf_token()})
    journey.answer("needles", profile("ideal_neck", needle_fear=8))
    pages["reassurance"] = client.get("/screening/needles-and-you")
    journey.answer("medicines", profile("ideal_neck"), action="save")
    pages["saved"] = client.get(SAVED)
    journey.walk(profile("ideal_neck"), start=False)
    pages["check"] = client.get(CHECK)
    journey.submit()
    pages["result"] = client.get(RESULT)
    pages["bad resume link"] = client.get("/resume/nope")
    assert all(response.status_code < 500 for response in pages.values())
    return pages


def test_content_security_policy_on_every_page(every_page: dict[str, TestResponse]) -> None:
    for name, response in every_page.items():
        policy = directives(response)
        script = policy.get("script-src", policy["default-src"])
        assert "'unsafe-inline'" not in script, name
        assert "'unsafe-eval'" not in script, name
        assert "'unsafe-inline'" not in policy.get("style-src", policy["default-src"]), name
        assert policy["object-src"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_page_with_answers_is_cached(every_page: dict[str, TestResponse]) -> None:
    for name, response in every_page.items():
        assert "no-store" in response.headers.get("Cache-Control", ""), name


def test_no_referrer_is_sent_from_any_page(every_page: dict[str, TestResponse]) -> None:
    for name, response in every_page.items():
        assert response.headers["Referrer-Policy"] == "same-origin", name


def test_no_inline_script_on_any_page(every_page: dict[str, TestResponse]) -> None:
    import re

    for name, response in every_page.items():
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), name
        assert not re.search(r"\son[a-z]+\s*=", html), name
        assert "<style" not in html and " style=" not in html, name


def test_resume_redirect_is_not_cached_and_sends_no_referrer(app: Flask, client: FlaskClient) -> None:
    journey = Journey(client)
    journey.walk(profile("ideal_neck"), until="muscles")
    token = session_data(app, client)["screening_token"]
    response = app.test_client().get(f"/resume/{token}")
    assert response.status_code == 302
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_redirects_carry_no_body(app: Flask, client: FlaskClient) -> None:
    # Every question answered is a redirect; browsers follow its Location and never show a body,
    # so none is sent (Werkzeug's "Redirecting..." page was 4 kB of a repeat journey's 42: issue #16).
    journey = Journey(client)
    journey.walk(profile("ideal_neck"), until="muscles")
    step = journey.answer("muscles", profile("ideal_neck"))
    token = session_data(app, client)["screening_token"]
    resume = app.test_client().get(f"/resume/{token}")
    language = client.get("/privacy?lang=en-CA")
    for response in (step, resume, language):
        assert 300 <= response.status_code < 400 and response.headers["Location"]
        assert response.get_data() == b""
        assert response.headers["Content-Length"] == "0"


def test_session_cookie_is_http_only_and_same_site_lax(client: FlaskClient) -> None:
    response = Journey(client).consent()
    cookies = response.headers.getlist("Set-Cookie")
    [session_cookie] = [c for c in cookies if c.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in session_cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert client.get_cookie("session").http_only  # type: ignore[union-attr]


#: What the patient's session cookie may hold: the resume token, when it was last used (a whole
#: number of seconds, for the idle time-out) and Flask-WTF's random CSRF secret.
PATIENT_SESSION_KEYS = {"screening_token", "screening_last_used", "csrf_token"}


def test_session_cookie_holds_only_the_resume_token(app: Flask, client: FlaskClient) -> None:
    answers = profile("ideal_neck", interpreter_needed="yes", interpreter_language="Cantonese")
    journey = Journey(client)
    journey.walk(answers)
    data = session_data(app, client)
    assert set(data) <= PATIENT_SESSION_KEYS
    assert isinstance(data["screening_last_used"], int)
    assert "screening_token" in data
    flat = json.dumps(data)
    for value in ("Cantonese", "ideal", "shoulder_right", "gradual", "tingling"):
        assert value not in flat
    journey.submit()
    data = session_data(app, client)
    assert set(data) <= PATIENT_SESSION_KEYS
    assert "likely" not in json.dumps(data)
