"""Drive the staff portal through Flask's test client, with CSRF protection on (as in production).

response = sign_in(client, "physio@clinic.example")                 # password step
response = post_form(client, "/staff/screenings/IMS-…", f"/staff/screenings/IMS-…/notes",
                     {"body": "Called, left a message"})
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import STAFF_PASSWORD, csrf_token_from

SIGN_IN = "/staff/sign-in"
TWO_FACTOR = "/staff/two-factor"
ENROL = "/staff/two-factor/set-up"
QUEUE = "/staff/"
SIGN_OUT = "/staff/sign-out"
PASSWORD = "/staff/password"


def token(client: FlaskClient, page: str = SIGN_IN) -> str:
    """A CSRF token for the client's session, read from a page that has a form."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page}: {response.status_code} {response.location}"
    return csrf_token_from(response.get_data(as_text=True))


def post_form(client: FlaskClient, page: str, action: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    """Open `page`, then post `data` to `action` with the page's CSRF token."""
    return client.post(action, data={"csrf_token": token(client, page), **data}, **kwargs)


def sign_in(
    client: FlaskClient, email: str = "physio@clinic.example", password: str = STAFF_PASSWORD, **kwargs: Any
) -> TestResponse:
    """Post the password step (a fresh CSRF token from the sign-in page)."""
    return post_form(client, SIGN_IN, SIGN_IN, {"email": email, "password": password}, **kwargs)


def sign_out(client: FlaskClient) -> TestResponse:
    return post_form(client, QUEUE, SIGN_OUT, {})


def is_signed_in(client: FlaskClient) -> bool:
    """Whether the queue opens (200) rather than sending the client to sign in (302)."""
    response = client.get(QUEUE)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert response.location.startswith(SIGN_IN), response.location
    return response.status_code == 200


def text_of(response: TestResponse) -> str:
    """The page's text: tags removed, entities decoded, white space collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+(")', r"\1…\2", html)


def headers_without_tokens(response: TestResponse) -> list[tuple[str, str]]:
    """The response's headers, with the values of cookies (which carry the CSRF token) blanked."""
    return [
        (name, re.sub(r"=[^;]*", "=…", value, count=1) if name == "Set-Cookie" else value)
        for name, value in response.headers.items()
    ]
