"""Error pages: plain language for people, never a traceback or an exception's text."""

from typing import NoReturn

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from markupsafe import escape

from app.errors import ERROR_PAGES
from app.extensions import login_manager

#: The error pages do not depend on the database backend (conftest.sqlite_only says
#: when that matters): one backend is enough.
pytestmark = pytest.mark.one_backend


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with extra routes that fail on purpose."""

    def abort_with(code: int) -> NoReturn:
        abort(code)

    def crash() -> NoReturn:
        raise RuntimeError("secret detail from deep inside the app")

    def accept_post() -> str:
        return "accepted"

    app.add_url_rule("/test/abort/<int:code>", view_func=abort_with)
    app.add_url_rule("/test/crash", view_func=crash)
    app.add_url_rule("/test/post", view_func=accept_post, methods=["POST"])
    # TESTING re-raises exceptions into the test; production renders the 500 page instead.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize("code", sorted(ERROR_PAGES))
def test_each_error_has_a_page(failing_app: Flask, code: int) -> None:
    response = failing_app.test_client().get(f"/test/abort/{code}")
    assert response.status_code == code
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{escape(ERROR_PAGES[code].title)}</h1>" in html
    assert f"Error {code}" in html


def test_unknown_page(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_wrong_method_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_crash_shows_no_traceback(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/test/crash")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong on our side" in html
    assert "Traceback" not in html
    assert "secret detail" not in html


def test_post_without_csrf_token_is_refused(failing_app: Flask) -> None:
    response = failing_app.test_client().post("/test/post")
    assert response.status_code == 400
    assert "accepted" not in response.get_data(as_text=True)


# ---- The staff portal's error pages -------------------------------------------------------------


def assert_a_staff_error_page(html: str, title: str) -> None:
    """The portal's layout, in English, with the way back to the queue; nothing of the patients'
    pages (their start, the language links, the call-911 footer meant for them)."""
    assert f"<h1>{escape(title)}</h1>" in html
    assert '<html lang="en-CA">' in html and "css/staff.css" in html
    assert '<a href="/staff/">Go to the queue</a>' in html
    assert "Go to the start" not in html and "call 911" not in html and "?lang=" not in html
    assert "Traceback" not in html


def test_a_staff_address_that_does_not_exist_has_a_page_of_the_portal(
    client: FlaskClient, physio_client: FlaskClient
) -> None:
    for who, menu in ((physio_client, True), (client, False)):  # the gate lets an unknown address 404
        response = who.get("/staff/screenings/IMS-NOSUCH00/nothing-here", headers={"Accept-Language": "pa"})
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert_a_staff_error_page(html, "Page not found")
        assert "Check the address, or go to the queue." in html and "the start" not in html
        assert ("Sign out" in html) is menu  # the portal's menu for the signed-in


def test_a_staff_page_that_fails_before_its_user_is_known_still_has_a_page_of_the_portal(
    app: Flask, physio_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when the database goes away: loading the signed-in account fails, and the error page must
    # not fail in turn by asking for that account again (its menu, its name), or the server
    # answers with a bare "Internal Server Error" of its own.
    def database_gone(user_id: str) -> None:
        raise RuntimeError("secret detail: the database is unreachable")

    monkeypatch.setattr(login_manager, "_user_callback", database_gone)  # Flask-Login's loader
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = physio_client.get("/staff/")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert_a_staff_error_page(html, "Something went wrong on our side")
    assert "secret detail" not in html and "Sign out" not in html


@pytest.mark.parametrize("path", ["/", "/start", "/screening/about", "/staff/", "/staff/sign-in", "/no-such-page"])
def test_a_query_string_that_is_not_utf8_is_a_bad_request_not_a_server_error(failing_app: Flask, path: str) -> None:
    # Raw bytes, as the development server passes them on (WSGI gives them as latin-1).
    response = failing_app.test_client().get(path, environ_overrides={"QUERY_STRING": "lang=\xff\xfe"})
    assert response.status_code == 400
    assert "Something was wrong with that request" in response.get_data(as_text=True)
