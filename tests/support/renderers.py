"""What the tests of the independent form renderers share (test_fhir_lforms.py, LHC-Forms;
test_fhir_medplum.py, Medplum): a Chromium page that loads only the files the test serves itself,
and the staff import of the response a renderer made, compared with the app's own pages.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Screening
from tests.conftest import csrf_token_from
from tests.support.journey import as_stored

#: Where a renderer's page is served from: only Playwright answers, from the test's own files.
ORIGIN = "http://localhost"

#: A renderer's file at a path of the page ("/lforms/main.js"): its bytes and content type, or None.
Files = Callable[[str], tuple[bytes, str] | None]


class OfflinePage:
    """A renderer's page in a browser context of its own, loaded once for a test module.

    Playwright answers every request: `html` at "/", `files` for the rest. Any other request (an
    address elsewhere, a file the test does not have) is refused and remembered, and `close` fails
    on it, so nothing the page needs is ever fetched from the network. Script errors on the page
    are collected for `take_errors`.
    """

    def __init__(self, chromium: Any, html: str, files: Files, ready: str) -> None:
        """Open the page and wait until the JavaScript expression `ready` holds."""
        self.html = html
        self.files = files
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.context = chromium.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.context.route("**/*", self._serve)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(ORIGIN + "/")
        self.page.wait_for_function(ready)

    def _serve(self, route: Any) -> None:
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            self.refused.append(url)
            route.abort()
            return
        path = url.removeprefix(ORIGIN).split("?")[0]
        found = (self.html.encode(), "text/html") if path == "/" else self.files(path)
        if found is None:
            self.refused.append(url)
            route.fulfill(status=404, body="")
        else:
            body, kind = found
            route.fulfill(status=200, body=body, content_type=kind)

    def take_errors(self) -> list[str]:
        """The script errors since the last call."""
        errors, self.errors[:] = list(self.errors), []
        return errors

    def close(self) -> None:
        self.context.close()
        assert not self.refused, f"the page asked for something other than the files the test serves: {self.refused}"


def served_questionnaire(client: FlaskClient) -> dict[str, Any]:
    """The Questionnaire the app serves at its canonical URL, as a renderer is given it."""
    served = client.get("/fhir/Questionnaire/ims-screen")
    assert served.status_code == 200 and served.mimetype == "application/fhir+json"
    questionnaire: dict[str, Any] = json.loads(served.get_data(as_text=True))
    return questionnaire


def import_file(client: FlaskClient, response: dict[str, Any], *, current_version: bool = False) -> Any:
    """Post `response` to the staff import page, ticking 'It answers the current questionnaire' if asked."""
    page = client.get("/staff/fhir/import")
    data = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "response": (io.BytesIO(json.dumps(response).encode()), "response.json"),
    }
    if current_version:
        data["current_version"] = "y"
    return client.post("/staff/fhir/import", data=data, content_type="multipart/form-data")


def screenings_and_audit_events(app: Flask) -> tuple[int, int]:
    """How many screenings and audit events there are (an import refused changes neither)."""
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Screening)) or 0,
            db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def assert_filed_as_the_apps_own_pages(app: Flask, imported: Any, answers: dict[str, object]) -> str:
    """The import (`imported`, the staff page's answer) filed a screening with the answers, outcome
    and fired rules of the one the app's own pages stored first; returns the import's reference."""
    assert imported.status_code == 303, imported.get_data(as_text=True)[:2000]
    with app.app_context():
        own, filed = (
            db.session.scalars(select(Screening).order_by(Screening.id)).all()[0],
            db.session.scalars(select(Screening).where(Screening.imported_at.is_not(None))).one(),
        )
        assert own.imported_at is None and imported.location.endswith(filed.reference)
        assert filed.answers == own.answers == as_stored(answers)
        assert (filed.outcome, filed.candidacy) == (own.outcome, own.candidacy)
        assert [r["rule_id"] for r in filed.reasons or []] == [r["rule_id"] for r in own.reasons or []]
        assert filed.state == "submitted" and filed.resume_token_hash is None
        return filed.reference
